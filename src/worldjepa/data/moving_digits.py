"""Moving digits: the built-in synthetic video set (one handwritten digit bouncing in a box).

Each video shows one of sklearn's handwritten digits, white on black, starting at a random
position and moving in one of 8 directions at 1.5-3 px/frame, reflecting off the borders.
Labels: "digit" (0-9) and "direction" (k = 0..7: the angle of the digit's net displacement from
the first frame to the last, rounded to k * 45 degrees counter-clockwise from rightwards as seen
on screen, so k = 2 moves up). The net displacement, not the initial velocity, because about 40 %
of 8-frame videos bounce: the label is what the frames show. Videos are lossless H.264, so a set
decodes to the same pixels whenever it is made (x264 itself may choose differently between runs).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from worldjepa.data.images import digit_images, photo_crop
from worldjepa.data.transforms import RandomResizedCropVideo, eval_transform
from worldjepa.data.video import write_video
from worldjepa.data.video_dataset import VideoDataset
from worldjepa.errors import DataError
from worldjepa.io import write_json

NUM_DIRECTIONS = 8
BACKGROUNDS = ("black", "photos")
PHOTO_DIM = 0.6  # photo backgrounds are dimmed so the white digit stays the brightest thing
SPEED_RANGE = (1.5, 3.0)
TRAIN_FRACTION = 0.8  # "train" draws digits from the first 80 % of sklearn's digits, "test" from the rest
SPLITS = ("train", "test")
CARD_VERSION = 5  # 5: lossless videos


def _split_digits(split: str, digit_size: int) -> tuple[np.ndarray, np.ndarray]:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")
    images, targets = digit_images(digit_size)
    cut = int(len(targets) * TRAIN_FRACTION)
    return (images[:cut], targets[:cut]) if split == "train" else (images[cut:], targets[cut:])


def render_moving_digit(
    digit: np.ndarray,
    frames: int,
    size: int,
    rng: np.random.Generator,
    background: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Frames uint8 `[frames, size, size, 3]` of `digit` (uint8 `[d, d]`) bouncing; and its direction k
    (of the net displacement; of the initial velocity if the digit ends where it started).

    The digit is drawn white over `background` (uint8 `[size, size, 3]`, static) or over black."""
    d = digit.shape[0]
    high = size - d
    position = rng.uniform(0, high, size=2)  # (x, y) of the top-left corner
    direction = int(rng.integers(NUM_DIRECTIONS))
    speed = rng.uniform(*SPEED_RANGE)
    angle = direction * 2 * math.pi / NUM_DIRECTIONS
    velocity = speed * np.array([math.cos(angle), -math.sin(angle)])  # screen y points down
    video = np.zeros((frames, size, size), dtype=np.uint8)
    drawn = []
    for t in range(frames):
        x, y = np.rint(position).astype(int)
        video[t, y : y + d, x : x + d] = digit
        drawn.append(position.copy())
        position = position + velocity
        for axis in range(2):
            if position[axis] < 0:
                position[axis], velocity[axis] = -position[axis], -velocity[axis]
            elif position[axis] > high:
                position[axis], velocity[axis] = 2 * high - position[axis], -velocity[axis]
    dx, dy = drawn[-1] - drawn[0]
    if math.hypot(dx, dy) > 1e-6:
        direction = round(math.atan2(-dy, dx) / (2 * math.pi / NUM_DIRECTIONS)) % NUM_DIRECTIONS
    if background is None:
        return np.repeat(video[..., None], 3, axis=-1), direction
    alpha = video[..., None].astype(np.float32) / 255.0
    composite = background[None].astype(np.float32) * (1.0 - alpha) + 255.0 * alpha
    return np.rint(composite).astype(np.uint8), direction


def scene_for(background: str, size: int, key: tuple[int, int, int]) -> np.ndarray | None:
    """The static background of the video keyed (seed, split, index), from its own generator: with
    or without a photo, a video shows the same digit moving the same way."""
    if background == "black":
        return None
    return photo_crop(size, np.random.default_rng((*key, 1)), PHOTO_DIM)


