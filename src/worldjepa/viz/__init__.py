"""Plots (matplotlib PNG) and GIFs, written atomically."""

from worldjepa.viz.gif import write_gif
from worldjepa.viz.planning_plots import plot_energy_landscape, plot_trajectories
from worldjepa.viz.probe_plot import plot_probe_report
from worldjepa.viz.training_curves import plot_training_curves

__all__ = [
    "plot_energy_landscape",
    "plot_probe_report",
    "plot_training_curves",
    "plot_trajectories",
    "write_gif",
]
