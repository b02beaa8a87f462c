"""Using planners: make one by name, plan once, or act in a receding-horizon (MPC) loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor

from worldjepa.config import from_dict
from worldjepa.errors import ConfigError, suggest
from worldjepa.planning.cem import CEMConfig, cem_plan
from worldjepa.planning.gradient import GradientConfig, gradient_plan
from worldjepa.planning.mppi import MPPIConfig, mppi_plan
from worldjepa.planning.protocol import PlanResult, WorldModel
from worldjepa.planning.tree import TreeConfig, tree_plan

PLANNERS: dict[str, tuple[type, Callable[..., PlanResult]]] = {
    "cem": (CEMConfig, cem_plan),
    "mppi": (MPPIConfig, mppi_plan),
    "gd": (GradientConfig, gradient_plan),
    "tree": (TreeConfig, tree_plan),
}


@dataclass(frozen=True)
class Planner:
    """A planning function bound to its config; `.plan` has the same call for every planner."""

    name: str
    config: Any
    fn: Callable[..., PlanResult]

    def plan(
        self,
        world_model: WorldModel,
        z0: Tensor,
        z_goal: Tensor,
        max_norm: float,
        group: int | None,
        generator: torch.Generator,
        init: Tensor | None = None,
    ) -> PlanResult:
        """Actions [horizon, A] from latent `z0` [*S] to `z_goal` [*S]; `init` [horizon, A] warm-starts."""
        return self.fn(world_model, z0, z_goal, self.config, max_norm, group, generator, init)


def make_planner(name: str, **overrides: Any) -> Planner:
    """The planner `name` ("cem", "mppi", "gd" or "tree"), its config's defaults replaced by `overrides`."""
    if name not in PLANNERS:
        raise ConfigError(
            f"Unknown planner '{name}'; choose one of {list(PLANNERS)}.{suggest(name, PLANNERS)}"
        )
    config_cls, fn = PLANNERS[name]
    return Planner(name, from_dict(config_cls, overrides, where=name), fn)


def plan(
    world_model: WorldModel,
    z0: Tensor,
    z_goal: Tensor,
    planner: Planner | str = "cem",
    horizon: int | None = None,
    *,
    max_norm: float = 1.0,
    group: int | None = None,
    seed: int = 0,
    steps: int = 1,
) -> Tensor:
    """Plan once from latent `z0` [*S] to `z_goal` [*S] and return the first `steps` actions [steps, A].

    `horizon` overrides the planner's; the same seed gives the same actions.
    """
    if isinstance(planner, str):
        planner = make_planner(planner)
    if horizon is not None:
        planner = replace(planner, config=replace(planner.config, horizon=horizon))
    if not 1 <= steps <= planner.config.horizon:
        raise ConfigError(f"steps must be in [1, horizon={planner.config.horizon}], got {steps}.")
    generator = torch.Generator().manual_seed(seed)
    return planner.plan(world_model, z0, z_goal, max_norm, group, generator).actions[:steps]


def shift_plan(actions: Tensor, steps: int) -> Tensor:
    """Warm start for the next plan: `actions` [T, A] minus its first `steps` rows, zero-padded to [T, A]."""
    return torch.cat([actions[steps:], torch.zeros_like(actions[:steps])])


class MPC:
    """Receding-horizon control: plan a sequence, execute its first action(s), replan from the new state.

    Replans every `replan_every` calls to `act`, warm-starting from the previous plan shifted by the steps
    executed since. Planning wall times are kept in `plan_seconds`, their count in `plans`.
    """

    def __init__(
        self,
        world_model: WorldModel,
        planner: Planner,
        max_norm: float,
        group: int | None = None,
        replan_every: int = 1,
        seed: int = 0,
    ):
        if not 1 <= replan_every <= planner.config.horizon:
            raise ConfigError(
                f"replan_every must be in [1, horizon={planner.config.horizon}], got {replan_every}: "
                "a plan cannot supply more actions than its horizon."
            )
        self.world_model, self.planner = world_model, planner
        self.max_norm, self.group = max_norm, group
        self.replan_every, self.seed = replan_every, seed
        self.reset()

    def reset(self) -> None:
        """Forget the current plan and timings and reseed: a new episode starts."""
        self.generator = torch.Generator().manual_seed(self.seed)
        self.last_result: PlanResult | None = None
        self.plan_seconds: list[float] = []
        self.plans = 0
        self._executed = 0  # actions of the current plan already returned

    def act(self, obs: Tensor, goal_latent: Tensor) -> Tensor:
        """The next action [A] for one observation `obs` (no batch dim) towards `goal_latent` [*S]."""
        if self.last_result is None or self._executed >= self.replan_every:
            init = None if self.last_result is None else shift_plan(self.last_result.actions, self._executed)
            with torch.no_grad():
                z0 = self.world_model.encode(obs.unsqueeze(0))[0]
            start = time.perf_counter()
            self.last_result = self.planner.plan(
                self.world_model, z0, goal_latent, self.max_norm, self.group, self.generator, init
            )
            self.plan_seconds.append(time.perf_counter() - start)
            self.plans += 1
            self._executed = 0
        action = self.last_result.actions[self._executed]
        self._executed += 1
        return action
