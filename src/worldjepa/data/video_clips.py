"""A video cut into fixed windows: clips of T frames, `frame_step` apart, one starting every `stride` frames.

Decoding streams frame by frame and each frame is transformed once, however many clips hold it, so a
long video needs memory for one clip's span of frames, not for the whole video. Only whole clips are
made: the tail after the last clip that fits is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from worldjepa.data.video import _DECODE_ERRORS, _decode_error, _fps, _open_video
from worldjepa.errors import ConfigError, DataError


@dataclass(frozen=True)
class ClipWindow:
    """Clip `index` of a video: frame numbers `frames` [T] (first = start, last = end, inclusive)."""

    index: int
    frames: tuple[int, ...]

    @property
    def start(self) -> int:
        return self.frames[0]

    @property
    def end(self) -> int:
        return self.frames[-1]


def clip_span(frames_per_clip: int, frame_step: int) -> int:
    """Frames a clip reaches over, first to last: (T - 1) * frame_step + 1."""
    return (frames_per_clip - 1) * frame_step + 1


def check_clip_settings(frames_per_clip: int, frame_step: int, stride: int | None) -> int:
    """The stride to use (default T * frame_step: clips follow each other without gap or overlap);
    ConfigError unless every setting is a positive frame count."""
    stride = frames_per_clip * frame_step if stride is None else stride
    if frames_per_clip < 1 or frame_step < 1 or stride < 1:
        raise ConfigError(
            f"clip frames, frame step and stride must be at least 1 frame, got {frames_per_clip}, "
            f"{frame_step} and {stride}."
        )
    return stride


def too_short(path: Path, num_frames_in_video: int, frames_per_clip: int, frame_step: int) -> DataError:
    fix = "use a longer video or a smaller frame step" if frame_step > 1 else "use a longer video"
    return DataError(
        f"video {path} is too short: it has {num_frames_in_video} frames and the model needs "
        f"{clip_span(frames_per_clip, frame_step)} ({frames_per_clip} frames, {frame_step} apart); {fix}."
    )


class VideoClips:
    """Iterate over (ClipWindow, clip float `[C, T, H, W]`) of a video file, decoding it once.

    `transform(frames uint8 [T, H, W, 3]) -> [C, T, H, W]` is applied to each needed frame alone.
    After iterating, `fps` and `num_frames` (frames decoded) are set, and `error` holds the reason
    decoding stopped early when some clips were already made. Raises DataError when the file cannot
    be decoded at all or is too short for one clip.
    """

    def __init__(
        self,
        path: str | Path,
        frames_per_clip: int,
        transform: Callable[[np.ndarray], Tensor],
        frame_step: int = 1,
        stride: int | None = None,
    ):
        self.path = Path(path)
        self.frames_per_clip = frames_per_clip
        self.frame_step = frame_step
        self.stride = check_clip_settings(frames_per_clip, frame_step, stride)
        self.transform = transform
        self.fps = 0.0
        self.num_frames = 0
        self.error: str | None = None

    def _wanted(self, i: int, next_start: int) -> bool:
        """Whether frame i belongs to a clip that starts at or after `next_start`."""
        for start in range(next_start, i + 1, self.stride):
            offset = i - start
            if offset % self.frame_step == 0 and offset // self.frame_step < self.frames_per_clip:
                return True
        return False

    def __iter__(self) -> Iterator[tuple[ClipWindow, Tensor]]:
        t, step = self.frames_per_clip, self.frame_step
        buffer: dict[int, Tensor] = {}
        next_start, made = 0, 0
        try:
            container = _open_video(self.path)
        except _DECODE_ERRORS as e:
            raise _decode_error(self.path, e) from e
        with container:
            stream = container.streams.video[0]
            self.fps = _fps(stream)
            frames = container.decode(stream)
            while True:
                try:
                    frame = next(frames, None)
                except _DECODE_ERRORS as e:
                    if made == 0:
                        raise _decode_error(self.path, e) from e
                    self.error = f"decoding stopped after frame {self.num_frames - 1}: {e}"
                    break
                if frame is None:
                    break
                i = self.num_frames
                self.num_frames += 1
                if self._wanted(i, next_start):
                    buffer[i] = self.transform(frame.to_ndarray(format="rgb24")[None])
                while next_start + (t - 1) * step <= i:
                    window = ClipWindow(made, tuple(next_start + step * j for j in range(t)))
                    yield window, torch.cat([buffer[f] for f in window.frames], dim=1)
                    made += 1
                    next_start += self.stride
                    buffer = {f: x for f, x in buffer.items() if f >= next_start}
        if made == 0:
            if self.num_frames == 0:
                raise DataError(
                    f"cannot read video {self.path}: it has no decodable frames (empty or truncated)"
                )
            raise too_short(self.path, self.num_frames, t, step)
