"""Two-Rooms' true dynamics as a world model: what a planner reaches when the model is perfect.

`TwoRoomsTrueDynamics` follows the planners' `WorldModel` protocol. Its latent is read exactly from a
rendered frame: the agent's centre and the room layout, `[x, y, wall_x, door_y]` in pixels; its rollout
is the env's own wall-blocked motion. Planning with it measures the planner and the energy alone (a
Euclidean distance to the goal, with the wall in between), which bounds what any learned model can reach
with the same planner settings.

With `leak` > 0 the inner wall lets that fraction of each blocked displacement through (the frame's
border still blocks): a stand-in for a learned model whose walls are imperfect, which measures how
exact a model's walls must be for a planner to find the door. With `door_margin` m the rollout's door
is m px wider on each side than the frame's (negative: narrower): a stand-in for a model whose door
edges are off, which measures how exact they must be (a door too wide costs far more than one too
narrow: the planner cuts the corner, the real agent sticks on it, and replanning repeats the plan).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from worldjepa.envs.two_rooms import TwoRoomsConfig
from worldjepa.envs.two_rooms_geometry import AGENT_COLOR, WALL_GREY, LayoutArrays, clip_norm, move
from worldjepa.errors import ConfigError, ShapeError

LATENT_FIELDS = ("x", "y", "wall_x", "door_y")
VISIBLE = 0.02  # coverage a uint8 frame shows for certain: 4 grey levels of the wall's 200


class TwoRoomsTrueDynamics:
    """encode(frames uint8 [..., H, W, 3]) -> [..., 4]; rollout(z0 [B, 4], actions [B, T, 2 * frameskip]).

    One model step is `frameskip` env steps, as in a trained `WorldModel`, so the same planner settings
    apply to both. Not differentiable: use it with the sampling planners (CEM, MPPI). `leak` in [0, 1]:
    the fraction of wall-blocked motion let through the inner wall (0: the env's own dynamics);
    `door_margin`: px the rollout's door is wider on each side than the frame's (negative: narrower).
    """

    def __init__(
        self,
        env: TwoRoomsConfig | None = None,
        frameskip: int = 4,
        leak: float = 0.0,
        door_margin: float = 0.0,
    ):
        if frameskip < 1:
            raise ConfigError(f"frameskip must be >= 1, got {frameskip}.")
        if not 0.0 <= leak <= 1.0:
            raise ConfigError(
                f"leak must be in [0, 1] (the fraction of blocked motion let through), got {leak}."
            )
        self.env = env or TwoRoomsConfig()
        if not -self.env.door_width / 2 < door_margin < self.env.size / 2:
            raise ConfigError(
                f"door_margin must leave a door: more than -{self.env.door_width / 2} (half the door) and "
                f"less than {self.env.size / 2} px, got {door_margin}."
            )
        self.frameskip = frameskip
        self.leak = leak
        self.door_margin = door_margin
        self.action_dim = 2 * frameskip

    def eval(self) -> TwoRoomsTrueDynamics:
        """Nothing to switch (kept so evaluation code can treat it like a trained model)."""
        return self

    def encode(self, obs: Tensor) -> Tensor:
        """Frames uint8 `[..., size, size, 3]` rendered by TwoRooms -> `[..., 4]` = (x, y, wall_x, door_y).

        Inverts the renderer: the agent's coverage is (R - G) / (255 - 64) on any background; the wall's
        is what remains of G over its grey. Centres come from the coverage-weighted mean (agent) and
        from the first partly covered column or row (wall band, door gap), exact up to uint8 rounding.
        """
        size = self.env.size
        if obs.dtype != torch.uint8 or obs.dim() < 3 or tuple(obs.shape[-3:]) != (size, size, 3):
            raise ShapeError(
                f"Frames must be uint8 [..., {size}, {size}, 3] rendered by TwoRooms, got "
                f"{tuple(obs.shape)} {obs.dtype}."
            )
        frames = obs.reshape(-1, size, size, 3).double()
        red, green = frames[..., 0], frames[..., 1]
        agent = ((red - green) / (AGENT_COLOR[0] - AGENT_COLOR[1])).clamp(0, 1)  # [B, H, W]
        wall = ((green - AGENT_COLOR[1] * agent) / WALL_GREY).clamp(0, 1)
        centres = torch.arange(size, dtype=torch.float64) + 0.5
        mass = agent.sum((1, 2)).clamp_min(1e-9)
        x = (agent.sum(1) * centres).sum(1) / mass
        y = (agent.sum(2) * centres).sum(1) / mass
        columns = wall.amax(1)  # [B, W]: the band's coverage of each column
        wall_x = _band_start(columns) + self.env.wall_thickness / 2
        full = columns.argmax(1)  # a column the band covers most
        rows = wall.gather(2, full[:, None, None].expand(-1, size, 1))[..., 0] / columns.amax(1, keepdim=True)
        door_y = _band_start(1 - rows) + self.env.door_width / 2
        latent = torch.stack([x, y, wall_x, door_y], -1).float()
        return latent.reshape(*obs.shape[:-3], len(LATENT_FIELDS))

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        """z0 `[B, 4]`, actions `[B, T, 2 * frameskip]` -> the latents after each model step `[B, T, 4]`."""
        if z0.dim() != 2 or z0.shape[1] != len(LATENT_FIELDS):
            raise ShapeError(f"z0 must be [B, 4] = (x, y, wall_x, door_y), got {tuple(z0.shape)}.")
        if actions.dim() != 3 or actions.shape[0] != z0.shape[0] or actions.shape[2] != self.action_dim:
            raise ShapeError(
                f"actions must be [B={z0.shape[0]}, T, A={self.action_dim}], got {tuple(actions.shape)}."
            )
        if actions.requires_grad:
            raise ConfigError(
                "The true Two-Rooms dynamics are not differentiable: plan with cem or mppi, not gd."
            )
        e = self.env
        state = z0.detach().cpu().double().numpy()
        door = e.door_width + 2 * self.door_margin
        layout = LayoutArrays(e.size, state[:, 2], e.wall_thickness, state[:, 3], door)
        steps = actions.detach().cpu().double().numpy().reshape(*actions.shape[:2], self.frameskip, 2)
        position, out = state[:, :2], []
        for t in range(steps.shape[1]):
            for k in range(self.frameskip):
                position = self._step(layout, position, steps[:, t, k])
            out.append(np.concatenate([position, state[:, 2:]], 1))
        return torch.from_numpy(np.stack(out, 1)).to(z0)

    def _step(self, layout: LayoutArrays, position: np.ndarray, action: np.ndarray) -> np.ndarray:
        """One env step [B, 2] -> [B, 2]; with `leak`, part of what the inner wall blocks goes through."""
        e = self.env
        blocked = move(layout, position, action, e.agent_radius, e.max_step)
        if not self.leak:
            return blocked
        free = np.clip(position + clip_norm(action, e.max_step), e.agent_radius, e.size - e.agent_radius)
        return blocked + self.leak * (free - blocked)


def _band_start(coverage: Tensor) -> Tensor:
    """coverage [B, L] of one band in unit cells -> where the band starts [B]: the first covered cell
    j contributes its uncovered part, start = j + 1 - coverage[j]. Coverage under `VISIBLE` is rounding
    noise of the uint8 frame (the agent's edge pixels), not the band."""
    first = (coverage > VISIBLE).double().argmax(1)
    return first + 1 - coverage.gather(1, first[:, None])[:, 0]
