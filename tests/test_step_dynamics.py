"""Refit single-step dynamics with a room code: the module, its protocol wrapper, the fit, the checkpoint."""

import pytest
import torch
from conftest import tiny_recipe

from worldjepa.errors import ConfigError, ShapeError
from worldjepa.eval.plan_eval import PlanEvalConfig, evaluate_planning
from worldjepa.hub.world_model_files import load_world_model
from worldjepa.models.step_dynamics import StepDynamics, StepDynamicsConfig
from worldjepa.models.step_world_model import StepWorldModel
from worldjepa.models.world_model import WorldModel
from worldjepa.train.step_dynamics_fit import step_loss
from worldjepa.train.world_model_config import load_world_model_config
from worldjepa.train.world_model_trainer import train_world_model

DYNAMICS = [
    "dynamics.width=32",
    "dynamics.depth=2",
    "dynamics.code_dim=4",
    "dynamics.code_frame_size=16",
    "dynamics.batch_episodes=4",
]


def test_step_dynamics_shapes_statistics_and_errors():
    torch.manual_seed(0)
    dynamics = StepDynamics(StepDynamicsConfig(latent_dim=6, code_dim=3, width=16, depth=2, frame_size=32))
    z, z_next = torch.randn(50, 6), torch.randn(50, 6)
    dynamics.set_statistics(z, z_next)
    assert torch.allclose(dynamics.step_std, (z_next - z).std(0) + 1e-6)
    code = dynamics.code(torch.rand(5, 3, 32, 32))
    assert code.shape == (5, 3)
    assert dynamics.step(z[:5], code, torch.zeros(5, 2)).shape == (5, 6)
    with pytest.raises(ShapeError, match=r"\[B, 3, 32, 32\]"):
        dynamics.code(torch.rand(5, 1, 32, 32))
    with pytest.raises(ConfigError, match="code_frame_size"):
        StepDynamicsConfig(latent_dim=6, frame_size=64, code_frame_size=20)
    with pytest.raises(ConfigError, match=">= 1"):
        StepDynamicsConfig(latent_dim=0)


def test_step_loss_weighs_overshooting_steps():
    z, z_next, std = torch.zeros(2, 2), torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([0.5, 0.5])
    pred = torch.tensor([[1.5, 0.0], [0.5, 0.0]])  # the same error, once past the real step, once short of it
    plain = ((pred - z_next) / std).square().mean()
    assert torch.allclose(step_loss(pred, z, z_next, std, 1.0), plain)
    # (4 * 1 + 1) / 2 samples / 2 dims: the overshoot counts four times
    assert torch.allclose(step_loss(pred, z, z_next, std, 4.0), torch.tensor(5.0 / 4))


@pytest.fixture(scope="module")
def refit(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("refit")
    torch.set_num_threads(1)
    recipe = tiny_recipe(tmp, tmp / "data", *DYNAMICS, "dynamics.steps=400", "model.latent=projected")
    return recipe, train_world_model(recipe)


def test_training_saves_the_world_model_with_its_step_dynamics(refit):
    recipe, result = refit
    model, meta = load_world_model(result.model_dir)
    assert isinstance(model, StepWorldModel) and isinstance(model.world_model, WorldModel)
    assert model.action_dim == 4 and meta["step_dynamics_loss"] > 0
    frames = torch.randint(0, 256, (3, 32, 32, 3), dtype=torch.uint8)
    z0 = model.encode(frames)
    width = 16 + 4
    assert z0.shape == (3, 1, width)
    actions = torch.randn(3, 5, 4)
    rolled = model.rollout(z0, actions)
    assert rolled.shape == (3, 5, 1, width)
    assert torch.equal(rolled[:, :, 0, 16:], z0[:, None, 0, 16:].expand(3, 5, 4))  # the room code is carried
    z = z0[:, 0, :16]
    for k in range(2):  # one model step = frameskip (2) env steps of the dynamics
        z = model.dynamics.step(z, z0[:, 0, 16:], actions[:, 0, 2 * k : 2 * k + 2])
    assert torch.allclose(rolled[:, 0, 0, :16], z, atol=1e-6)
    with pytest.raises(ShapeError, match=r"\[B, 1, 20\]"):
        model.rollout(z0[:, :, :16], actions)
    with pytest.raises(ShapeError, match="action dimension is 4"):
        model.rollout(z0, torch.randn(3, 5, 2))


def test_the_fit_learns_is_deterministic_and_is_redone_on_resume(tmp_path, refit):
    recipe, result = refit
    short = train_world_model(
        tiny_recipe(
            tmp_path, recipe.data.root, *DYNAMICS, "dynamics.steps=1", "model.latent=projected", out="a"
        )
    )
    fitted = load_world_model(result.model_dir)[1]["step_dynamics_loss"]
    assert fitted < 0.9 * load_world_model(short.model_dir)[1]["step_dynamics_loss"]
    again = train_world_model(recipe, resume=True)  # training is done: only the refit runs again
    first, second = load_world_model(result.model_dir)[0], load_world_model(again.model_dir)[0]
    assert again.steps == result.steps
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_planners_run_on_refit_dynamics(tmp_path, refit):
    _, result = refit
    model, meta = load_world_model(result.model_dir)
    for planner, overrides in (
        ("cem", {"horizon": 2, "samples": 8, "topk": 2, "iterations": 1}),
        ("gd", {"horizon": 2, "iterations": 2}),
        ("tree", {"horizon": 4, "frontier": 2, "branches": 2, "refine_samples": 8, "refine_topk": 2}),
    ):
        config = PlanEvalConfig(episodes=1, planner=planner, planner_overrides=overrides, gif_episodes=0)
        results = evaluate_planning(model, meta, config, tmp_path / planner, progress=False)
        assert results["episodes"] == 1 and results["ms_per_action"] > 0


def test_recipe_errors_for_step_dynamics(tmp_path):
    with pytest.raises(ConfigError, match=r"code_frame_size \(64\) must divide frame_size \(32\)"):
        train_world_model(
            tiny_recipe(
                tmp_path,
                tmp_path / "data",
                "dynamics.steps=10",
                "dynamics.code_frame_size=64",
                "model.latent=projected",
            )
        )
    assert not list(tmp_path.glob("run/**/*.safetensors"))  # refused before training
    with pytest.raises(ConfigError, match="compact latents"):
        load_world_model_config(None, ["dynamics.steps=10", "model.latent=tokens"])
    with pytest.raises(ConfigError, match="overshoot_weight must be > 0"):
        load_world_model_config(None, ["dynamics.overshoot_weight=0"])
    with pytest.raises(ConfigError, match="dynamics.steps must be >= 0"):
        load_world_model_config(None, ["dynamics.steps=-1"])


def test_latent_sizes_that_do_not_belong_together_are_refused(refit):
    _, result = refit
    model, _ = load_world_model(result.model_dir)
    other = StepDynamics(StepDynamicsConfig(latent_dim=7, width=8, depth=1, frame_size=32))
    with pytest.raises(ShapeError, match="do not belong together"):
        StepWorldModel(model.world_model, other)
