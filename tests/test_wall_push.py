"""wall_push: how much of a push into the wall a world model lets through."""

from __future__ import annotations

import pytest

from worldjepa.envs import TwoRooms, TwoRoomsTrueDynamics
from worldjepa.errors import ConfigError
from worldjepa.eval import wall_push


def test_exact_walls_leak_nothing_and_no_walls_leak_everything():
    env = TwoRooms()
    leaks = {}
    for per_step in (0.0, 0.5, 1.0):
        result = wall_push(TwoRoomsTrueDynamics(env.config, leak=per_step), env, env_steps=16, samples=40)
        assert result["position_probe_px"] < 0.05
        assert result["env_px"] < 12 < result["no_wall_px"]  # stopped 4-12 px away; the border stops later
        leaks[per_step] = result["leak"]
    assert leaks[0.0] == pytest.approx(0.0, abs=0.01) and leaks[1.0] == pytest.approx(1.0, abs=0.01)
    assert 0.5 < leaks[0.5] < 1.0  # half of each blocked step gets through, again at every step


def test_env_steps_must_fill_whole_model_steps():
    env = TwoRooms()
    with pytest.raises(ConfigError, match="multiple of the model's 4 env steps"):
        wall_push(TwoRoomsTrueDynamics(env.config), env, env_steps=6)
