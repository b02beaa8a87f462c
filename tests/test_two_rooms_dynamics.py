"""TwoRoomsTrueDynamics: the env's own dynamics behind the planners' WorldModel protocol."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from worldjepa.envs import SUCCESS_RADIUS, TwoRooms, TwoRoomsTrueDynamics
from worldjepa.errors import ConfigError, ShapeError
from worldjepa.eval.plan_eval import run_episode
from worldjepa.planning import MPC, WorldModel, make_planner


def test_encode_reads_agent_and_layout_from_the_frame():
    env = TwoRooms()
    model = TwoRoomsTrueDynamics(env.config)
    assert isinstance(model, WorldModel)
    frames, truth = [], []
    for seed in range(40):
        obs, info = env.reset(seed=seed)
        frames.append(obs)
        truth.append([*info["position"], info["layout"]["wall_x"], info["layout"]["door_y"]])
    z = model.encode(torch.from_numpy(np.stack(frames)))
    assert z.shape == (40, 4)
    # Agent centres from anti-aliased uint8 pixels to a few hundredths of a pixel; the layout exactly.
    np.testing.assert_allclose(z[:, :2].numpy(), np.array(truth)[:, :2], atol=0.05)
    np.testing.assert_allclose(z[:, 2:].numpy(), np.array(truth)[:, 2:], atol=0.02)


def test_rollout_matches_the_env_step_by_step():
    env = TwoRooms()
    model = TwoRoomsTrueDynamics(env.config, frameskip=2)
    obs, _ = env.reset(seed=3, options={"start": (10.0, 30.0), "wall_x": 32.0, "door_y": 50.0})
    actions = torch.tensor([[3.0, 0.0]]).repeat(1, 6, 2)  # [1, T=6, A=4]: straight into the wall
    z = model.rollout(model.encode(torch.from_numpy(obs))[None], actions)
    for t in range(6):
        for _ in range(2):
            _, _, _, _, info = env.step(np.array([3.0, 0.0]))
        np.testing.assert_allclose(z[0, t, :2].numpy(), info["position"], atol=0.05)
    assert z[0, -1, 0] < 32.0 - 2.0 - 3.0 + 0.05  # the wall's left face minus the agent radius


def test_a_leaky_wall_lets_its_fraction_of_blocked_motion_through():
    env = TwoRooms()
    obs, _ = env.reset(seed=3, options={"start": (25.0, 30.0), "wall_x": 32.0, "door_y": 50.0})
    z0 = TwoRoomsTrueDynamics(env.config).encode(torch.from_numpy(obs))[None]
    push = torch.tensor([[3.0, 0.0]]).repeat(1, 1, 4)  # one model step of 4 env steps into the wall
    face = 32.0 - 2.0 - 3.0  # the wall's left face minus the agent radius
    ends = {
        leak: TwoRoomsTrueDynamics(env.config, leak=leak).rollout(z0, push)[0, 0, 0].item()
        for leak in (0.0, 0.5, 1.0)
    }
    assert ends[0.0] == pytest.approx(face, abs=0.05)  # blocked: 2 of the 12 px commanded
    assert ends[1.0] == pytest.approx(z0[0, 0].item() + 12.0, abs=0.05)  # no wall at all
    assert face < ends[0.5] < ends[1.0]
    with pytest.raises(ConfigError, match="leak"):
        TwoRoomsTrueDynamics(leak=1.5)


def test_a_door_margin_widens_or_narrows_the_rollouts_door():
    env = TwoRooms()
    push = torch.tensor([[3.0, 0.0]]).repeat(1, 1, 4)
    face = 32.0 - 2.0 - 3.0
    for height, margin, passes in ((4.5, 0.0, False), (4.5, 2.0, True), (2.0, 0.0, True), (2.0, -2.0, False)):
        obs, _ = env.reset(seed=3, options={"start": (25.0, 40.0 + height), "wall_x": 32.0, "door_y": 40.0})
        z0 = TwoRoomsTrueDynamics(env.config).encode(torch.from_numpy(obs))[None]
        end = TwoRoomsTrueDynamics(env.config, door_margin=margin).rollout(z0, push)[0, 0, 0].item()
        assert (end > face + 1.0) == passes, (height, margin, end)
    with pytest.raises(ConfigError, match="door_margin must leave a door"):
        TwoRoomsTrueDynamics(door_margin=-6.0)


def test_cem_with_the_true_dynamics_crosses_the_door():
    env = TwoRooms()
    model = TwoRoomsTrueDynamics(env.config)
    planner = make_planner("cem", distance="l2", path_weight=0.3, noise_beta=2.0, samples=128, topk=16)
    episode = run_episode(env, model, MPC(model, planner, env.config.max_step, 2, seed=0), seed=10_000)
    assert episode.final_distance < SUCCESS_RADIUS
    assert episode.positions[0][0] < episode.layout["wall_x"] < episode.goal[0] or (
        episode.goal[0] < episode.layout["wall_x"] < episode.positions[0][0]
    )


def test_errors_name_the_fix():
    model = TwoRoomsTrueDynamics()
    with pytest.raises(ShapeError, match="uint8"):
        model.encode(torch.zeros(64, 64, 3))
    with pytest.raises(ShapeError, match=r"\[B, 4\]"):
        model.rollout(torch.zeros(2, 3), torch.zeros(2, 1, 8))
    with pytest.raises(ShapeError, match="A=8"):
        model.rollout(torch.zeros(2, 4), torch.zeros(2, 1, 2))
    with pytest.raises(ConfigError, match="cem or mppi"):
        model.rollout(torch.zeros(1, 4), torch.zeros(1, 1, 8, requires_grad=True))
    with pytest.raises(ConfigError, match="frameskip"):
        TwoRoomsTrueDynamics(frameskip=0)


def test_cli_eval_plan_with_the_true_dynamics(tmp_path):
    from typer.testing import CliRunner

    from worldjepa.cli import app

    runner = CliRunner()
    args = ["eval-plan", "--out", str(tmp_path), "--episodes", "1", "--planner", "cem"]
    small = '{"horizon": 4, "samples": 16, "topk": 4, "iterations": 2}'
    ok = runner.invoke(
        app, [*args, "--true-dynamics", "--planner-kwargs", small, "--env-kwargs", '{"door_width": 14}']
    )
    assert ok.exit_code == 0, ok.output
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["env"]["door_width"] == 14 and (tmp_path / "energy_landscape.png").is_file()
    neither = runner.invoke(app, args)
    assert neither.exit_code == 1 and "--true-dynamics" in neither.output
    gradient = runner.invoke(app, [*args[:-1], "gd", "--true-dynamics", "--planner-kwargs", '{"horizon": 2}'])
    assert gradient.exit_code == 1 and "cem or mppi" in gradient.output


def test_cli_eval_plan_leak_needs_the_true_dynamics_and_a_fraction(tmp_path):
    from typer.testing import CliRunner

    from worldjepa.cli import app

    runner = CliRunner()
    args = ["eval-plan", "--out", str(tmp_path), "--episodes", "1", "--planner", "cem"]
    small = ["--planner-kwargs", '{"horizon": 4, "samples": 16, "topk": 4, "iterations": 2}']
    leaky = runner.invoke(app, [*args, "--true-dynamics", "--leak", "0.5", *small])
    assert leaky.exit_code == 0, leaky.output
    assert json.loads((tmp_path / "results.json").read_text())["episodes"] == 1
    too_much = runner.invoke(app, [*args, "--true-dynamics", "--leak", "2", *small])
    assert too_much.exit_code == 1 and "leak must be in [0, 1]" in too_much.output
    learned = runner.invoke(app, [*args, "--checkpoint", str(tmp_path), "--leak", "0.1"])
    assert learned.exit_code == 1 and "use it with --true-dynamics" in learned.output
