"""Offline Two-Rooms trajectories: the collector's shards and card, and the windowed dataset."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from worldjepa.data.trajectories import TrajectoryDataset, collect_two_rooms
from worldjepa.envs import LayoutArrays, move
from worldjepa.errors import ConfigError, DataError

EPISODES, STEPS = 40, 32


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    return collect_two_rooms(tmp_path_factory.mktemp("traj"), EPISODES, STEPS, seed=0, shard_size=16)


def load(root, name):
    return np.concatenate([np.load(p / f"{name}.npy") for p in sorted(root.glob("shard_*"))])


def test_shards_hold_arrays_of_the_documented_shapes(collection):
    assert sorted(p.name for p in collection.glob("shard_*")) == ["shard_00000", "shard_00001", "shard_00002"]
    shapes = {
        "frames": ((EPISODES, STEPS + 1, 64, 64, 3), np.uint8),
        "actions": ((EPISODES, STEPS, 2), np.float32),
        "positions": ((EPISODES, STEPS + 1, 2), np.float32),
        "layouts": ((EPISODES, 2), np.float32),
    }
    for name, (shape, dtype) in shapes.items():
        array = load(collection, name)
        assert array.shape == shape and array.dtype == dtype
    assert not list(collection.glob(".shard_*"))  # no temporary directory left behind


def test_card_and_door_crossings(collection):
    card = json.loads((collection / "card.json").read_text())
    assert card["episodes"] == EPISODES and card["steps"] == STEPS and card["policy"] == "momentum"
    assert [s["episodes"] for s in card["shards"]] == [16, 16, 8]
    assert card["env_kwargs"]["size"] == 64 and card["format_version"] == 2
    assert card["door_crossing_fraction"] > 0.2
    assert 0.05 < card["blocked_fraction"] < 0.5  # wall-aimed episodes push into the wall
    stats = card["action_stats"]
    assert stats["norm_quantiles"]["1.0"] <= 3.0 + 1e-5 and stats["fraction_norm_below_0.5"] > 0.02
    assert min(card["room_fractions"]["left"], card["room_fractions"]["right"]) > 0.25


def test_positions_follow_from_actions(collection):
    positions, actions, layouts = (
        load(collection, k).astype(np.float64) for k in ("positions", "actions", "layouts")
    )
    lay = LayoutArrays(64, layouts[:, 0], 4.0, layouts[:, 1], 12.0)
    for t in range(STEPS):
        np.testing.assert_allclose(
            move(lay, positions[:, t], actions[:, t], 3.0, 3.0), positions[:, t + 1], atol=1e-4
        )
    assert len(np.unique(layouts, axis=0)) > EPISODES // 2


def test_episodes_depend_only_on_seed_and_index(tmp_path, collection):
    other = collect_two_rooms(tmp_path / "a", 20, STEPS, seed=0, shard_size=7)
    for name in ("frames", "actions", "positions"):
        np.testing.assert_array_equal(load(other, name), load(collection, name)[:20])
    reseeded = collect_two_rooms(tmp_path / "b", 4, STEPS, seed=1)
    assert not np.array_equal(load(reseeded, "positions"), load(collection, "positions")[:4])


def test_reuse_regenerate_progress_and_random_policy(tmp_path):
    calls = []
    root = collect_two_rooms(tmp_path, 6, 4, shard_size=4, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(4, 6), (6, 6)]
    stamp = (root / "shard_00000" / "frames.npy").stat().st_mtime_ns
    collect_two_rooms(tmp_path, 6, 4, shard_size=4)
    assert (root / "shard_00000" / "frames.npy").stat().st_mtime_ns == stamp
    collect_two_rooms(tmp_path, 3, 4, shard_size=4, policy="random")
    assert [p.name for p in root.glob("shard_*")] == ["shard_00000"]
    norms = np.hypot(*load(root, "actions").reshape(-1, 2).T)
    assert norms.max() <= 3.0 + 1e-5
    with pytest.raises(ConfigError, match="Did you mean: random"):
        collect_two_rooms(tmp_path, 3, 4, policy="randm")
    with pytest.raises(ConfigError, match="door_width"):
        collect_two_rooms(tmp_path, 3, 4, env_kwargs={"door_widht": 10})


def test_dataset_windows_with_frameskip_match_the_raw_arrays(collection):
    window, skip = 3, 2
    data = TrajectoryDataset(collection, window, frameskip=skip)
    per_episode = STEPS - window * skip + 1
    assert len(data) == EPISODES * per_episode and data.card["episodes"] == EPISODES
    frames, actions, positions = (load(collection, k) for k in ("frames", "actions", "positions"))
    for index in (0, per_episode * 17 + 5, len(data) - 1):
        episode, start = divmod(index, per_episode)
        item = data[index]
        assert item["frames"].shape == (window + 1, 3, 64, 64) and item["actions"].shape == (window, 2 * skip)
        np.testing.assert_array_equal(
            item["frames"].numpy(), frames[episode, start : start + 7 : 2].transpose(0, 3, 1, 2)
        )
        np.testing.assert_array_equal(
            item["actions"].numpy()[1], actions[episode, start + 2 : start + 4].ravel()
        )
        np.testing.assert_array_equal(item["positions"].numpy(), positions[episode, start : start + 7 : 2])
    with pytest.raises(IndexError):
        data[len(data)]
    clone = pickle.loads(pickle.dumps(data))
    assert len(pickle.dumps(data)) < 10_000
    np.testing.assert_array_equal(clone[7]["frames"].numpy(), data[7]["frames"].numpy())


def test_dataset_errors_say_how_to_collect(tmp_path, collection):
    with pytest.raises(DataError, match="worldjepa collect two-rooms"):
        TrajectoryDataset(tmp_path / "missing", 4)
    with pytest.raises(DataError, match="shorter window"):
        TrajectoryDataset(collection, 20, frameskip=2)
    broken = collect_two_rooms(tmp_path / "broken", 2, 4)
    (broken / "shard_00000" / "actions.npy").write_bytes(b"garbage")
    with pytest.raises(DataError, match="worldjepa collect two-rooms"):
        TrajectoryDataset(broken, 2)
