"""Load a state dict exactly: every key used, every shape checked, or a CheckpointError that lists why."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from worldjepa.errors import CheckpointError


def listing(title: str, items: list[str], limit: int = 12) -> str:
    if not items:
        return ""
    shown = ", ".join(items[:limit]) + (f" (+{len(items) - limit} more)" if len(items) > limit else "")
    return f"\n  {title} ({len(items)}): {shown}"


def check_state(module: nn.Module, state: Mapping[str, Tensor], where: str = "checkpoint") -> None:
    """Raise CheckpointError naming missing, unexpected and mis-shaped keys (works on the meta device)."""
    own = module.state_dict()
    missing = sorted(k for k in own if k not in state)
    unexpected = sorted(k for k in state if k not in own)
    shapes = sorted(
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    )
    if missing or unexpected or shapes:
        raise CheckpointError(
            f"{where} does not fit this architecture."
            + listing("missing keys", missing)
            + listing("unexpected keys", unexpected)
            + listing("shape mismatches", shapes)
            + "\n  Check that the checkpoint and the model config (size, patch, frames) are the same."
        )


def load_state_strict(module: nn.Module, state: Mapping[str, Tensor], where: str = "checkpoint") -> None:
    """Copy `state` into `module`; raise CheckpointError naming missing, unexpected and mis-shaped keys."""
    check_state(module, state, where)
    with torch.no_grad():
        for key, value in module.state_dict().items():
            value.copy_(state[key].to(value.dtype))
