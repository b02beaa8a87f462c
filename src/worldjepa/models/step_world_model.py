"""A trained world model's encoder with refit single-step dynamics, behind the planners' protocol."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from worldjepa.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from worldjepa.errors import ShapeError
from worldjepa.models.step_dynamics import StepDynamics
from worldjepa.models.world_model import WorldModel


class StepWorldModel(nn.Module):
    """The planners' protocol: encode(obs) -> `[..., 1, Dz + C]`; rollout -> `[B, T, 1, Dz + C]`.

    The latent is the world model's latent (flattened to Dz) followed by the room code (C) of the same
    frame. A rollout advances the first part with `StepDynamics`, `frameskip` env steps per model step,
    and carries the code along unchanged, so the planners' energy compares only where the agent is.
    """

    def __init__(self, world_model: WorldModel, dynamics: StepDynamics):
        super().__init__()
        self.world_model = world_model
        self.dynamics = dynamics
        n, d = world_model.latent_shape
        if dynamics.config.latent_dim != n * d:
            raise ShapeError(
                f"step dynamics were fit on {dynamics.config.latent_dim}-d latents, the world model's are "
                f"{n} x {d}: they do not belong together."
            )
        self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(3, 1, 1), persistent=False)

    @property
    def action_dim(self) -> int:
        return self.world_model.action_dim

    @property
    def config(self):
        return self.world_model.config

    @property
    def latent_width(self) -> int:
        return self.dynamics.config.latent_dim + self.dynamics.config.code_dim

    def encode(self, obs: Tensor) -> Tensor:
        """Frames as `WorldModel.encode` takes them (uint8 `[..., H, W, C]` or normalised float) ->
        `[..., 1, Dz + C]`."""
        x = self.world_model.preprocess(obs)
        z = self.world_model.encode(x).flatten(-2)
        frames = (x * self.pixel_std + self.pixel_mean).reshape(-1, *x.shape[-3:])
        code = self.dynamics.code(frames).reshape(*x.shape[:-3], -1)
        return torch.cat([z, code], -1).unsqueeze(-2)

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        """z0 `[B, 1, Dz + C]`, actions `[B, T, A]` -> the latents after each action `[B, T, 1, Dz + C]`."""
        width, dz = self.latent_width, self.dynamics.config.latent_dim
        if z0.dim() != 3 or tuple(z0.shape[1:]) != (1, width):
            raise ShapeError(f"z0 must be latents [B, 1, {width}], got {tuple(z0.shape)}.")
        if actions.dim() != 3 or actions.shape[0] != z0.shape[0] or actions.shape[2] != self.action_dim:
            raise ShapeError(
                f"actions must be [B={z0.shape[0]}, T, A={self.action_dim}] (this model's action "
                f"dimension is {self.action_dim}), got {tuple(actions.shape)}."
            )
        z, code = z0[:, 0, :dz], z0[:, 0, dz:]
        env_steps = actions.unflatten(-1, (self.config.frameskip, self.config.env_action_dim))
        out = []
        for t in range(actions.shape[1]):
            for k in range(self.config.frameskip):
                z = self.dynamics.step(z, code, env_steps[:, t, k])
            out.append(torch.cat([z, code], -1))
        return torch.stack(out, 1).unsqueeze(2)
