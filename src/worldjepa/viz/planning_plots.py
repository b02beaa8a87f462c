"""Planning pictures over a map frame: planned paths to goals, and the energy landscape of a goal.

Coordinates are (x, y) in pixels, y down, as in worldjepa.envs: pixel (row i, column j) of a frame covers
[j, j+1) x [i, i+1), so its centre is (j + 0.5, i + 0.5) and a position lands on the pixel it renders to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from worldjepa.errors import ShapeError
from worldjepa.viz.save import save_figure

MAX_PANELS = 12
SUCCESS_COLOR, FAILURE_COLOR = "#2ca02c", "#d62728"
# Finest heat-map cell: positions closer than this share a cell (their energies are averaged).
MIN_CELL = 0.5


def check_frame(frame, name: str = "background") -> np.ndarray:
    """A uint8 RGB frame [H, W, 3], or ShapeError."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ShapeError(
            f"{name} must be a uint8 RGB frame [H, W, 3]; got {frame.dtype} {tuple(frame.shape)}. "
            "Pass a rendered frame (e.g. env.render()) without the agent."
        )
    return frame


def check_points(points, name: str, count: int | None = None) -> np.ndarray:
    """Float (x, y) points [K, 2] (K == count if given), or ShapeError."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or (count is not None and len(points) != count):
        want = f"[{count}, 2]" if count is not None else "[K, 2]"
        raise ShapeError(f"{name} must be (x, y) points of shape {want}; got shape {tuple(points.shape)}.")
    return points


def panel_grid(n: int, panel_inches: float = 2.8, max_cols: int = 4):
    """A figure with n panels, at most `max_cols` per row, spare axes hidden. Returns (fig, axes[n])."""
    cols = min(n, max_cols)
    rows = math.ceil(n / cols)
    size = (panel_inches * cols, panel_inches * rows + 0.4)
    fig, axes = plt.subplots(rows, cols, figsize=size, squeeze=False, layout="constrained")
    axes = axes.ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def show_map(ax, background: np.ndarray) -> None:
    height, width = background.shape[:2]
    ax.imshow(background, extent=(0, width, height, 0), interpolation="nearest")
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_trajectories(
    backgrounds,
    paths: Sequence,
    starts,
    goals,
    successes: Sequence[bool],
    path: str | Path,
    title: str = "Planning episodes",
) -> Path:
    """Draw K episodes' paths over their maps: green if the goal was reached, else red; starts, goal stars.

    backgrounds: one uint8 frame [H, W, 3] shared by all episodes (one panel), or a list of K frames, one
    panel per episode (the first MAX_PANELS are drawn). paths: K arrays [T_i, 2]. starts, goals: [K, 2].
    successes: K bools. The title counts successes over all K episodes. Returns `path` (a PNG).
    """
    paths = [check_points(p, f"paths[{i}]") for i, p in enumerate(paths)]
    k = len(paths)
    if k == 0:
        raise ShapeError("paths is empty: pass at least one episode's path [T, 2].")
    starts = check_points(starts, "starts", k)
    goals = check_points(goals, "goals", k)
    successes = [bool(s) for s in successes]
    if len(successes) != k:
        raise ShapeError(f"successes has {len(successes)} entries for {k} paths; pass one bool per episode.")
    if isinstance(backgrounds, np.ndarray) and backgrounds.ndim == 3:
        frames = [check_frame(backgrounds)]
        panels = [list(range(k))]
    else:
        frames = [check_frame(b, f"backgrounds[{i}]") for i, b in enumerate(backgrounds)]
        if len(frames) != k:
            raise ShapeError(
                f"{len(frames)} backgrounds for {k} paths: pass one frame per episode, or a single frame."
            )
        frames = frames[:MAX_PANELS]
        panels = [[i] for i in range(len(frames))]

    fig, axes = panel_grid(len(frames), panel_inches=4.5 if len(frames) == 1 else 2.8)
    for ax, frame, episodes in zip(axes, frames, panels, strict=True):
        show_map(ax, frame)
        for i in episodes:
            color = SUCCESS_COLOR if successes[i] else FAILURE_COLOR
            line = np.concatenate([starts[i : i + 1], paths[i]])
            ax.plot(line[:, 0], line[:, 1], color=color, lw=1.5, alpha=0.9)
            ax.plot(*starts[i], "o", color=color, mec="white", ms=5)
            ax.plot(*goals[i], "*", color="gold", mec="black", mew=0.6, ms=11)
        if len(episodes) == 1:
            i = episodes[0]
            ax.set_title(f"episode {i}: {'reached' if successes[i] else 'missed'}", fontsize=8)
    shown = "" if len(frames) == 1 or len(frames) == k else f" (first {len(frames)} shown)"
    fig.suptitle(f"{title}: {sum(successes)}/{k} reached the goal{shown}")
    fig.legend(
        handles=[
            Line2D([], [], color=SUCCESS_COLOR, label="success"),
            Line2D([], [], color=FAILURE_COLOR, label="failure"),
            Line2D([], [], ls="", marker="o", color="grey", label="start"),
            Line2D([], [], ls="", marker="*", color="gold", mec="black", ms=10, label="goal"),
        ],
        loc="outside lower center",
        ncol=4,
        fontsize=8,
        frameon=False,
    )
    return save_figure(fig, path)


def energy_grid(positions: np.ndarray, energies: np.ndarray):
    """Scatter energies at positions [K, 2] onto a regular grid image.

    The grid's spacing is the smallest gap between distinct coordinates (at least MIN_CELL) and its origin
    the smallest coordinate, so integer, half-integer and offset grids all fill without holes. Returns
    (grid [rows, cols] with NaN where no position fell, extent (left, right, bottom, top) for imshow).
    """
    gaps = [np.diff(np.unique(positions[:, axis])) for axis in (0, 1)]
    gaps = np.concatenate(gaps)
    step = max(float(gaps.min()) if gaps.size else 1.0, MIN_CELL)
    origin = positions.min(axis=0)
    cells = np.rint((positions - origin) / step).astype(np.int64)
    cols, rows = cells.max(axis=0) + 1
    total = np.zeros((rows, cols))
    count = np.zeros((rows, cols))
    np.add.at(total, (cells[:, 1], cells[:, 0]), energies)
    np.add.at(count, (cells[:, 1], cells[:, 0]), 1)
    with np.errstate(invalid="ignore"):
        grid = total / count
    half = step / 2
    x0, y0 = origin
    extent = (x0 - half, x0 + (cols - 1) * step + half, y0 + (rows - 1) * step + half, y0 - half)
    return grid, extent


def plot_energy_landscape(
    background,
    positions,
    energies,
    goal,
    path: str | Path,
    start=None,
    trajectory=None,
    titles: Sequence[str] | None = None,
    title: str = "Energy landscape",
) -> Path:
    """Heat map of the planning energy at every free agent position, over the map, with the goal marked.

    One panel: background uint8 [H, W, 3], positions float [K, 2] (an integer or half-integer grid),
    energies float [K] (NaN = no value), goal (x, y), optional start (x, y) and trajectory [T, 2].
    Several panels (2-4 goals or layouts side by side): pass a list for background, positions, energies and
    goal, and for start/trajectory a list (entries may be None) or None. All panels share one colour scale.
    Returns `path` (a PNG).
    """
    if isinstance(background, np.ndarray) and background.ndim == 3:
        background, positions, energies, goal = [background], [positions], [energies], [goal]
        start, trajectory = [start], [trajectory]
    n = len(background)
    start = [None] * n if start is None else list(start)
    trajectory = [None] * n if trajectory is None else list(trajectory)
    per_panel = {"positions": positions, "energies": energies, "goal": goal, "start": start}
    per_panel |= {"trajectory": trajectory, "titles": titles or [""] * n}
    for name, values in per_panel.items():
        if len(values) != n:
            raise ShapeError(f"{name} has {len(values)} entries for {n} backgrounds; pass one per panel.")
    if n == 0:
        raise ShapeError("background is empty: pass a frame [H, W, 3] or a list of frames.")

    panels = []
    for i in range(n):
        points = check_points(positions[i], f"positions[{i}]")
        values = np.asarray(energies[i], dtype=np.float64)
        if values.shape != (len(points),) or len(points) == 0:
            raise ShapeError(
                f"energies[{i}] must be one value per position, shape [{len(points)}]; got {values.shape} "
                f"(positions need at least one row)."
            )
        grid, extent = energy_grid(points, values)
        frame = check_frame(background[i], f"background[{i}]")
        goal_xy = check_points([goal[i]], f"goal[{i}]")[0]
        start_xy = None if start[i] is None else check_points([start[i]], f"start[{i}]")[0]
        line = None if trajectory[i] is None else check_points(trajectory[i], f"trajectory[{i}]")
        panels.append((frame, grid, extent, goal_xy, start_xy, line))
    finite = np.concatenate([p[1][np.isfinite(p[1])] for p in panels])
    # The 98th percentile caps the scale: a few outliers (an agent drawn inside the door) would
    # otherwise flatten everything else into one colour.
    vmin, vmax = (finite.min(), np.percentile(finite, 98)) if finite.size else (0.0, 1.0)

    fig, axes = panel_grid(n, panel_inches=4.0 if n == 1 else 3.2)
    for i, (ax, (frame, grid, extent, goal_xy, start_xy, line)) in enumerate(zip(axes, panels, strict=True)):
        show_map(ax, frame)
        heat = np.ma.masked_invalid(grid)
        image = ax.imshow(heat, extent=extent, cmap="viridis", vmin=vmin, vmax=vmax, interpolation="nearest")
        if line is not None:
            ax.plot(line[:, 0], line[:, 1], color="white", lw=1.2)
        if start_xy is not None:
            ax.plot(*start_xy, "o", color="white", mec="black", ms=6)
        ax.plot(*goal_xy, "*", color="red", mec="white", mew=0.8, ms=14)
        if titles:
            ax.set_title(titles[i], fontsize=9)
    fig.suptitle(title)
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="latent distance to goal")
    return save_figure(fig, path)
