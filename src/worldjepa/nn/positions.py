"""Token ids to (time, row, column) positions on a patch grid."""

from __future__ import annotations

import torch
from torch import Tensor


def token_positions(ids: Tensor, grid: tuple[int, int, int]) -> Tensor:
    """Positions of frame-major token ids.

    ids: [..., N] integer token ids; grid: (T, H, W) patches.
    Returns float [..., N, 3]: frame = id // (H*W), row = (id % (H*W)) // W, col = id % W.
    """
    _, h, w = grid
    per_frame = h * w
    frame = torch.div(ids, per_frame, rounding_mode="floor")
    rest = ids - frame * per_frame
    row = torch.div(rest, w, rounding_mode="floor")
    col = rest - row * w
    return torch.stack([frame, row, col], dim=-1).float()


def all_ids(grid: tuple[int, int, int], device: torch.device | str | None = None) -> Tensor:
    """[T*H*W] ids of every token of a grid, in order."""
    t, h, w = grid
    return torch.arange(t * h * w, device=device)
