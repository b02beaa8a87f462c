"""Model-predictive path integral planner (as PLDM): an energy-weighted average of sampled action plans."""

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
class MPPIConfig:
    """MPPI settings. `temperature` in energy units (lower = greedier); `noise_std` in units of max_norm.
    The energy defaults are CEM's (see `CEMConfig`)."""

    horizon: int = 8
    samples: int = 256
    iterations: int = 4
    temperature: float = 0.01
    noise_std: float = 0.6
    noise_beta: float = 2.0
    distance: str = "l2"
    reduce: str = "final"
    path_weight: float = 0.3

    def __post_init__(self):
        check_counts(self, "MPPI", ("horizon", "samples", "iterations"))
        if self.temperature <= 0 or self.noise_std <= 0:
            raise ConfigError(
                f"MPPI needs temperature > 0 and noise_std > 0, got {self.temperature}, {self.noise_std}."
            )
        check_energy_names(self.distance, self.reduce, self.path_weight)


@torch.no_grad()
def mppi_plan(
    world_model: WorldModel,
    z0: Tensor,
    z_goal: Tensor,
    config: MPPIConfig,
    max_norm: float,
    group: int | None,
    generator: torch.Generator,
    init_mean: Tensor | None = None,
) -> PlanResult:
    """Plan actions [T, A] taking latent `z0` [*S] to `z_goal` [*S] with MPPI.

    Each iteration perturbs the mean with N(0, noise_std * max_norm) noise, clips every sub-action to
    `max_norm`, rolls all samples out in one batch, and sets the mean to their average weighted by
    softmax(-(E - min E) / temperature). Returns the final mean (clipped) or the best sample seen, whichever
    has the lower energy. `init_mean` [T, A] warm-starts the mean (zeros when None).
    """
    cfg = config
    check_plan_inputs(world_model, z0, z_goal, cfg.horizon, init_mean)
    shape = (cfg.horizon, world_model.action_dim)
    mean = torch.zeros(shape, device=z0.device, dtype=z0.dtype) if init_mean is None else init_mean.to(z0)
    best, best_energy, history = mean, float("inf"), []
    for _ in range(cfg.iterations):
        noise = coloured_noise((cfg.samples, *shape), cfg.noise_beta, generator, z0, group)
        candidates = clip_action_norm(mean + cfg.noise_std * max_norm * noise, max_norm, group)
        energies = planner_energy(world_model, z0, z_goal, candidates, cfg)
        weights = torch.softmax(-(energies - energies.min()) / cfg.temperature, dim=0)
        mean = clip_action_norm((weights[:, None, None] * candidates).sum(0), max_norm, group)
        i = int(energies.argmin())
        history.append(energies[i].item())
        if history[-1] < best_energy:
            best, best_energy = candidates[i], history[-1]
    info = {"planner": "mppi", "energy_history": history}
    return mean_or_best(world_model, z0, z_goal, mean, best, best_energy, cfg, info)
