"""Train and evaluate V-JEPA 2 attentive probes on frozen encoder tokens of a folder of labelled videos.

The encoder runs once over every video (one clip each: a seeded random clip for training, the middle
clip for validation) and the probe trains on the cached tokens, as V-JEPA 2's frozen evaluation does
without re-encoding each epoch. The probe is saved as a probe folder (`probe_files`) and, on request,
as the official evals' `.pt`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import default_collate

from worldjepa.data.labelled_videos import LabelledVideos
from worldjepa.errors import DataError, ShapeError
from worldjepa.eval.attentive_probe import train_attentive_probe
from worldjepa.eval.features import clip_transform, extract_features, frozen_encoder
from worldjepa.eval.official_probe import save_official_probe
from worldjepa.eval.probe_files import load_probe, save_probe

OFFICIAL_FILE = "probe.pt"


class ReadableBatches:
    """Batches of a LabelledVideos' items, leaving out the ones that fail to decode (the dataset
    records them in `skipped`). `len` is the number of batches when every item reads."""

    def __init__(self, dataset: LabelledVideos, batch_size: int):
        self.dataset, self.batch_size = dataset, batch_size

    def __len__(self) -> int:
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self) -> Iterator[dict]:
        items = []
        for i in range(len(self.dataset)):
            try:
                items.append(self.dataset[i])
            except DataError:
                continue
            if len(items) == self.batch_size:
                yield default_collate(items)
                items = []
        if items:
            yield default_collate(items)


def video_tokens(
    encoder: nn.Module, dataset: LabelledVideos, batch_size: int, device: str | torch.device, progress: bool
) -> tuple[Tensor, Tensor]:
    """Frozen tokens [N, K, D] and labels [N] of every readable clip of `dataset`."""
    tokens, labels = extract_features(
        encoder, ReadableBatches(dataset, batch_size), "video", ["label"], device, progress=progress
    )
    return tokens, labels["label"]


def train_video_probe(
    train_dir: str | Path,
    checkpoint: str | Path,
    out: str | Path,
    val_dir: str | Path | None = None,
    val_fraction: float = 0.2,
    frame_step: int = 1,
    epochs: int = 20,
    batch_size: int = 16,
    lr: float = 1e-3,
    depth: int = 4,
    num_heads: int | None = None,
    seed: int = 0,
    official: bool = False,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Train an attentive probe (V-JEPA 2's, depth 4 by default) on the encoder of `checkpoint`.

    Validation: the videos of `val_dir`, else `val_fraction` of each class of `train_dir` (seeded).
    `num_heads` defaults to the encoder's. Writes `out/probe.safetensors` + `out/probe.json` and, with
    `official`, `out/probe.pt` in the official evals' format. Same `seed`, same numbers on CPU.
    Returns {"accuracy", "train_accuracy", "loss", "classes", "train_size", "val_size", "skipped",
    "out", "official"}.
    """
    out = Path(out)
    encoder = frozen_encoder(checkpoint).to(device)
    config = encoder.config
    transform = clip_transform(checkpoint, config.img_size)
    train_set = LabelledVideos(
        train_dir, config.num_frames, frame_step, transform, random_clip=True, seed=seed
    )
    if val_dir is None:
        train_set, val_set = train_set.split(val_fraction, seed)
    else:
        val_set = LabelledVideos(val_dir, config.num_frames, frame_step, transform, classes=train_set.classes)
    train_x, train_y = video_tokens(encoder, train_set, batch_size, device, progress)
    val_x, val_y = video_tokens(encoder, val_set, batch_size, device, progress)
    result = train_attentive_probe(
        train_x.to(device),
        train_y,
        val_x.to(device),
        val_y,
        num_classes=len(train_set.classes),
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        depth=depth,
        num_heads=num_heads or config.num_heads,
        seed=seed,
        progress=progress,
    )
    skipped = {**train_set.skipped, **val_set.skipped}
    report = {
        "accuracy": result["accuracy"],
        "train_accuracy": result["train_accuracy"],
        "loss": result["loss"],
        "classes": train_set.classes,
        "train_size": int(train_x.shape[0]),
        "val_size": int(val_x.shape[0]),
        "skipped": [{"path": path, "reason": reason} for path, reason in skipped.items()],
    }
    meta = {
        **report,
        "checkpoint": str(Path(checkpoint).resolve()) if Path(checkpoint).exists() else str(checkpoint),
        "frames_per_clip": config.num_frames,
        "frame_step": frame_step,
        "crop_size": config.img_size,
        "seed": seed,
    }
    save_probe(out, result["model"].cpu(), meta)
    official_path = (
        save_official_probe(out / OFFICIAL_FILE, result["model"], epochs, batch_size) if official else None
    )
    return {**report, "out": str(out), "official": None if official_path is None else str(official_path)}


def evaluate_video_probe(
    probe_dir: str | Path,
    video_dir: str | Path,
    checkpoint: str | Path | None = None,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Accuracy of a saved probe on a folder of labelled videos (middle clips), overall and per class.

    The encoder is `checkpoint`, else the one the probe was trained on; clips use the probe's settings.
    Returns {"accuracy", "per_class": {name: accuracy or None}, "size", "skipped"}.
    """
    probe, meta = load_probe(probe_dir)
    encoder = frozen_encoder(checkpoint or meta["checkpoint"]).to(device)
    if encoder.config.embed_dim != probe.config.embed_dim:
        raise ShapeError(
            f"the probe reads tokens of width {probe.config.embed_dim} but this encoder gives "
            f"{encoder.config.embed_dim}; use the encoder it was trained on ({meta.get('checkpoint')})."
        )
    transform = clip_transform(checkpoint or meta["checkpoint"], encoder.config.img_size)
    dataset = LabelledVideos(
        video_dir, encoder.config.num_frames, meta.get("frame_step", 1), transform, classes=meta["classes"]
    )
    tokens, labels = video_tokens(encoder, dataset, batch_size, device, progress)
    probe = probe.to(device)
    with torch.no_grad():
        chunks = [probe(tokens[i : i + batch_size].to(device)) for i in range(0, len(tokens), batch_size)]
    predicted = torch.cat(chunks).argmax(1).cpu()
    per_class = {
        name: (float((predicted[labels == c] == c).float().mean()) if (labels == c).any() else None)
        for c, name in enumerate(dataset.classes)
    }
    return {
        "accuracy": float((predicted == labels).float().mean()),
        "per_class": per_class,
        "size": int(tokens.shape[0]),
        "skipped": [{"path": path, "reason": reason} for path, reason in dataset.skipped.items()],
    }
