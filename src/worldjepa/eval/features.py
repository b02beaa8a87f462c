"""Frozen features for probes: encoder tokens, the raw-pixel baseline, and input checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from worldjepa.data.transforms import ProcessorTransform, VideoTransform, eval_transform
from worldjepa.errors import CheckpointError, ConfigError, DataError, ShapeError, suggest

Features = tuple[Tensor, dict[str, Tensor]]


def worldjepa_config(checkpoint: str | Path) -> dict | None:
    """The parsed config.json of a worldjepa model folder, or None when `checkpoint` is something else."""
    from worldjepa.hub.model_files import read_model_config

    if not Path(checkpoint).is_dir():
        return None
    try:
        return read_model_config(checkpoint)
    except CheckpointError:  # not a worldjepa folder: worldjepa.load tells what it is
        return None


def worldjepa_models(checkpoint: str | Path) -> list[str] | None:
    """The model names of a worldjepa model folder, or None when `checkpoint` is something else."""
    config = worldjepa_config(checkpoint)
    return None if config is None else list(config["models"])


def frozen_encoder(checkpoint: str | Path) -> nn.Module:
    """The encoder (eval mode) to take features from, by `worldjepa.load`: a release name, a Hugging Face
    repo id, an official .pt, a Hugging Face or a worldjepa folder. A worldjepa folder's EMA
    `target_encoder` is preferred when it has one; elsewhere the `encoder` (as torch.hub loads it)."""
    from worldjepa.hub.load import load

    which = "target_encoder" if "target_encoder" in (worldjepa_models(checkpoint) or []) else "encoder"
    return load(checkpoint, which=which).encoder.eval()


def clip_transform(checkpoint: str | Path, crop_size: int) -> VideoTransform:
    """The preprocessing the encoder of `checkpoint` expects. A worldjepa model folder gets the evaluation
    transform of the data its recipe pretrained on (`worldjepa.data.transforms.eval_transform`: whole
    frames resized for the built-in synthetic video sets, otherwise short side to crop x 256/224 and a
    centre crop). Released V-JEPA 2 weights get transformers' VJEPA2VideoProcessor bit for bit
    (ProcessorTransform)."""
    config = worldjepa_config(checkpoint)
    if config is None:
        return ProcessorTransform(crop_size)
    recipe = config.get("meta", {}).get("recipe", {})
    kind = recipe.get("data", {}).get("kind") if isinstance(recipe, dict) else None
    return eval_transform(kind, crop_size)


@torch.no_grad()
def extract_features(
    encoder: nn.Module,
    loader: Iterable[Mapping[str, Tensor]],
    input_key: str,
    label_keys: Sequence[str],
    device: str | torch.device = "cpu",
    pool_tokens: int | None = None,
    progress: bool = False,
) -> Features:
    """Run a frozen encoder over `loader`: tokens [N, K, D] (float32, CPU) and labels {key: [N]}.

    `encoder(x)` maps a batch `[B, C, H, W]` or `[B, C, T, H, W]` to tokens `[B, N, D]`; it runs in
    eval mode (its training flag is restored afterwards), under bf16 autocast on CUDA only.
    `pool_tokens` average-pools the token axis down to that many tokens (K), to save memory.
    """
    if pool_tokens is not None and pool_tokens < 1:
        raise ConfigError(f"pool_tokens must be a positive token count or None, got {pool_tokens}.")
    device = torch.device(device)
    was_training = encoder.training
    encoder.eval()

    def encode(x: Tensor) -> Tensor:
        x = x.to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            tokens = encoder(x)
        if not isinstance(tokens, Tensor) or tokens.ndim != 3:
            got = tuple(tokens.shape) if isinstance(tokens, Tensor) else type(tokens).__name__
            raise ShapeError(f"the encoder must return tokens [B, N, D], got {got}.")
        tokens = tokens.float()
        if pool_tokens is not None:
            tokens = F.adaptive_avg_pool1d(tokens.transpose(1, 2), pool_tokens).transpose(1, 2)
        return tokens.cpu()

    try:
        return _collect(loader, input_key, label_keys, encode, progress, "Extracting features")
    finally:
        encoder.train(was_training)


@torch.no_grad()
def pixel_features(
    loader: Iterable[Mapping[str, Tensor]],
    input_key: str,
    label_keys: Sequence[str],
    size: int = 16,
) -> Features:
    """The raw-pixels baseline, as tokens [N, K, D] plus labels {key: [N]}.

    Each frame is area-downsampled to `size` x `size`. A video `[B, C, T, H, W]` gives one token per
    frame (K = T, D = C * size * size); an image `[B, C, H, W]` gives one token per row of the
    downsampled image (K = size, D = C * size), so an attentive probe still has tokens to choose from.
    """
    if size < 1:
        raise ConfigError(f"size must be a positive number of pixels, got {size}.")

    def downsample(x: Tensor) -> Tensor:
        x = x.float()
        if x.ndim == 5:
            b, c, t, h, w = x.shape
            frames = x.transpose(1, 2).reshape(b * t, c, h, w)
            small = F.adaptive_avg_pool2d(frames, size)
            return small.reshape(b, t, c * size * size)
        if x.ndim == 4:
            small = F.adaptive_avg_pool2d(x, size)  # [B, C, size, size]
            return small.permute(0, 2, 1, 3).reshape(x.shape[0], size, -1)
        raise ShapeError(
            f"pixel_features needs images [B, C, H, W] or videos [B, C, T, H, W], got {tuple(x.shape)}."
        )

    return _collect(loader, input_key, label_keys, downsample, False, "Downsampling pixels")


def _collect(
    loader: Iterable[Mapping[str, Tensor]],
    input_key: str,
    label_keys: Sequence[str],
    to_tokens: Callable[[Tensor], Tensor],
    progress: bool,
    description: str,
) -> Features:
    """Apply `to_tokens` to every batch's `input_key` and gather tokens [N, K, D] and labels."""
    if isinstance(label_keys, str):
        label_keys = [label_keys]
    batches = loader
    if progress:
        from rich.progress import track

        batches = track(loader, description=description)
    tokens, labels = [], {key: [] for key in label_keys}
    for batch in batches:
        if input_key not in batch:
            raise DataError(
                f"batch has no key {input_key!r} (keys: {sorted(batch)}); pass input_key= one of them."
                + suggest(input_key, batch)
            )
        batch_tokens = to_tokens(batch[input_key])
        for key in label_keys:
            if key not in batch:
                raise DataError(
                    f"batch has no label {key!r} (keys: {sorted(batch)}); fix label_keys."
                    + suggest(key, batch)
                )
            y = torch.as_tensor(batch[key]).reshape(-1)
            if y.numel() != batch_tokens.shape[0]:
                raise ShapeError(
                    f"label {key!r} has {y.numel()} values for a batch of {batch_tokens.shape[0]} inputs; "
                    "give one integer label per sample."
                )
            labels[key].append(y.long().cpu())
        tokens.append(batch_tokens)
    if not tokens:
        raise DataError("the loader yielded no batch; check the dataset path and split.")
    if len({t.shape[1:] for t in tokens}) > 1:
        raise ShapeError(
            f"token shapes differ between batches ({sorted({tuple(t.shape[1:]) for t in tokens})}); "
            "use inputs of one size or pass pool_tokens= to fix the token count."
        )
    return torch.cat(tokens), {key: torch.cat(ys) for key, ys in labels.items()}


