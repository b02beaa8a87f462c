"""Drawing physics scenes in NumPy: antialiased shapes over a plain background, occluders on top."""

from __future__ import annotations

import numpy as np

SHAPES = ("circle", "square", "triangle")
COLOURS = (
    (230, 60, 60),  # red
    (60, 200, 80),  # green
    (70, 110, 240),  # blue
    (240, 210, 60),  # yellow
    (220, 80, 220),  # magenta
    (60, 210, 220),  # cyan
)
BACKGROUND = (16, 16, 24)
OCCLUDER = (140, 140, 140)


def shape_coverage(shape: str, x: float, y: float, r: float, size: int) -> np.ndarray:
    """float32 `[size, size]` in [0, 1]: how much of each pixel the shape centred at (x, y) covers.

    `r` is the half-width; edges are antialiased over one pixel (coverage from a signed distance).
    """
    grid = np.arange(size, dtype=np.float32) + 0.5
    dx, dy = grid[None, :] - x, grid[:, None] - y
    if shape == "circle":
        inside = r - np.sqrt(dx * dx + dy * dy)
    elif shape == "square":
        inside = r * 0.9 - np.maximum(np.abs(dx), np.abs(dy))
    elif shape == "triangle":
        # Upward equilateral-ish triangle: distance to the base and to the two slanted sides.
        base = r * 0.8 - dy
        slant = (dy + r) * 0.5 - np.abs(dx) * 0.866
        inside = np.minimum(base, slant)
    else:
        raise ValueError(f"unknown shape {shape!r}; use one of {SHAPES}")
    return np.clip(inside + 0.5, 0.0, 1.0)


def render_frame(objects: list[dict], occluders: list[tuple[float, float]], size: int) -> np.ndarray:
    """uint8 `[size, size, 3]`: `objects` (dicts with x, y, r, shape, colour, visible) in order, then
    full-height grey `occluders` given as (left, right) pixel columns."""
    frame = np.empty((size, size, 3), dtype=np.float32)
    frame[:] = BACKGROUND
    for o in objects:
        if not o["visible"]:
            continue
        alpha = shape_coverage(o["shape"], o["x"], o["y"], o["r"], size)[..., None]
        frame = frame * (1 - alpha) + np.asarray(COLOURS[o["colour"]], dtype=np.float32) * alpha
    columns = np.arange(size, dtype=np.float32) + 0.5
    for left, right in occluders:
        alpha = np.clip(np.minimum(columns - left, right - columns) + 0.5, 0.0, 1.0)[None, :, None]
        frame = frame * (1 - alpha) + np.asarray(OCCLUDER, dtype=np.float32) * alpha
    return np.rint(frame).astype(np.uint8)
