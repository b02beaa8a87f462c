"""The pretraining recipe: one dataclass, loadable from YAML with `key=value` overrides."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worldjepa.config import deep_merge, from_dict, load_yaml, parse_overrides
from worldjepa.data.factory import DataConfig
from worldjepa.errors import ConfigError


@dataclass
class ModelSection:
    encoder: str = "vit_pico"
    predictor: str = "predictor_pico"
    encoder_overrides: dict[str, Any] = field(default_factory=dict)
    predictor_overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class MaskSection:
    """kind: tube (V-JEPA 2, video) | multiblock (I-JEPA, images).

    `future`: add a pair whose context is the first `future_context` of the clip's time steps
    and whose target is the rest (video only); with `future_context_min`, each batch draws the split
    between the two fractions (whole time steps), so the predictor learns several horizons.
    """

    kind: str = "tube"
    num_targets: int = 4
    target_scale: tuple[float, float] = (0.15, 0.2)
    target_aspect: tuple[float, float] = (0.75, 1.5)
    context_scale: tuple[float, float] = (0.85, 1.0)
    small_blocks: int = 8
    small_scale: float = 0.15
    large_blocks: int = 2
    large_scale: float = 0.7
    future: bool = False
    future_context: float = 0.5
    future_context_min: float | None = None


@dataclass
class ObjectiveSection:
    """loss: l1 | l2. regularizer: ema (target encoder) | sigreg (no target encoder, LeJEPA)."""

    loss: str = "l1"
    regularizer: str = "ema"
    ema_start: float = 0.996
    ema_end: float = 1.0
    sigreg_weight: float = 0.1
    sigreg_slices: int = 256
    sigreg_target_grad: bool = False  # SIGReg: let the prediction loss flow into the target branch
    sigreg_tokens: int = 0  # 0: SIGReg on one mean-pooled embedding per clip; K > 0: on K tokens
    # true: centre and scale what SIGReg sees over the batch; false: test it against N(0, I) as is (LeJEPA)
    sigreg_standardize: bool = True
    # W > 0: SIGReg on the W-wide outputs of an MLP projector (hidden 4W; LeJEPA), not the embeddings
    sigreg_projector: int = 0
    # N > 0: SIGReg's weight rises linearly from 0 to sigreg_weight over the first N steps
    sigreg_ramp_steps: int = 0


@dataclass
class OptimSection:
    """AdamW; warmup-stable-decay learning rate; cosine weight-decay ramp."""

    steps: int = 600
    lr: float = 1e-3
    start_lr: float = 1e-4
    final_lr: float = 1e-5
    warmup_steps: int = 40
    decay_fraction: float = 0.2
    weight_decay: float = 0.04
    final_weight_decay: float = 0.4
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = 1.0
    predictor_lr_scale: float = 1.0  # the predictor's lr over the encoder's (a faster predictor)

    def __post_init__(self):
        for key in ("lr", "start_lr", "final_lr", "weight_decay", "final_weight_decay", "predictor_lr_scale"):
            value = getattr(self, key)
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"optim.{key} = {value} must be a finite number >= 0.")
        if self.steps < 1 or self.warmup_steps < 0:
            raise ConfigError(
                f"optim.steps = {self.steps} and optim.warmup_steps = {self.warmup_steps}: give at least "
                "1 training step and 0 or more warmup steps."
            )
        if not 0 <= self.decay_fraction <= 1:
            raise ConfigError(
                f"optim.decay_fraction = {self.decay_fraction} must lie in [0, 1]: the share of the run "
                "over which the learning rate decays (0: no decay)."
            )
        if not (math.isfinite(self.grad_clip) and self.grad_clip > 0):
            raise ConfigError(
                f"optim.grad_clip = {self.grad_clip} must be a finite number > 0 (the largest gradient "
                "norm); a large value such as 1e9 turns clipping off."
            )
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ConfigError(f"optim.betas = {self.betas} must be two numbers in [0, 1), e.g. [0.9, 0.999].")


@dataclass
class RunSection:
    out_dir: str = "runs/pretrain"
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto (bf16 on CUDA, fp32 on CPU) | fp32 | bf16
    log_every: int = 10
    checkpoint_every: int = 100
    keep_checkpoints: int = 2
    monitor_every: int = 50
    progress: bool = True
    tensorboard: bool = True


@dataclass
class PretrainConfig:
    model: ModelSection = field(default_factory=ModelSection)
    data: DataConfig = field(default_factory=DataConfig)
    masks: MaskSection = field(default_factory=MaskSection)
    objective: ObjectiveSection = field(default_factory=ObjectiveSection)
    optim: OptimSection = field(default_factory=OptimSection)
    run: RunSection = field(default_factory=RunSection)

    def __post_init__(self):
        choices = {
            "objective.loss": (self.objective.loss, ("l1", "l2")),
            "objective.regularizer": (self.objective.regularizer, ("ema", "sigreg")),
            "masks.kind": (self.masks.kind, ("tube", "multiblock")),
            "run.precision": (self.run.precision, ("auto", "fp32", "bf16")),
        }
        for key, (value, allowed) in choices.items():
            if value not in allowed:
                raise ConfigError(f"{key} = '{value}' is not one of {allowed}.")
        if self.objective.sigreg_projector < 0:
            raise ConfigError(
                f"objective.sigreg_projector = {self.objective.sigreg_projector}: give a width >= 1 for a "
                "projector, or 0 for SIGReg on the embeddings themselves."
            )
        if self.objective.sigreg_ramp_steps < 0:
            raise ConfigError(
                f"objective.sigreg_ramp_steps = {self.objective.sigreg_ramp_steps}: give the steps over "
                "which SIGReg's weight rises from 0 (>= 1), or 0 for its full weight from the start."
            )


def load_pretrain_config(
    path: str | Path | None = None, overrides: list[str] | None = None
) -> PretrainConfig:
    """Read a YAML recipe (or the defaults) and apply `key=value` overrides."""
    data = load_yaml(path) if path else {}
    data = deep_merge(data, parse_overrides(overrides or []))
    return from_dict(PretrainConfig, data)
