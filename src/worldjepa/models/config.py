"""Model configs: plain dataclasses, saved beside every checkpoint so a file describes itself."""

from __future__ import annotations

from dataclasses import dataclass

from worldjepa.errors import ConfigError

POS_EMBEDS = ("rope", "sincos")


@dataclass
class EncoderConfig:
    """A ViT over images (num_frames = 1) or videos (tubelets of `tubelet_size` frames)."""

    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    img_size: int = 256
    patch_size: int = 16
    num_frames: int = 16
    tubelet_size: int = 2
    in_chans: int = 3
    qkv_bias: bool = True
    norm_eps: float = 1e-6
    drop_path_rate: float = 0.0
    init_std: float = 0.02
    pos_embed: str = "rope"
    rope_layout: str = "vjepa2"
    activation_checkpointing: bool = False

    def __post_init__(self):
        check_common(self.embed_dim, self.num_heads, self.pos_embed, self.patch_size, self.img_size)
        if self.num_frames > 1 and self.num_frames % self.tubelet_size:
            raise ConfigError(
                f"num_frames ({self.num_frames}) must be a multiple of tubelet_size ({self.tubelet_size})."
            )

    @property
    def is_video(self) -> bool:
        return self.num_frames > 1

    @property
    def grid(self) -> tuple[int, int, int]:
        """Patch grid (T, H, W) of an input of the configured size."""
        side = self.img_size // self.patch_size
        return (self.num_frames // self.tubelet_size if self.is_video else 1), side, side


@dataclass
class PredictorConfig:
    """The narrow ViT that predicts target tokens from context tokens (V-JEPA 2 predictor)."""

    embed_dim: int = 1024
    predictor_embed_dim: int = 384
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    img_size: int = 256
    patch_size: int = 16
    num_frames: int = 64
    tubelet_size: int = 2
    num_mask_tokens: int = 10
    zero_init_mask_tokens: bool = True
    # False (V-JEPA 2): predict each target token outright. True: predict it as a change over the
    # latest earlier context token at the same place, layer-normed as targets are and without gradient
    # (where no context token shares its place, the change is the whole prediction); the output
    # projection starts at zero, so an untrained predictor says "nothing changes".
    predict_change: bool = False
    qkv_bias: bool = True
    norm_eps: float = 1e-6
    drop_path_rate: float = 0.0
    init_std: float = 0.02
    pos_embed: str = "rope"
    rope_layout: str = "vjepa2"
    activation_checkpointing: bool = False

    def __post_init__(self):
        check_common(self.predictor_embed_dim, self.num_heads, self.pos_embed, self.patch_size, self.img_size)
        if self.num_mask_tokens < 1:
            raise ConfigError("num_mask_tokens must be at least 1.")

    @property
    def grid(self) -> tuple[int, int, int]:
        side = self.img_size // self.patch_size
        return max(self.num_frames // self.tubelet_size, 1), side, side


def check_common(width: int, heads: int, pos_embed: str, patch: int, img: int) -> None:
    if width % heads:
        raise ConfigError(f"Width {width} must be divisible by the number of heads {heads}.")
    if (width // heads) % 2:
        raise ConfigError(f"Head width {width // heads} must be even for rotary embeddings.")
    if pos_embed not in POS_EMBEDS:
        raise ConfigError(f"Unknown pos_embed '{pos_embed}'; choose one of {POS_EMBEDS}.")
    if img % patch:
        raise ConfigError(f"img_size {img} must be a multiple of patch_size {patch}.")


@dataclass
class ActionPredictorConfig:
    """The V-JEPA 2-AC predictor: per frame [action, state, latent tokens], frame-causal attention.

    `grid_size` is the side of each frame's square token grid (16 for V-JEPA 2-AC's 256 px frames,
    1 for a pooled latent). `state_dim` 0 drops the state token. `extrinsics_dim` > 0 adds the
    (unused) extrinsics encoder the released V-JEPA 2-AC file carries. `context_frames` limits how many
    past frames each frame attends to (0: all, as V-JEPA 2-AC).
    """

    embed_dim: int = 1408
    predictor_embed_dim: int = 1024
    depth: int = 24
    num_heads: int = 16
    mlp_ratio: float = 4.0
    grid_size: int = 16
    action_dim: int = 7
    state_dim: int = 7
    extrinsics_dim: int = 0
    max_frames: int = 64
    context_frames: int = 0
    qkv_bias: bool = True
    norm_eps: float = 1e-6
    drop_path_rate: float = 0.0
    init_std: float = 0.02
    rope_layout: str = "vjepa2"
    activation_checkpointing: bool = False

    def __post_init__(self):
        check_common(self.predictor_embed_dim, self.num_heads, "rope", 1, 1)
        if self.action_dim < 1 or self.grid_size < 1 or self.state_dim < 0 or self.context_frames < 0:
            raise ConfigError(
                "action_dim and grid_size must be >= 1, state_dim and context_frames >= 0; got "
                f"{self.action_dim}, {self.grid_size}, {self.state_dim}, {self.context_frames}."
            )

    @property
    def tokens_per_frame(self) -> int:
        return self.grid_size * self.grid_size

    @property
    def cond_tokens(self) -> int:
        """Conditioning tokens before each frame's latent tokens: action, then state if any."""
        return 1 + (self.state_dim > 0)