def check_probe_data(train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor, ndim: int) -> None:
    """Raise ShapeError unless features have `ndim` dims, labels are [N] integers, and sizes agree."""
    layout = "[N, D]" if ndim == 2 else "[N, K, D]"
    for split, x, y in (("train", train_x, train_y), ("test", test_x, test_y)):
        if x.ndim != ndim:
            raise ShapeError(f"{split} features must be {layout}, got shape {tuple(x.shape)}.")
        if y.ndim != 1 or y.dtype.is_floating_point or y.dtype == torch.bool:
            raise ShapeError(
                f"{split} labels must be integer class ids [N], got {y.dtype} of shape {tuple(y.shape)}."
            )
        if x.shape[0] != y.shape[0]:
            raise ShapeError(
                f"{split} has {x.shape[0]} feature rows but {y.shape[0]} labels; give one label per row."
            )
        if x.shape[0] == 0:
            raise ShapeError(f"{split} split is empty; a probe needs at least one sample.")
    if train_x.shape[-1] != test_x.shape[-1]:
        raise ShapeError(
            f"train and test feature widths differ ({train_x.shape[-1]} vs {test_x.shape[-1]}); "
            "extract both with the same encoder."
        )


def resolve_num_classes(num_classes: int | None, *labels: Tensor) -> int:
    """`num_classes`, or 1 + the largest label; raise ShapeError if a label falls outside [0, C)."""
    low = min(int(y.min()) for y in labels)
    high = max(int(y.max()) for y in labels)
    if num_classes is None:
        num_classes = high + 1
    if low < 0 or high >= num_classes:
        raise ShapeError(
            f"labels span [{low}, {high}] but must lie in [0, {num_classes}); remap them or fix num_classes."
        )
    return num_classes
