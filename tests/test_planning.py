"""Planners on an analytic world model z_{t+1} = z_t + B a_t, where the optimum is known."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch import nn

from worldjepa.errors import ConfigError, ShapeError
from worldjepa.planning import (
    MPC,
    CEMConfig,
    Planner,
    PlanResult,
    WorldModel,
    clip_action_norm,
    latent_energy,
    make_planner,
    plan,
    shift_plan,
)

MAX_NORM = 0.5
# Enough search for a 4-step horizon; the gradient planner keeps its defaults.
SETTINGS = {
    "cem": {"iterations": 15, "topk": 16},
    "mppi": {"iterations": 30, "noise_std": 0.1, "temperature": 0.003},
    "gd": {"iterations": 50},
    "tree": {"refine_iterations": 20, "refine_samples": 256, "refine_topk": 16, "refine_std": 1.0},
}
NAMES = ["cem", "mppi", "gd", "tree"]


class LinearWorld:
    """z_{t+1} = z_t + B a_t, latents [*S] = `latent_shape` (default [rows of B]); encode is the identity."""

    def __init__(self, b: torch.Tensor, latent_shape: tuple[int, ...] | None = None):
        self.b = b
        self.action_dim = b.shape[1]
        self.latent_shape = latent_shape or (b.shape[0],)

    def encode(self, obs):
        return obs

    def rollout(self, z0, actions):
        steps = torch.cumsum(actions @ self.b.T, dim=1)  # [B, T, prod(S)]
        return z0.unsqueeze(1) + steps.unflatten(2, self.latent_shape)


def planner(name, **overrides):
    return make_planner(name, horizon=4, **{**SETTINGS.get(name, {}), **overrides})


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_linear_world_follows_protocol():
    assert isinstance(LinearWorld(torch.eye(2)), WorldModel)


def test_latent_energy_known_values():
    pred = torch.tensor([[[1.0, -1.0], [0.0, 3.0]], [[2.0, 2.0], [0.0, 0.0]]])  # [B=2, T=2, D=2]
    goal = torch.zeros(2)
    assert latent_energy(pred, goal, "l1", "final").tolist() == pytest.approx([1.5, 0.0])
    assert latent_energy(pred, goal, "l1", "sum").tolist() == pytest.approx([2.5, 2.0])
    assert latent_energy(pred, goal, "l2", "final").tolist() == pytest.approx([4.5, 0.0])
    assert latent_energy(pred, goal, "l2", "sum").tolist() == pytest.approx([5.5, 4.0])
    per_sample_goal = torch.tensor([[0.0, 3.0], [1.0, 1.0]])
    assert latent_energy(pred, per_sample_goal).tolist() == pytest.approx([0.0, 1.0])
    # path_weight adds that weight times the mean per-step distance: (1 + 1.5) / 2 and (2 + 0) / 2.
    assert latent_energy(pred, goal, "l1", "final", path_weight=0.5).tolist() == pytest.approx(
        [1.5 + 0.5 * 1.25, 0.0 + 0.5 * 1.0]
    )


def test_latent_energy_errors():
    pred = torch.zeros(2, 3, 4)
    with pytest.raises(ConfigError, match="l1"):
        latent_energy(pred, torch.zeros(4), distance="l1_")
    with pytest.raises(ConfigError, match="final"):
        latent_energy(pred, torch.zeros(4), reduce="finall")
    with pytest.raises(ConfigError, match="path_weight"):
        latent_energy(pred, torch.zeros(4), path_weight=-1.0)
    with pytest.raises(ConfigError, match="path_weight"):
        CEMConfig(path_weight=-0.1)
    with pytest.raises(ShapeError):
        latent_energy(pred, torch.zeros(5))
    with pytest.raises(ShapeError):
        latent_energy(torch.zeros(2, 4), torch.zeros(4))


@settings(max_examples=40, deadline=None)
@given(
    actions=arrays(np.float32, (3, 4), elements=st.floats(-10, 10, width=32)),
    max_norm=st.floats(0.01, 5.0),
    group=st.sampled_from([1, 2, 4]),
)
def test_clip_action_norm_limits_norm_and_keeps_direction(actions, max_norm, group):
    a = torch.from_numpy(actions)
    clipped = clip_action_norm(a, max_norm, group)
    assert clipped.shape == a.shape
    parts, clipped_parts = a.view(3, -1, group), clipped.view(3, -1, group)
    assert (clipped_parts.norm(dim=-1) <= max_norm * (1 + 1e-5)).all()
    scale = (max_norm / parts.norm(dim=-1, keepdim=True)).clamp(max=1.0).nan_to_num(1.0)
    assert torch.allclose(clipped_parts, parts * scale, rtol=1e-5, atol=1e-6)


def test_clip_action_norm_errors():
    with pytest.raises(ConfigError, match="divide"):
        clip_action_norm(torch.ones(2, 4), 1.0, group=3)
    with pytest.raises(ConfigError, match="max_norm"):
        clip_action_norm(torch.ones(2, 4), 0.0)


@pytest.mark.parametrize("name", NAMES)
def test_planner_finds_the_straight_line(name):
    """The goal is exactly 4 max-norm steps away: the only way there is 4 equal steps straight at it."""
    world = LinearWorld(torch.eye(2))
    goal = torch.tensor([1.6, 1.2])
    result = planner(name).plan(world, torch.zeros(2), goal, MAX_NORM, None, gen())
    assert isinstance(result, PlanResult) and result.actions.shape == (4, 2)
    final_only = planner(name, path_weight=0.0).plan(world, torch.zeros(2), goal, MAX_NORM, None, gen())
    assert final_only.energy < 0.01  # the path term adds the straight line's mean distance
    assert (result.actions.norm(dim=-1) <= MAX_NORM + 1e-5).all()
    assert torch.allclose(result.actions, torch.tensor([0.4, 0.3]).expand(4, 2), atol=0.05)
    final = world.rollout(torch.zeros(1, 2), result.actions[None])[0, -1]
    assert torch.allclose(final, goal, atol=0.05)


@pytest.mark.parametrize("name", NAMES)
def test_planner_sum_energy_jumps_to_a_near_goal(name):
    """Summed L2 energy with the goal inside one step: best is to jump there at once and stay."""
    world = LinearWorld(torch.eye(2))
    goal = torch.tensor([0.3, -0.2])
    result = planner(name, distance="l2", reduce="sum").plan(
        world, torch.zeros(2), goal, MAX_NORM, None, gen()
    )
    optimum = torch.zeros(4, 2)
    optimum[0] = goal
    assert torch.allclose(result.actions, optimum, atol=0.05)
    assert result.energy < 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_planner_with_grouped_sub_actions_and_token_latents(name):
    """A = 4 as two 2-D sub-actions (a model step of 2 env steps), latents of N=3 tokens x D=4 dims."""
    b = torch.randn(12, 4, generator=gen(1))
    world = LinearWorld(b, latent_shape=(3, 4))
    z0 = torch.randn(3, 4, generator=gen(2))
    feasible = clip_action_norm(torch.randn(1, 4, 4, generator=gen(3)), MAX_NORM, 2)
    goal = world.rollout(z0[None], feasible)[0, -1]
    start_energy = latent_energy(z0[None, None], goal).item()
    result = planner(name).plan(world, z0, goal, MAX_NORM, 2, gen())
    assert result.actions.shape == (4, 4)
    assert (result.actions.view(4, 2, 2).norm(dim=-1) <= MAX_NORM + 1e-5).all()
    assert result.energy < 0.2 * start_energy


@pytest.mark.parametrize("name", NAMES)
def test_planner_is_deterministic_given_the_generator(name):
    world = LinearWorld(torch.eye(2))
    goal = torch.tensor([1.0, 0.5])
    first = planner(name).plan(world, torch.zeros(2), goal, MAX_NORM, None, gen(7))
    again = planner(name).plan(world, torch.zeros(2), goal, MAX_NORM, None, gen(7))
    assert torch.equal(first.actions, again.actions)


def test_gradient_planner_leaves_model_parameters_alone():
    layer = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(2))
    world = LinearWorld(layer.weight)
    with torch.no_grad():  # the MPC loop plans under no_grad; the gradient planner must still work
        result = planner("gd").plan(world, torch.zeros(2), torch.tensor([0.5, 0.5]), MAX_NORM, None, gen())
    assert result.energy < 0.01
    assert layer.weight.grad is None


def test_gradient_planner_needs_a_differentiable_rollout():
    class Frozen(LinearWorld):
        def rollout(self, z0, actions):
            with torch.no_grad():
                return super().rollout(z0, actions)

    with pytest.raises(ConfigError, match="cem"):
        planner("gd").plan(Frozen(torch.eye(2)), torch.zeros(2), torch.ones(2), MAX_NORM, None, gen())


def test_make_planner_errors():
    with pytest.raises(ConfigError, match="cem"):
        make_planner("cme")
    with pytest.raises(ConfigError, match="hoizon"):
        make_planner("cem", hoizon=4)
    with pytest.raises(ConfigError, match="topk"):
        make_planner("cem", samples=8, topk=16)
    with pytest.raises(ConfigError, match="distance"):
        make_planner("mppi", distance="cosine")
    assert make_planner("gd", lr=1).config.lr == 1.0


def test_planner_shape_errors():
    world = LinearWorld(torch.eye(2))
    p = planner("cem")
    with pytest.raises(ShapeError, match="goal"):
        p.plan(world, torch.zeros(2), torch.zeros(3), MAX_NORM, None, gen())
    with pytest.raises(ShapeError, match="horizon"):
        p.plan(world, torch.zeros(2), torch.zeros(2), MAX_NORM, None, gen(), init=torch.zeros(3, 2))

    class Wrong(LinearWorld):
        def rollout(self, z0, actions):
            return super().rollout(z0, actions)[:, -1]

    with pytest.raises(ShapeError, match="rollout"):
        p.plan(Wrong(torch.eye(2)), torch.zeros(2), torch.zeros(2), MAX_NORM, None, gen())


def test_plan_returns_first_actions():
    world = LinearWorld(torch.eye(2))
    goal = torch.tensor([1.6, 1.2])
    first = plan(world, torch.zeros(2), goal, planner("cem"), horizon=4, max_norm=MAX_NORM, steps=2, seed=3)
    assert first.shape == (2, 2)
    assert torch.allclose(first, torch.tensor([0.4, 0.3]).expand(2, 2), atol=0.05)
    again = plan(world, torch.zeros(2), goal, planner("cem"), horizon=4, max_norm=MAX_NORM, steps=2, seed=3)
    assert torch.equal(first, again)
    assert plan(world, torch.zeros(2), goal, "mppi", horizon=3).shape == (1, 2)


def test_shift_plan():
    actions = torch.arange(8.0).view(4, 2)
    shifted = shift_plan(actions, 1)
    assert torch.equal(shifted[:3], actions[1:]) and torch.equal(shifted[3], torch.zeros(2))
    assert torch.equal(shift_plan(actions, 0), actions)


def run_episode(mpc, goal, steps):
    state, actions = torch.zeros(2), []
    for _ in range(steps):
        action = mpc.act(state, goal)
        state = state + action
        actions.append(action)
    return state, torch.stack(actions)


def test_mpc_reaches_the_goal_deterministically():
    world = LinearWorld(torch.eye(2))
    goal = torch.tensor([1.2, -0.9])
    # Summed energy rewards getting there early; a final-step energy lets a receding horizon postpone forever.
    mpc = MPC(world, planner("cem", distance="l2", reduce="sum"), MAX_NORM, seed=5)
    state, actions = run_episode(mpc, goal, 6)
    assert torch.allclose(state, goal, atol=0.05)
    assert (actions.norm(dim=-1) <= MAX_NORM + 1e-5).all()
    assert mpc.plans == 6 and len(mpc.plan_seconds) == 6
    mpc.reset()
    assert mpc.plans == 0
    assert torch.equal(run_episode(mpc, goal, 6)[1], actions)


def test_path_weight_lets_a_final_step_energy_settle_on_the_goal():
    world = LinearWorld(torch.eye(2))
    goal = torch.tensor([1.2, -0.9])
    # A final-step energy alone leaves the first actions free; the path term asks to get there early.
    mpc = MPC(world, planner("cem", distance="l2", path_weight=0.3), MAX_NORM, seed=5)
    state, _ = run_episode(mpc, goal, 6)
    assert torch.allclose(state, goal, atol=0.05)


def test_mpc_replans_every_k_steps_from_the_shifted_plan():
    calls = []

    def spy(world_model, z0, z_goal, config, max_norm, group, generator, init):
        calls.append((z0.clone(), init))
        return PlanResult(torch.arange(8.0).view(4, 2) + len(calls), 0.0)

    mpc = MPC(LinearWorld(torch.eye(2)), Planner("spy", CEMConfig(horizon=4), spy), MAX_NORM, replan_every=2)
    obs = [torch.full((2,), float(i)) for i in range(5)]
    acts = [mpc.act(o, torch.zeros(2)) for o in obs]
    assert mpc.plans == 3 and [c[0][0].item() for c in calls] == [0.0, 2.0, 4.0]
    assert calls[0][1] is None
    assert torch.equal(calls[1][1], shift_plan(torch.arange(8.0).view(4, 2) + 1, 2))
    assert torch.equal(acts[1], torch.tensor([3.0, 4.0])) and torch.equal(acts[2], torch.tensor([2.0, 3.0]))
    with pytest.raises(ConfigError, match="replan_every"):
        MPC(LinearWorld(torch.eye(2)), planner("cem"), MAX_NORM, replan_every=5)


def test_coloured_noise_is_unit_variance_and_correlated_in_time():
    from worldjepa.planning.noise import coloured_noise
    from worldjepa.planning.protocol import normal_noise

    like = torch.zeros(1)
    white = coloured_noise((3, 4, 8), 0.0, torch.Generator().manual_seed(1), like, group=2)
    assert torch.equal(white, normal_noise((3, 4, 8), torch.Generator().manual_seed(1), like))
    lag1 = []
    for beta in (0.0, 1.0, 2.0):
        x = coloured_noise((2000, 4, 8), beta, torch.Generator().manual_seed(0), like, group=2)
        assert x.shape == (2000, 4, 8) and abs(x.std().item() - 1.0) < 0.03
        steps = x.reshape(2000, 16, 2)  # 4 model steps of 4 env actions (dx, dy)
        lag1.append(torch.corrcoef(torch.stack([steps[:, :-1].flatten(), steps[:, 1:].flatten()]))[0, 1])
    assert abs(lag1[0]) < 0.05 and lag1[0] < lag1[1] - 0.3 < lag1[2] - 0.5


def test_coloured_noise_rejects_negative_beta():
    from worldjepa.planning.noise import coloured_noise

    with pytest.raises(ConfigError, match="beta must be >= 0"):
        coloured_noise((1, 2, 2), -1.0, torch.Generator(), torch.zeros(1))
