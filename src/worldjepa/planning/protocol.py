"""What planners and world models agree on: the WorldModel protocol, a plan's result, action constraints.

A world model is any object with `action_dim`, `encode` and `rollout`; planners only call these verbs,
so any planner works with any world model (a trained ActionPredictor, or an analytic model in a test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

from worldjepa.errors import ConfigError, ShapeError


@runtime_checkable
class WorldModel(Protocol):
    action_dim: int  # A

    def encode(self, obs: Tensor) -> Tensor:
        """Observations [B, ...] -> latents [B, *S]."""
        ...

    def rollout(self, z0: Tensor, actions: Tensor) -> Tensor:
        """Latents [B, *S] and actions [B, T, A] -> the latent after each action [B, T, *S], z0 excluded."""
        ...


@dataclass
class PlanResult:
    """A planned action sequence `actions` [T, A], its energy, and planner-specific diagnostics."""

    actions: Tensor
    energy: float
    info: dict[str, Any] = field(default_factory=dict)


def check_counts(config: Any, label: str, names: tuple[str, ...]) -> None:
    """Raise ConfigError unless every field `names` of a planner config is at least 1."""
    for name in names:
        if getattr(config, name) < 1:
            raise ConfigError(f"{label} {name} must be >= 1, got {getattr(config, name)}.")


def resolve_group(action_dim: int, group: int | None) -> int:
    """The sub-action size whose norm is limited: `group`, or the whole action when None."""
    group = action_dim if group is None else group
    if group < 1 or action_dim % group:
        raise ConfigError(
            f"Action group {group} must divide the action dim {action_dim} (for example 2 for "
            "2-D sub-actions), or be left out to limit the norm of the whole action."
        )
    return group


def clip_action_norm(actions: Tensor, max_norm: float, group: int | None = None) -> Tensor:
    """Scale each consecutive group of `group` dims of `actions` [..., A] down to norm <= `max_norm`.

    Directions are kept; groups already inside the ball are unchanged (V-JEPA 2-AC's max-norm clipping).
    `group` defaults to A: the norm of the whole action vector.
    """
    if max_norm <= 0:
        raise ConfigError(f"max_norm must be > 0, got {max_norm}.")
    a = actions.shape[-1]
    g = resolve_group(a, group)
    parts = actions.reshape(*actions.shape[:-1], a // g, g)
    norms = parts.norm(dim=-1, keepdim=True)
    scale = (max_norm / norms.clamp_min(1e-12)).clamp(max=1.0)
    return (parts * scale).reshape(actions.shape)


def check_plan_inputs(world_model: WorldModel, z0: Tensor, z_goal: Tensor, horizon: int, init: Tensor | None):
    """Raise ShapeError unless z0 and z_goal are one latent [*S] each and `init` is None or [horizon, A]."""
    if not isinstance(getattr(world_model, "action_dim", None), int):
        raise ConfigError(
            f"{type(world_model).__name__} has no integer `action_dim`: a world model must follow "
            "worldjepa.planning.WorldModel (action_dim, encode, rollout)."
        )
    if z0.shape != z_goal.shape:
        raise ShapeError(
            f"Start latent {tuple(z0.shape)} and goal latent {tuple(z_goal.shape)} differ: encode both with "
            "the same world model, one observation each (no batch dim)."
        )
    if z0.dim() == 0:
        raise ShapeError("Latents must have at least one dim [*S]; got a scalar.")
    want = (horizon, world_model.action_dim)
    if init is not None and tuple(init.shape) != want:
        raise ShapeError(f"Initial plan has shape {tuple(init.shape)}, expected [horizon, A] = {list(want)}.")


def normal_noise(shape: tuple[int, ...], generator: torch.Generator, like: Tensor) -> Tensor:
    """Standard normal noise drawn on the generator's device, then moved to `like`'s device and dtype.

    Drawing on the generator's device keeps a CPU generator valid, with the same numbers, on any model device.
    """
    noise = torch.randn(shape, generator=generator, device=generator.device)
    return noise.to(device=like.device, dtype=like.dtype)
