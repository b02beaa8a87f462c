"""Datasets from a config section: what `pretrain` and `probe` train and evaluate on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from worldjepa.data.images import ArrayImageDataset, ImageFolder, load_digits_images, load_photos
from worldjepa.data.moving_digits import generate_moving_digits, load_moving_digits
from worldjepa.data.physics import generate_physics_videos, load_physics_videos
from worldjepa.data.transforms import RandomGrayscaleVideo, RandomResizedCropVideo, eval_transform
from worldjepa.data.video_dataset import VideoDataset
from worldjepa.errors import ConfigError, suggest

DATA_KINDS = ("moving_digits", "physics", "video_folder", "digits", "photos", "image_folder", "two_rooms")
SPLITS = ("train", "test")
GRAYSCALE_KINDS = ("physics", "video_folder")


@dataclass
class DataConfig:
    """What to train on.

    kind: moving_digits (built-in synthetic videos, generated into `root` on first use) |
    video_folder (`root`/<class>/*.mp4 or `root` with labels.json; `root`/train and `root`/test
    when present) | digits (scikit-learn's handwritten digits) | photos (scikit-image's photos) |
    image_folder (`root`/<class>/*.png) | two_rooms (frames of a `worldjepa collect two-rooms`
    collection in `root`, as images: the first `num_videos` episodes train, the last
    `num_test_videos` test; every `frame_step`-th frame) | physics (built-in possible videos of
    physics scenes, `worldjepa.data.physics`, generated into `root` on first use).
    grayscale: the probability that a training clip (physics, video_folder) is turned grey whole,
    so that colour alone cannot tell clips apart (`RandomGrayscaleVideo`).
    """

    kind: str = "moving_digits"
    root: str | None = None
    num_videos: int = 512
    num_test_videos: int = 256
    frames_per_clip: int = 8
    frame_step: int = 1
    crop_size: int = 64
    background: str = "black"
    random_crop: bool = False
    grayscale: float = 0.0
    batch_size: int = 32
    num_workers: int = 0

    def __post_init__(self):
        if self.kind not in DATA_KINDS:
            raise ConfigError(
                f"data.kind = '{self.kind}' is unknown.{suggest(self.kind, DATA_KINDS)} "
                f"Choose one of {DATA_KINDS}."
            )
        if self.kind in ("video_folder", "image_folder", "two_rooms") and not self.root:
            raise ConfigError(f"data.kind = '{self.kind}' needs data.root, the folder to read.")
        if not 0.0 <= self.grayscale <= 1.0:
            raise ConfigError(f"data.grayscale = {self.grayscale} is a probability; use a value in [0, 1].")
        if self.grayscale > 0 and self.kind not in GRAYSCALE_KINDS:
            raise ConfigError(
                f"data.grayscale applies to colour videos ({GRAYSCALE_KINDS}), not data.kind = '{self.kind}'."
            )
        if self.batch_size < 1:
            raise ConfigError(f"data.batch_size = {self.batch_size} must be at least 1.")


def moving_digits_root(config: DataConfig, split: str) -> Path:
    base = Path(config.root or "runs/data")
    count = config.num_videos if split == "train" else config.num_test_videos
    name = f"moving_digits_{split}_{count}x{config.frames_per_clip * config.frame_step}"
    return base / (name if config.background == "black" else f"{name}_{config.background}")


def build_dataset(config: DataConfig, split: str = "train", seed: int = 0) -> tuple[Dataset, str]:
    """(dataset, input key): items are dicts with "video" [C, T, H, W] or "image" [C, H, W] and labels.

    Training items (split "train" with random_crop) get V-JEPA 2's random resized crop; the rest
    are resized whole (moving digits, built-in images) or short-side resized and centre-cropped.
    """
    if split not in SPLITS:
        raise ConfigError(f"Unknown split '{split}'; choose one of {SPLITS}.")
    augment = config.random_crop and split == "train"
    grayscale = config.grayscale if split == "train" else 0.0
    if config.kind == "moving_digits":
        count = config.num_videos if split == "train" else config.num_test_videos
        root = generate_moving_digits(
            moving_digits_root(config, split),
            count,
            frames=config.frames_per_clip * config.frame_step,
            seed=0,
            split=split,
            background=config.background,
        )
        return load_moving_digits(
            root, config.frames_per_clip, config.frame_step, config.crop_size, augment=augment, seed=seed
        ), "video"
    if config.kind == "physics":
        count = config.num_videos if split == "train" else config.num_test_videos
        base = Path(config.root or "runs/data")
        root = generate_physics_videos(base / f"physics_{split}_{count}", count, seed=0, split=split)
        dataset = load_physics_videos(
            root, config.frames_per_clip, config.frame_step, config.crop_size, seed, grayscale
        )
        return dataset, "video"
    if config.kind == "video_folder":
        root = Path(config.root)
        if (root / split).is_dir():
            root = root / split
        transform = (
            RandomResizedCropVideo(config.crop_size, seed=seed)
            if augment
            else eval_transform(config.kind, config.crop_size)
        )
        if grayscale > 0:
            transform = RandomGrayscaleVideo(transform, grayscale)
        return VideoDataset(root, config.frames_per_clip, config.frame_step, transform, seed=seed), "video"
    if config.kind == "image_folder":
        root = Path(config.root)
        if (root / split).is_dir():
            root = root / split
        return ImageFolder(root, size=config.crop_size, augment=augment, seed=seed), "image"
    if config.kind == "two_rooms":
        return two_rooms_frames(config, split, augment, seed), "image"
    if config.kind == "digits":
        images, labels = load_digits_images(size=config.crop_size)
        cut = int(0.8 * len(images))
        part = slice(0, cut) if split == "train" else slice(cut, None)
        return ArrayImageDataset(images[part], {"label": labels[part]}, augment=augment, seed=seed), "image"
    images, labels = load_photos(size=config.crop_size, seed=seed + (0 if split == "train" else 1))
    return ArrayImageDataset(images, {"label": np.asarray(labels)}, augment=augment, seed=seed), "image"


def two_rooms_frames(config: DataConfig, split: str, augment: bool, seed: int) -> ArrayImageDataset:
    """Frames of a Two-Rooms collection as an image dataset (for pretraining a world model's encoder)."""
    from worldjepa.data.trajectories import TrajectoryDataset

    collection = TrajectoryDataset(config.root, window=1)
    episodes = collection.num_episodes
    count = min(config.num_videos if split == "train" else config.num_test_videos, episodes)
    chosen = range(count) if split == "train" else range(episodes - count, episodes)
    frames = np.concatenate([collection.episode_frames(e)[:: config.frame_step] for e in chosen])
    return ArrayImageDataset(frames, size=config.crop_size, augment=augment, seed=seed)
