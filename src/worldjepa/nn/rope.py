"""Rotary position embeddings over 2 or 3 axes, laid out as V-JEPA 2 does.

Each attention head of width h is cut into one chunk per axis of width d = 2 * ((h // axes) // 2)
(time, height, width for 3 axes), in that order; the channels left over at the end are not rotated
(head 64 -> 20 + 20 + 20 + 4). Within a chunk, axis frequencies are 1 / 10000 ** (i / (d / 2)).

Layout "vjepa2" (what released checkpoints need): channel pairs (2i, 2i+1) are rotated, but cos/sin
are laid out as [f_0 .. f_{d/2-1}, f_0 .. f_{d/2-1}] (a repeat, not an interleave), so a pair may
see two different angles. Layout "interleaved" is the textbook form [f_0, f_0, f_1, f_1, ...], which
is a true rotation: attention scores then depend on position differences only.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from worldjepa.errors import ConfigError

LAYOUTS = ("vjepa2", "interleaved")


def axis_width(head_dim: int, axes: int) -> int:
    """Rotated channels per axis for a head of width head_dim."""
    return 2 * ((head_dim // axes) // 2)


def axis_angles(pos: Tensor, width: int, layout: str, base: float = 10000.0) -> Tensor:
    """Angles for one axis. pos: [..., N] float -> [..., N, width]."""
    omega = torch.arange(width // 2, dtype=pos.dtype, device=pos.device)
    omega = 1.0 / base ** (omega / (width / 2.0))
    freq = pos.unsqueeze(-1) * omega
    if layout == "vjepa2":
        return freq.repeat(*([1] * (freq.dim() - 1)), 2)
    return freq.repeat_interleave(2, dim=-1)


def rotate_pairs(x: Tensor) -> Tensor:
    """(x0, x1, x2, x3, ...) -> (-x1, x0, -x3, x2, ...) over the last axis."""
    x1, x2 = x.unflatten(-1, (-1, 2)).unbind(-1)
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate queries or keys. x: [B, heads, N, h]; cos, sin: broadcastable to x."""
    return x * cos + rotate_pairs(x) * sin


class RotaryEmbedding(nn.Module):
    """cos/sin tables for a head of width `head_dim` over `axes` position axes (2 or 3).

    forward(pos [..., N, axes]) -> (cos, sin), each [..., 1, N, head_dim] (a heads axis is inserted).
    Unrotated remainder channels get cos 1, sin 0. A coordinate of 0 leaves its axis unrotated, so
    position (t, 0, 0) rotates only the time channels, as V-JEPA 2-AC does for action tokens.
    """

    def __init__(self, head_dim: int, axes: int = 3, layout: str = "vjepa2", base: float = 10000.0):
        super().__init__()
        if layout not in LAYOUTS:
            raise ConfigError(f"Unknown rope layout '{layout}'; choose one of {LAYOUTS}.")
        if axes not in (2, 3):
            raise ConfigError(f"Rotary embeddings take 2 or 3 axes, not {axes}.")
        self.head_dim, self.axes, self.layout, self.base = head_dim, axes, layout, base
        self.width = axis_width(head_dim, axes)

    def forward(self, pos: Tensor) -> tuple[Tensor, Tensor]:
        if pos.shape[-1] != self.axes:
            raise ValueError(f"positions must have {self.axes} coordinates, got shape {tuple(pos.shape)}")
        angles = [axis_angles(pos[..., a], self.width, self.layout, self.base) for a in range(self.axes)]
        angle = torch.cat(angles, dim=-1)
        rest = self.head_dim - angle.shape[-1]
        cos, sin = angle.cos(), angle.sin()
        if rest:
            cos = torch.cat([cos, cos.new_ones(*cos.shape[:-1], rest)], dim=-1)
            sin = torch.cat([sin, sin.new_zeros(*sin.shape[:-1], rest)], dim=-1)
        return cos.unsqueeze(-3), sin.unsqueeze(-3)
