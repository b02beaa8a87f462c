"""Offline Two-Rooms trajectories: a collector that writes shards of numpy arrays, and a dataset that
memory-maps them and serves windows of (frames, actions, positions).

Layout of a collection: `shard_00000/` ... each with `frames.npy` uint8 [E, steps+1, H, W, 3],
`actions.npy` float32 [E, steps, 2], `positions.npy` float32 [E, steps+1, 2], `layouts.npy` float32
[E, 2] (wall_x, door_y); and `card.json`, written last, that says what the collection holds.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from worldjepa.config import from_dict, to_dict
from worldjepa.envs.two_rooms import TwoRoomsBatch, TwoRoomsConfig
from worldjepa.envs.two_rooms_geometry import LayoutArrays, clip_norm, room_of, sample_in_room, sample_layout
from worldjepa.errors import ConfigError, DataError, suggest
from worldjepa.io import write_json

FORMAT_VERSION = 2
POLICIES = ("momentum", "random")
ARRAYS = ("frames", "actions", "positions", "layouts")
MOMENTUM = 0.8  # a_t = MOMENTUM * a_{t-1} + noise: headings persist for a few steps
AIMS = ("wander", "door", "wall")  # what a momentum episode first steers at, drawn with AIM_ODDS
AIM_ODDS = (1 / 3, 1 / 3, 1 / 3)
EDGE_ODDS = 0.5  # of wall-aimed episodes that push within EDGE_PX (blocked, free) of a door edge
EDGE_PX = (6.0, 4.0)
ARRIVED = 1.5  # px to a door waypoint that counts as reached
COLLECT_HINT = (
    "run `worldjepa collect two-rooms` (worldjepa.data.trajectories.collect_two_rooms) to create it"
)


def _draw_episode(seed: int, index: int, cfg: TwoRoomsConfig, steps: int, policy: str) -> dict[str, Any]:
    """Everything random about episode `index`, drawn from its own generator so it depends only on
    (seed, index): layout, start, and the policy's noise."""
    rng = np.random.default_rng((seed, index))
    layout = sample_layout(rng, cfg.size, cfg.wall_thickness, cfg.door_width, cfg.wall_x, cfg.door_y)
    draws: dict[str, Any] = {"layout": layout, "start": sample_in_room(layout, rng, -1, cfg.agent_radius)}
    if policy == "random":  # i.i.d. uniform over the disc of radius max_step
        radius = cfg.max_step * np.sqrt(rng.random(steps))
        angle = rng.uniform(0.0, 2 * math.pi, steps)
        draws["actions"] = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=-1)
        return draws
    scale = rng.uniform(0.1, 1.0)  # slow and fast episodes, so small actions are common too
    angle = rng.uniform(0.0, 2 * math.pi)
    lane = max(cfg.door_width / 2 - cfg.agent_radius - 0.5, 0.0)
    draws |= {
        "aim": int(rng.choice(len(AIMS), p=AIM_ODDS)),
        "across": _push_height(layout, rng, cfg),
        "sigma": 0.35 * cfg.max_step * scale,
        "speed": rng.uniform(0.5, 1.0) * cfg.max_step,
        "first": scale * cfg.max_step * np.sqrt(rng.random()) * np.array([math.cos(angle), math.sin(angle)]),
        "noise": rng.standard_normal((steps, 2)),
        "lane": rng.uniform(-lane, lane),  # the height, relative to the door centre, of the crossing
        "beyond": rng.uniform(2.0, 10.0),  # how far past the wall the crossing ends
    }
    return draws


def _push_height(layout, rng: np.random.Generator, cfg: TwoRoomsConfig) -> float:
    """The height at which a wall-aimed episode pushes: half of them anywhere, half within a few px of
    a door edge (just blocked or just through), where a model's door must be exact to plan with."""
    if rng.random() < EDGE_ODDS:
        edge = layout.door_width / 2 - cfg.agent_radius + rng.uniform(-EDGE_PX[1], EDGE_PX[0])
        y = layout.door_y + rng.choice([-1.0, 1.0]) * edge
    else:
        y = rng.uniform(0.0, cfg.size)
    return float(np.clip(y, cfg.agent_radius, cfg.size - cfg.agent_radius))


