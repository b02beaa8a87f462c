"""Probe a trained encoder on a labelled dataset, with the baselines that make the numbers mean something."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from worldjepa.config import from_dict
from worldjepa.data.factory import DataConfig, build_dataset
from worldjepa.errors import ConfigError, DataError
from worldjepa.eval.collapse import effective_rank, feature_std
from worldjepa.eval.features import extract_features, pixel_features
from worldjepa.eval.probe_suite import PROBE_KINDS, run_probes_over_seeds
from worldjepa.hub.model_files import load_encoder, read_model_config
from worldjepa.models.presets import build_model

# Probe training long enough to converge on a few thousand clips (20 epochs at 1e-3 underfits).
ATTENTIVE_DEFAULTS = {"epochs": 60, "lr": 3e-3}


def label_keys_of(dataset) -> list[str]:
    """Integer label keys of a dataset's items (everything but the input, path and frame indices)."""
    item = dataset[0]
    return [
        k
        for k, v in item.items()
        if k not in ("video", "image", "path", "indices") and isinstance(v, torch.Tensor) and v.ndim == 0
    ]


def loader_of(dataset, batch_size: int = 32) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)


def probe_encoder(
    encoder: nn.Module,
    data: DataConfig,
    kinds=PROBE_KINDS,
    seed: int = 0,
    baselines: bool = False,
    device: str = "cpu",
    progress: bool = False,
    attentive_kwargs: dict[str, Any] | None = None,
    probe_seeds: int = 1,
) -> dict[str, Any]:
    """Accuracy of each probe kind on each label, on the test split, after training on the train split.

    With `baselines`, the same probes also run on the same architecture with random weights
    (seeded) and on raw pixels. Also reports the effective rank of the mean-pooled test features.
    Each probe is trained `probe_seeds` times (seeds `seed`, `seed + 1`, ...) on the same features:
    the accuracies are their mean, and `by_probe_seed` keeps every seed's (same keys, lists).
    """
    if probe_seeds < 1:
        raise ConfigError(f"probe_seeds must be at least 1, got {probe_seeds}; give 1 for a single probe.")
    seeds = [seed + i for i in range(probe_seeds)]
    train_set, key = build_dataset(data, "train", seed=0)
    test_set, _ = build_dataset(data, "test", seed=0)
    labels = label_keys_of(train_set)
    if not labels:
        raise DataError("The dataset has no integer labels to probe.")
    encoder = encoder.to(device)

    def probe(model: nn.Module | None) -> tuple[dict, dict, dict]:
        if model is None:
            train = pixel_features(loader_of(train_set), key, labels)
            test = pixel_features(loader_of(test_set), key, labels)
        else:
            train = extract_features(model, loader_of(train_set), key, labels, device, progress=progress)
            test = extract_features(model, loader_of(test_set), key, labels, device, progress=progress)
        scores, per_seed = run_probes_over_seeds(
            train[0],
            train[1],
            test[0],
            test[1],
            kinds,
            seeds=seeds,
            attentive_kwargs={**ATTENTIVE_DEFAULTS, **(attentive_kwargs or {})},
        )
        pooled = test[0].mean(1)
        stats = {
            "effective_rank": effective_rank(pooled),
            "feature_std": feature_std(pooled),
            "width": int(pooled.shape[1]),
        }
        return scores, per_seed, stats

    scores, per_seed, stats = probe(encoder)
    report: dict[str, Any] = {
        "probes": scores,
        **stats,
        "train_size": len(train_set),
        "test_size": len(test_set),
        "probe_seeds": seeds,
        "by_probe_seed": {"probes": per_seed},
    }
    if baselines:
        torch.manual_seed(seed)
        random_encoder = build_model(encoder.config).to(device)
        report["random_init"], report["by_probe_seed"]["random_init"], report["random_init_stats"] = probe(
            random_encoder
        )
        report["pixels"], report["by_probe_seed"]["pixels"], _ = probe(None)
    return report


def probe_table_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(label, probe, source, accuracy %) rows for printing."""
    rows = []
    for source in ("probes", "random_init", "pixels"):
        for label, scores in report.get(source, {}).items():
            for kind, acc in scores.items():
                rows.append((label, kind, {"probes": "trained"}.get(source, source), f"{100 * acc:.1f}"))
    return rows


def checkpoint_data_fields(checkpoint: str | Path) -> dict[str, Any]:
    """The data section a model folder was trained with; for one without a recipe (a converted
    checkpoint), clips of its encoder's own size."""
    config = read_model_config(checkpoint)
    data = dict(config.get("meta", {}).get("recipe", {}).get("data", {}))
    if not data:
        models = config["models"]
        encoder = next((models[n]["config"] for n in ("target_encoder", "encoder") if n in models), {})
        data = {
            k: encoder[key]
            for k, key in (("crop_size", "img_size"), ("frames_per_clip", "num_frames"))
            if key in encoder
        }
    return data


def probe_checkpoint(checkpoint: str | Path, data: DataConfig | None = None, **kwargs) -> dict[str, Any]:
    """probe_encoder on the encoder of a model folder; data defaults to `checkpoint_data_fields`."""
    encoder = load_encoder(checkpoint)
    if data is None:
        data = from_dict(DataConfig, checkpoint_data_fields(checkpoint), where="data")
    return probe_encoder(encoder, data, **kwargs)
