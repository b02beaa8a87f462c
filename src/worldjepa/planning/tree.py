"""Latent tree search: grow a tree of short random rollouts over the reachable latents, then refine with CEM.

Sampling planners search near their mean, and a distance-to-goal energy can have a local minimum in front
of an obstacle (in Two-Rooms: the wall on the straight line to the goal when the door is far away). Every
detour through the door first climbs that energy, so CEM, warm-started there, never samples one whole.
The tree search instead covers what the world model says is reachable, as RRT does in state space:
each round picks `frontier` nodes (the one nearest the goal, then farthest-point sampling in latent space,
which favours the edges of the explored region), appends `branches` random chunks of `chunk` model steps
to each, and rolls them out in one batch. After `horizon / chunk` rounds, the `shortlist` nodes nearest
the goal become whole plans (their path, then standing still), are scored with the planner energy, and the
best is refined by CEM.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from worldjepa.errors import ConfigError
from worldjepa.planning.cem import CEMConfig, cem_plan
from worldjepa.planning.energy import latent_energy, planner_energy
from worldjepa.planning.noise import coloured_noise
from worldjepa.planning.protocol import (
    PlanResult,
    WorldModel,
    check_counts,
    check_plan_inputs,
    clip_action_norm,
)


@dataclass
class TreeConfig:
    """Tree-search settings. One round adds `chunk` model steps; `horizon` must be a multiple of it.

    Each round rolls out frontier x branches chunks; the refinement is CEM with `refine_samples`,
    `refine_topk` and `refine_iterations` (0: none) around the tree's best plan, its standard deviation
    `refine_std` in units of max_norm. The energy settings are CEM's (see `CEMConfig`).
    """

    horizon: int = 24
    chunk: int = 2
    frontier: int = 16
    branches: int = 16
    shortlist: int = 64
    noise_beta: float = 2.0
    refine_iterations: int = 2
    refine_samples: int = 128
    refine_topk: int = 16
    refine_std: float = 0.3
    distance: str = "l2"
    reduce: str = "final"
    path_weight: float = 0.3

    def __post_init__(self):
        check_counts(self, "Tree search", ("horizon", "chunk", "frontier", "branches", "shortlist"))
        if self.horizon % self.chunk:
            raise ConfigError(
                f"Tree search horizon ({self.horizon}) must be a multiple of chunk ({self.chunk})."
            )
        if self.refine_iterations < 0 or self.refine_std <= 0:
            raise ConfigError(
                "Tree search needs refine_iterations >= 0 and refine_std > 0, got "
                f"{self.refine_iterations} and {self.refine_std}."
            )
        self.refinement()  # checks the CEM settings and the energy names

    def refinement(self) -> CEMConfig:
        """The CEM settings of the refinement."""
        return CEMConfig(
            horizon=self.horizon,
            samples=self.refine_samples,
            topk=self.refine_topk,
            iterations=max(self.refine_iterations, 1),
            init_std=self.refine_std,
            noise_beta=self.noise_beta,
            distance=self.distance,
            reduce=self.reduce,
            path_weight=self.path_weight,
        )


def pick_frontier(z: Tensor, to_goal: Tensor, count: int) -> Tensor:
    """Indices of up to `count` nodes: the nearest to the goal (`to_goal` [N]), then each node farthest
    from those already picked (farthest-point sampling over latents `z` [N, *S])."""
    flat = z.flatten(1)
    picked = [int(to_goal.argmin())]
    gap = (flat - flat[picked[0]]).square().sum(1)
    while len(picked) < min(count, len(flat)):
        far = int(gap.argmax())
        if gap[far] <= 0:
            break  # every node left is a copy of a picked one
        picked.append(far)
        gap = torch.minimum(gap, (flat - flat[far]).square().sum(1))
    return torch.tensor(picked, device=z.device)


@torch.no_grad()
def tree_plan(
    world_model: WorldModel,
    z0: Tensor,
    z_goal: Tensor,
    config: TreeConfig,
    max_norm: float,
    group: int | None,
    generator: torch.Generator,
    init_mean: Tensor | None = None,
) -> PlanResult:
    """Plan actions [T, A] taking latent `z0` [*S] to `z_goal` [*S] by tree search, then CEM.

    `init_mean` [T, A] (the previous plan, shifted) competes with the tree's plans before refinement.
    """
    cfg = config
    check_plan_inputs(world_model, z0, z_goal, cfg.horizon, init_mean)
    horizon, a = cfg.horizon, world_model.action_dim
    latents = z0.unsqueeze(0)  # [N, *S]: the tree's nodes
    paths = torch.zeros(1, horizon, a, device=z0.device, dtype=z0.dtype)  # actions to each, then zeros
    depth = torch.zeros(1, dtype=torch.long, device=z0.device)  # rounds from the root
    to_goal = latent_energy(latents.unsqueeze(1), z_goal, cfg.distance)  # [N]: each node's, once
    steps = torch.arange(cfg.chunk, device=z0.device)
    for _ in range(horizon // cfg.chunk):
        frontier = pick_frontier(latents, to_goal, cfg.frontier)
        parents = frontier.repeat_interleave(cfg.branches)
        noise = coloured_noise((len(parents), cfg.chunk, a), cfg.noise_beta, generator, z0, group)
        chunks = clip_action_norm(noise * max_norm, max_norm, group)
        ends = world_model.rollout(latents[parents].contiguous(), chunks)[:, -1]
        where = (depth[parents, None] * cfg.chunk + steps)[..., None].expand(-1, -1, a)
        latents = torch.cat([latents, ends])
        paths = torch.cat([paths, paths[parents].scatter(1, where, chunks)])
        depth = torch.cat([depth, depth[parents] + 1])
        to_goal = torch.cat([to_goal, latent_energy(ends.unsqueeze(1), z_goal, cfg.distance)])
    candidates = paths[to_goal.topk(min(cfg.shortlist, len(to_goal)), largest=False).indices]
    if init_mean is not None:
        candidates = torch.cat([candidates, init_mean.to(z0)[None]])
    energies = planner_energy(world_model, z0, z_goal, candidates, cfg)
    best = int(energies.argmin())
    info = {"planner": "tree", "nodes": len(latents), "tree_energy": energies[best].item()}
    tree_result = PlanResult(candidates[best].clone(), energies[best].item(), {**info, "source": "tree"})
    if cfg.refine_iterations == 0:
        return tree_result
    refinement = cfg.refinement()
    refined = cem_plan(world_model, z0, z_goal, refinement, max_norm, group, generator, tree_result.actions)
    if refined.energy <= tree_result.energy:
        return PlanResult(refined.actions, refined.energy, {**info, **refined.info, "planner": "tree"})
    return tree_result