def _waypoints(layouts: LayoutArrays, starts: np.ndarray, draws: list[dict], cfg: TwoRoomsConfig):
    """float [B, 2, 2]: the two points a seeking episode steers to. Door aims: a point in front of the
    door on the start's side, then one past it on the other. Wall aims: twice a point straight across
    the wall at a random height, so the episode pushes into the wall unless that height is the door's
    (with the default odds about a quarter of all transitions are blocked ones)."""
    aim, lanes, beyond, across = (
        np.array([d[k] for d in draws]) for k in ("aim", "lane", "beyond", "across")
    )
    side = np.where(starts[:, 0] < layouts.wall_x, -1.0, 1.0)
    clear = cfg.wall_thickness / 2 + cfg.agent_radius
    y = np.where(aim == AIMS.index("wall"), across, layouts.door_y + lanes)
    near = np.stack([layouts.wall_x + side * (clear + 1.0), y], axis=-1)
    far_x = np.clip(layouts.wall_x - side * (clear + beyond), cfg.agent_radius, cfg.size - cfg.agent_radius)
    far = np.stack([far_x, y], axis=-1)
    near = np.where((aim == AIMS.index("wall"))[:, None], far, near)
    return np.stack([near, far], axis=1)


def _momentum_actions(draws: list[dict], cfg: TwoRoomsConfig, t: int, state: dict) -> np.ndarray:
    """float [B, 2]: the actions at step t. A random walk with momentum; seeking episodes (state["seek"])
    first steer to their waypoints (state["phase"] counts those reached) and then walk on at random."""
    positions, prev = state["positions"], state["prev"]
    noise = np.stack([d["noise"][t] for d in draws])
    sigma = np.array([d["sigma"] for d in draws])[:, None]
    wander = MOMENTUM * prev + sigma * noise
    phase = state["phase"]
    target = state["waypoints"][np.arange(len(draws)), np.minimum(phase, 1)]
    to = target - positions
    dist = np.sqrt(to[:, 0] ** 2 + to[:, 1] ** 2)
    speed = np.array([d["speed"] for d in draws])
    desired = to * (np.minimum(speed, dist) / np.maximum(dist, 1e-9))[:, None]
    steer = 0.5 * prev + 0.5 * desired + 0.05 * cfg.max_step * noise
    seeking = state["seek"] & (phase < 2)
    return clip_norm(np.where(seeking[:, None], steer, wander), cfg.max_step)


def _collect_shard(
    cfg: TwoRoomsConfig, seed: int, indices: range, steps: int, policy: str
) -> tuple[dict[str, np.ndarray], LayoutArrays]:
    """The arrays of episodes `indices` (as written to a shard) and their layouts."""
    draws = [_draw_episode(seed, i, cfg, steps, policy) for i in indices]
    n = len(draws)
    layouts = LayoutArrays.stack([d["layout"] for d in draws])
    batch = TwoRoomsBatch(n, **to_dict(cfg))
    frames = np.empty((n, steps + 1, cfg.size, cfg.size, 3), dtype=np.uint8)
    actions = np.empty((n, steps, 2), dtype=np.float32)
    positions = np.empty((n, steps + 1, 2), dtype=np.float32)
    frames[:, 0], p = batch.reset(layouts, np.stack([d["start"] for d in draws]))
    positions[:, 0] = p
    if policy == "momentum":
        state = {
            "positions": p,
            "prev": np.stack([d["first"] for d in draws]),
            "seek": np.array([d["aim"] != AIMS.index("wander") for d in draws]),
            "phase": np.zeros(n, dtype=np.int64),
            "waypoints": _waypoints(layouts, p, draws, cfg),
        }
    for t in range(steps):
        if policy == "momentum":
            a = _momentum_actions(draws, cfg, t, state)
        else:
            a = np.stack([d["actions"][t] for d in draws])
        actions[:, t] = a
        # The stored float32 actions are the ones applied, so positions follow exactly from them.
        frames[:, t + 1], p = batch.step(actions[:, t].astype(np.float64))
        positions[:, t + 1] = p
        if policy == "momentum":
            target = state["waypoints"][np.arange(n), np.minimum(state["phase"], 1)]
            reached = np.hypot(*(p - target).T) < ARRIVED
            state["phase"] += (state["seek"] & reached & (state["phase"] < 2)).astype(np.int64)
            state["positions"], state["prev"] = p, actions[:, t].astype(np.float64)
    stacked = np.stack([layouts.wall_x, layouts.door_y], axis=-1).astype(np.float32)
    return {"frames": frames, "actions": actions, "positions": positions, "layouts": stacked}, layouts


