"""Animated GIFs of episodes: frames upscaled nearest-neighbour, an optional goal cross, atomic write."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from worldjepa.errors import ConfigError, ShapeError
from worldjepa.io import atomic_path

GOAL_COLOR = (255, 0, 255)


def check_frames(frames, name: str = "frames") -> np.ndarray:
    """uint8 RGB frames [T, H, W, 3] with T >= 1, or ShapeError."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3 or len(frames) == 0:
        raise ShapeError(
            f"{name} must be uint8 RGB frames [T, H, W, 3] with T >= 1; "
            f"got {frames.dtype} {tuple(frames.shape)}. "
            "Put channels last and convert with (x * 255).clip(0, 255).astype(np.uint8)."
        )
    return frames


def draw_goal_cross(frames: np.ndarray, goals: np.ndarray, scale: int, color=GOAL_COLOR) -> np.ndarray:
    """Draw an 'x' at each frame's goal (x, y) in source pixels (pixel j spans [j, j+1)) on upscaled frames.

    frames: uint8 [T, H*scale, W*scale, 3] (modified copy returned); goals: float [T, 2], NaN rows = no cross.
    """
    frames = frames.copy()
    arm = 1.5 * scale
    thick = max(0.5, scale / 4)
    centres = goals * scale - 0.5  # in upscaled pixel indices, whose centres sit at integers
    rows = np.arange(frames.shape[1])[None, :, None]
    cols = np.arange(frames.shape[2])[None, None, :]
    dx = cols - centres[:, 0, None, None]
    dy = rows - centres[:, 1, None, None]
    near = (np.abs(dx) <= arm) & (np.abs(dy) <= arm)
    on_diagonal = (np.abs(dx - dy) <= thick) | (np.abs(dx + dy) <= thick)
    frames[near & on_diagonal] = color  # NaN goals compare False everywhere: no cross
    return frames


def write_gif(
    frames,
    path: str | Path,
    fps: float = 10,
    scale: int = 4,
    goals=None,
    pause: float = 0.6,
) -> Path:
    """Write an animated, looping GIF of one episode or several in a row.

    frames: uint8 [T, H, W, 3], or a list of such episodes (same H, W), played one after another; the last
    frame of each episode is held `pause` seconds longer. goals: optional goal position per frame, [T, 2]
    (x, y in source pixels), or a list of [T_i, 2] matching the episodes; drawn as a magenta cross.
    Each frame is upscaled `scale` times, nearest-neighbour. Pillow merges identical consecutive frames.
    Returns `path`.
    """
    if fps <= 0 or scale < 1 or int(scale) != scale or pause < 0:
        raise ConfigError(
            f"write_gif needs fps > 0, integer scale >= 1, pause >= 0; got {fps=}, {scale=}, {pause=}."
        )
    single = isinstance(frames, np.ndarray) and frames.ndim == 4
    episodes = [check_frames(frames)] if single else _episode_list(frames)
    if goals is not None:
        goal_list = [goals] if single else list(goals)
        if len(goal_list) != len(episodes):
            raise ShapeError(
                f"goals has {len(goal_list)} entries for {len(episodes)} episodes; pass [T, 2] each."
            )
    sizes = {e.shape[1:3] for e in episodes}
    if len(sizes) > 1:
        raise ShapeError(f"episodes have different frame sizes {sorted(sizes)}; render them at one size.")

    images, durations = [], []
    frame_ms = 1000 / fps
    for i, episode in enumerate(episodes):
        big = episode.repeat(scale, axis=1).repeat(scale, axis=2)
        if goals is not None:
            goal = np.asarray(goal_list[i], dtype=np.float64)
            if goal.shape != (len(episode), 2):
                raise ShapeError(
                    f"goals[{i}] must be [{len(episode)}, 2] (one (x, y) per frame); got {goal.shape}."
                )
            big = draw_goal_cross(big, goal, scale)
        images += [Image.fromarray(f) for f in big]
        durations += [frame_ms] * len(episode)
        durations[-1] += 1000 * pause
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
    return Path(path)


def _episode_list(frames: Sequence) -> list[np.ndarray]:
    if isinstance(frames, np.ndarray) or len(frames) == 0:
        got = f"an array of shape {frames.shape}" if isinstance(frames, np.ndarray) else "an empty list"
        raise ShapeError(f"frames must be uint8 [T, H, W, 3] or a non-empty list of such arrays; got {got}.")
    return [check_frames(f, f"frames[{i}]") for i, f in enumerate(frames)]
