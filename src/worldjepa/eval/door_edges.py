"""Where a world model puts the door's edges: how much wider (or narrower) its door is than the frame's.

`wall_push` checks the wall away from the door; planning also needs the door's edges exact. A model
whose door is even 1 px wider per side than the real one sends the planner through the corner, where the
real agent sticks (`TwoRoomsTrueDynamics(door_margin=m)` measures the cost: benchmarks/RESULTS.md). This
test renders the agent just in front of the door at heights from inside the free lane to a few px over
the wall's end, pushes it straight through, and reads with a linear position probe how far the model's
agent gets between the blocked end (the wall's face) and the free end (no wall). `pass` per height is 0
for blocked and 1 for free; the model's `door_margin` is where its pass crosses one half: 0 for exact
edges, positive for a door too wide."""

from __future__ import annotations

import numpy as np
import torch

from worldjepa.envs.two_rooms import TwoRooms
from worldjepa.envs.two_rooms_dynamics import TwoRoomsTrueDynamics
from worldjepa.envs.two_rooms_geometry import render_batch
from worldjepa.errors import ConfigError
from worldjepa.eval.wall_push import env_steps_per_model_step, position_probe
from worldjepa.planning.protocol import WorldModel

# px inside the free lane (< 0: over the wall's end), a quarter px off the grid so that an edge on a
# whole or half px falls midway between two heights and reads exactly.
OFFSETS = tuple(np.arange(-4.75, 3.3, 0.5).round(2).tolist())


@torch.no_grad()
def door_edges(
    model: WorldModel,
    env: TwoRooms,
    offsets: tuple[float, ...] = OFFSETS,
    env_steps: int = 12,
    samples: int = 40,
    seed: int = 0,
) -> dict:
    """Push through the door at each height `offset` (px inside the free lane, negative: the disc
    overlaps the wall's end by that much) from `samples` starts 3-6 px in front of it, for `env_steps`
    env steps (a whole number of the model's steps). Returns {"pass": {offset: mean pass of the model},
    "door_margin": px the model's door is wider per side than the frame's (None when its pass does not
    fall through one half from the free side: no wall, or a closed door), "position_probe_px": the
    probe's error}."""
    c = env.config
    per_model_step = env_steps_per_model_step(model, env_steps)
    if list(offsets) != sorted(offsets) or len(offsets) < 2:
        raise ConfigError(f"offsets must be at least two increasing heights, got {offsets}.")
    rng = np.random.default_rng(seed)
    readout, probe_error = position_probe(model, env, 400, rng)
    passes = {}
    for offset in offsets:
        frames, states, signs = [], [], []
        while len(frames) < samples:
            env.reset(seed=int(rng.integers(2**31)))
            layout = env.layout
            sign = float(rng.choice([-1.0, 1.0]))  # +1: from the left room pushing right
            side = float(rng.choice([-1.0, 1.0]))  # which edge: above or below the door's centre
            face = layout.wall_x - sign * (c.wall_thickness / 2 + c.agent_radius)
            height = layout.door_y + side * (layout.door_width / 2 - c.agent_radius - offset)
            start = np.array([face - sign * rng.uniform(3, 6), height])
            if not layout.is_free(start, c.agent_radius):
                continue
            frames.append(render_batch(layout, start[None], c.agent_radius)[0])
            states.append([*start, layout.wall_x, layout.door_y])
            signs.append(sign)
        sign = np.array(signs)
        actions = torch.zeros(samples, env_steps // per_model_step, model.action_dim)
        actions[..., 0::2] = c.max_step * torch.tensor(signs, dtype=torch.float32)[:, None, None]
        predicted = model.rollout(model.encode(torch.from_numpy(np.stack(frames))), actions)[:, -1]
        state = torch.tensor(states, dtype=torch.float64)
        x0 = state[:, 0].numpy()
        free = sign * (
            TwoRoomsTrueDynamics(c, per_model_step, 1.0).rollout(state, actions.double())[:, -1, 0].numpy()
            - x0
        )
        blocked = sign * (state[:, 2].numpy() - sign * (c.wall_thickness / 2 + c.agent_radius) - x0)
        moved = sign * (readout(predicted)[:, 0] - x0)
        passes[offset] = float(np.mean((moved - blocked) / (free - blocked)))
    return {"pass": passes, "door_margin": _half_crossing(passes), "position_probe_px": probe_error}


def _half_crossing(passes: dict[float, float]) -> float | None:
    """The door margin: minus the height at which pass, scanned from the free side, first drops below
    one half (linearly interpolated); None when it never does or starts below it."""
    heights = sorted(passes, reverse=True)
    if passes[heights[0]] < 0.5:
        return None
    for high, low in zip(heights, heights[1:], strict=False):
        if passes[low] < 0.5:
            crossing = low + (0.5 - passes[low]) / (passes[high] - passes[low]) * (high - low)
            return -crossing
    return None