def _is_complete(out_dir: Path, params: dict) -> bool:
    try:
        card = json.loads((out_dir / "card.json").read_text())
        labels = json.loads((out_dir / "labels.json").read_text())
    except (OSError, ValueError):
        return False
    return card.get("params") == params and all((out_dir / name).is_file() for name in labels)


def generate_moving_digits(
    out_dir: str | Path,
    num_videos: int,
    frames: int = 16,
    size: int = 64,
    digit_size: int = 24,
    fps: int = 8,
    seed: int = 0,
    split: str = "train",
    background: str = "black",
) -> Path:
    """Write `out_dir/video_00000.mp4 ...`, `labels.json` {file: {"digit", "direction"}} and `card.json`.

    Video i depends only on (seed, split, i). If `out_dir` already holds a complete set made with
    the same parameters it is reused as is; otherwise it is regenerated (stale `video_*.mp4` files
    are removed). `card.json` is written last, so an interrupted run is redone next time.
    """
    out_dir = Path(out_dir)
    if num_videos < 1 or frames < 1:
        raise DataError(f"num_videos and frames must be >= 1, got {num_videos}, {frames}")
    if not 0 < digit_size < size or size % 2:
        raise DataError(f"need an even size larger than digit_size, got size={size}, digit_size={digit_size}")
    params = {"num_videos": num_videos, "frames": frames, "size": size, "digit_size": digit_size}
    if background not in BACKGROUNDS:
        raise DataError(f"unknown background {background!r}; use one of {BACKGROUNDS}")
    params |= {"fps": fps, "seed": seed, "split": split, "background": background, "version": CARD_VERSION}
    if _is_complete(out_dir, params):
        return out_dir
    digits, targets = _split_digits(split, digit_size)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "card.json").unlink(missing_ok=True)
    names = [f"video_{i:05d}.mp4" for i in range(num_videos)]
    for stale in set(p.name for p in out_dir.glob("video_*.mp4")) - set(names):
        (out_dir / stale).unlink()
    labels = {}
    for i, name in enumerate(names):
        rng = np.random.default_rng((seed, SPLITS.index(split), i))
        pick = int(rng.integers(len(digits)))
        scene = scene_for(background, size, (seed, SPLITS.index(split), i))
        video, direction = render_moving_digit(digits[pick], frames, size, rng, scene)
        write_video(out_dir / name, video, fps=fps, crf=0)
        labels[name] = {"digit": int(targets[pick]), "direction": direction}
    write_json(out_dir / "labels.json", labels)
    counts = {
        key: {str(c): sum(v[key] == c for v in labels.values()) for c in range(n)}
        for key, n in (("digit", 10), ("direction", NUM_DIRECTIONS))
    }
    write_json(
        out_dir / "card.json",
        {
            "name": "moving_digits",
            "description": (
                "One sklearn handwritten digit (white on black) per video, moving in a straight line "
                "and bouncing off the borders. Labels: digit 0-9; direction 0-7 = net displacement "
                "angle k*45 degrees counter-clockwise from rightwards (2 = up)."
            ),
            "params": params,
            "classes": {"digit": list(range(10)), "direction": list(range(NUM_DIRECTIONS))},
            "counts": counts,
        },
    )
    return out_dir


def load_moving_digits(
    root: str | Path,
    frames_per_clip: int = 16,
    frame_step: int = 1,
    crop_size: int = 64,
    augment: bool = False,
    seed: int = 0,
    clips_per_video: int = 1,
    cache: bool = True,
) -> VideoDataset:
    """A VideoDataset over a set made by `generate_moving_digits`, with labels "digit" and "direction".

    Without `augment` the whole frame is resized to `crop_size` (no border cropped, so the digit
    never leaves the view); with it, V-JEPA 2's random resized crop.
    """
    root = Path(root)
    if not (root / "card.json").is_file():
        raise DataError(
            f"{root} holds no moving-digits set (no card.json); create one with "
            f"worldjepa.data.generate_moving_digits({str(root)!r}, num_videos=...)"
        )
    transform = (
        RandomResizedCropVideo(crop_size, seed=seed)
        if augment
        else eval_transform("moving_digits", crop_size)
    )
    return VideoDataset(
        root, frames_per_clip, frame_step, transform, seed=seed, clips_per_video=clips_per_video, cache=cache
    )
