"""Read and write video files with PyAV: frames are uint8 RGB arrays `[T, H, W, 3]`."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from worldjepa.errors import DataError, ShapeError
from worldjepa.io import atomic_path

# Everything PyAV or the OS raises for a file that is missing, unreadable or not a video.
_DECODE_ERRORS = (av.FFmpegError, OSError, ValueError, IndexError, EOFError)


def _open_video(path: Path):
    container = av.open(str(path))
    if not container.streams.video:
        container.close()
        raise DataError(f"cannot read video {path}: the file has no video stream")
    return container


def _decode_error(path: Path, error: Exception) -> DataError:
    return DataError(
        f"cannot read video {path}: {error}. Check that the file exists and is a complete video."
    )


def _fps(stream) -> float:
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate else 0.0


def read_video(path: str | Path, indices: Sequence[int] | None = None) -> tuple[np.ndarray, float]:
    """Decode frames `indices` (all frames when None) of `path`: (uint8 `[T, H, W, 3]`, fps).

    Frames come back in the order of `indices`, repeats allowed. Decoding is sequential and stops
    after the largest requested index. Raises DataError naming the path and the reason when the
    file is missing, not a video, truncated, or shorter than the largest index.
    """
    path = Path(path)
    wanted = None if indices is None else [int(i) for i in indices]
    if wanted is not None and (not wanted or min(wanted) < 0):
        raise DataError(f"cannot read video {path}: frame indices must be non-negative and not empty")
    last = None if wanted is None else max(wanted)
    needed = None if wanted is None else set(wanted)
    decoded: dict[int, np.ndarray] = {}
    count = 0
    try:
        with _open_video(path) as container:
            stream = container.streams.video[0]
            fps = _fps(stream)
            for count, frame in enumerate(container.decode(stream), start=1):
                i = count - 1
                if needed is None or i in needed:
                    decoded[i] = frame.to_ndarray(format="rgb24")
                if last is not None and i >= last:
                    break
    except _DECODE_ERRORS as e:
        raise _decode_error(path, e) from e
    if count == 0:
        raise DataError(f"cannot read video {path}: it has no decodable frames (empty or truncated file)")
    if wanted is None:
        return np.stack([decoded[i] for i in range(count)]), fps
    if last >= count:
        raise DataError(
            f"cannot read video {path}: frame {last} was requested but only {count} frames decode "
            "(the file may be truncated)"
        )
    return np.stack([decoded[i] for i in wanted]), fps


def count_frames(path: str | Path) -> int:
    """Number of frames of `path`: the container's count when it has one, else by decoding."""
    path = Path(path)
    try:
        with _open_video(path) as container:
            stream = container.streams.video[0]
            if stream.frames > 0:
                return int(stream.frames)
            return sum(1 for _ in container.decode(stream))
    except _DECODE_ERRORS as e:
        raise _decode_error(path, e) from e


def write_video(path: str | Path, frames: np.ndarray, fps: float = 8, crf: int = 18) -> None:
    """Write uint8 `frames` `[T, H, W, 3]` to an H.264 mp4 at `path`, atomically.

    H and W must be even (yuv420p halves the colour planes). `crf` is x264's quality
    (0 lossless, 18 visually lossless, 23 its default), with one encoder thread. x264 can still,
    rarely, encode the same frames differently; only at crf 0 is what decodes always the same.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ShapeError(f"write_video expects frames [T, H, W, 3] with T >= 1, got shape {frames.shape}")
    if frames.dtype != np.uint8:
        raise ShapeError(f"write_video expects uint8 frames, got {frames.dtype}; convert with np.uint8 first")
    _, height, width, _ = frames.shape
    if height % 2 or width % 2:
        raise ShapeError(
            f"write_video needs even height and width for H.264 yuv420p, got {height}x{width}; "
            "pad or crop the frames by one pixel"
        )
    with atomic_path(path) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream(
            "libx264", rate=Fraction(fps).limit_denominator(1001), options={"crf": str(crf), "threads": "1"}
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            container.mux(
                stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24"))
            )
        container.mux(stream.encode(None))
