"""Violation-of-expectation videos: matched possible and impossible twins of physics scenes.

Each pair shows one scene (see `physics_scene`) twice; the twins are identical up to the
violation frame. Properties (IntPhys, Garrido et al. 2025):

- permanence: "vanish": the target goes behind the occluder and never comes out (possible twin:
  it comes out); "appear": a target comes out from behind the occluder that never went in
  (possible twin: it never appears). Benchmark pairs alternate the two (even index: vanish), so after
  the violation an empty scene and an emerging target are each as common in possible videos as in
  impossible ones, exactly; training videos draw the variant at random.
- continuity: the target jumps to another place in the frame while in view.
- shape / colour: the target changes shape / colour while behind the occluder.

No single frame tells the twins apart: every impossible frame is a frame a possible scene shows.
Files: `NAME_possible.mp4` and `NAME_impossible.mp4` (NAME = `<property>_<index>`), `pairs.json`
{NAME: {"property", "variant", "violation_frame"}}, and `card.json`, written last. Videos are
lossless H.264, so decoded twins are also identical before the violation frame.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worldjepa.data.physics_render import COLOURS, SHAPES
from worldjepa.data.physics_scene import (
    TRIES,
    Edit,
    Scene,
    clear_of,
    render,
    sample_scene,
    simulate,
    touching,
)
from worldjepa.data.transforms import RandomGrayscaleVideo, eval_transform
from worldjepa.data.video import write_video
from worldjepa.data.video_dataset import VideoDataset
from worldjepa.errors import DataError
from worldjepa.io import write_json

PROPERTIES = ("permanence", "continuity", "shape", "colour")
SPLITS = ("train", "test")
JUMP_FRAMES = (7, 12)  # continuity: the frame the target jumps at
CARD_VERSION = 3


@dataclass
class PhysicsPair:
    """Twins uint8 `[T, S, S, 3]`, identical before `violation_frame`."""

    property: str
    variant: str
    possible: np.ndarray
    impossible: np.ndarray
    violation_frame: int


def _other(rng: np.random.Generator, count: int, current: int) -> int:
    return int((current + rng.integers(1, count)) % count)


def _jump(scene: Scene, rng: np.random.Generator, frames: int) -> list[Edit] | None:
    """A jump of the target, in view before and after, that keeps it clear of every other body.

    Before and after the jump the target is at least its radius away from the occluder, so the
    jump does not also change how much of it the occluder's edge hides."""
    path = simulate(scene, frames)
    for t in rng.permutation(np.arange(JUMP_FRAMES[0], JUMP_FRAMES[1] + 1)):
        before = path[t][0]
        margin = before.r
        if not (
            clear_of(path[t - 1][0], scene.occluder, margin) and clear_of(before, scene.occluder, margin)
        ):
            continue
        for _ in range(12):
            angle, distance = rng.uniform(0, 2 * math.pi), rng.uniform(2.5, 4.0) * before.r
            x, y = before.x + distance * math.cos(angle), before.y + distance * math.sin(angle)
            if not (before.r <= x <= scene.size - before.r and before.r <= y <= scene.size - before.r):
                continue
            edits = [(int(t), {"x": x, "y": y})]
            states = simulate(scene, frames, edits)
            if clear_of(states[t][0], scene.occluder, margin) and not any(
                touching(s[0], o) for s in states for o in s[1:]
            ):
                return edits
    return None


PERMANENCE_VARIANTS = ("vanish", "appear")


def violation(scene: Scene, prop: str, rng: np.random.Generator, frames: int, variant: str | None = None):
    """(variant, possible edits, impossible edits) for `prop`, or None when this scene has no room.

    `variant` fixes permanence's ("vanish" or "appear"); None draws it."""
    h, target = scene.hidden, scene.bodies[0]
    if prop == "permanence":
        if variant is None:
            variant = PERMANENCE_VARIANTS[int(rng.random() >= 0.5)]
        if variant == "vanish":
            return "vanish", [], [(h, {"visible": False})]
        return "appear", [(0, {"visible": False})], [(0, {"visible": False}), (h, {"visible": True})]
    if prop == "shape":
        new = SHAPES[_other(rng, len(SHAPES), SHAPES.index(target.shape))]
        return f"{target.shape}->{new}", [], [(h, {"shape": new})]
    if prop == "colour":
        new = _other(rng, len(COLOURS), target.colour)
        return f"{target.colour}->{new}", [], [(h, {"colour": new})]
    if prop == "continuity":
        edits = _jump(scene, rng, frames)
        return None if edits is None else ("jump", [], edits)
    raise DataError(f"unknown property {prop!r}; use one of {PROPERTIES}")


def make_pair(
    prop: str, key: tuple[int, ...], frames: int = 16, size: int = 64, variant: str | None = None
) -> PhysicsPair:
    """The pair for `prop` drawn from the generator keyed `key` (a pure function of the arguments);
    `variant` fixes permanence's ("vanish" or "appear"), None draws it."""
    if variant is not None and (prop != "permanence" or variant not in PERMANENCE_VARIANTS):
        raise DataError(f"variant {variant!r} is only for permanence: one of {PERMANENCE_VARIANTS}")
    rng = np.random.default_rng(key)
    for _ in range(TRIES):
        scene = sample_scene(rng, size, frames)
        chosen = violation(scene, prop, rng, frames, variant)
        if chosen is None:
            continue
        drawn, possible_edits, impossible_edits = chosen
        possible = render(scene, simulate(scene, frames, possible_edits))
        impossible = render(scene, simulate(scene, frames, impossible_edits))
        differs = np.flatnonzero((possible != impossible).reshape(frames, -1).any(1))
        if len(differs) and differs[0] <= frames - 3:
            return PhysicsPair(prop, drawn, possible, impossible, int(differs[0]))
    raise DataError(f"no {prop} pair fits in {frames} frames of {size} px; use more frames or a larger size")


