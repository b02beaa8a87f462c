"""Surprise plots: per-frame surprise curves with their peaks, and pairwise accuracy per property."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from worldjepa.viz.save import save_figure

MODEL_NAMES = {
    "jepa": "V-JEPA",
    "random_init": "random weights",
    "persistence": "nothing changes",
    "pixels": "pixel predictor",
}


def plot_surprise_curves(results: list[dict[str, Any]], path: str | Path, title: str = "Surprise") -> Path:
    """One line per video result ({"video", "surprise", "peak_frame", "context_frames"}) over frames,
    each peak marked; frames before the first prediction are left out."""
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for result in results:
        start = result.get("context_frames", 0)
        frames = np.arange(start, len(result["surprise"]))
        (line,) = ax.plot(frames, result["surprise"][start:], marker=".", label=Path(result["video"]).name)
        peak = result["peak_frame"]
        ax.plot([peak], [result["surprise"][peak]], marker="*", markersize=14, color=line.get_color())
        ax.annotate(
            f"peak {peak}",
            (peak, result["surprise"][peak]),
            textcoords="offset points",
            xytext=(4, 6),
            fontsize=8,
            color=line.get_color(),
        )
    ax.set_xlabel("frame")
    ax.set_ylabel("surprise (prediction error)")
    ax.set_title(title)
    if len(results) <= 8:
        ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_pair_accuracy(
    report: dict[str, Any],
    path: str | Path,
    summary: str = "max",
    title: str = "Violation of expectation: pairwise accuracy",
) -> Path:
    """Bars per property (and the mean over properties), one per model of a `score_pairs` report."""
    groups = [*report["properties"], "property_mean"] if report["properties"] else ["all"]
    models = list(report["models"])
    fig, ax = plt.subplots(figsize=(1.8 + 1.4 * len(groups), 3.6))
    width = 0.8 / len(models)
    x = np.arange(len(groups))
    for i, model in enumerate(models):
        values = [100 * report["models"][model][summary][g] for g in groups]
        bars = ax.bar(
            x + (i - (len(models) - 1) / 2) * width, values, width, label=MODEL_NAMES.get(model, model)
        )
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.axhline(50, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xticks(x, ["mean" if g == "property_mean" else g for g in groups])
    ax.set_ylabel(f"pairwise accuracy (%), {summary} surprise")
    ax.set_ylim(0, 105)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return save_figure(fig, path)
