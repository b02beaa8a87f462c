"""Training objectives: masks, prediction losses, the EMA target encoder, SIGReg and VICReg."""

from worldjepa.objectives.ema import EMA, momentum_at
from worldjepa.objectives.losses import LOSS_KINDS, gather_tokens, jepa_loss, normalize_targets
from worldjepa.objectives.masks import (
    DEFAULT_TUBE_SPECS,
    CombinedMasks,
    FutureMasks,
    MaskPair,
    MultiBlockMasks,
    TubeMasks,
    TubeSpec,
)
from worldjepa.objectives.sigreg import SIGReg
from worldjepa.objectives.vicreg import covariance_loss, variance_loss

__all__ = [
    "CombinedMasks",
    "FutureMasks",
    "DEFAULT_TUBE_SPECS",
    "EMA",
    "LOSS_KINDS",
    "MaskPair",
    "MultiBlockMasks",
    "SIGReg",
    "TubeMasks",
    "TubeSpec",
    "covariance_loss",
    "gather_tokens",
    "jepa_loss",
    "momentum_at",
    "normalize_targets",
    "variance_loss",
]
