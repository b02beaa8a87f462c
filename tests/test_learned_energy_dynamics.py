"""LearnedEnergyDynamics: true dynamics scored in a learned latent (the energy apart from the predictor)."""

from __future__ import annotations

import pytest
import torch

from worldjepa.envs import SUCCESS_RADIUS, LearnedEnergyDynamics, TwoRooms, TwoRoomsTrueDynamics
from worldjepa.envs.learned_energy_dynamics import STATE_SCALE
from worldjepa.errors import ConfigError
from worldjepa.eval.plan_eval import run_episode
from worldjepa.planning import MPC, WorldModel, make_planner


class PositionLatent:
    """A stand-in learned model whose latent is the agent's position, with a second, bent copy
    (so the latent is not the state itself), `[B, 1, 4]`."""

    action_dim = 8

    def __init__(self):
        self.reader = TwoRoomsTrueDynamics()
        self.calls = 0

    def eval(self):
        return self

    def encode(self, obs):
        self.calls += 1
        xy = self.reader.encode(obs)[..., :2] / 64
        return torch.cat([xy, xy.square()], -1).unsqueeze(-2)


def test_latents_follow_the_true_state_through_the_grid():
    env = TwoRooms()
    obs, _ = env.reset(seed=3)
    learned = PositionLatent()
    model = LearnedEnergyDynamics(learned, env.config)
    assert isinstance(model, WorldModel) and model.frameskip == 4
    z0 = model.encode(torch.from_numpy(obs)[None])
    state = TwoRoomsTrueDynamics(env.config).encode(torch.from_numpy(obs)[None])
    assert z0.shape == (1, 8)
    assert torch.allclose(z0[:, 4:], STATE_SCALE * state)
    xy = state[0, :2] / 64
    assert torch.allclose(z0[0, :4], torch.cat([xy, xy.square()]), atol=2e-3)  # bilinear between whole pixels
    actions = torch.zeros(5, 3, 8)
    actions[..., 0::2] = 3.0  # push right for 12 env steps
    rolled = model.rollout(z0.expand(5, -1), actions)
    true = TwoRoomsTrueDynamics(env.config).rollout(state.expand(5, -1), actions)
    assert rolled.shape == (5, 3, 8)
    assert torch.allclose(rolled[..., 4:] / STATE_SCALE, true, atol=1e-3)
    assert torch.allclose(rolled[..., :2], true[..., :2] / 64, atol=2e-3)
    calls = learned.calls
    model.rollout(z0.expand(5, -1), actions)
    assert learned.calls == calls  # the layout's grid is cached: no more encoder passes


def test_a_latent_that_places_the_agent_plans_like_the_true_dynamics():
    env = TwoRooms()
    model = LearnedEnergyDynamics(PositionLatent(), env.config)
    planner = make_planner("cem", distance="l2", path_weight=0.3, noise_beta=2.0, samples=128, topk=16)
    episode = run_episode(env, model, MPC(model, planner, env.config.max_step, 2, seed=0), seed=10_000)
    assert episode.final_distance < SUCCESS_RADIUS


def test_an_action_that_is_not_whole_env_steps_is_refused():
    model = PositionLatent()
    model.action_dim = 3
    with pytest.raises(ConfigError, match="not a whole number of the env's 2-d actions"):
        LearnedEnergyDynamics(model)
    with pytest.raises(ConfigError, match="not a whole number of the env's 2-d actions"):
        run_episode(TwoRooms(), model, MPC(model, make_planner("cem"), 4), seed=0)
