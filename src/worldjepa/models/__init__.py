"""Encoders, predictors and the registry of named sizes."""

from worldjepa.models.action_predictor import ActionPredictor
from worldjepa.models.config import ActionPredictorConfig, EncoderConfig, PredictorConfig
from worldjepa.models.encoder import Encoder
from worldjepa.models.predictor import Predictor
from worldjepa.models.presets import PRESETS, build_model, create_model, list_models, preset_config
from worldjepa.models.world_model import WorldModel, WorldModelConfig

__all__ = [
    "PRESETS",
    "ActionPredictor",
    "ActionPredictorConfig",
    "Encoder",
    "EncoderConfig",
    "Predictor",
    "PredictorConfig",
    "WorldModel",
    "WorldModelConfig",
    "build_model",
    "create_model",
    "list_models",
    "preset_config",
]
