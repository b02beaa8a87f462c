"""Pixels to tokens: 2-D patches for images, 3-D tubelets for video."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class PatchEmbed2D(nn.Module):
    """[B, C, H, W] -> [B, (H/p)*(W/p), D], row-major patch order."""

    def __init__(self, patch_size: int = 16, in_chans: int = 3, embed_dim: int = 768):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: Tensor) -> Tensor:
        # contiguous: a transposed token layout would carry into the residual stream of every block.
        return self.proj(x).flatten(2).transpose(1, 2).contiguous()


class TubeletEmbed(nn.Module):
    """[B, C, T, H, W] -> [B, (T/t)*(H/p)*(W/p), D], frame-major order (time, then rows, then columns).

    V-JEPA 2 uses tubelets of 2 frames x 16 x 16 pixels.
    """

    def __init__(self, patch_size: int = 16, tubelet_size: int = 2, in_chans: int = 3, embed_dim: int = 768):
        super().__init__()
        self.patch_size = patch_size
        self.tubelet_size = tubelet_size
        kernel = (tubelet_size, patch_size, patch_size)
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=kernel, stride=kernel)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).flatten(2).transpose(1, 2).contiguous()


def grid_of(
    x_shape: torch.Size | tuple[int, ...], patch_size: int, tubelet_size: int
) -> tuple[int, int, int]:
    """Patch grid (T', H', W') of an input shape [B, C, H, W] (T' = 1) or [B, C, T, H, W]."""
    if len(x_shape) == 4:
        return 1, x_shape[2] // patch_size, x_shape[3] // patch_size
    return x_shape[2] // tubelet_size, x_shape[3] // patch_size, x_shape[4] // patch_size
