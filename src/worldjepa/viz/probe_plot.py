"""Bar chart of probe accuracies: trained encoder vs random weights vs raw pixels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from worldjepa.viz.save import save_figure

SOURCES = (("probes", "trained"), ("random_init", "random init"), ("pixels", "raw pixels"))


def plot_probe_report(report: dict[str, Any], path: str | Path, title: str = "Frozen-feature probes") -> Path:
    """One group of bars per (label, probe kind); one bar per feature source present in `report`."""
    groups = [(label, kind) for label, scores in report["probes"].items() for kind in scores]
    sources = [(key, name) for key, name in SOURCES if key in report]
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(groups), 3.6))
    width = 0.8 / len(sources)
    x = np.arange(len(groups))
    for i, (key, name) in enumerate(sources):
        values = [100 * report[key][label][kind] for label, kind in groups]
        bars = ax.bar(x + (i - (len(sources) - 1) / 2) * width, values, width, label=name)
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks(x, [f"{label}\n{kind}" for label, kind in groups])
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 105)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, path)
