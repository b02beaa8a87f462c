"""door_edges: where a world model puts the door's edges, checked on true dynamics with known margins."""

import pytest

from worldjepa.envs import TwoRooms, TwoRoomsTrueDynamics
from worldjepa.errors import ConfigError
from worldjepa.eval.door_edges import door_edges


def test_true_dynamics_read_their_own_door_margin():
    env = TwoRooms()
    for margin in (0.0, 1.5, -1.0):
        result = door_edges(TwoRoomsTrueDynamics(env.config, door_margin=margin), env, samples=6)
        assert result["door_margin"] == pytest.approx(margin, abs=0.05)
        assert result["pass"][3.25] == pytest.approx(1.0, abs=0.02)
        assert result["pass"][-4.75] == pytest.approx(0.0, abs=0.02)
        assert result["position_probe_px"] < 0.1


def test_door_edges_refuses_bad_settings():
    env = TwoRooms()
    with pytest.raises(ConfigError, match="increasing"):
        door_edges(TwoRoomsTrueDynamics(env.config), env, offsets=(1.0, -1.0))
    with pytest.raises(ConfigError, match="multiple"):
        door_edges(TwoRoomsTrueDynamics(env.config), env, env_steps=6)
