"""The env's true dynamics scored in a learned model's latent space: is that latent a good planning energy?

A learned world model can fail to plan for two reasons: its latent distance is a poor guide to the goal
(the energy), or its predictor is wrong (the dynamics). `LearnedEnergyDynamics` separates them: states
move exactly as in the env, and every predicted state is mapped to the learned model's latent of the
frame that shows it. Planning with it measures the learned energy alone.

The latent of a state is read by bilinear interpolation from a 1 px grid of rendered and encoded frames
(size x size renders, made once per room layout and cached), so thousands of candidate states per plan
cost no encoder passes.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from worldjepa.envs.two_rooms import TwoRoomsConfig, env_steps_per_action
from worldjepa.envs.two_rooms_dynamics import LATENT_FIELDS, TwoRoomsTrueDynamics
from worldjepa.envs.two_rooms_geometry import render_batch
from worldjepa.planning.protocol import WorldModel

STATE_SCALE = 1e-4  # the true state rides along in the latent, too small to weigh in the energy
CACHED_LAYOUTS = 8


class LearnedEnergyDynamics(TwoRoomsTrueDynamics):
    """encode(frames uint8 [..., H, W, 3]) -> `[..., L + 4]`: the learned latent (flattened to L) then
    STATE_SCALE x (x, y, wall_x, door_y); rollout(z0 `[B, L + 4]`, actions `[B, T, A]`) -> `[B, T, L + 4]`.

    `model` is any object with `encode` and `action_dim` (a trained `WorldModel` or `StepWorldModel`);
    one model step is its `action_dim / 2` env steps, so planner settings carry over. Not
    differentiable: cem or mppi.
    """

    def __init__(self, model: WorldModel, env: TwoRoomsConfig | None = None, batch: int = 512):
        env = env or TwoRoomsConfig()
        super().__init__(env, frameskip=env_steps_per_action(model.action_dim))
        self.model, self.batch = model, batch
        self._grids: OrderedDict[tuple[float, float], Tensor] = OrderedDict()

    def eval(self) -> LearnedEnergyDynamics:
        self.model.eval()
        return self

    @torch.no_grad()
    def _grid(self, wall_x: float, door_y: float) -> Tensor:
        """The learned latent at every whole-pixel agent centre of one layout: `[1, L, size, size]`."""
        key = (round(wall_x, 3), round(door_y, 3))
        if key not in self._grids:
            e = self.env
            ys, xs = np.mgrid[0 : e.size, 0 : e.size].astype(np.float64)
            frames = torch.from_numpy(
                render_batch(e.layout(wall_x, door_y), np.c_[xs.ravel(), ys.ravel()], e.agent_radius)
            )
            z = torch.cat(
                [
                    self.model.encode(frames[i : i + self.batch]).flatten(1)
                    for i in range(0, len(frames), self.batch)
                ]
            )
            self._grids[key] = z.float().cpu().T.reshape(1, -1, e.size, e.size)
            while len(self._grids) > CACHED_LAYOUTS:
                self._grids.popitem(last=False)
        return self._grids[key]

    def _latent(self, states: Tensor) -> Tensor:
        """True states `[B, 4]` of one layout -> `[B, L + 4]`."""
        grid = self._grid(float(states[0, 2]), float(states[0, 3]))
        where = (states[:, :2].float() / (self.env.size - 1) * 2 - 1)[None, None]  # x, y in [-1, 1]
        z = F.grid_sample(grid, where, align_corners=True, padding_mode="border")[0, :, 0].T
        return torch.cat([z, STATE_SCALE * states.float()], 1)

    def encode(self, obs: Tensor) -> Tensor:
        state = super().encode(obs)
        flat = state.reshape(-1, len(LATENT_FIELDS))
        latents = torch.cat([self._latent(flat[i : i + 1]) for i in range(len(flat))])
        return latents.reshape(*state.shape[:-1], -1)

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        states = super().rollout(z0[:, -len(LATENT_FIELDS) :] / STATE_SCALE, actions)  # [B, T, 4]
        return self._latent(states.flatten(0, 1)).unflatten(0, states.shape[:2]).to(z0)
