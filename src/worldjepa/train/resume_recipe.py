"""Resuming a run exactly needs the recipe it started with: what may differ between the two, what may not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from worldjepa.config import load_yaml
from worldjepa.errors import ConfigError

# Where and how a run executes and reports: a resumed run may move to another device or precision
# (its numbers then follow that device's), log and checkpoint at other intervals, or read moved data.
MAY_CHANGE_ON_RESUME = frozenset(
    {
        "run.out_dir",
        "run.device",
        "run.precision",
        "run.log_every",
        "run.checkpoint_every",
        "run.keep_checkpoints",
        "run.monitor_every",
        "run.progress",
        "run.tensorboard",
        "data.num_workers",
        "data.root",
    }
)
_ABSENT = object()


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; empty dicts stay leaves."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def recipe_changes(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """'key: X in the run, Y now' for every key of the saved recipe that differs now and is not
    MAY_CHANGE_ON_RESUME. Keys the saved recipe lacks (settings added by a later worldjepa) are not
    compared."""
    old, new = flatten(saved), flatten(now)
    return [
        f"{key}: {value!r} in the run, {new.get(key, '(not set)')!r} now"
        for key, value in sorted(old.items())
        if key not in MAY_CHANGE_ON_RESUME and new.get(key, _ABSENT) != value
    ]


def check_resume_recipe(run_dir: Path, recipe: dict[str, Any]) -> None:
    """Raise ConfigError if `recipe` (to_dict of the config) computes differently from the run's
    config.yaml; a run folder without one (older runs) is not checked."""
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        return
    changes = recipe_changes(load_yaml(path), recipe)
    if changes:
        listed = "\n  ".join(changes)
        raise ConfigError(
            f"Cannot resume '{run_dir}' with another recipe: a resumed run continues exactly only with "
            f"the one it started with. Differences:\n  {listed}\nResume with "
            f"`--config {path} --resume`, or train the new recipe in a new run.out_dir."
        )
