"""Schedules as pure functions of the step, so a resumed run needs only the step."""

from __future__ import annotations

import math


def wsd_lr(
    step: int, total: int, lr: float, start_lr: float, final_lr: float, warmup: int, decay_fraction: float
):
    """Warmup-stable-decay: linear warmup from start_lr, constant lr, linear decay to final_lr at the end."""
    if step < warmup:
        return linear_ramp(step, warmup, start_lr, lr)
    decay_steps = int(round(total * decay_fraction))
    decay_start = total - decay_steps
    if decay_steps <= 0 or step < decay_start:
        return lr
    frac = min((step - decay_start) / decay_steps, 1.0)
    return lr + (final_lr - lr) * frac


def linear_ramp(step: int, steps: int, start: float, end: float) -> float:
    """From start to end along a straight line over `steps` steps, then end (end from the start when
    steps <= 0)."""
    if steps <= 0:
        return end
    return start + (end - start) * min(step, steps) / steps


def cosine_ramp(step: int, total: int, start: float, end: float) -> float:
    """From start to end along half a cosine (V-JEPA's weight-decay schedule)."""
    frac = min(step / max(total, 1), 1.0)
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * frac))
