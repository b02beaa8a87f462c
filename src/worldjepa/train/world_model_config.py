"""The world-model recipe: one dataclass, loadable from YAML with `key=value` overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worldjepa.config import deep_merge, from_dict, load_yaml, parse_overrides
from worldjepa.errors import ConfigError
from worldjepa.train.config import OptimSection, RunSection


@dataclass
class WorldModelSection:
    """Sizes of the frame encoder (a preset plus overrides) and of the action predictor.

    latent: pooled (compact: tokens averaged to latent_grid x latent_grid, projected to latent_dim
    when > 0) | projected (compact: all tokens concatenated and projected to latent_dim) | tokens
    (every patch token, as V-JEPA 2-AC). `encoder_checkpoint`: start the encoder
    from a pretraining run's model folder (recipe (a) with `freeze_encoder`).
    """

    encoder: str = "vit_pico"
    encoder_overrides: dict[str, Any] = field(default_factory=dict)
    encoder_checkpoint: str | None = None
    freeze_encoder: bool = False
    latent: str = "pooled"
    latent_grid: int = 1
    latent_dim: int = 0
    latent_norm: bool = True
    predictor_width: int = 64
    predictor_depth: int = 2
    predictor_heads: int = 4
    predictor_mlp_ratio: float = 4.0
    context_frames: int = 1
    rope_layout: str = "interleaved"
    frameskip: int = 4
    inverse_dynamics: bool = False


@dataclass
class TrajectorySection:
    """Offline data: `root` holds shards from `worldjepa collect two-rooms` (collected there when missing)."""

    root: str = "runs/data/two_rooms"
    episodes: int = 2000
    steps: int = 32
    policy: str = "momentum"
    collect_seed: int = 0
    env: dict[str, Any] = field(default_factory=dict)
    window: int = 4
    batch_size: int = 64
    num_workers: int = 0

    def __post_init__(self):
        if self.batch_size < 1 or self.window < 1:
            raise ConfigError("data.batch_size and data.window must be at least 1.")


@dataclass
class WorldObjectiveSection:
    """Teacher forcing + `rollout_steps`-step rollout (V-JEPA 2-AC); an anti-collapse term for a
    jointly trained encoder: sigreg (LeWM) | vicreg (PLDM) | none; an inverse-dynamics loss."""

    loss: str = "l1"
    rollout_steps: int = 2
    rollout_weight: float = 1.0
    regularizer: str = "sigreg"
    regularizer_weight: float = 0.1
    regularizer_scope: str = "batch"  # batch | trajectory (each window's mean latent removed first)
    sigreg_slices: int = 256
    vicreg_std_weight: float = 1.0
    vicreg_cov_weight: float = 0.04
    smoothness_weight: float = 0.0
    inverse_dynamics_weight: float = 0.0
    stop_grad_targets: bool = False


@dataclass
class StepDynamicsSection:
    """`steps` > 0 refits single-env-step dynamics after training (0: the model rolls out with its predictor).

    Each step draws `batch_episodes` episodes and `transitions_per_episode` env transitions from each.
    The room code has `code_dim` numbers, read from frames downsampled to `code_frame_size` px.
    `overshoot_weight` > 1 weighs predicted steps longer than the real ones that much more (see
    `step_loss`): doubtful door edges then come out closed rather than open.
    """

    steps: int = 0
    code_dim: int = 4
    code_frame_size: int = 32
    width: int = 512
    depth: int = 3
    batch_episodes: int = 64
    transitions_per_episode: int = 4
    lr: float = 0.002
    weight_decay: float = 0.01
    overshoot_weight: float = 1.0


@dataclass
class WorldModelTrainConfig:
    model: WorldModelSection = field(default_factory=WorldModelSection)
    data: TrajectorySection = field(default_factory=TrajectorySection)
    objective: WorldObjectiveSection = field(default_factory=WorldObjectiveSection)
    optim: OptimSection = field(default_factory=OptimSection)
    dynamics: StepDynamicsSection = field(default_factory=StepDynamicsSection)
    run: RunSection = field(default_factory=lambda: RunSection(out_dir="runs/world_model"))

    def __post_init__(self):
        choices = {
            "objective.loss": (self.objective.loss, ("l1", "l2")),
            "objective.regularizer": (self.objective.regularizer, ("sigreg", "vicreg", "none")),
            "objective.regularizer_scope": (self.objective.regularizer_scope, ("batch", "trajectory")),
            "model.latent": (self.model.latent, ("pooled", "projected", "tokens")),
            "run.precision": (self.run.precision, ("auto", "fp32", "bf16")),
        }
        for key, (value, allowed) in choices.items():
            if value not in allowed:
                raise ConfigError(f"{key} = '{value}' is not one of {allowed}.")
        if self.objective.rollout_steps > self.data.window:
            raise ConfigError(
                f"objective.rollout_steps ({self.objective.rollout_steps}) cannot exceed data.window "
                f"({self.data.window})."
            )
        if self.objective.inverse_dynamics_weight > 0 and not self.model.inverse_dynamics:
            raise ConfigError("objective.inverse_dynamics_weight > 0 needs model.inverse_dynamics: true.")
        if self.model.freeze_encoder and not self.model.encoder_checkpoint:
            raise ConfigError("model.freeze_encoder needs model.encoder_checkpoint (a pretrained encoder).")
        d = self.dynamics
        if d.steps < 0 or min(d.code_dim, d.width, d.depth, d.batch_episodes, d.transitions_per_episode) < 1:
            raise ConfigError(
                "dynamics.steps must be >= 0 and dynamics.code_dim, width, depth, batch_episodes and "
                "transitions_per_episode >= 1."
            )
        if not d.overshoot_weight > 0:
            raise ConfigError(f"dynamics.overshoot_weight must be > 0 (1: plain), got {d.overshoot_weight}.")
        if d.steps and self.model.latent == "tokens":
            raise ConfigError(
                "dynamics.steps > 0 refits compact latents: use model.latent pooled or projected."
            )


def load_world_model_config(
    path: str | Path | None = None, overrides: list[str] | None = None
) -> WorldModelTrainConfig:
    """Read a YAML recipe (or the defaults) and apply `key=value` overrides."""
    data = load_yaml(path) if path else {}
    data = deep_merge(data, parse_overrides(overrides or []))
    return from_dict(WorldModelTrainConfig, data)
