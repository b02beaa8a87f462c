"""The frame-causal attention mask of V-JEPA 2-AC: a frame's tokens see their own and earlier frames."""

from __future__ import annotations

import torch
from torch import Tensor


def frame_causal_mask(frames: int, tokens_per_frame: int, window: int = 0, device=None) -> Tensor:
    """Bool `[L, L]`, L = frames * tokens_per_frame; True = may attend.

    Token i of frame t attends to every token of frames t - window + 1 .. t (all earlier frames
    when `window` is 0).
    """
    t = torch.arange(frames, device=device)
    gap = t[:, None] - t[None, :]
    allowed = gap >= 0
    if window > 0:
        allowed &= gap < window
    return allowed.repeat_interleave(tokens_per_frame, 0).repeat_interleave(tokens_per_frame, 1)
