"""The ViT encoder over images [B, C, H, W] and videos [B, C, T, H, W]."""

from __future__ import annotations

import torch
import torch.utils.checkpoint
from torch import Tensor, nn

from worldjepa.errors import ShapeError
from worldjepa.models.config import EncoderConfig
from worldjepa.models.init import init_vit_weights, rescale_residual_branches
from worldjepa.nn import Block, PatchEmbed2D, RotaryEmbedding, TubeletEmbed, sincos_pos_embed
from worldjepa.nn.patch_embed import grid_of
from worldjepa.nn.positions import all_ids, token_positions


class Encoder(nn.Module):
    """A Vision Transformer returning one token per patch (or tubelet).

    forward(x, keep=None): x is [B, C, H, W] or [B, C, T, H, W]; `keep` ([B, K] token ids) encodes
    only those tokens (the context), at their true positions. Returns [B, N or K, D], layer-normed.
    A video encoder given an image repeats it over one tubelet, as V-JEPA 2 does for images.
    """

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = c = config
        self.embed_dim = c.embed_dim
        if c.is_video:
            self.patch_embed = TubeletEmbed(c.patch_size, c.tubelet_size, c.in_chans, c.embed_dim)
        else:
            self.patch_embed = PatchEmbed2D(c.patch_size, c.in_chans, c.embed_dim)
        self.rope = (
            RotaryEmbedding(c.embed_dim // c.num_heads, 3, c.rope_layout) if c.pos_embed == "rope" else None
        )
        dpr = [c.drop_path_rate * i / max(c.depth - 1, 1) for i in range(c.depth)]
        self.blocks = nn.ModuleList(
            Block(c.embed_dim, c.num_heads, c.mlp_ratio, c.qkv_bias, dpr[i], c.norm_eps)
            for i in range(c.depth)
        )
        self.norm = nn.LayerNorm(c.embed_dim, eps=c.norm_eps)
        init_vit_weights(self, c.init_std)
        rescale_residual_branches(self.blocks)

    def grid(self, x_shape: torch.Size | tuple[int, ...]) -> tuple[int, int, int]:
        """Token grid (T', H', W') for an input shape, after any image-to-tubelet repeat."""
        c = self.config
        if len(x_shape) == 4 and c.is_video:
            return 1, x_shape[2] // c.patch_size, x_shape[3] // c.patch_size
        return grid_of(x_shape, c.patch_size, c.tubelet_size)

    def forward(self, x: Tensor, keep: Tensor | None = None) -> Tensor:
        x = self.prepare_input(x)
        grid = self.grid(x.shape)
        tokens = self.patch_embed(x)
        ids = all_ids(grid, x.device) if keep is None else self.check_keep(keep, tokens.shape[:2])
        if keep is not None:
            tokens = torch.gather(tokens, 1, ids.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))
        if self.rope is None:
            tokens = tokens + sincos_pos_embed(self.embed_dim, grid).to(tokens)[ids]
        rope = self.rope(token_positions(ids, grid).to(tokens.dtype)) if self.rope is not None else None
        for block in self.blocks:
            if self.config.activation_checkpointing and self.training:
                tokens = torch.utils.checkpoint.checkpoint(block, tokens, rope, use_reentrant=False)
            else:
                tokens = block(tokens, rope=rope)
        return self.norm(tokens)

    def prepare_input(self, x: Tensor) -> Tensor:
        """Check the layout and channels; turn an image into a one-tubelet clip for a video encoder."""
        c = self.config
        if x.dim() not in (4, 5):
            raise ShapeError(
                f"Encoder input must be an image batch [B, C, H, W] or a video batch [B, C, T, H, W]; "
                f"got shape {tuple(x.shape)}."
            )
        if x.shape[1] != c.in_chans:
            raise ShapeError(
                f"Encoder expects {c.in_chans} channels in dimension 1, got {x.shape[1]} "
                f"(shape {tuple(x.shape)}). "
                "Convert grayscale to RGB, or put channels first ([B, C, T, H, W] for video)."
            )
        if x.shape[-1] < c.patch_size or x.shape[-2] < c.patch_size:
            raise ShapeError(f"Input {tuple(x.shape[-2:])} px is smaller than one {c.patch_size}-px patch.")
        if x.dim() == 5 and not c.is_video:
            raise ShapeError("This is an image encoder (num_frames = 1); give it [B, C, H, W] images.")
        if x.dim() == 4 and c.is_video:
            x = x.unsqueeze(2).expand(-1, -1, c.tubelet_size, -1, -1)
        if x.dim() == 5 and x.shape[2] % c.tubelet_size:
            raise ShapeError(
                f"Clip length {x.shape[2]} must be a multiple of the tubelet size {c.tubelet_size}."
            )
        return x

    @staticmethod
    def check_keep(keep: Tensor, tokens_shape: torch.Size) -> Tensor:
        b, n = tokens_shape
        if keep.dim() != 2 or keep.shape[0] != b:
            raise ShapeError(f"keep must be token ids of shape [B={b}, K], got {tuple(keep.shape)}.")
        if keep.numel() and (int(keep.min()) < 0 or int(keep.max()) >= n):
            raise ShapeError(f"keep holds token ids outside [0, {n}).")
        return keep.long()
