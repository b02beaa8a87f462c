"""Cross-entropy method planner, in V-JEPA 2-AC's form: Gaussian over action sequences refit to the top-k."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from worldjepa.errors import ConfigError
from worldjepa.planning.energy import check_energy_names, mean_or_best, planner_energy
from worldjepa.planning.noise import coloured_noise
from worldjepa.planning.protocol import (
    PlanResult,
    WorldModel,
    check_counts,
    check_plan_inputs,
    clip_action_norm,
)


@dataclass
class CEMConfig:
    """CEM settings. Standard deviations are in units of `max_norm`.

    momentum_mean / momentum_std: weight of the old mean / std when blending with the top-k statistics.
    The energy defaults settle the agent on the goal (L2 at the final step plus 0.3 x the mean over the
    horizon, coloured noise with beta 2); V-JEPA 2-AC's own is distance="l1", path_weight=0, noise_beta=0.
    """

    horizon: int = 8
    samples: int = 256
    topk: int = 32
    iterations: int = 4
    momentum_mean: float = 0.0
    momentum_std: float = 0.0
    init_std: float = 1.0
    min_std: float = 0.05
    noise_beta: float = 2.0
    distance: str = "l2"
    reduce: str = "final"
    path_weight: float = 0.3

    def __post_init__(self):
        check_counts(self, "CEM", ("horizon", "samples", "topk", "iterations"))
        if self.topk > self.samples:
            raise ConfigError(f"CEM topk ({self.topk}) must be <= samples ({self.samples}).")
        for name in ("momentum_mean", "momentum_std"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"CEM {name} must be in [0, 1), got {getattr(self, name)}.")
        if self.init_std <= 0 or self.min_std < 0:
            raise ConfigError(
                f"CEM needs init_std > 0 and min_std >= 0, got {self.init_std}, {self.min_std}."
            )
        check_energy_names(self.distance, self.reduce, self.path_weight)


@torch.no_grad()
def cem_plan(
    world_model: WorldModel,
    z0: Tensor,
    z_goal: Tensor,
    config: CEMConfig,
    max_norm: float,
    group: int | None,
    generator: torch.Generator,
    init_mean: Tensor | None = None,
) -> PlanResult:
    """Plan actions [T, A] taking latent `z0` [*S] to `z_goal` [*S] with the cross-entropy method.

    Each iteration samples `samples` sequences from N(mean, std), clips every sub-action to `max_norm`, rolls
    them all out in one batch, and refits mean and std to the `topk` lowest-energy ones (blended with the old
    values by the momenta; std floored at `min_std`). Returns the final mean (clipped) or the best sample
    seen, whichever has the lower energy. `init_mean` [T, A] warm-starts the mean (zeros when None).
    """
    cfg = config
    check_plan_inputs(world_model, z0, z_goal, cfg.horizon, init_mean)
    shape = (cfg.horizon, world_model.action_dim)
    mean = torch.zeros(shape, device=z0.device, dtype=z0.dtype) if init_mean is None else init_mean.to(z0)
    std = torch.full_like(mean, cfg.init_std * max_norm)
    best, best_energy, history = mean, float("inf"), []
    for _ in range(cfg.iterations):
        noise = coloured_noise((cfg.samples, *shape), cfg.noise_beta, generator, z0, group)
        candidates = clip_action_norm(mean + std * noise, max_norm, group)
        energies = planner_energy(world_model, z0, z_goal, candidates, cfg)
        top = energies.topk(cfg.topk, largest=False).indices
        elite = candidates[top]
        mean = cfg.momentum_mean * mean + (1 - cfg.momentum_mean) * elite.mean(0)
        std = cfg.momentum_std * std + (1 - cfg.momentum_std) * elite.std(0, correction=0)
        std = std.clamp_min(cfg.min_std * max_norm)
        history.append(energies[top[0]].item())
        if history[-1] < best_energy:
            best, best_energy = candidates[top[0]], history[-1]
    mean = clip_action_norm(mean, max_norm, group)
    info = {"planner": "cem", "energy_history": history}
    return mean_or_best(world_model, z0, z_goal, mean, best, best_energy, cfg, info)
