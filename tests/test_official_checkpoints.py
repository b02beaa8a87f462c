"""Official facebookresearch/vjepa2 `.pt` checkpoints: strict loading, round trips, clear errors."""

import argparse

import pytest
import torch
from vjepa2_tiny import official_from_hf, tiny_hf_model

from worldjepa.errors import CheckpointError, ConfigError
from worldjepa.hub.hf_format import load_hf, save_hf, to_hf_state
from worldjepa.hub.official import load_official, official_checkpoint, save_official
from worldjepa.hub.pretrained import Pretrained
from worldjepa.hub.released import match_release
from worldjepa.models import ActionPredictor, create_model

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def hf():
    return tiny_hf_model()


@pytest.fixture(scope="module")
def configs(tmp_path_factory, hf):
    """The worldjepa configs of the tiny model, read through its HF folder."""
    folder = tmp_path_factory.mktemp("hf")
    hf.save_pretrained(folder)
    model = load_hf(folder)
    return model.encoder.config, model.predictor.config


def official_file(path, hf, **changes):
    checkpoint = official_from_hf(hf.state_dict())
    checkpoint.update(changes)
    torch.save(checkpoint, path)
    return path


def assert_same_state(a, b):
    a, b = a.state_dict(), b.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_official_to_worldjepa_matches_transformers(tmp_path, hf, configs):
    model = load_official(official_file(tmp_path / "tiny.pt", hf), *configs)
    x = torch.randn(1, 4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = hf(x)
        tokens = model.encoder(x.transpose(1, 2))
        every = torch.arange(tokens.shape[1])[None]
        assert (out.last_hidden_state - tokens).abs().max() < 1e-5
        assert (
            out.predictor_output.last_hidden_state - model.predictor(tokens, every, every)
        ).abs().max() < 1e-5


def test_official_worldjepa_hf_worldjepa_round_trip_is_exact(tmp_path, hf, configs):
    source = official_from_hf(hf.state_dict())
    first = load_official(official_file(tmp_path / "a.pt", hf), *configs)
    again = load_hf(save_hf(tmp_path / "hf", first))
    assert_same_state(first.encoder, again.encoder)
    assert_same_state(first.predictor, again.predictor)
    hf_state = hf.state_dict()
    assert all(torch.equal(v, hf_state[k]) for k, v in to_hf_state(again.encoder, again.predictor).items())
    written = torch.load(save_official(tmp_path / "b.pt", again), weights_only=True)
    for entry in ("encoder", "target_encoder", "predictor"):
        assert written[entry].keys() == source[entry].keys()
        assert all(torch.equal(written[entry][k], source[entry][k]) for k in source[entry])


def test_target_encoder_is_chosen_by_option(tmp_path, hf, configs):
    checkpoint = official_from_hf(hf.state_dict())
    target = {k: v + 1 for k, v in checkpoint["encoder"].items()}
    path = official_file(tmp_path / "t.pt", hf, target_encoder=target)
    default = load_official(path, *configs)
    ema = load_official(path, *configs, which="target_encoder")
    assert torch.equal(default.encoder.norm.weight, checkpoint["encoder"]["module.backbone.norm.weight"])
    assert torch.equal(ema.encoder.norm.weight, target["module.backbone.norm.weight"])
    with pytest.raises(ConfigError, match="which"):
        load_official(path, *configs, which="ema")


def test_mask_tokens_are_counted_in_the_file(tmp_path, hf, configs):
    checkpoint = official_from_hf(hf.state_dict())
    for i in (2, 3):
        del checkpoint["predictor"][f"module.backbone.mask_tokens.{i}"]
    torch.save(checkpoint, tmp_path / "m.pt")
    assert len(load_official(tmp_path / "m.pt", *configs).predictor.mask_tokens) == 2


def test_checkpoint_of_another_size_lists_keys_and_shapes(tmp_path, hf, configs):
    path = official_file(tmp_path / "big.pt", tiny_hf_model(hidden_size=60, num_hidden_layers=3))
    with pytest.raises(CheckpointError) as err:
        load_official(path, *configs)
    text = str(err.value)
    assert "big.pt" in text and "unexpected keys (12): blocks.2.attn.proj.bias" in text
    assert "blocks.0.attn.qkv.weight: file (180, 60) vs model (144, 48)" in text
    with pytest.raises(
        CheckpointError, match=r"blocks.0.attn.qkv.weight: file \(144, 48\) vs model \(3072, 1024\)"
    ):
        load_official(official_file(tmp_path / "small.pt", hf), preset="vjepa2-vitl-fpc64-256")


def test_unreleased_size_without_configs_says_what_to_pass(tmp_path, hf):
    with pytest.raises(ConfigError, match="width 48 and depth 2.*preset="):
        load_official(official_file(tmp_path / "tiny.pt", hf))


def test_pickle_refused_by_weights_only_is_a_clear_error(tmp_path, hf):
    path = official_file(tmp_path / "args.pt", hf, args=argparse.Namespace(lr=1e-3))
    with pytest.raises(CheckpointError, match=r"weights_only=True\): it refers to argparse.Namespace.*trust"):
        load_official(path)


def test_unreadable_and_foreign_files(tmp_path, hf):
    cut = official_file(tmp_path / "cut.pt", hf)
    cut.write_bytes(cut.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="Cannot read"):
        load_official(cut)
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="no 'encoder' or 'target_encoder'.*model"):
        load_official(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_official(tmp_path / "missing.pt")


def test_action_conditioned_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    encoder = create_model("vit_test", img_size=16)
    predictor = create_model("ac_predictor_test", state_dim=2, extrinsics_dim=1)
    path = save_official(tmp_path / "ac.pt", Pretrained(encoder, predictor))
    raw = torch.load(path, weights_only=True)
    assert (
        "module.action_encoder.weight" in raw["predictor"]
        and "module.blocks.0.attn.qkv.weight" in raw["encoder"]
    )
    back = load_official(path, encoder.config, predictor.config)
    assert isinstance(back.predictor, ActionPredictor) and back.action_conditioned
    assert_same_state(back.predictor, predictor)
    assert_same_state(back.encoder, encoder)
    assert official_checkpoint(back)["predictor"].keys() == raw["predictor"].keys()


def test_released_model_is_told_by_shapes_and_name():
    assert match_release(1024, 24, False, "vitl.pt").name == "vjepa2-vitl-fpc64-256"
    assert match_release(1280, 32, False, "vith.pt").name == "vjepa2-vith-fpc64-256"
    assert match_release(1408, 40, False, "vitg.pt").name == "vjepa2-vitg-fpc64-256"
    assert match_release(1408, 40, False, "vitg-384.pt").name == "vjepa2-vitg-fpc64-384"
    assert match_release(1408, 40, True, "vjepa2-ac-vitg.pt").name == "vjepa2-ac-vitg"
    with pytest.raises(ConfigError, match="action-conditioned"):
        match_release(1024, 24, True, "x.pt")
