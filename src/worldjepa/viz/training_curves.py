"""Loss, learning rate and collapse monitors of a run, from its metrics.csv."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from worldjepa.viz.save import save_figure

LOSS_TERMS = {  # metrics.csv columns of loss terms (pretraining and world models) -> legend labels
    "prediction_loss": "prediction",
    "teacher_forcing": "teacher forcing",
    "rollout": "rollout",
    "regularizer": "anti-collapse",
    "smoothness": "smoothness",
    "inverse_dynamics": "inverse dynamics",
}


def plot_training_curves(rows: list[dict[str, float]], path: str | Path, title: str = "Pretraining") -> Path:
    """rows: metrics.csv rows (see worldjepa.train.metrics.read_metrics)."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    for key, label in LOSS_TERMS.items():
        logged = [r for r in rows if key in r]
        if logged:
            axes[0].plot([r["step"] for r in logged], [r[key] for r in logged], label=label)
    if any(r.get("regularizer", 0) for r in rows):
        axes[0].set_yscale("log")
    axes[0].set(title="loss", xlabel="step")
    axes[0].legend(fontsize=8)
    axes[1].plot([r["step"] for r in rows], [r["lr"] for r in rows])
    axes[1].set(title="learning rate", xlabel="step")
    monitored = [r for r in rows if "effective_rank" in r]
    axes[2].plot([r["step"] for r in monitored], [r["effective_rank"] for r in monitored], marker="o")
    axes[2].set(title="effective rank of embeddings", xlabel="step")
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
