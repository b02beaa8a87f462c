"""The V-JEPA 2-AC action predictor and the WorldModel built around it."""

import pytest
import torch

from worldjepa.errors import CheckpointError, ConfigError, ShapeError
from worldjepa.hub.model_files import save_model_files
from worldjepa.hub.world_model_files import load_world_model
from worldjepa.models import (
    ActionPredictor,
    ActionPredictorConfig,
    EncoderConfig,
    WorldModel,
    WorldModelConfig,
    create_model,
)
from worldjepa.nn import frame_causal_mask


def tiny_world_model(latent="pooled", grid=1, latent_dim=16, frameskip=2, context=0) -> WorldModel:
    encoder = EncoderConfig(
        embed_dim=32, depth=1, num_heads=2, img_size=32, patch_size=8, num_frames=1, tubelet_size=1
    )
    side = {"pooled": grid, "projected": 1}.get(latent, 4)
    width = latent_dim or 32
    predictor = ActionPredictorConfig(
        embed_dim=width,
        predictor_embed_dim=32,
        depth=2,
        num_heads=2,
        grid_size=side,
        action_dim=2 * frameskip,
        state_dim=0,
        max_frames=8,
        context_frames=context,
    )
    config = WorldModelConfig(
        encoder=encoder,
        predictor=predictor,
        latent=latent,
        latent_grid=grid,
        latent_dim=latent_dim,
        frameskip=frameskip,
        max_norm=3.0,
    )
    return WorldModel(config).eval()


def test_frame_causal_mask():
    mask = frame_causal_mask(3, 2)
    assert mask.shape == (6, 6)
    assert mask[0, :2].all() and not mask[0, 2:].any()  # frame 0 sees only itself
    assert mask[5].all()  # the last frame sees everything
    windowed = frame_causal_mask(3, 2, window=1)
    assert windowed[4, 4:].all() and not windowed[4, :4].any()


def test_action_predictor_is_frame_causal_and_checks_shapes():
    predictor = create_model("ac_predictor_test").eval()
    z, a = torch.randn(2, 4, 4, 32), torch.randn(2, 4, 2)
    out = predictor(z, a)
    assert out.shape == z.shape
    later = z.clone()
    later[:, 2] += 1.0
    changed = (predictor(later, a) - out).abs().amax(dim=(0, 2, 3))
    assert changed[:2].max() == 0 and changed[2:].min() > 0
    with pytest.raises(ShapeError, match="action dimension is 2"):
        predictor(z, torch.randn(2, 4, 3))
    with pytest.raises(ShapeError, match="latents must be"):
        predictor(torch.randn(2, 4, 5, 32), a)
    with pytest.raises(ShapeError, match="no states"):
        predictor(z, a, torch.randn(2, 4, 7))


def test_action_predictor_with_states_rotates_action_tokens_in_time_only():
    config = ActionPredictorConfig(
        embed_dim=16, predictor_embed_dim=24, depth=1, num_heads=2, grid_size=2, action_dim=3, state_dim=3
    )
    predictor = ActionPredictor(config)
    pos = predictor.positions(2, torch.device("cpu"))
    assert pos.shape == (2 * (2 + 4), 3)
    assert pos[:2].tolist() == [[0, 0, 0], [0, 0, 0]] and pos[6:8, 0].tolist() == [1, 1]
    assert pos[2:6, 1:].tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    out = predictor(torch.randn(1, 2, 4, 16), torch.randn(1, 2, 3), torch.randn(1, 2, 3))
    assert out.shape == (1, 2, 4, 16)


@pytest.mark.parametrize("latent, grid", [("pooled", 1), ("pooled", 2), ("projected", 1), ("tokens", 1)])
def test_encode_and_rollout_shapes(latent, grid):
    model = tiny_world_model(latent, grid, latent_dim=0 if latent == "tokens" else 16)
    n, d = model.latent_shape
    frames = torch.randint(0, 255, (3, 2, 32, 32, 3), dtype=torch.uint8)
    z = model.encode(frames)
    assert z.shape == (3, 2, n, d)
    rolled = model.rollout(z[:, 0], torch.randn(3, 5, model.action_dim))
    assert rolled.shape == (3, 5, n, d)
    assert model.predict(z, torch.randn(3, 2, model.action_dim)).shape == (3, 2, n, d)


@pytest.mark.parametrize("context", [0, 1, 2])
def test_rollout_step_equals_teacher_forcing_on_its_own_predictions(context):
    model = tiny_world_model(context=context)
    z0 = model.encode(torch.randint(0, 255, (2, 32, 32, 3), dtype=torch.uint8))
    actions = torch.randn(2, 3, model.action_dim)
    with torch.no_grad():
        rolled = model.rollout(z0, actions)
        frames = torch.cat([z0[:, None], rolled[:, :-1]], dim=1)
        again = model.predict(frames, actions)
    torch.testing.assert_close(again, rolled, atol=1e-5, rtol=1e-5)


def test_bad_frames_and_actions_say_what_the_model_needs():
    model = tiny_world_model()
    with pytest.raises(ShapeError, match="32x32 3-channel"):
        model.encode(torch.zeros(1, 64, 64, 3, dtype=torch.uint8))
    with pytest.raises(ShapeError, match="32x32 3-channel"):
        model.encode(torch.zeros(1, 32, 32, 1, dtype=torch.uint8))
    z0 = model.encode(torch.zeros(1, 32, 32, 3, dtype=torch.uint8))
    with pytest.raises(ShapeError, match="action dimension is 4"):
        model.rollout(z0, torch.zeros(1, 2, 2))


def test_config_errors():
    model = tiny_world_model()
    c = model.config
    with pytest.raises(ConfigError, match="action_dim"):
        WorldModelConfig(c.encoder, c.predictor, latent_dim=16, frameskip=3)
    with pytest.raises(ConfigError, match="latent"):
        WorldModelConfig(c.encoder, c.predictor, latent="cls")
    with pytest.raises(ConfigError, match="latent_dim"):
        WorldModelConfig(c.encoder, c.predictor, latent="projected")


def test_checkpoint_round_trip_and_wrong_kind(tmp_path):
    model = tiny_world_model(latent_dim=16)
    save_model_files(tmp_path / "wm", {"world_model": model}, meta={"env": {"size": 32}})
    loaded, meta = load_world_model(tmp_path / "wm")
    assert meta["env"] == {"size": 32}
    frames = torch.randint(0, 255, (2, 32, 32, 3), dtype=torch.uint8)
    actions = torch.randn(2, 3, model.action_dim)
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.rollout(loaded.encode(frames), actions), model.rollout(model.encode(frames), actions)
        )
    save_model_files(tmp_path / "enc", {"encoder": create_model("vit_test")})
    with pytest.raises(CheckpointError, match="not a world-model checkpoint"):
        load_world_model(tmp_path / "enc")
