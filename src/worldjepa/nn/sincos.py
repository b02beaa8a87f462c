"""Fixed sine-cosine absolute position embeddings (the option I-JEPA and V-JEPA 1 use)."""

from __future__ import annotations

import torch
from torch import Tensor


def sincos_1d(dim: int, pos: Tensor) -> Tensor:
    """pos: [N] -> [N, dim]: half sines then half cosines of pos / 10000 ** (2i / dim)."""
    omega = torch.arange(dim // 2, dtype=torch.float64) / (dim / 2.0)
    omega = 1.0 / 10000**omega
    out = pos.double().unsqueeze(-1) * omega
    return torch.cat([out.sin(), out.cos()], dim=-1).float()


def sincos_pos_embed(dim: int, grid: tuple[int, int, int]) -> Tensor:
    """[T*H*W, dim] embedding for a frame-major grid.

    Images (T = 1) split dim in half between rows and columns; video gives a quarter to time
    and three eighths each to rows and columns (V-JEPA's non-uniform split).
    """
    t, h, w = grid
    tt, hh, ww = torch.meshgrid(torch.arange(t), torch.arange(h), torch.arange(w), indexing="ij")
    if t == 1:
        parts = [sincos_1d(dim // 2, hh.flatten()), sincos_1d(dim - dim // 2, ww.flatten())]
    else:
        d_t = dim // 4
        d_s = (dim - d_t) // 2
        parts = [
            sincos_1d(d_t, tt.flatten()),
            sincos_1d(d_s, hh.flatten()),
            sincos_1d(dim - d_t - d_s, ww.flatten()),
        ]
    return torch.cat(parts, dim=-1)
