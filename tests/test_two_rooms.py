"""The Two-Rooms environment: walls, door, motion limits, rendering, resets and the gymnasium API."""

from __future__ import annotations

import importlib
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import worldjepa.envs
from worldjepa.envs import (
    SUCCESS_RADIUS,
    Layout,
    LayoutArrays,
    TwoRooms,
    TwoRoomsBatch,
    free_positions,
    is_free,
    move,
    render_batch,
    room_of,
    sample_opposite_rooms,
)
from worldjepa.envs.two_rooms import env_steps_per_action
from worldjepa.envs.two_rooms_geometry import door_y_range, wall_x_range
from worldjepa.errors import ConfigError, ShapeError

R, STEP = 3.0, 3.0
LAYOUT = Layout(size=64, wall_x=32.0, wall_thickness=4.0, door_y=10.0, door_width=12.0)


def drive(layout, start, action, steps):
    """Positions [steps+1, 2] of one agent pushed by the same action every step."""
    path = [np.asarray(start, dtype=np.float64)]
    for _ in range(steps):
        path.append(move(layout, path[-1][None], np.asarray(action, dtype=np.float64)[None], R, STEP)[0])
    return np.stack(path)


def test_wall_blocks_and_agent_slides_along_it():
    path = drive(LAYOUT, (20.0, 40.0), (3.0, 0.0), 10)
    assert is_free(LAYOUT, path, R).all()
    assert path[:, 0].max() <= 32 - 2 - R + 1e-9 and path[-1, 0] > 32 - 2 - R - 0.5  # pressed against it
    slide = drive(LAYOUT, (26.5, 40.0), (3.0, 1.0), 5)  # diagonal push: x blocked, y keeps moving
    assert is_free(LAYOUT, slide, R).all() and slide[-1, 1] > 44 and room_of(LAYOUT, slide[-1]) == 0


def test_door_lets_the_agent_through():
    layout = Layout(64, 32.0, 4.0, 32.0, 12.0)
    path = drive(layout, (20.0, 32.0), (3.0, 0.0), 10)
    assert room_of(layout, path[0]) == 0 and room_of(layout, path[-1]) == 1
    assert is_free(layout, path, R).all()
    np.testing.assert_allclose(np.diff(path[:, 0]), 3.0)  # nothing in the way: full speed


def test_displacement_never_exceeds_max_step_and_agent_stays_in_frame():
    rng = np.random.default_rng(0)
    start = free_positions(LAYOUT, R, step=2.0)
    actions = rng.normal(0, 50, size=start.shape)
    end = move(LAYOUT, start, actions, R, STEP)
    assert (np.hypot(*(end - start).T) <= STEP + 1e-9).all() and is_free(LAYOUT, end, R).all()
    free = drive(LAYOUT, (12.0, 40.0), (1e6, -1e6), 1)
    assert np.hypot(*(free[1] - free[0])) == pytest.approx(STEP)
    corner = drive(LAYOUT, (10.0, 50.0), (-3.0, 3.0), 20)[-1]
    assert corner[0] == pytest.approx(R, abs=0.5) and corner[1] == pytest.approx(64 - R, abs=0.5)
    assert corner[0] >= R and corner[1] <= 64 - R


def test_move_handles_a_layout_per_row():
    layouts = LayoutArrays.stack([Layout(64, 32.0, 4.0, 32.0, 12.0), Layout(64, 32.0, 4.0, 10.0, 12.0)])
    start = np.array([[26.0, 32.0], [26.0, 32.0]])
    end = start
    for _ in range(5):
        end = move(layouts, end, [[3.0, 0.0], [3.0, 0.0]], R, STEP)
    assert room_of(layouts, end).tolist() == [1, 0]  # the door is in front of the first agent only


def agent_centroid(frame: np.ndarray) -> np.ndarray:
    weight = frame[..., 0].astype(np.float64) - frame[..., 1]  # the red agent on black
    ys, xs = np.mgrid[: frame.shape[0], : frame.shape[1]] + 0.5
    return np.array([(weight * xs).sum(), (weight * ys).sum()]) / weight.sum()


def test_rendering_shape_agent_position_and_sub_pixel_sensitivity():
    positions = np.array([[12.0, 40.0], [50.0, 20.0], [12.25, 40.0]])
    frames = render_batch(LAYOUT, positions, R)
    assert frames.shape == (3, 64, 64, 3) and frames.dtype == np.uint8
    assert frames[0, 40, 32].tolist() == [200, 200, 200] and frames[0, 10, 32].tolist() == [
        0,
        0,
        0,
    ]  # wall, door
    for frame, xy in zip(frames, positions, strict=True):
        np.testing.assert_allclose(agent_centroid(frame), xy, atol=0.05)
    assert not np.array_equal(frames[0], frames[2])


