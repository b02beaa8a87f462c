"""Embed image and video files with a trained encoder: one row per clip, saved as .npy or .safetensors.

A video is cut into clips of the encoder's `num_frames` frames, `frame_step` apart, one clip starting
every `stride` frames (default `num_frames * frame_step`: back to back); only whole clips are made.
Images are one-frame clips (a video encoder repeats them over a tubelet). Both are short-side resized
and center-cropped to the encoder's `img_size`. Files that cannot be read, or are too short for one
clip, are skipped and listed (with the reason) in the JSON index written beside the output.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor, nn

from worldjepa.data.images import IMAGE_EXTENSIONS
from worldjepa.data.transforms import VideoTransform
from worldjepa.data.video_clips import VideoClips, check_clip_settings
from worldjepa.errors import ConfigError, DataError, ShapeError
from worldjepa.eval.features import clip_transform, frozen_encoder
from worldjepa.io import atomic_path, write_json

OUTPUT_FORMATS = (".npy", ".safetensors")


def index_path(out: str | Path) -> Path:
    """Where the JSON index of an embeddings file goes: `<out>.json`."""
    out = Path(out)
    return out.with_name(out.name + ".json")


def check_output(out: Path) -> None:
    if out.suffix.lower() not in OUTPUT_FORMATS:
        raise ConfigError(
            f"Cannot write embeddings to '{out}': the extension must be one of {', '.join(OUTPUT_FORMATS)}."
        )


def save_embeddings(out: Path, embeddings: np.ndarray) -> None:
    """Atomically write `embeddings` as .npy or as .safetensors (key "embeddings")."""
    with atomic_path(out) as tmp:
        if out.suffix.lower() == ".npy":
            with open(tmp, "wb") as f:  # np.save on a path would append ".npy" to the temporary name
                np.save(f, embeddings)
        else:
            from safetensors.numpy import save_file

            save_file({"embeddings": np.ascontiguousarray(embeddings)}, str(tmp))


def read_image(path: Path, transform: VideoTransform) -> Tensor:
    """An image file as a one-frame clip `[C, 1, H, W]`."""
    try:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as e:
        raise DataError(f"cannot read image {path}: {e}") from e
    return transform(pixels[None])


def file_clips(
    path: Path, num_frames: int, frame_step: int, stride: int | None, transform: VideoTransform
) -> Iterator[tuple[Tensor, dict[str, Any]]]:
    """(clip `[C, T, H, W]`, index entry) for each clip of a video, or the one clip of an image.

    An entry holds the clip number, its frame numbers, first and last frame, and the time in seconds
    from the first frame's start to the last frame's end (None when the video has no frame rate).
    A video that stops decoding after some clips yields them, then raises DataError saying why.
    """
    if not path.is_file():
        raise DataError(f"cannot read {path}: no such file")
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        entry = {
            "clip": 0,
            "frames": [0],
            "start_frame": 0,
            "end_frame": 0,
            "start_time": None,
            "end_time": None,
        }
        yield read_image(path, transform), entry
        return
    clips = VideoClips(path, num_frames, transform, frame_step, stride)
    for window, clip in clips:
        fps = clips.fps
        yield (
            clip,
            {
                "clip": window.index,
                "frames": list(window.frames),
                "start_frame": window.start,
                "end_frame": window.end,
                "start_time": window.start / fps if fps else None,
                "end_time": (window.end + 1) / fps if fps else None,
            },
        )
    if clips.error is not None:
        raise DataError(f"{path}: {clips.error}; the clips before that are kept")


@torch.no_grad()
def encode_clips(encoder: nn.Module, clips: list[Tensor], tokens: bool, device: torch.device) -> list[Tensor]:
    """Per clip: tokens `[K, D]` or their mean `[D]`; clips of one shape share a forward pass."""
    out: list[Tensor | None] = [None] * len(clips)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, clip in enumerate(clips):
        by_shape.setdefault(tuple(clip.shape), []).append(i)
    for members in by_shape.values():
        x = torch.stack([clips[i] for i in members]).to(device)
        if x.shape[2] == 1:  # images: [B, C, 1, H, W] -> [B, C, H, W]
            x = x[:, :, 0]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            z = encoder(x)
        z = z.float().cpu()
        for row, i in enumerate(members):
            out[i] = z[row] if tokens else z[row].mean(0)
    return out


def embed_files(
    paths: Sequence[str | Path],
    checkpoint: str | Path,
    out: str | Path,
    tokens: bool = False,
    batch_size: int = 8,
    frame_step: int = 1,
    stride: int | None = None,
    progress: bool = True,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Embed the clips of `paths` with `frozen_encoder(checkpoint)`; write `out` and `<out>.json`.

    `out` holds float32 `[N, D]` (mean over tokens) or, with `tokens`, `[N, K, D]`; N counts the clips
    of every file that could be read, `batch_size` of them per forward pass. Returns the index that is
    also written to `<out>.json`: {"model", "embeddings", "shape", "tokens", "frames_per_clip",
    "frame_step", "stride", "items": [{"path", "index", "clip", "frames", "start_frame", "end_frame",
    "start_time", "end_time"}], "skipped": [{"path", "reason"}], "warnings": [{"path", "reason"}]}.
    Raises DataError when no file gives a clip.
    """
    from rich.progress import Progress

    out = Path(out)
    check_output(out)
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}.")
    if not paths:
        raise DataError("No input files given; pass at least one image or video.")
    device = torch.device(device)
    encoder = frozen_encoder(checkpoint).to(device)
    num_frames = encoder.config.num_frames
    stride = check_clip_settings(num_frames, frame_step, stride)
    transform = clip_transform(checkpoint, encoder.config.img_size)
    paths = [Path(p) for p in paths]
    rows: list[Tensor] = []
    items: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    warnings: list[dict[str, str]] = []
    pending: list[Tensor] = []

    def flush() -> None:
        rows.extend(encode_clips(encoder, pending, tokens, device))
        pending.clear()

    with Progress(disable=not progress) as bar:
        task = bar.add_task("Embedding", total=len(paths))
        for path in paths:
            try:
                for clip, entry in file_clips(path, num_frames, frame_step, stride, transform):
                    items.append({"path": str(path), "index": len(items), **entry})
                    pending.append(clip)
                    if len(pending) == batch_size:
                        flush()
            except DataError as e:
                made = sum(item["path"] == str(path) for item in items)
                (warnings if made else skipped).append({"path": str(path), "reason": str(e)})
            bar.update(task, advance=1, description=f"Embedding ({len(items)} clips)")
        if pending:
            flush()
    if not rows:
        reasons = "; ".join(f"{s['path']} ({s['reason']})" for s in skipped)
        raise DataError(f"None of the {len(paths)} input files gave a clip: {reasons}")
    shapes = sorted({tuple(r.shape) for r in rows})
    if len(shapes) > 1:
        raise ShapeError(
            f"The inputs give different token counts {shapes} (images and videos, or different "
            "sizes); embed them separately or leave out --tokens to get one pooled vector per clip."
        )
    embeddings = torch.stack(rows).numpy()
    save_embeddings(out, embeddings)
    index = {
        "model": str(checkpoint),
        "embeddings": str(out),
        "shape": list(embeddings.shape),
        "tokens": tokens,
        "frames_per_clip": num_frames,
        "frame_step": frame_step,
        "stride": stride,
        "items": items,
        "skipped": skipped,
        "warnings": warnings,
    }
    write_json(index_path(out), index)
    return index