def _write_shard(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the shard into a temporary directory beside `path`, then rename it into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _is_complete(out_dir: Path, params: dict) -> bool:
    try:
        card = json.loads((out_dir / "card.json").read_text())
    except (OSError, ValueError):
        return False
    if {k: card.get(k) for k in params} != params:
        return False
    return all((out_dir / s["name"] / f"{a}.npy").is_file() for s in card["shards"] for a in ARRAYS)


def blocked_transitions(actions: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """actions [E, steps, 2], positions [E, steps + 1, 2] -> bool [E, steps]: the transitions whose
    motion a wall cut (the agent moved under 90 % of an action longer than 0.1 px)."""
    asked = np.hypot(actions[..., 0], actions[..., 1])
    moved = np.diff(positions, axis=1)
    return (asked > 0.1) & (np.hypot(moved[..., 0], moved[..., 1]) < 0.9 * asked)


def _action_stats(actions: np.ndarray, max_step: float) -> dict[str, Any]:
    """Summary of actions [N, 2]: per-axis mean/std, norm quantiles, fractions of small and full ones."""
    norms = np.hypot(actions[:, 0], actions[:, 1])
    quantiles = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
    return {
        "mean": actions.mean(0).tolist(),
        "std": actions.std(0).tolist(),
        "norm_quantiles": {
            str(q): float(v) for q, v in zip(quantiles, np.quantile(norms, quantiles), strict=True)
        },
        "fraction_norm_below_0.5": float((norms < 0.5).mean()),
        "fraction_at_max_step": float((norms > 0.99 * max_step).mean()),
    }


def collect_two_rooms(
    out_dir: str | Path,
    episodes: int,
    steps: int,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    shard_size: int = 256,
    policy: str = "momentum",
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Collect `episodes` Two-Rooms episodes of `steps` actions into `out_dir` (see the module docstring).

    Layouts are random unless `env_kwargs` fixes them; starts are uniform over free positions. Episode i
    depends only on (seed, i). A complete collection made with the same parameters is reused as is;
    otherwise it is regenerated. `progress(done, total)` is called after each shard.
    """
    out_dir = Path(out_dir)
    if episodes < 1 or steps < 1 or shard_size < 1 or seed < 0:
        raise ConfigError(
            "need episodes, steps, shard_size >= 1 and seed >= 0, "
            f"got {episodes}, {steps}, {shard_size}, {seed}"
        )
    if policy not in POLICIES:
        raise ConfigError(f"unknown policy {policy!r}.{suggest(policy, POLICIES)} Use one of {POLICIES}")
    cfg = from_dict(TwoRoomsConfig, env_kwargs)
    params = {
        "name": "two_rooms",
        "format_version": FORMAT_VERSION,
        "env_kwargs": to_dict(cfg),
        "episodes": episodes,
        "steps": steps,
        "seed": seed,
        "policy": policy,
        "shard_size": shard_size,
    }
    if _is_complete(out_dir, params):
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "card.json").unlink(missing_ok=True)
    starts = range(0, episodes, shard_size)
    shards = [
        {"name": f"shard_{k:05d}", "episodes": min(shard_size, episodes - s)} for k, s in enumerate(starts)
    ]
    for stale in {p.name for p in out_dir.glob("shard_*")} - {s["name"] for s in shards}:
        shutil.rmtree(out_dir / stale)
    crossed, actions, rooms, blocked = [], [], [], []
    for start, shard in zip(starts, shards, strict=True):
        arrays, layouts = _collect_shard(cfg, seed, range(start, start + shard["episodes"]), steps, policy)
        _write_shard(out_dir / shard["name"], arrays)
        room = room_of(layouts, arrays["positions"].transpose(1, 0, 2)).T  # [E, steps+1]
        crossed.append((room == 0).any(1) & (room == 1).any(1))
        rooms.append(room.ravel())
        actions.append(arrays["actions"].reshape(-1, 2))
        blocked.append(blocked_transitions(arrays["actions"], arrays["positions"]).ravel())
        if progress is not None:
            progress(start + shard["episodes"], episodes)
    room = np.concatenate(rooms)
    card = params | {
        "shards": shards,
        "frame_shape": [cfg.size, cfg.size, 3],
        "door_crossing_fraction": float(np.concatenate(crossed).mean()),
        "room_fractions": {
            name: float((room == r).mean()) for name, r in (("left", 0), ("right", 1), ("door", -1))
        },
        "blocked_fraction": float(np.concatenate(blocked).mean()),
        "action_stats": _action_stats(np.concatenate(actions), cfg.max_step),
    }
    write_json(out_dir / "card.json", card)
    return out_dir


class TrajectoryDataset(Dataset):
    """Windows of a collection made by `collect_two_rooms`, memory-mapped.

    One model step is `frameskip` env steps. Item (episode, start) for every start with room for
    `window` model steps: {"frames": uint8 [window+1, 3, H, W] (every frameskip-th frame),
    "actions": float32 [window, 2*frameskip] (the env actions of each model step, concatenated),
    "positions": float32 [window+1, 2]}.
    """

    def __init__(self, root: str | Path, window: int, frameskip: int = 1):
        self.root = Path(root)
        if window < 1 or frameskip < 1:
            raise ConfigError(f"window and frameskip must be >= 1, got {window}, {frameskip}")
        try:
            self.card = json.loads((self.root / "card.json").read_text())
        except (OSError, ValueError):
            raise DataError(
                f"{self.root} holds no Two-Rooms collection (no readable card.json); {COLLECT_HINT}"
            ) from None
        if self.card.get("format_version") != FORMAT_VERSION:
            raise DataError(f"{self.root} was collected in another format version; {COLLECT_HINT} again")
        self.window, self.frameskip = window, frameskip
        steps = self.card["steps"]
        if window * frameskip > steps:
            raise DataError(
                f"window * frameskip = {window * frameskip} env steps exceeds the {steps} steps per episode "
                f"in {self.root}; use a shorter window or collect longer episodes"
            )
        self.starts_per_episode = steps - window * frameskip + 1
        counts = [s["episodes"] for s in self.card["shards"]]
        self.num_episodes = sum(counts)
        self._offsets = np.cumsum([0, *counts])
        self._shards: list[dict[str, np.ndarray]] | None = None
        self._open()  # fail now, not in a DataLoader worker

    def _open(self) -> list[dict[str, np.ndarray]]:
        if self._shards is None:
            steps, (h, w, c) = self.card["steps"], self.card["frame_shape"]
            shards = []
            for shard in self.card["shards"]:
                e, path = shard["episodes"], self.root / shard["name"]
                expected = {
                    "frames": (e, steps + 1, h, w, c),
                    "actions": (e, steps, 2),
                    "positions": (e, steps + 1, 2),
                }
                try:
                    arrays = {k: np.load(path / f"{k}.npy", mmap_mode="r") for k in expected}
                except (OSError, ValueError) as err:
                    raise DataError(f"cannot read shard {path}: {err}; {COLLECT_HINT} again") from None
                for k, shape in expected.items():
                    if arrays[k].shape != shape:
                        raise DataError(
                            f"{path}/{k}.npy has shape {arrays[k].shape}, the card says {shape}; "
                            f"{COLLECT_HINT} again"
                        )
                shards.append(arrays)
            self._shards = shards
        return self._shards

    def __getstate__(self):  # workers re-open the memory maps instead of pickling their contents
        return self.__dict__ | {"_shards": None}

    def __len__(self) -> int:
        return self.num_episodes * self.starts_per_episode

    def episode_frames(self, episode: int) -> np.ndarray:
        """All frames of one episode: uint8 `[steps + 1, H, W, 3]` (a copy, not a memory map)."""
        k = int(np.searchsorted(self._offsets, episode, side="right")) - 1
        return np.array(self._open()[k]["frames"][episode - self._offsets[k]])

    def episode_frame(self, episode: int, t: int) -> np.ndarray:
        """Frame `t` of one episode: uint8 `[H, W, 3]` (a copy)."""
        k = int(np.searchsorted(self._offsets, episode, side="right")) - 1
        return np.array(self._open()[k]["frames"][episode - self._offsets[k], t])

    def all_actions(self) -> np.ndarray:
        """Every env action of the collection: float32 `[episodes, steps, 2]`."""
        return np.concatenate([np.asarray(s["actions"], dtype=np.float32) for s in self._open()])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} windows")
        episode, start = divmod(index % len(self), self.starts_per_episode)
        k = int(np.searchsorted(self._offsets, episode, side="right")) - 1
        arrays, e = self._open()[k], episode - self._offsets[k]
        end, skip = start + self.window * self.frameskip, self.frameskip
        frames = np.ascontiguousarray(arrays["frames"][e, start : end + 1 : skip].transpose(0, 3, 1, 2))
        actions = np.array(arrays["actions"][e, start:end]).reshape(self.window, 2 * skip)
        positions = np.array(arrays["positions"][e, start : end + 1 : skip])
        return {
            "frames": torch.from_numpy(frames),
            "actions": torch.from_numpy(actions),
            "positions": torch.from_numpy(positions),
        }
