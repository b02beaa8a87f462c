"""A dataset of video clips from a folder or a list of files, with labels and corrupt-file skipping."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from worldjepa.data.transforms import item_generator
from worldjepa.data.video import count_frames, read_video
from worldjepa.errors import DataError

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm")


def sample_clip(
    num_frames_in_video: int, frames_per_clip: int, frame_step: int, rng: np.random.Generator
) -> np.ndarray:
    """Frame indices `[frames_per_clip]` of one clip: every `frame_step`-th frame from a random start.

    A clip spans `frames_per_clip * frame_step` frames (V-JEPA 2's clip length) and its start is
    uniform over the positions where it fits. Short videos:
    - shorter than that span: the stride drops to `num_frames // frames_per_clip`, the largest that
      fits, and the clip starts at a random position where it fits;
    - fewer frames than `frames_per_clip`: all frames in order, then the last frame repeated
      (padding) up to `frames_per_clip`.
    """
    if num_frames_in_video < 1:
        raise DataError("cannot sample a clip from a video with no frames")
    if frames_per_clip < 1 or frame_step < 1:
        raise DataError(f"frames_per_clip and frame_step must be >= 1, got {frames_per_clip}, {frame_step}")
    step = min(frame_step, num_frames_in_video // frames_per_clip)
    if step == 0:
        pad = np.full(frames_per_clip - num_frames_in_video, num_frames_in_video - 1)
        return np.concatenate([np.arange(num_frames_in_video), pad]).astype(np.int64)
    span = frames_per_clip * step
    start = int(rng.integers(0, num_frames_in_video - span + 1))
    return start + step * np.arange(frames_per_clip, dtype=np.int64)


def find_videos(root: Path) -> list[Path]:
    """Video files under `root` (recursive), sorted."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file())


class VideoDataset(torch.utils.data.Dataset):
    """Clips of `frames_per_clip` frames, `frame_step` apart, from video files.

    `root_or_files`: a folder (searched recursively for .mp4/.avi/.mov/.mkv/.webm), one file, or a
    list of files. Labels, first match wins: the `labels` argument; `labels.json` in the folder
    (filename or path relative to the folder -> {name: int}); else, when the videos sit in
    subfolders, the subfolder name as class "label" (names in `self.classes`); else no labels.

    Item `i` is clip `i % clips_per_video` of video `i // clips_per_video`:
    dict(video=float `[C, T, H, W]`, path=str, indices=int64 `[T]`, <label>=int64 tensor ...).
    `transform(frames uint8 [T, H, W, 3]) -> [C, T, H, W]` is called with `generator=` when it
    accepts one; without a transform the video is only rescaled to [0, 1].
    The clip's frames and the transform's randomness depend only on (seed, i, epoch); call
    `set_epoch` to draw new clips each epoch.

    A file that fails to decode is recorded in `self.skipped` (path -> reason) and the next
    readable video (i + clips_per_video, wrapping) is returned in its place. With DataLoader
    workers each worker keeps its own `skipped`, so counts seen in the main process are partial.
    When no file can be read, DataError.

    `cache=True` keeps every decoded video in memory (uint8) after its first read: for small sets
    (the built-in ones, probes that read a set several times) it removes decoding from the loop.
    """

    def __init__(
        self,
        root_or_files: str | Path | Sequence[str | Path],
        frames_per_clip: int = 16,
        frame_step: int = 2,
        transform: Callable | None = None,
        labels: dict[str, dict] | None = None,
        seed: int = 0,
        clips_per_video: int = 1,
        cache: bool = False,
    ):
        if frames_per_clip < 1 or frame_step < 1 or clips_per_video < 1:
            raise DataError(
                "frames_per_clip, frame_step and clips_per_video must be >= 1, got "
                f"{frames_per_clip}, {frame_step}, {clips_per_video}"
            )
        self.root, self.files = self._find(root_or_files)
        self.frames_per_clip = frames_per_clip
        self.frame_step = frame_step
        self.transform = transform
        self.seed = seed
        self.clips_per_video = clips_per_video
        self.epoch = 0
        self.cache: dict[Path, np.ndarray] | None = {} if cache else None
        self.skipped: dict[str, str] = {}
        self.classes: list[str] = []
        self.labels = self._labels(labels)
        self._transform_takes_generator = transform is not None and _accepts_generator(transform)

    @staticmethod
    def _find(root_or_files) -> tuple[Path | None, list[Path]]:
        if isinstance(root_or_files, (str, Path)):
            root = Path(root_or_files)
            if root.is_file():
                return root.parent, [root]
            if not root.is_dir():
                raise DataError(
                    f"video folder {root} does not exist; pass a folder of videos or a list of files"
                )
            files = find_videos(root)
            if not files:
                raise DataError(
                    f"no video files ({', '.join(VIDEO_EXTENSIONS)}) under {root}; put videos there or "
                    "generate the built-in set with worldjepa.data.generate_moving_digits"
                )
            return root, files
        files = [Path(f) for f in root_or_files]
        if not files:
            raise DataError("the list of video files is empty; pass at least one file")
        return None, files

    def _key(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() if self.root is not None else path.name

    def _labels(self, labels: dict[str, dict] | None) -> list[dict[str, int]]:
        if labels is None and self.root is not None and (self.root / "labels.json").is_file():
            try:
                labels = json.loads((self.root / "labels.json").read_text())
            except (OSError, ValueError) as e:
                raise DataError(f"cannot read {self.root / 'labels.json'}: {e}; fix or delete it") from e
        if labels is not None:
            out = []
            for path in self.files:
                entry = labels.get(self._key(path), labels.get(path.name))
                if entry is None:
                    raise DataError(
                        f"no labels for {self._key(path)}; add it to the labels mapping or remove the file"
                    )
                out.append({name: int(value) for name, value in entry.items()})
            return out
        if self.root is None:
            return [{} for _ in self.files]
        parents = [path.parent.relative_to(self.root).as_posix() for path in self.files]
        if all(p == "." for p in parents):
            return [{} for _ in self.files]
        self.classes = sorted(set(parents))
        return [{"label": self.classes.index(p)} for p in parents]

    def set_epoch(self, epoch: int) -> None:
        """Draw different clips (and augmentations) in `epoch`."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.files) * self.clips_per_video

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} clips")
        for attempt in range(len(self.files)):
            i = (index + attempt * self.clips_per_video) % len(self)
            path = self.files[i // self.clips_per_video]
            if str(path) in self.skipped:
                continue
            try:
                return self._load(i, path)
            except DataError as e:
                self.skipped[str(path)] = str(e)
        raise DataError(
            f"none of the {len(self.files)} video files could be read ({self.report()}); "
            "replace or remove the broken files"
        )

    def _load(self, index: int, path: Path) -> dict:
        rng = np.random.default_rng((self.seed, index, self.epoch))
        if self.cache is None:
            indices = sample_clip(count_frames(path), self.frames_per_clip, self.frame_step, rng)
            frames, _ = read_video(path, indices)
        else:
            if path not in self.cache:
                self.cache[path] = read_video(path)[0]
            indices = sample_clip(len(self.cache[path]), self.frames_per_clip, self.frame_step, rng)
            frames = self.cache[path][indices]
        if self.transform is None:
            video = torch.from_numpy(frames).permute(3, 0, 1, 2).float() / 255.0
        elif self._transform_takes_generator:
            video = self.transform(frames, generator=item_generator(self.seed, index, self.epoch))
        else:
            video = self.transform(frames)
        item = {"video": video, "path": str(path), "indices": torch.from_numpy(indices)}
        for name, value in self.labels[index // self.clips_per_video].items():
            item[name] = torch.tensor(value, dtype=torch.int64)
        return item

    def report(self) -> str:
        """'skipped N of M files: path (reason); ...' for the files this process could not read."""
        reasons = "; ".join(f"{path} ({reason})" for path, reason in self.skipped.items())
        return f"skipped {len(self.skipped)} of {len(self.files)} files" + (f": {reasons}" if reasons else "")


def _accepts_generator(transform: Callable) -> bool:
    try:
        return "generator" in inspect.signature(transform).parameters
    except (TypeError, ValueError):
        return False
