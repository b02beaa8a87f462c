"""Plots (matplotlib PNG, written atomically)."""

from worldjepa.viz.probe_plot import plot_probe_report
from worldjepa.viz.training_curves import plot_training_curves

__all__ = ["plot_probe_report", "plot_training_curves"]
