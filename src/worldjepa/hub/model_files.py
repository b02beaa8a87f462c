"""Save and load one or more named modules as `config.json` + `model.safetensors` in a folder.

config.json: {"format": "worldjepa", "version": 1, "models": {name: {"kind": k, "config": {...}}},
"meta": {...}}. Tensors are keyed "<name>.<parameter>". Loading needs nothing but the folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from worldjepa.config import to_dict
from worldjepa.errors import CheckpointError
from worldjepa.hub.strict_load import load_state_strict
from worldjepa.io import atomic_path, write_json
from worldjepa.models.presets import build_model, config_from_kind, config_kind

FORMAT = "worldjepa"
VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def save_model_files(
    folder: str | Path, models: dict[str, nn.Module], meta: dict[str, Any] | None = None
) -> Path:
    """Write `models` (each with a `.config` dataclass) to `folder`, atomically file by file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {}
    entries = {}
    for name, module in models.items():
        entries[name] = {"kind": config_kind(module.config), "config": to_dict(module.config)}
        for key, value in module.state_dict().items():
            tensors[f"{name}.{key}"] = value.detach().to("cpu").contiguous()
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        save_file(tensors, str(tmp), metadata={"format": FORMAT})
    write_json(
        folder / CONFIG_FILE, {"format": FORMAT, "version": VERSION, "models": entries, "meta": meta or {}}
    )
    return folder


def read_model_config(folder: str | Path) -> dict[str, Any]:
    """The parsed config.json of a model folder, with clear errors for missing or foreign files."""
    folder = Path(folder)
    path = folder / CONFIG_FILE
    if not folder.exists():
        raise CheckpointError(f"Checkpoint '{folder}' does not exist.")
    if not path.is_file():
        raise CheckpointError(f"'{folder}' is not a worldjepa model folder: it has no {CONFIG_FILE}.")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"'{path}' is corrupt (not JSON: {e}).") from None
    if config.get("format") != FORMAT or "models" not in config:
        raise CheckpointError(
            f"'{path}' is not a worldjepa model config (format {config.get('format')!r}). "
            "Use `worldjepa convert` for official or Hugging Face checkpoints."
        )
    return config


def load_model_files(folder: str | Path, names: list[str] | None = None) -> dict[str, nn.Module]:
    """Rebuild the named modules (all by default) from `folder`, strictly."""
    folder = Path(folder)
    config = read_model_config(folder)
    available = config["models"]
    names = names or list(available)
    for name in names:
        if name not in available:
            raise CheckpointError(f"'{folder}' has no model '{name}'; it holds {', '.join(available)}.")
    try:
        tensors = load_file(str(folder / WEIGHTS_FILE))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"Cannot read weights '{folder / WEIGHTS_FILE}': {e}") from None
    models = {}
    for name in names:
        entry = available[name]
        module = build_model(config_from_kind(entry["kind"], entry["config"]))
        prefix = f"{name}."
        state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        load_state_strict(module, state, where=f"'{folder}' ({name})")
        models[name] = module.eval()
    return models


def load_encoder(folder: str | Path) -> nn.Module:
    """The encoder to use for features: the EMA target encoder when the file has one, else the encoder."""
    available = read_model_config(folder)["models"]
    for name in ("target_encoder", "encoder"):
        if name in available and available[name]["kind"] == "encoder":
            return load_model_files(folder, [name])[name]
    raise CheckpointError(f"'{folder}' holds no encoder (it has: {', '.join(available)}).")