def _split_index(split: str) -> int:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")
    return SPLITS.index(split)


def _is_complete(out_dir: Path, params: dict, files: list[str]) -> bool:
    try:
        card = json.loads((out_dir / "card.json").read_text())
    except (OSError, ValueError):
        return False
    return card.get("params") == params and all((out_dir / f).is_file() for f in files)


def _start(out_dir: Path, pattern: str, files: list[str]) -> None:
    """Make `out_dir`, drop its card (so an interrupted run is redone) and stale `pattern` files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "card.json").unlink(missing_ok=True)
    for stale in {p.name for p in out_dir.glob(pattern)} - set(files):
        (out_dir / stale).unlink()


def _check(count: int, frames: int, size: int) -> None:
    if count < 1 or frames < 14 or size < 32 or size % 2:
        raise DataError(
            f"need count >= 1, frames >= 14 and an even size >= 32; got {count}, {frames}, {size}"
        )


def generate_physics_pairs(
    out_dir: str | Path,
    pairs_per_property: int,
    frames: int = 16,
    size: int = 64,
    fps: int = 8,
    seed: int = 0,
    split: str = "test",
) -> Path:
    """Write `pairs_per_property` pairs per property to `out_dir` (see the module docstring).

    Pair i of property p depends only on (seed, split, p, i); a complete set with the same
    parameters is reused as is.
    """
    out_dir = Path(out_dir)
    _check(pairs_per_property, frames, size)
    params = {"pairs_per_property": pairs_per_property, "frames": frames, "size": size, "fps": fps}
    params |= {"seed": seed, "split": split, "version": CARD_VERSION}
    names = [f"{prop}_{i:04d}" for prop in PROPERTIES for i in range(pairs_per_property)]
    files = [f"{n}_{kind}.mp4" for n in names for kind in ("possible", "impossible")]
    if _is_complete(out_dir, params, [*files, "pairs.json"]):
        return out_dir
    _start(out_dir, "*_possible.mp4", files)
    index = {}
    for name in names:
        prop, i = name.rsplit("_", 1)
        key = (seed, _split_index(split), PROPERTIES.index(prop), int(i))
        variant = PERMANENCE_VARIANTS[int(i) % 2] if prop == "permanence" else None
        pair = make_pair(prop, key, frames, size, variant)
        write_video(out_dir / f"{name}_possible.mp4", pair.possible, fps=fps, crf=0)
        write_video(out_dir / f"{name}_impossible.mp4", pair.impossible, fps=fps, crf=0)
        index[name] = {"property": prop, "variant": pair.variant, "violation_frame": pair.violation_frame}
    write_json(out_dir / "pairs.json", index)
    card = {"name": "physics_pairs", "description": __doc__.strip().splitlines()[0], "params": params}
    write_json(out_dir / "card.json", card)
    return out_dir


def generate_physics_videos(
    out_dir: str | Path,
    num_videos: int,
    frames: int = 16,
    size: int = 64,
    fps: int = 8,
    seed: int = 0,
    split: str = "train",
) -> Path:
    """Write `num_videos` possible videos `video_00000.mp4 ...` (for pretraining) and `card.json`.

    Video i is the possible twin of a pair of property `PROPERTIES[i % 4]`, drawn from the key
    (seed, split, 100 + i): never one of the benchmark's pairs.
    """
    out_dir = Path(out_dir)
    _check(num_videos, frames, size)
    params = {"num_videos": num_videos, "frames": frames, "size": size, "fps": fps}
    params |= {"seed": seed, "split": split, "version": CARD_VERSION}
    files = [f"video_{i:05d}.mp4" for i in range(num_videos)]
    if _is_complete(out_dir, params, files):
        return out_dir
    _start(out_dir, "video_*.mp4", files)
    for i, name in enumerate(files):
        prop = PROPERTIES[i % len(PROPERTIES)]
        pair = make_pair(prop, (seed, _split_index(split), 100 + i), frames, size)
        write_video(out_dir / name, pair.possible, fps=fps, crf=0)
    card = {
        "name": "physics_videos",
        "description": "Possible physics videos (no violation).",
        "params": params,
    }
    write_json(out_dir / "card.json", card)
    return out_dir


def load_physics_videos(
    root: str | Path,
    frames_per_clip: int = 8,
    frame_step: int = 1,
    crop_size: int = 32,
    seed: int = 0,
    grayscale: float = 0.0,
) -> VideoDataset:
    """A VideoDataset over `generate_physics_videos` output; frames resized whole to `crop_size`, and
    each clip turned grey with probability `grayscale` (`RandomGrayscaleVideo`)."""
    root = Path(root)
    if not (root / "card.json").is_file():
        raise DataError(
            f"{root} holds no physics video set (no card.json); create one with "
            f"worldjepa.data.physics.generate_physics_videos({str(root)!r}, num_videos=...)"
        )
    files = sorted(root.glob("video_*.mp4"))
    transform = eval_transform("physics", crop_size)
    if grayscale > 0:
        transform = RandomGrayscaleVideo(transform, grayscale)
    return VideoDataset(files, frames_per_clip, frame_step, transform, seed=seed, cache=True)
