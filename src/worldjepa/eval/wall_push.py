"""How much of a push into the wall a world model lets through: its walls' leak, measured before planning.

A planner drives a model into the states where it is most wrong, and in Two-Rooms that is the inner
wall: a model whose agent slips through it makes every plan through the door look worse than pushing
on (`TwoRoomsTrueDynamics(leak=f)` measures the cost: leak 0.1 plans 80 %, 0.3 about 51 %). This test
renders the agent a few pixels from the wall, away from the door, rolls the model out under actions
that push straight at the wall, and reads where the model's agent ends up with a linear probe of
position fitted on rendered frames. It compares that displacement with the env's (stopped by the wall)
and with a wall-less env's: leak = (model - env) / (no wall - env), 0 for exact walls, 1 for none.
This is the leak over the whole push: true dynamics that let a fraction f of each blocked env step
through leak more than f over 16 steps (0.5 per step gives about 0.84), since every step leaks again.
"""

from __future__ import annotations

import numpy as np
import torch

from worldjepa.envs.two_rooms import TwoRooms, env_steps_per_action
from worldjepa.envs.two_rooms_dynamics import TwoRoomsTrueDynamics
from worldjepa.envs.two_rooms_geometry import render_batch, sample_in_room
from worldjepa.errors import ConfigError
from worldjepa.planning.protocol import WorldModel


@torch.no_grad()
def position_probe(model: WorldModel, env: TwoRooms, frames: int, rng: np.random.Generator):
    """A least-squares map from flattened latents to the agent's centre, fitted on `frames` renders of
    random layouts and free positions; returns (readout function latents [B, ...] -> [B, 2], its mean
    absolute error in px on the fitting frames)."""
    images, centres = [], []
    for _ in range(frames):
        env.reset(seed=int(rng.integers(2**31)))
        layout = env.layout
        centre = sample_in_room(layout, rng, -1, env.config.agent_radius)
        images.append(render_batch(layout, centre[None], env.config.agent_radius)[0])
        centres.append(centre)
    z = model.encode(torch.from_numpy(np.stack(images))).flatten(1).double().cpu().numpy()
    design = np.c_[z, np.ones(len(z))]
    weights = np.linalg.lstsq(design, np.array(centres), rcond=None)[0]

    def readout(latents: torch.Tensor) -> np.ndarray:
        flat = latents.flatten(1).double().cpu().numpy()
        return np.c_[flat, np.ones(len(flat))] @ weights

    return readout, float(np.abs(design @ weights - np.array(centres)).mean())


def env_steps_per_model_step(model: WorldModel, env_steps: int) -> int:
    """The env steps in one of `model`'s steps (2-D env actions); ConfigError unless `env_steps` is a
    positive multiple of it."""
    per_model_step = env_steps_per_action(model.action_dim)
    if env_steps < 1 or env_steps % per_model_step:
        raise ConfigError(
            f"env_steps ({env_steps}) must be a positive multiple of the model's {per_model_step} env "
            "steps per model step."
        )
    return per_model_step


@torch.no_grad()
def wall_push(
    model: WorldModel, env: TwoRooms, env_steps: int = 16, samples: int = 100, seed: int = 0
) -> dict[str, float]:
    """Push at the inner wall for `env_steps` env steps (a whole number of the model's steps) from
    `samples` starts 4-12 px from it; mean displacement towards the wall (px) in the model, the env and
    an env without the wall, the leak, and the position probe's error."""
    c = env.config
    per_model_step = env_steps_per_model_step(model, env_steps)
    rng = np.random.default_rng(seed)
    readout, probe_error = position_probe(model, env, 400, rng)
    frames, starts, layouts, signs = [], [], [], []
    while len(frames) < samples:
        env.reset(seed=int(rng.integers(2**31)))
        layout = env.layout
        sign = float(rng.choice([-1.0, 1.0]))  # +1: from the left room pushing right
        face = layout.wall_x - sign * (c.wall_thickness / 2 + c.agent_radius)
        start = np.array(
            [face - sign * rng.uniform(4, 12), rng.uniform(c.agent_radius, c.size - c.agent_radius)]
        )
        if abs(start[1] - layout.door_y) < layout.door_width / 2 + c.agent_radius + 4:
            continue  # the door is not a wall
        if not layout.is_free(start, c.agent_radius):
            continue
        frames.append(render_batch(layout, start[None], c.agent_radius)[0])
        starts.append(start)
        layouts.append((layout.wall_x, layout.door_y))
        signs.append(sign)
    obs = torch.from_numpy(np.stack(frames))
    signs_t = torch.tensor(signs, dtype=torch.float32)
    actions = torch.zeros(samples, env_steps // per_model_step, model.action_dim)
    actions[..., 0::2] = c.max_step * signs_t[:, None, None]
    predicted = model.rollout(model.encode(obs), actions)[:, -1]
    states = torch.tensor([[*s, *lay] for s, lay in zip(starts, layouts, strict=True)], dtype=torch.float64)
    ends = {
        leak: TwoRoomsTrueDynamics(c, per_model_step, leak)
        .rollout(states, actions.double())[:, -1, 0]
        .numpy()
        for leak in (0.0, 1.0)
    }
    x0, sign = states[:, 0].numpy(), np.array(signs)
    moved = {
        "model_px": float(np.mean(sign * (readout(predicted)[:, 0] - x0))),
        "env_px": float(np.mean(sign * (ends[0.0] - x0))),
        "no_wall_px": float(np.mean(sign * (ends[1.0] - x0))),
    }
    leak = (moved["model_px"] - moved["env_px"]) / (moved["no_wall_px"] - moved["env_px"])
    return {"env_steps": env_steps, **moved, "leak": leak, "position_probe_px": probe_error}
