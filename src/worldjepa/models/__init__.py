"""Encoders, predictors and the registry of named sizes."""

from worldjepa.models.config import EncoderConfig, PredictorConfig
from worldjepa.models.encoder import Encoder
from worldjepa.models.predictor import Predictor
from worldjepa.models.presets import PRESETS, build_model, create_model, list_models, preset_config

__all__ = [
    "PRESETS",
    "Encoder",
    "EncoderConfig",
    "Predictor",
    "PredictorConfig",
    "build_model",
    "create_model",
    "list_models",
    "preset_config",
]
