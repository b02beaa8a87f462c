"""The energy a planner minimises: distance between predicted latents and the goal latent."""

from __future__ import annotations

from torch import Tensor

from worldjepa.errors import ConfigError, ShapeError, suggest
from worldjepa.planning.protocol import PlanResult, WorldModel

DISTANCES = ("l1", "l2")
REDUCTIONS = ("final", "sum")


def check_energy_names(distance: str, reduce: str, path_weight: float = 0.0) -> None:
    """Raise ConfigError for an unknown distance or reduction name, or a negative path weight."""
    if distance not in DISTANCES:
        raise ConfigError(
            f"Unknown distance '{distance}'; choose one of {list(DISTANCES)}.{suggest(distance, DISTANCES)}"
        )
    if reduce not in REDUCTIONS:
        raise ConfigError(
            f"Unknown reduce '{reduce}'; choose one of {list(REDUCTIONS)}.{suggest(reduce, REDUCTIONS)}"
        )
    if not path_weight >= 0:
        raise ConfigError(f"path_weight must be >= 0, got {path_weight}.")


def latent_energy(
    pred: Tensor, goal: Tensor, distance: str = "l1", reduce: str = "final", path_weight: float = 0.0
) -> Tensor:
    """Energy [B] of predicted latents `pred` [B, T, *S] against `goal` [*S] or [B, *S].

    distance: "l1" = mean |pred - goal| over the latent dims, "l2" = mean (pred - goal)^2 over them.
    reduce: "final" scores the last step only (V-JEPA 2-AC: L1 at the final step), "sum" sums over the
    T steps. `path_weight` adds that weight times the mean distance over the T steps: with "final" it
    keeps the long-horizon reach of a final-step energy while preferring plans that get there early and
    stay (a final-step energy leaves the first actions free, and the agent wanders near the goal).
    """
    check_energy_names(distance, reduce, path_weight)
    if pred.dim() < 3:
        raise ShapeError(f"Predicted latents must be [B, T, *S], got shape {tuple(pred.shape)}.")
    b, _, *s = pred.shape
    if list(goal.shape) == s:
        goal = goal.unsqueeze(0)
    elif list(goal.shape) != [b, *s]:
        raise ShapeError(
            f"Goal latent {tuple(goal.shape)} does not match predicted latents {tuple(pred.shape)}: "
            f"expected {s} or {[b, *s]}."
        )
    diff = pred - goal.unsqueeze(1)
    per_step = diff.abs() if distance == "l1" else diff.square()
    per_step = per_step.flatten(2).mean(-1)  # [B, T]
    energy = per_step[:, -1] if reduce == "final" else per_step.sum(1)
    return energy + path_weight * per_step.mean(1) if path_weight else energy


def sequence_energy(
    world_model: WorldModel,
    z0: Tensor,
    z_goal: Tensor,
    actions: Tensor,
    distance: str,
    reduce: str,
    path_weight: float = 0.0,
) -> Tensor:
    """Energy [N] of action sequences [N, T, A] rolled out in one batch from `z0` [*S], to `z_goal` [*S]."""
    n, t = actions.shape[:2]
    pred = world_model.rollout(z0.unsqueeze(0).expand(n, *z0.shape).contiguous(), actions)
    if tuple(pred.shape) != (n, t, *z0.shape):
        raise ShapeError(
            f"{type(world_model).__name__}.rollout returned shape {tuple(pred.shape)} for {n} sequences of "
            f"{t} actions from a latent {tuple(z0.shape)}; expected {[n, t, *z0.shape]} (z0 excluded)."
        )
    return latent_energy(pred, z_goal, distance, reduce, path_weight)


def planner_energy(world_model: WorldModel, z0: Tensor, z_goal: Tensor, actions: Tensor, config) -> Tensor:
    """`sequence_energy` with a planner config's `distance`, `reduce` and `path_weight`."""
    return sequence_energy(
        world_model, z0, z_goal, actions, config.distance, config.reduce, config.path_weight
    )


def mean_or_best(
    world_model: WorldModel,
    z0: Tensor,
    z_goal: Tensor,
    mean: Tensor,
    best: Tensor,
    best_energy: float,
    config,
    info: dict,
) -> PlanResult:
    """The sampling planners' answer: the final `mean` [T, A] or the `best` sample [T, A], whichever is lower.

    The mean of good samples is usually better than any of them, but not always (a multimodal elite set
    averages to a poor plan), so both are scored.
    """
    mean_energy = planner_energy(world_model, z0, z_goal, mean[None], config).item()
    info = {**info, "mean_energy": mean_energy, "best_energy": best_energy}
    if mean_energy <= best_energy:
        return PlanResult(mean, mean_energy, {**info, "source": "mean"})
    return PlanResult(best.clone(), best_energy, {**info, "source": "best_sample"})
