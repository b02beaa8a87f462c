"""The action-conditioned world model: a frame encoder, a latent head and a V-JEPA 2-AC predictor.

It follows the planners' protocol (`worldjepa.planning.WorldModel`): `encode(obs)` maps frames to
latents `[B, N, D]` and `rollout(z0, actions)` predicts the latents after each action.
Latents are either every patch token of the frame (`latent: tokens`, N = patches, as V-JEPA 2-AC) or a
compact latent that makes planning fast: tokens averaged to a `latent_grid` x `latent_grid` grid and
optionally projected to `latent_dim` (`latent: pooled`), or all tokens concatenated and projected to
one `latent_dim` vector (`latent: projected`, which keeps where each token sits).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from worldjepa.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from worldjepa.errors import ConfigError, ShapeError
from worldjepa.models.action_predictor import ActionPredictor
from worldjepa.models.config import ActionPredictorConfig, EncoderConfig
from worldjepa.models.encoder import Encoder

LATENTS = ("tokens", "pooled", "projected")


@dataclass
class WorldModelConfig:
    """Everything needed to rebuild a world model; saved inside its checkpoint.

    One model step is `frameskip` environment steps: its action concatenates their
    `env_action_dim`-d actions (A = env_action_dim * frameskip), each of norm <= `max_norm`.
    """

    encoder: EncoderConfig = field(default_factory=lambda: EncoderConfig(num_frames=1, tubelet_size=1))
    predictor: ActionPredictorConfig = field(default_factory=ActionPredictorConfig)
    latent: str = "pooled"
    latent_grid: int = 1
    latent_dim: int = 0
    latent_norm: bool = True
    frameskip: int = 1
    env_action_dim: int = 2
    max_norm: float = 1.0
    inverse_dynamics: bool = False

    def __post_init__(self):
        if self.latent == "projected" and self.latent_dim < 1:
            raise ConfigError("latent: projected needs latent_dim >= 1 (the size of the projected vector).")
        if self.latent not in LATENTS:
            raise ConfigError(f"latent = '{self.latent}' is unknown; choose one of {LATENTS}.")
        if self.encoder.in_chans != 3:
            raise ConfigError("A world model encodes RGB frames: the encoder's in_chans must be 3.")
        if self.encoder.is_video:
            raise ConfigError("A world model encodes single frames: set the encoder's num_frames to 1.")
        p = self.predictor
        if p.embed_dim != self.latent_width:
            raise ConfigError(f"predictor.embed_dim must equal the latent width {self.latent_width}.")
        if p.grid_size != self.latent_side:
            raise ConfigError(f"predictor.grid_size must equal the latent grid side {self.latent_side}.")
        if p.action_dim != self.action_dim:
            raise ConfigError(
                f"predictor.action_dim must be env_action_dim * frameskip = {self.action_dim}, "
                f"got {p.action_dim}."
            )
        if self.latent == "pooled" and self.patch_side % self.latent_grid:
            raise ConfigError(f"latent_grid {self.latent_grid} must divide the patch grid {self.patch_side}.")

    @property
    def patch_side(self) -> int:
        return self.encoder.img_size // self.encoder.patch_size

    @property
    def latent_side(self) -> int:
        return {"pooled": self.latent_grid, "projected": 1}.get(self.latent, self.patch_side)

    @property
    def latent_width(self) -> int:
        return self.latent_dim or self.encoder.embed_dim

    @property
    def latent_shape(self) -> tuple[int, int]:
        return self.latent_side**2, self.latent_width

    @property
    def action_dim(self) -> int:
        return self.env_action_dim * self.frameskip


class WorldModel(nn.Module):
    """encode(obs) -> z [B, N, D]; predict (teacher forcing) and rollout (autoregressive) in latent space.

    `obs` is uint8 frames `[..., H, W, C]` as an environment renders them, or float `[..., C, H, W]`
    already normalised with ImageNet statistics (as every worldjepa dataset and V-JEPA 2 do, so an
    encoder pretrained by `worldjepa pretrain` sees the same inputs here).
    """

    def __init__(self, config: WorldModelConfig):
        super().__init__()
        self.config = c = config
        self.encoder = Encoder(c.encoder)
        tokens_in = c.patch_side**2 if c.latent == "projected" else 1
        self.projector = nn.Linear(tokens_in * c.encoder.embed_dim, c.latent_dim) if c.latent_dim else None
        self.predictor = ActionPredictor(c.predictor)
        flat = c.latent_shape[0] * c.latent_shape[1]
        self.inverse_dynamics = (
            nn.Sequential(nn.Linear(2 * flat, 256), nn.GELU(), nn.Linear(256, c.env_action_dim))
            if c.inverse_dynamics
            else None
        )

    @property
    def action_dim(self) -> int:
        return self.config.action_dim

    @property
    def latent_shape(self) -> tuple[int, int]:
        return self.config.latent_shape

    def preprocess(self, obs: Tensor) -> Tensor:
        """uint8 `[..., H, W, C]` -> ImageNet-normalised float `[..., C, H, W]`; float input is checked."""
        e = self.config.encoder
        size, chans = e.img_size, e.in_chans
        if obs.dtype == torch.uint8:
            if obs.dim() < 3 or obs.shape[-3:] != (size, size, chans):
                raise ShapeError(
                    f"Frames must be uint8 [..., {size}, {size}, {chans}] (height, width, channels), "
                    f"got {tuple(obs.shape)}; this model was trained on {size}x{size} {chans}-channel frames."
                )
            mean = obs.new_tensor(IMAGENET_MEAN, dtype=torch.float32).view(3, 1, 1)
            std = obs.new_tensor(IMAGENET_STD, dtype=torch.float32).view(3, 1, 1)
            obs = (obs.movedim(-1, -3).float().div(255.0) - mean) / std
        elif obs.dim() < 3 or obs.shape[-3:] != (chans, size, size):
            raise ShapeError(
                f"Float frames must be [..., {chans}, {size}, {size}], got {tuple(obs.shape)}; "
                f"this model was trained on {size}x{size} {chans}-channel frames."
            )
        return obs.to(next(self.parameters()).device)

    def encode(self, obs: Tensor) -> Tensor:
        """Frames (any leading dims) -> latents `[..., N, D]`."""
        x = self.preprocess(obs)
        lead = x.shape[:-3]
        tokens = self.encoder(x.reshape(-1, *x.shape[-3:]))
        return self.latent_head(tokens).unflatten(0, lead)

    def latent_head(self, tokens: Tensor) -> Tensor:
        """Encoder tokens `[B, P, De]` -> latents `[B, N, D]` (pool, project, normalise)."""
        c = self.config
        if c.latent == "pooled":
            side = c.patch_side
            grid = tokens.transpose(1, 2).unflatten(-1, (side, side))
            tokens = F.adaptive_avg_pool2d(grid, c.latent_grid).flatten(2).transpose(1, 2)
        elif c.latent == "projected":
            tokens = tokens.flatten(1).unsqueeze(1)
        if self.projector is not None:
            tokens = self.projector(tokens)
        return self.normalize(tokens)

    def normalize(self, z: Tensor) -> Tensor:
        return F.layer_norm(z, z.shape[-1:]) if self.config.latent_norm else z

    def predict(self, z: Tensor, actions: Tensor, first_frame: int = 0) -> Tensor:
        """Teacher forcing: z `[B, T, N, D]`, actions `[B, T, A]` -> the next latents `[B, T, N, D]`."""
        return self.normalize(self.predictor(z, actions, first_frame=first_frame))

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        """z0 `[B, N, D]`, actions `[B, T, A]` -> the latents after each action `[B, T, N, D]`.

        Autoregressive: each step runs the predictor on the latest frames (the rolled-out ones included)
        at their time positions and keeps the prediction for the newest frame. With a context window
        of w frames and L blocks, the newest frame depends on the last (w - 1) * L + 1 frames, which is
        what each step feeds: a rollout gives the numbers teacher forcing gives on its own frames.
        """
        if z0.dim() != 3 or z0.shape[1:] != self.latent_shape:
            n, d = self.latent_shape
            raise ShapeError(f"z0 must be latents [B, {n}, {d}], got {tuple(z0.shape)}.")
        if actions.dim() != 3 or actions.shape[0] != z0.shape[0] or actions.shape[2] != self.action_dim:
            raise ShapeError(
                f"actions must be [B={z0.shape[0]}, T, A={self.action_dim}] (this model's action "
                f"dimension is {self.action_dim}), got {tuple(actions.shape)}."
            )
        p = self.config.predictor
        span = (p.context_frames - 1) * p.depth + 1 if p.context_frames else p.max_frames
        frames = [z0]
        for t in range(actions.shape[1]):
            start = max(0, t + 1 - min(span, p.max_frames))
            context = torch.stack(frames[start:], 1)
            frames.append(self.predict(context, actions[:, start : t + 1], first_frame=start)[:, -1])
        return torch.stack(frames[1:], 1)

    def infer_actions(self, z: Tensor, z_next: Tensor) -> Tensor:
        """Inverse dynamics: latents `[..., N, D]` before and after a model step -> the sum of its
        `frameskip` env actions `[..., env_action_dim]` in units of `max_norm` (the sum is what two
        frames can tell)."""
        if self.inverse_dynamics is None:
            raise ConfigError("This world model has no inverse-dynamics head (inverse_dynamics: false).")
        return self.inverse_dynamics(torch.cat([z.flatten(-2), z_next.flatten(-2)], dim=-1))
