"""Loading a trained world model: one self-describing folder (config.json + model.safetensors).

A folder that also holds refit step dynamics loads as a `StepWorldModel` (the planners' protocol over
the world model's encoder and those dynamics)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from worldjepa.errors import CheckpointError
from worldjepa.hub.model_files import load_model_files, read_model_config
from worldjepa.models.step_world_model import StepWorldModel
from worldjepa.models.world_model import WorldModel

MODEL_NAME = "world_model"
STEP_DYNAMICS_NAME = "step_dynamics"


def load_world_model(folder: str | Path) -> tuple[WorldModel | StepWorldModel, dict[str, Any]]:
    """A trained world model (in eval mode) and its metadata ("env", "recipe", "data_card").

    `folder` is a model folder or a training run folder (its `model/` is used).
    """
    folder = Path(folder)
    if (folder / "model").is_dir() and not (folder / "config.json").is_file():
        folder = folder / "model"
    config = read_model_config(folder)
    entry = config["models"].get(MODEL_NAME)
    if entry is None or entry.get("kind") != MODEL_NAME:
        held = ", ".join(f"{name} ({e.get('kind')})" for name, e in config["models"].items())
        raise CheckpointError(
            f"'{folder}' is not a world-model checkpoint: it holds {held}. Train one with "
            "`worldjepa train-world-model`."
        )
    if STEP_DYNAMICS_NAME in config["models"]:
        parts = load_model_files(folder, [MODEL_NAME, STEP_DYNAMICS_NAME])
        model = StepWorldModel(parts[MODEL_NAME], parts[STEP_DYNAMICS_NAME]).eval()
    else:
        model = load_model_files(folder, [MODEL_NAME])[MODEL_NAME]
    return model, config.get("meta", {})
