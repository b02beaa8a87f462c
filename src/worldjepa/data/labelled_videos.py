"""A folder of labelled videos: one subfolder per class, holding any files PyAV decodes.

    root/
      left/   a.mp4  b.avi  more/c.webm
      right/  d.mp4  ...

Class names are the subfolder names, sorted; class i is label i. Files that PyAV cannot open are
skipped and counted (`skipped`, `report()`), never given a wrong label.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from worldjepa.data.video import count_frames, read_video
from worldjepa.data.video_dataset import sample_clip
from worldjepa.errors import DataError


def centre_clip(num_frames_in_video: int, frames_per_clip: int, frame_step: int) -> np.ndarray:
    """Frame indices `[frames_per_clip]` of the clip in the middle of a video, by `sample_clip`'s rules
    for short videos (a smaller step, then the last frame repeated)."""
    step = min(frame_step, num_frames_in_video // frames_per_clip)
    if step == 0:
        pad = np.full(frames_per_clip - num_frames_in_video, num_frames_in_video - 1)
        return np.concatenate([np.arange(num_frames_in_video), pad]).astype(np.int64)
    start = (num_frames_in_video - frames_per_clip * step) // 2
    return start + step * np.arange(frames_per_clip, dtype=np.int64)


def class_files(root: Path) -> dict[str, list[Path]]:
    """{class name: its files (recursive, hidden files left out), sorted} for each non-empty subfolder."""
    if not root.is_dir():
        raise DataError(f"video folder {root} does not exist; pass a folder with one subfolder per class")
    found = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(
            p
            for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        )
        if files:
            found[folder.name] = files
    return found


class LabelledVideos(torch.utils.data.Dataset):
    """Clips of `frames_per_clip` frames, `frame_step` apart, from a folder of class subfolders.

    `classes` (for example a training folder's, when this is its validation folder) fixes the label of
    each name; a subfolder not among them is an error. Item i: dict(video=float `[C, T, H, W]`,
    label=int64, path=str, indices=int64 `[T]`). With `random_clip` the clip's start is drawn from
    (seed, i) by `sample_clip`; without, the clip is the video's middle one (`centre_clip`).
    A file that fails to open (at construction) or to decode (in `__getitem__`, which then raises
    DataError) is recorded in `skipped` (path -> reason).
    """

    def __init__(
        self,
        root: str | Path,
        frames_per_clip: int,
        frame_step: int,
        transform: Callable[[np.ndarray], Tensor],
        classes: Sequence[str] | None = None,
        random_clip: bool = False,
        seed: int = 0,
    ):
        if frames_per_clip < 1 or frame_step < 1:
            raise DataError(
                f"frames_per_clip and frame_step must be >= 1, got {frames_per_clip}, {frame_step}"
            )
        self.root = Path(root)
        found = class_files(self.root)
        if not found:
            raise DataError(
                f"{self.root} has no class subfolders with files; put each class's videos in a subfolder "
                f"named after it ({self.root}/left/a.mp4, {self.root}/right/b.mp4, ...)"
            )
        if classes is None:
            if len(found) < 2:
                raise DataError(
                    f"{self.root} has a single class ({next(iter(found))!r}); a classifier needs at least "
                    "two class subfolders"
                )
            classes = list(found)
        unknown = sorted(set(found) - set(classes))
        if unknown:
            raise DataError(
                f"{self.root} has class folders {unknown} that are not among the probe's classes "
                f"{list(classes)}; rename or remove them"
            )
        self.classes = list(classes)
        self.frames_per_clip, self.frame_step = frames_per_clip, frame_step
        self.transform, self.random_clip, self.seed = transform, random_clip, seed
        self.skipped: dict[str, str] = {}
        self.files: list[Path] = []
        self.labels: list[int] = []
        self.lengths: list[int] = []
        for name, files in found.items():
            for path in files:
                try:
                    length = count_frames(path)
                except DataError as e:
                    self.skipped[str(path)] = str(e)
                    continue
                self.files.append(path)
                self.labels.append(self.classes.index(name))
                self.lengths.append(length)
        self.total = len(self.files) + len(self.skipped)
        if not self.files:
            raise DataError(
                f"none of the {self.total} files under {self.root} is a readable video ({self.report()})"
            )

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict:
        path = self.files[index]
        if self.random_clip:
            rng = np.random.default_rng((self.seed, index))
            indices = sample_clip(self.lengths[index], self.frames_per_clip, self.frame_step, rng)
        else:
            indices = centre_clip(self.lengths[index], self.frames_per_clip, self.frame_step)
        try:
            frames, _ = read_video(path, indices)
        except DataError as e:
            self.skipped[str(path)] = str(e)
            raise
        label = torch.tensor(self.labels[index], dtype=torch.int64)
        return {
            "video": self.transform(frames),
            "label": label,
            "path": str(path),
            "indices": torch.from_numpy(indices),
        }

    def split(self, val_fraction: float, seed: int = 0) -> tuple[LabelledVideos, LabelledVideos]:
        """(train, val): `val_fraction` of each class's videos (at least one of a class with two or more)
        go to val, chosen by `seed`; val takes middle clips. Both share this dataset's `skipped`."""
        if not 0.0 < val_fraction < 1.0:
            raise DataError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
        generator = torch.Generator().manual_seed(seed)
        labels = torch.tensor(self.labels)
        val: list[int] = []
        for c in range(len(self.classes)):
            members = torch.nonzero(labels == c).flatten()
            members = members[torch.randperm(len(members), generator=generator)]
            if len(members) >= 2:
                val.extend(members[: max(1, round(val_fraction * len(members)))].tolist())
        if not val:
            raise DataError(
                f"{self.root} has too few videos to hold some out for validation; add videos or pass a "
                "separate validation folder"
            )
        held_out = set(val)
        train = [i for i in range(len(self)) if i not in held_out]
        return self._subset(train, self.random_clip), self._subset(sorted(val), False)

    def _subset(self, indices: list[int], random_clip: bool) -> LabelledVideos:
        part = copy.copy(self)
        part.files = [self.files[i] for i in indices]
        part.labels = [self.labels[i] for i in indices]
        part.lengths = [self.lengths[i] for i in indices]
        part.random_clip = random_clip
        return part

    def report(self) -> str:
        """'skipped N of M files: path (reason); ...'."""
        reasons = "; ".join(f"{path} ({reason})" for path, reason in self.skipped.items())
        return f"skipped {len(self.skipped)} of {self.total} files" + (f": {reasons}" if reasons else "")
