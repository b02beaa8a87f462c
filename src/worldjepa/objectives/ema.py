"""Exponential moving average of an encoder: the JEPA target encoder, and its momentum schedule."""

from __future__ import annotations

import copy

import torch
from torch import nn

from worldjepa.errors import ConfigError


def momentum_at(step: int, total_steps: int, start: float = 0.996, end: float = 1.0) -> float:
    """Momentum ramped linearly from `start` at step 0 to `end` at `total_steps` (held after), as I-JEPA."""
    if total_steps < 1:
        raise ConfigError(f"total_steps must be >= 1, got {total_steps}.")
    return start + (end - start) * min(max(step, 0) / total_steps, 1.0)


def _unwrap(model: nn.Module) -> nn.Module:
    """The module inside a DistributedDataParallel (or similar `.module`) wrapper."""
    return getattr(model, "module", model)


class EMA:
    """A frozen copy `target` of a model, updated as target = m * target + (1 - m) * online."""

    def __init__(self, model: nn.Module):
        self.target = copy.deepcopy(_unwrap(model))
        self.target.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, momentum: float) -> None:
        if not 0.0 <= momentum <= 1.0:
            raise ConfigError(f"EMA momentum must be in [0, 1], got {momentum}.")
        online = _unwrap(model)
        tgt = list(self.target.parameters())
        src = [p.detach() for p in online.parameters()]
        if len(tgt) != len(src):
            raise ConfigError(
                f"EMA target has {len(tgt)} parameters but the model has {len(src)}: update with the "
                "model the EMA was built from."
            )
        torch._foreach_mul_(tgt, momentum)
        torch._foreach_add_(tgt, src, alpha=1.0 - momentum)
        for t, s in zip(self.target.buffers(), online.buffers(), strict=True):
            t.copy_(s)
