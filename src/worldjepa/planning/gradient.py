"""Gradient planner (as DINO-WM's GD): Adam on the action sequence through the world model's rollout."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from worldjepa.errors import ConfigError
from worldjepa.planning.energy import check_energy_names, planner_energy
from worldjepa.planning.noise import coloured_noise
from worldjepa.planning.protocol import (
    PlanResult,
    WorldModel,
    check_counts,
    check_plan_inputs,
    clip_action_norm,
)


@dataclass
class GradientConfig:
    """Gradient-planner settings. `lr` is Adam's step size in action units; `init_std` in units of `max_norm`.

    `samples` initialisations are optimised together: the warm start (or zeros) and samples - 1 random ones.
    10 Adam steps per plan suffice inside the MPC loop, which warm-starts every plan from the last.
    """

    horizon: int = 8
    iterations: int = 10
    lr: float = 0.1
    samples: int = 4
    init_std: float = 0.5
    noise_beta: float = 0.0
    distance: str = "l1"
    reduce: str = "final"
    path_weight: float = 0.0

    def __post_init__(self):
        check_counts(self, "Gradient planner", ("horizon", "iterations", "samples"))
        if self.lr <= 0 or self.init_std < 0:
            raise ConfigError(
                f"Gradient planner needs lr > 0 and init_std >= 0, got {self.lr}, {self.init_std}."
            )
        check_energy_names(self.distance, self.reduce, self.path_weight)


def gradient_plan(
    world_model: WorldModel,
    z0: Tensor,
    z_goal: Tensor,
    config: GradientConfig,
    max_norm: float,
    group: int | None,
    generator: torch.Generator,
    init_mean: Tensor | None = None,
) -> PlanResult:
    """Plan actions [T, A] taking latent `z0` [*S] to `z_goal` [*S] by projected gradient descent.

    All initialisations [K, T, A] take `iterations` Adam steps on their summed energies (each sequence's
    gradient is its own); after every step each sub-action is clipped back to `max_norm`. Gradients are taken
    with torch.autograd.grad w.r.t. the actions only, so the model's parameters never receive `.grad`.
    Returns the lowest-energy sequence seen. The rollout must be differentiable.
    """
    cfg = config
    check_plan_inputs(world_model, z0, z_goal, cfg.horizon, init_mean)
    shape = (cfg.horizon, world_model.action_dim)
    start = torch.zeros(shape, device=z0.device, dtype=z0.dtype) if init_mean is None else init_mean.to(z0)
    noise = coloured_noise((cfg.samples - 1, *shape), cfg.noise_beta, generator, z0, group)
    noise = noise * cfg.init_std * max_norm
    actions = clip_action_norm(torch.cat([start[None], start + noise]), max_norm, group).detach()
    z0, z_goal = z0.detach(), z_goal.detach()
    best, best_energy, history = actions[0], float("inf"), []
    with torch.enable_grad():
        actions.requires_grad_(True)
        optimizer = torch.optim.Adam([actions], lr=cfg.lr)
        for step in range(cfg.iterations + 1):
            energies = planner_energy(world_model, z0, z_goal, actions, cfg)
            i = int(energies.argmin())
            history.append(energies[i].item())
            if history[-1] < best_energy:
                best, best_energy = actions[i].detach().clone(), history[-1]
            if step == cfg.iterations:
                break  # the last pass only scores the final step's actions
            if not energies.requires_grad:
                raise ConfigError(
                    f"{type(world_model).__name__}.rollout is not differentiable w.r.t. the actions; "
                    "plan with 'cem' or 'mppi' instead of 'gd'."
                )
            (actions.grad,) = torch.autograd.grad(energies.sum(), actions)
            optimizer.step()
            with torch.no_grad():
                actions.copy_(clip_action_norm(actions, max_norm, group))
    return PlanResult(best, best_energy, {"planner": "gd", "energy_history": history})
