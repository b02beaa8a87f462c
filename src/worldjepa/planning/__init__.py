"""Planning in latent space: the world-model protocol, energies, CEM / MPPI / gradient / tree-search
planners, and MPC."""

from worldjepa.planning.cem import CEMConfig, cem_plan
from worldjepa.planning.energy import DISTANCES, REDUCTIONS, latent_energy, sequence_energy
from worldjepa.planning.gradient import GradientConfig, gradient_plan
from worldjepa.planning.mpc import MPC, PLANNERS, Planner, make_planner, plan, shift_plan
from worldjepa.planning.mppi import MPPIConfig, mppi_plan
from worldjepa.planning.protocol import PlanResult, WorldModel, clip_action_norm
from worldjepa.planning.tree import TreeConfig, tree_plan

__all__ = [
    "CEMConfig",
    "DISTANCES",
    "GradientConfig",
    "MPC",
    "MPPIConfig",
    "PLANNERS",
    "PlanResult",
    "Planner",
    "REDUCTIONS",
    "TreeConfig",
    "WorldModel",
    "cem_plan",
    "clip_action_norm",
    "gradient_plan",
    "latent_energy",
    "make_planner",
    "mppi_plan",
    "plan",
    "sequence_energy",
    "shift_plan",
    "tree_plan",
]
