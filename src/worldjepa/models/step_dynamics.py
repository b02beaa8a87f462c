"""Single-env-step latent dynamics that see the room: refit on a trained world model's frozen latents.

A compact latent trained with a wall-blind predictor places the agent but not the walls, and a planner
drives such a model through them. `StepDynamics` adds what blocking needs: a small conv net reads a
*room code* from a frame (downsampled to `code_frame_size`), and an MLP advances the latent by one env
step,

    z_{k+1} = z_k + step_std * MLP([(z_k - z_mean) / z_std, code, a_k / max_norm]),

so a model step of `frameskip` env steps applies it `frameskip` times. The code is read once, from the
frame a rollout starts at, and carried along unchanged (the room does not move). The code net learns
only through the prediction loss: it keeps what the next latent depends on (the wall and the door).
`z_mean`, `z_std` and `step_std` are buffers set from the training latents before fitting.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from worldjepa.errors import ConfigError, ShapeError


@dataclass
class StepDynamicsConfig:
    """latent_dim: the world model's flattened latent size (N * D); frames are `frame_size` px RGB."""

    latent_dim: int
    code_dim: int = 8
    width: int = 512
    depth: int = 3
    env_action_dim: int = 2
    max_norm: float = 1.0
    frame_size: int = 64
    code_frame_size: int = 32

    def __post_init__(self):
        if min(self.latent_dim, self.code_dim, self.width, self.depth, self.env_action_dim) < 1:
            raise ConfigError(
                "step dynamics need latent_dim, code_dim, width, depth and env_action_dim >= 1, got "
                f"{self.latent_dim}, {self.code_dim}, {self.width}, {self.depth}, {self.env_action_dim}."
            )
        if self.frame_size % self.code_frame_size or self.code_frame_size % 8:
            raise ConfigError(
                f"code_frame_size ({self.code_frame_size}) must divide frame_size ({self.frame_size}) "
                "and be a multiple of 8."
            )


class StepDynamics(nn.Module):
    """code(frames [B, 3, H, W] in [0, 1]) -> [B, C]; step(z [B, Dz], code [B, C], a [B, Aenv]) -> [B, Dz]."""

    def __init__(self, config: StepDynamicsConfig):
        super().__init__()
        self.config = c = config
        side = c.code_frame_size // 8
        self.code_net = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1),
            nn.GELU(),
            nn.Conv2d(16, 32, 3, 2, 1),
            nn.GELU(),
            nn.Conv2d(32, 32, 3, 2, 1),
            nn.GELU(),
            nn.Flatten(),
            nn.Linear(32 * side * side, c.code_dim),
        )
        layers: list[nn.Module] = []
        width_in = c.latent_dim + c.code_dim + c.env_action_dim
        for _ in range(c.depth):
            layers += [nn.Linear(width_in, c.width), nn.GELU()]
            width_in = c.width
        self.mlp = nn.Sequential(*layers, nn.Linear(width_in, c.latent_dim))
        for name in ("z_mean", "step_std"):
            self.register_buffer(name, torch.zeros(c.latent_dim))
        self.register_buffer("z_std", torch.ones(c.latent_dim))
        self.step_std.fill_(1.0)

    @torch.no_grad()
    def set_statistics(self, z: Tensor, z_next: Tensor) -> None:
        """Input and output scales from training transitions z, z_next `[M, Dz]`."""
        self.z_mean.copy_(z.mean(0))
        self.z_std.copy_(z.std(0) + 1e-6)
        self.step_std.copy_((z_next - z).std(0) + 1e-6)

    def code(self, frames: Tensor) -> Tensor:
        """Frames `[B, 3, H, W]` with values in [0, 1] -> room codes `[B, code_dim]`."""
        c = self.config
        if frames.dim() != 4 or tuple(frames.shape[1:]) != (3, c.frame_size, c.frame_size):
            side = c.frame_size
            raise ShapeError(f"frames must be [B, 3, {side}, {side}], got {tuple(frames.shape)}.")
        small = F.avg_pool2d(frames, c.frame_size // c.code_frame_size)
        return self.code_net(small - 0.5)

    def step(self, z: Tensor, code: Tensor, action: Tensor) -> Tensor:
        """One env step: z `[B, Dz]`, code `[B, C]`, action `[B, Aenv]` -> z after it `[B, Dz]`."""
        x = torch.cat([(z - self.z_mean) / self.z_std, code, action / self.config.max_norm], -1)
        return z + self.step_std * self.mlp(x)
