"""Training checkpoints: the model folder (hub format) plus optimizer, step and RNG state beside it.

run_dir/checkpoints/step_000200/{config.json, model.safetensors, train_state.safetensors, train_state.json}
run_dir/checkpoints/latest  (text: the name of the newest complete checkpoint)

A checkpoint is written into a temporary folder and renamed into place, then `latest` is replaced
atomically, so a run killed at any moment leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from worldjepa.errors import CheckpointError
from worldjepa.hub.model_files import load_model_files, save_model_files
from worldjepa.hub.strict_load import load_state_strict
from worldjepa.io import atomic_path, write_json, write_text

STATE_TENSORS = "train_state.safetensors"
STATE_JSON = "train_state.json"


def split_optimizer_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Optimizer state as flat tensors ("opt.<param>.<name>") plus JSON-safe rest."""
    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, pstate in sd["state"].items():
        for name, value in pstate.items():
            if isinstance(value, torch.Tensor):
                tensors[f"opt.{pid}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{name}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def merge_optimizer_state(tensors: dict[str, torch.Tensor], rest: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    for key, value in rest["scalars"].items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    return {"state": state, "param_groups": rest["param_groups"]}


def rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    np_state = np.random.get_state()
    return (
        {"rng.torch": torch.get_rng_state()},
        {"numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]], "python": _to_json(random.getstate())},
    )


def restore_rng(tensors: dict[str, torch.Tensor], saved: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    kind, keys, pos, has_gauss, cached = saved["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    random.setstate(_to_tuple(saved["python"]))


def _to_json(x):
    return [_to_json(v) for v in x] if isinstance(x, (tuple, list)) else x


def _to_tuple(x):
    return tuple(_to_tuple(v) for v in x) if isinstance(x, list) else x


def save_checkpoint(
    run_dir: str | Path,
    step: int,
    models: dict[str, nn.Module],
    optimizer: torch.optim.Optimizer,
    extra: dict[str, Any],
    keep: int = 2,
) -> Path:
    """Write checkpoint `step` atomically and prune all but the newest `keep`."""
    ckpt_root = Path(run_dir) / "checkpoints"
    final = ckpt_root / f"step_{step:07d}"
    tmp = ckpt_root / f".tmp_step_{step:07d}"
    shutil.rmtree(tmp, ignore_errors=True)
    save_model_files(tmp, models, meta={"step": step, **extra.get("meta", {})})
    opt_tensors, opt_rest = split_optimizer_state(optimizer)
    rng_tensors, rng_rest = rng_state()
    with atomic_path(tmp / STATE_TENSORS) as path:
        save_file({**opt_tensors, **rng_tensors}, str(path))
    write_json(tmp / STATE_JSON, {"step": step, "optimizer": opt_rest, "rng": rng_rest, **extra})
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    write_text(ckpt_root / "latest", final.name + "\n")
    for old in sorted(ckpt_root.glob("step_*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest complete checkpoint of a run, or None."""
    pointer = Path(run_dir) / "checkpoints" / "latest"
    if not pointer.is_file():
        return None
    path = pointer.parent / pointer.read_text().strip()
    return path if (path / STATE_JSON).is_file() else None


def load_checkpoint(
    path: str | Path, models: dict[str, nn.Module], optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    """Restore models, optimizer and RNG from checkpoint folder `path`; return its JSON state."""
    path = Path(path)
    try:
        saved = json.loads((path / STATE_JSON).read_text())
        tensors = load_file(str(path / STATE_TENSORS))
    except (OSError, ValueError, SafetensorError) as e:
        raise CheckpointError(f"Cannot resume from '{path}': {e}") from None
    loaded = load_model_files(path, list(models))
    for name, module in models.items():
        load_state_strict(module, loaded[name].state_dict(), where=f"'{path}' ({name})")
    optimizer.load_state_dict(merge_optimizer_state(tensors, saved["optimizer"]))
    restore_rng(tensors, saved["rng"])
    return saved
