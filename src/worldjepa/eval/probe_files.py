"""A trained probe on disk: `probe.safetensors` + `probe.json` in a folder, loadable from itself alone.

probe.json: {"format": "worldjepa-probe", "version": 1, "config": ProbeConfig fields, "meta": {...}}
(meta holds what the probe reads: class names, encoder checkpoint, clip settings, accuracy).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from worldjepa.config import from_dict
from worldjepa.errors import CheckpointError
from worldjepa.eval.attentive_probe import AttentiveClassifier, ProbeConfig
from worldjepa.hub.strict_load import load_state_strict
from worldjepa.io import atomic_path, write_json

PROBE_FORMAT = "worldjepa-probe"
PROBE_CONFIG = "probe.json"
PROBE_WEIGHTS = "probe.safetensors"


def save_probe(folder: str | Path, probe: AttentiveClassifier, meta: dict[str, Any] | None = None) -> Path:
    """Write `probe` (weights, then config) to `folder`, each file atomically; returns the folder."""
    folder = Path(folder)
    tensors = {k: v.detach().cpu().contiguous() for k, v in probe.state_dict().items()}
    with atomic_path(folder / PROBE_WEIGHTS) as tmp:
        save_file(tensors, str(tmp), metadata={"format": PROBE_FORMAT})
    document = {"format": PROBE_FORMAT, "version": 1, "config": asdict(probe.config), "meta": meta or {}}
    write_json(folder / PROBE_CONFIG, document)
    return folder


def read_probe_config(folder: str | Path) -> dict[str, Any]:
    """The parsed probe.json of a probe folder, with clear errors for missing or foreign files."""
    path = Path(folder) / PROBE_CONFIG
    if not path.is_file():
        raise CheckpointError(
            f"'{folder}' is not a probe folder: it has no {PROBE_CONFIG}. Train one with "
            "`worldjepa probe-videos`."
        )
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"'{path}' is corrupt (not JSON: {e}).") from None
    if not isinstance(document, dict) or document.get("format") != PROBE_FORMAT:
        raise CheckpointError(f"'{path}' is not a worldjepa probe config (format {PROBE_FORMAT!r} expected).")
    return document


def load_probe(folder: str | Path) -> tuple[AttentiveClassifier, dict[str, Any]]:
    """(probe in eval mode, its meta) from a folder written by `save_probe`, strictly."""
    document = read_probe_config(folder)
    config = from_dict(ProbeConfig, document["config"], where=f"{folder}/{PROBE_CONFIG}")
    probe = AttentiveClassifier.from_config(config)
    try:
        state = load_file(str(Path(folder) / PROBE_WEIGHTS))
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"cannot read probe weights '{Path(folder) / PROBE_WEIGHTS}': {e}") from None
    load_state_strict(probe, state, where=f"'{folder}'")
    return probe.eval(), document.get("meta", {})
