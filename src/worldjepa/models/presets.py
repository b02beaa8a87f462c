"""Named model sizes: `create_model("vit_large", img_size=256)` builds one in a call.

Encoder presets follow the V-JEPA 2 / timm sizes (ViT-L 1024x24x16, ViT-H 1280x32x16,
ViT-g 1408x40x22 with MLP ratio 48/11); the tiny ones are for tests and CPU experiments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from worldjepa.config import from_dict
from worldjepa.errors import ConfigError, suggest
from worldjepa.models.action_predictor import ActionPredictor
from worldjepa.models.config import ActionPredictorConfig, EncoderConfig, PredictorConfig
from worldjepa.models.encoder import Encoder
from worldjepa.models.predictor import Predictor
from worldjepa.models.projector import Projector, ProjectorConfig
from worldjepa.models.step_dynamics import StepDynamics, StepDynamicsConfig
from worldjepa.models.world_model import WorldModel, WorldModelConfig

ModelConfig = (
    EncoderConfig
    | PredictorConfig
    | ActionPredictorConfig
    | WorldModelConfig
    | StepDynamicsConfig
    | ProjectorConfig
)


@dataclass(frozen=True)
class Preset:
    kind: str  # "encoder", "predictor" or "action_predictor"
    config: dict[str, Any]
    note: str = ""


KINDS = {
    "encoder": (EncoderConfig, Encoder),
    "predictor": (PredictorConfig, Predictor),
    "action_predictor": (ActionPredictorConfig, ActionPredictor),
    "world_model": (WorldModelConfig, WorldModel),
    "step_dynamics": (StepDynamicsConfig, StepDynamics),
    "projector": (ProjectorConfig, Projector),
}

PRESETS: dict[str, Preset] = {
    "vit_test": Preset(
        "encoder",
        dict(embed_dim=32, depth=1, num_heads=2, img_size=32, patch_size=8, num_frames=4),
        "unit tests",
    ),
    "vit_pico": Preset(
        "encoder",
        dict(embed_dim=64, depth=4, num_heads=4, img_size=64, patch_size=8, num_frames=8),
        "CPU demos, 64 px",
    ),
    "vit_nano": Preset(
        "encoder",
        dict(embed_dim=128, depth=6, num_heads=4, img_size=64, patch_size=8, num_frames=8),
        "CPU experiments, 64 px",
    ),
    "vit_tiny": Preset("encoder", dict(embed_dim=192, depth=12, num_heads=3)),
    "vit_small": Preset("encoder", dict(embed_dim=384, depth=12, num_heads=6)),
    "vit_base": Preset("encoder", dict(embed_dim=768, depth=12, num_heads=12)),
    "vit_large": Preset("encoder", dict(embed_dim=1024, depth=24, num_heads=16), "V-JEPA 2 ViT-L/16"),
    "vit_huge": Preset("encoder", dict(embed_dim=1280, depth=32, num_heads=16), "V-JEPA 2 ViT-H/16"),
    "vit_giant": Preset(
        "encoder",
        dict(embed_dim=1408, depth=40, num_heads=22, mlp_ratio=48 / 11),
        "V-JEPA 2 ViT-g/16 (vit_giant_xformers)",
    ),
    "predictor_test": Preset(
        "predictor",
        dict(
            embed_dim=32,
            predictor_embed_dim=32,
            depth=1,
            num_heads=2,
            img_size=32,
            patch_size=8,
            num_frames=4,
        ),
        "unit tests",
    ),
    "predictor_pico": Preset(
        "predictor",
        dict(
            embed_dim=64,
            predictor_embed_dim=64,
            depth=2,
            num_heads=4,
            img_size=64,
            patch_size=8,
            num_frames=8,
        ),
        "CPU demos",
    ),
    "predictor_nano": Preset(
        "predictor",
        dict(
            embed_dim=128,
            predictor_embed_dim=64,
            depth=4,
            num_heads=4,
            img_size=64,
            patch_size=8,
            num_frames=8,
        ),
        "CPU experiments",
    ),
    "predictor_vjepa2": Preset(
        "predictor",
        dict(embed_dim=1024, predictor_embed_dim=384, depth=12, num_heads=12),
        "V-JEPA 2 predictor (set embed_dim to the encoder's width)",
    ),
    "ac_predictor_test": Preset(
        "action_predictor",
        dict(
            embed_dim=32, predictor_embed_dim=32, depth=1, num_heads=2, grid_size=2, action_dim=2, state_dim=0
        ),
        "unit tests",
    ),
    "ac_predictor_vjepa2": Preset(
        "action_predictor",
        dict(
            embed_dim=1408,
            predictor_embed_dim=1024,
            depth=24,
            num_heads=16,
            grid_size=16,
            action_dim=7,
            state_dim=7,
            extrinsics_dim=6,
            max_frames=64,
        ),
        "V-JEPA 2-AC predictor (ViT-g, 256 px)",
    ),
}


def list_models(kind: str | None = None) -> list[str]:
    """Preset names, optionally of one kind ("encoder", "predictor" or "action_predictor")."""
    return [n for n, p in PRESETS.items() if kind is None or p.kind == kind]


def preset_config(name: str, **overrides: Any) -> ModelConfig:
    """The config of preset `name` with `overrides` applied (unknown names and keys are errors)."""
    if name not in PRESETS:
        raise ConfigError(
            f"Unknown model preset '{name}'.{suggest(name, PRESETS)} Known: {', '.join(PRESETS)}."
        )
    preset = PRESETS[name]
    cls, _ = KINDS[preset.kind]
    return from_dict(cls, {**preset.config, **overrides}, where=name)


def build_model(config: ModelConfig) -> nn.Module:
    """The module a config describes."""
    for cls, module in KINDS.values():
        if isinstance(config, cls):
            return module(config)
    raise ConfigError(f"No model is built from a {type(config).__name__}.")


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build preset `name`, for example `create_model("vit_large", num_frames=64)`."""
    return build_model(preset_config(name, **overrides))


def config_kind(config: Any) -> str:
    for kind, (cls, _) in KINDS.items():
        if isinstance(config, cls):
            return kind
    raise ConfigError(f"Unknown config type {type(config).__name__}.")


def config_from_kind(kind: str, data: dict[str, Any]) -> ModelConfig:
    if kind not in KINDS:
        raise ConfigError(f"Unknown model kind '{kind}'.{suggest(kind, KINDS)}")
    return from_dict(KINDS[kind][0], data)
