"""Video transforms: uint8 frames `[T, H, W, 3]` in, float clip `[C, T, H, W]` out.

The evaluation transform follows V-JEPA 2 and transformers' `VJEPA2VideoProcessor`: resize the
short side to `int(crop_size * 256 / 224)` (bilinear, antialiased), center-crop `crop_size`,
rescale by 1/255, normalize with the ImageNet mean and std. `ProcessorTransform` is that processor
bit for bit (torchvision's uint8 resize, offsets rounded down, fused normalization), for released
weights; `VideoTransform` resizes in float and rounds offsets, within one grey level of it, and is
what worldjepa's datasets use. The training transform is V-JEPA 2's random resized crop, one crop
shared by all frames of a clip.

Transforms take an optional `generator` so a dataset can make each item's randomness a function
of (seed, index, epoch); see `item_generator`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from worldjepa.errors import ShapeError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def item_generator(seed: int, index: int, epoch: int = 0) -> torch.Generator:
    """A torch.Generator that depends only on (seed, index, epoch)."""
    state = np.random.default_rng((seed, index, epoch)).integers(2**62)
    return torch.Generator().manual_seed(int(state))


def frames_to_uint8(frames: np.ndarray | Tensor) -> Tensor:
    """uint8 `[T, H, W, 3]` (numpy or torch) -> uint8 `[T, 3, H, W]`."""
    if isinstance(frames, Tensor):
        x = frames
    else:
        array = np.asarray(frames)
        x = torch.from_numpy(array if array.flags.writeable else array.copy())
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ShapeError(f"expected video frames [T, H, W, 3], got shape {tuple(x.shape)}")
    if x.dtype != torch.uint8:
        raise ShapeError(f"expected uint8 frames (0..255), got {x.dtype}; convert them to uint8 first")
    return x.permute(0, 3, 1, 2)


def frames_to_tensor(frames: np.ndarray | Tensor) -> Tensor:
    """uint8 `[T, H, W, 3]` (numpy or torch) -> float `[T, 3, H, W]` in 0..255."""
    return frames_to_uint8(frames).float()


def resize(x: Tensor, height: int, width: int) -> Tensor:
    """Bilinear antialiased resize of `[T, C, H, W]` 0..255 values, rounded to integers.

    Rounding mirrors torchvision on uint8 input, which transformers' processor resizes.
    """
    if (x.shape[-2], x.shape[-1]) == (height, width):
        return x
    x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    return x.round_().clamp_(0, 255)


def resize_uint8(x: Tensor, height: int, width: int) -> Tensor:
    """Bilinear antialiased resize of uint8 `[T, C, H, W]`, as torchvision's `resize` computes it.

    torchvision resizes uint8 in uint8 (fixed-point kernel) on a CPU whose capability names AVX2, and
    in float32 rounded back elsewhere; the two differ by one level on many pixels, so follow its rule.
    """
    if (x.shape[-2], x.shape[-1]) == (height, width):
        return x
    size = (height, width)
    if x.device.type == "cpu" and "AVX2" in torch.backends.cpu.get_cpu_capability():
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    x = F.interpolate(x.float(), size=size, mode="bilinear", align_corners=False, antialias=True)
    return x.round_().to(torch.uint8)


def uint8_to_clip(x: Tensor, normalize: bool = True) -> Tensor:
    """uint8 `[T, C, H, W]` -> float `[C, T, H, W]`: (x - 255 mean) / (255 std), transformers' fused
    rescale-and-normalize; x / 255 without `normalize`."""
    x = x.float()
    if normalize:
        scale = 1.0 / (1.0 / 255.0)
        mean = (torch.tensor(IMAGENET_MEAN) * scale).view(1, 3, 1, 1)
        std = (torch.tensor(IMAGENET_STD) * scale).view(1, 3, 1, 1)
        x = (x - mean) / std
    else:
        x = x * (1.0 / 255.0)
    return x.permute(1, 0, 2, 3).contiguous()


def to_clip(x: Tensor, normalize: bool = True) -> Tensor:
    """`[T, C, H, W]` 0..255 -> `[C, T, H, W]` in [0, 1], then ImageNet-normalized if `normalize`."""
    x = x / 255.0
    if normalize:
        mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        x = (x - mean) / std
    return x.permute(1, 0, 2, 3).contiguous()


WHOLE_FRAME_KINDS = ("moving_digits", "physics")  # the built-in synthetic video sets


def eval_transform(kind: str, crop_size: int) -> VideoTransform:
    """The evaluation transform for clips of data `kind` (a `DataConfig.kind`): the built-in synthetic
    sets are resized whole, so nothing near the border is lost (their objects move to the edges);
    anything else gets V-JEPA 2's short side to crop x 256/224 and a centre crop."""
    return VideoTransform(crop_size, preserve_border=kind in WHOLE_FRAME_KINDS)