def test_reset_draws_rooms_and_honours_options():
    env = TwoRooms(wall_x=32, door_y=10)
    for seed in range(20):
        _, info = env.reset(seed=seed)
        rooms = {room_of(env.layout, info["position"]), room_of(env.layout, info["goal"])}
        assert rooms == {0, 1}
    obs, info = env.reset(options={"start": (12.0, 40.0), "goal": (50.0, 20.0), "door_y": 30})
    np.testing.assert_array_equal(info["position"], [12.0, 40.0])
    assert info["layout"]["door_y"] == 30 and not np.array_equal(obs, info["goal_observation"])
    np.testing.assert_array_equal(info["goal_observation"], env.goal_observation())
    assert info["distance"] == pytest.approx(np.hypot(38.0, 20.0)) and not info["success"]
    _, info = env.reset(options={"start": (12.0, 40.0)})
    assert room_of(env.layout, info["goal"]) == 1
    with pytest.raises(ConfigError, match="not a free position"):
        env.reset(options={"start": (32.0, 40.0)})  # inside the wall
    with pytest.raises(ConfigError, match="Did you mean: start"):
        env.reset(options={"strat": (12.0, 40.0)})


def test_sample_opposite_rooms_respects_the_margin():
    rng = np.random.default_rng(0)
    for _ in range(50):
        start, goal = sample_opposite_rooms(LAYOUT, rng, R, margin=1.0)
        assert {room_of(LAYOUT, start), room_of(LAYOUT, goal)} == {0, 1}
        assert is_free(LAYOUT, np.stack([start, goal]), R + 1.0).all()


def test_random_layouts_are_many_and_in_range():
    env = TwoRooms()
    layouts = set()
    for seed in range(300):
        env.reset(seed=seed)
        layouts.add((env.layout.wall_x, env.layout.door_y))
    assert len(layouts) > 200
    walls, doors = np.array(sorted(layouts)).T
    assert walls.min() >= 20 and walls.max() <= 44 and doors.min() >= 8 and doors.max() <= 56
    (w0, w1), (d0, d1) = wall_x_range(64), door_y_range(64, 12)
    assert (w1 - w0 + 1) * (d1 - d0 + 1) > 1000  # eb_jepa draws from over a thousand layouts


def test_step_reward_success_truncation_and_bad_actions():
    env = TwoRooms(max_episode_steps=3)
    env.reset(seed=0, options={"start": (12.0, 40.0), "goal": (14.0, 40.0)})
    obs, reward, terminated, truncated, info = env.step(np.array([1.0, 0.0], dtype=np.float32))
    assert (
        obs.shape == (64, 64, 3) and reward == pytest.approx(-1.0) and info["success"] and info["success_2px"]
    )
    assert not terminated and not truncated and SUCCESS_RADIUS == 4.5
    env.step([0.0, 0.0])
    assert env.step([0.0, 0.0])[3]  # truncated at max_episode_steps
    with pytest.raises(ShapeError, match="shape"):
        env.step([1.0, 0.0, 0.0])
    with pytest.raises(ShapeError, match="finite"):
        env.step([np.nan, 0.0])


def test_gymnasium_make_and_env_checker():
    importlib.reload(worldjepa.envs)  # registering again is harmless
    env = gymnasium.make("worldjepa/TwoRooms-v0", size=32, door_width=8, max_step=2.0)
    assert env.observation_space.shape == (32, 32, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env.unwrapped)
        obs, _ = env.reset(seed=1)
        assert env.observation_space.contains(obs)


def test_from_kwargs_names_unknown_keys_and_validates_values():
    assert TwoRooms.from_kwargs({"size": 48, "door_width": 10}).kwargs["size"] == 48
    with pytest.raises(ConfigError, match="door_width"):
        TwoRooms.from_kwargs({"door_widht": 10})
    with pytest.raises(ConfigError, match="diameter"):
        TwoRooms(door_width=5)
    with pytest.raises(ConfigError, match="wall_x"):
        TwoRooms(wall_x=4)
    with pytest.raises(ConfigError, match="door_y"):
        TwoRooms(door_y=62)


def test_free_positions_and_batch():
    grid = free_positions(LAYOUT, R)
    assert grid.shape[1] == 2 and is_free(LAYOUT, grid, R).all() and len(grid) > 2000
    batch = TwoRoomsBatch(5, seed=0, size=32, door_width=8)
    frames, positions = batch.reset()
    assert frames.shape == (5, 32, 32, 3) and positions.shape == (5, 2)
    frames, moved = batch.step(np.ones((5, 2)))
    assert is_free(batch.layouts, moved, R).all() and not np.array_equal(moved, positions)
    again = TwoRoomsBatch(5, seed=0, size=32, door_width=8)
    np.testing.assert_array_equal(again.reset()[1], positions)


def test_env_steps_per_action():
    assert env_steps_per_action(2) == 1 and env_steps_per_action(8) == 4
    for bad in (0, 3, 7):
        with pytest.raises(ConfigError, match="whole number of the env's 2-d actions"):
            env_steps_per_action(bad)
