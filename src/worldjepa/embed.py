"""Embed image and video files with a trained encoder: one row per file, saved as .npy or .safetensors.

Each video gives one clip: its first `num_frames` frames (the encoder's clip length), stride 1,
the last frame repeated when the video is shorter. Images are one-frame clips (a video encoder
repeats them over a tubelet). Both are short-side resized and center-cropped to the encoder's
`img_size`. Files that cannot be read are skipped and listed in the index written beside the output.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor, nn

from worldjepa.data.images import IMAGE_EXTENSIONS
from worldjepa.data.transforms import VideoTransform
from worldjepa.data.video import count_frames, read_video
from worldjepa.errors import ConfigError, DataError, ShapeError
from worldjepa.hub.model_files import load_encoder
from worldjepa.io import atomic_path, write_json

OUTPUT_FORMATS = (".npy", ".safetensors")


def index_path(out: str | Path) -> Path:
    """Where the JSON index of an embeddings file goes: `<out>.json`."""
    out = Path(out)
    return out.with_name(out.name + ".json")


def first_frames(num_frames_in_video: int, num_frames: int) -> list[int]:
    """Indices of the first `num_frames` frames, the last one repeated when the video is shorter."""
    return [min(i, num_frames_in_video - 1) for i in range(num_frames)]


def load_input(path: Path, num_frames: int, transform: VideoTransform) -> tuple[Tensor, list[int]]:
    """(clip float `[C, T, H, W]`, frame indices) of an image (T = 1) or a video (T = num_frames)."""
    if not path.is_file():
        raise DataError(f"cannot read {path}: no such file")
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        try:
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("RGB"))
        except (OSError, UnidentifiedImageError) as e:
            raise DataError(f"cannot read image {path}: {e}") from e
        return transform(pixels[None]), [0]
    indices = first_frames(count_frames(path), num_frames)
    frames, _ = read_video(path, indices)
    return transform(frames), indices


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
    progress: bool = True,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Embed `paths` with the encoder of model folder `checkpoint`; write `out` and `<out>.json`.

    `out` holds float32 `[N, D]` (mean over tokens) or, with `tokens`, `[N, K, D]`; N counts the
    files that could be read. Returns the index that is also written to `<out>.json`:
    {"model", "embeddings", "shape", "tokens", "items": [{"path", "index", "frames"}],
    "skipped": [{"path", "reason"}]}. Raises DataError when no file can be read.
    """
    out = Path(out)
    check_output(out)
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}.")
    if not paths:
        raise DataError("No input files given; pass at least one image or video.")
    device = torch.device(device)
    encoder = load_encoder(checkpoint).to(device).eval()
    config = encoder.config
    transform = VideoTransform(config.img_size, preserve_border=False)
    paths = [Path(p) for p in paths]
    chunks = [paths[i : i + batch_size] for i in range(0, len(paths), batch_size)]
    if progress:
        from rich.progress import track

        chunks = track(chunks, description="Embedding")
    rows: list[Tensor] = []
    items: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for chunk in chunks:
        clips = []
        for path in chunk:
            try:
                clip, frames = load_input(path, config.num_frames, transform)
            except DataError as e:
                skipped.append({"path": str(path), "reason": str(e)})
                continue
            clips.append(clip)
            items.append({"path": str(path), "index": len(items), "frames": frames})
        rows.extend(encode_clips(encoder, clips, tokens, device))
    if not rows:
        reasons = "; ".join(f"{s['path']} ({s['reason']})" for s in skipped)
        raise DataError(f"None of the {len(paths)} input files could be read: {reasons}")
    shapes = sorted({tuple(r.shape) for r in rows})
    if len(shapes) > 1:
        raise ShapeError(
            f"The inputs give different token counts {shapes} (images and videos, or different "
            "sizes); embed them separately or leave out --tokens to get one pooled vector per file."
        )
    embeddings = torch.stack(rows).numpy()
    save_embeddings(out, embeddings)
    index = {
        "model": str(checkpoint),
        "embeddings": str(out),
        "shape": list(embeddings.shape),
        "tokens": tokens,
        "items": items,
        "skipped": skipped,
    }
    write_json(index_path(out), index)
    return index