class VideoTransform:
    """Evaluation transform: short-side resize, center crop, rescale, normalize.

    `preserve_border=True` resizes the short side to `crop_size` itself (V-JEPA 2's option of the
    same name), so a square video keeps its whole frame.
    """

    def __init__(self, crop_size: int, normalize: bool = True, preserve_border: bool = False):
        self.crop_size = int(crop_size)
        self.normalize = normalize
        self.short_side = self.crop_size if preserve_border else int(self.crop_size * 256 / 224)

    def resized_size(self, h: int, w: int) -> tuple[int, int]:
        """(height, width) after the short-side resize of an `h` x `w` frame."""
        if h <= w:
            return self.short_side, int(self.short_side * w / h)
        return int(self.short_side * h / w), self.short_side

    def __call__(self, frames: np.ndarray | Tensor, generator: torch.Generator | None = None) -> Tensor:
        """uint8 `[T, H, W, 3]` -> float `[C, T, crop, crop]`; `generator` is unused (deterministic)."""
        x = frames_to_tensor(frames)
        height, width = self.resized_size(*x.shape[-2:])
        x = resize(x, height, width)
        top = int(round((height - self.crop_size) / 2.0))
        left = int(round((width - self.crop_size) / 2.0))
        x = x[..., top : top + self.crop_size, left : left + self.crop_size]
        return to_clip(x, self.normalize)


class RandomGrayscaleVideo:
    """With probability `p`, turn a whole clip grey before `transform` (SimCLR's colour drop).

    Grey is the ITU-R BT.601 luma, kept in all three channels, so that colour alone cannot tell
    clips apart and the encoder must also use what objects look like. uint8 `[T, H, W, 3]` in,
    whatever `transform` returns out.
    """

    LUMA = (0.299, 0.587, 0.114)

    def __init__(self, transform: Callable[..., Tensor], p: float):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"grey-scale probability must be in [0, 1], got {p}")
        self.transform = transform
        self.p = float(p)

    def __call__(self, frames: np.ndarray | Tensor, generator: torch.Generator | None = None) -> Tensor:
        x = frames_to_uint8(frames)  # [T, 3, H, W]
        if torch.rand((), generator=generator).item() < self.p:
            luma = (x.float() * torch.tensor(self.LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True)
            x = luma.round().clamp(0, 255).to(torch.uint8).expand_as(x)
        return self.transform(x.permute(0, 2, 3, 1), generator=generator)


class ProcessorTransform(VideoTransform):
    """transformers' `VJEPA2VideoProcessor` bit for bit: what released V-JEPA 2 weights expect."""

    def __call__(self, frames: np.ndarray | Tensor, generator: torch.Generator | None = None) -> Tensor:
        """uint8 `[T, H, W, 3]` -> float `[C, T, crop, crop]`; `generator` is unused (deterministic)."""
        x = frames_to_uint8(frames)
        height, width = self.resized_size(*x.shape[-2:])
        x = resize_uint8(x, height, width)
        top = int((height - self.crop_size) / 2.0)
        left = int((width - self.crop_size) / 2.0)
        x = x[..., top : top + self.crop_size, left : left + self.crop_size]
        return uint8_to_clip(x, self.normalize)


def random_resized_crop_box(
    height: int,
    width: int,
    scale: tuple[float, float],
    ratio: tuple[float, float],
    generator: torch.Generator,
) -> tuple[int, int, int, int]:
    """(top, left, h, w) of a crop covering `scale` of the area with aspect `ratio` (w/h).

    torchvision's rule: ten tries with area uniform in `scale` and log-aspect uniform in `ratio`;
    if none fits, the largest center crop whose aspect is within `ratio`.
    """
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * torch.empty(1).uniform_(scale[0], scale[1], generator=generator).item()
        aspect = math.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1], generator=generator).item())
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            top = int(torch.randint(0, height - h + 1, (1,), generator=generator).item())
            left = int(torch.randint(0, width - w + 1, (1,), generator=generator).item())
            return top, left, h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        w, h = int(round(height * max(ratio))), height
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


class RandomResizedCropVideo:
    """Training transform (V-JEPA 2): one random resized crop for all frames, optional flip.

    Defaults are V-JEPA 2's pretraining values: area scale (0.3, 1.0), aspect (0.75, 1.35).
    Randomness comes from the `generator` passed to the call, else from one made from `seed`.
    """

    def __init__(
        self,
        crop_size: int,
        scale: tuple[float, float] = (0.3, 1.0),
        ratio: tuple[float, float] = (0.75, 1.35),
        hflip: bool = False,
        normalize: bool = True,
        seed: int = 0,
    ):
        self.crop_size = int(crop_size)
        self.scale = scale
        self.ratio = ratio
        self.hflip = hflip
        self.normalize = normalize
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, frames: np.ndarray | Tensor, generator: torch.Generator | None = None) -> Tensor:
        """uint8 `[T, H, W, 3]` -> float `[C, T, crop, crop]`."""
        generator = self.generator if generator is None else generator
        x = frames_to_tensor(frames)
        top, left, h, w = random_resized_crop_box(x.shape[-2], x.shape[-1], self.scale, self.ratio, generator)
        x = resize(x[..., top : top + h, left : left + w], self.crop_size, self.crop_size)
        if self.hflip and torch.rand(1, generator=generator).item() < 0.5:
            x = x.flip(-1)
        return to_clip(x, self.normalize)
