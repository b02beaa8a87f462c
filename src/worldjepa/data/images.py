"""Image data: folders of images, sklearn's handwritten digits, skimage's bundled photos, arrays.

Datasets return dict(image=float `[C, H, W]` ImageNet-normalized, <label>=int64 tensor ...).
Images go through the video transforms as one-frame clips.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from worldjepa.data.transforms import (
    RandomResizedCropVideo,
    VideoTransform,
    frames_to_tensor,
    item_generator,
    resize,
    to_clip,
)
from worldjepa.errors import DataError, ShapeError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")

# RGB photos that ship inside scikit-image (no download needed).
PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "stereo_motorcycle",
)

# I-JEPA's random resized crop: area (0.3, 1.0), torchvision's default aspect range.
IMAGE_CROP_SCALE = (0.3, 1.0)
IMAGE_CROP_RATIO = (3 / 4, 4 / 3)


def digit_images(size: int) -> tuple[np.ndarray, np.ndarray]:
    """sklearn's 8x8 digits, bilinearly upsampled: (uint8 `[N, size, size]` white on black, int64 `[N]`).

    Resized in NumPy (scikit-image), not torch: the pixels must not depend on threads or load.
    """
    from skimage.transform import resize as sk_resize
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = digits.images * (255.0 / 16.0)
    images = sk_resize(pixels, (len(pixels), size, size), order=1, anti_aliasing=False, preserve_range=True)
    return np.clip(np.rint(images), 0, 255).astype(np.uint8), digits.target.astype(np.int64)


def load_digits_images(size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """All 1797 sklearn digits as RGB images: (uint8 `[N, size, size, 3]`, labels int64 `[N]`)."""
    images, labels = digit_images(size)
    return np.repeat(images[..., None], 3, axis=-1), labels


def _photo(name: str) -> np.ndarray:
    import skimage.data

    image = getattr(skimage.data, name)()
    return image[0] if isinstance(image, tuple) else image  # stereo_motorcycle: (left, right, disparity)


def photo_crop(size: int, rng: np.random.Generator, dim: float = 1.0) -> np.ndarray:
    """One random square crop of a random bundled photo, resized in NumPy: uint8 `[size, size, 3]`.

    The crop's side is uniform in [short/4, short] of the photo's short side; pixels are scaled by `dim`.
    """
    from skimage.transform import resize as sk_resize

    photo = _photo(PHOTOS[int(rng.integers(len(PHOTOS)))])
    height, width = photo.shape[:2]
    short = min(height, width)
    side = int(rng.integers(short // 4, short + 1))
    top = int(rng.integers(0, height - side + 1))
    left = int(rng.integers(0, width - side + 1))
    crop = photo[top : top + side, left : left + side].astype(np.float64)
    crop = sk_resize(crop, (size, size), order=1, anti_aliasing=True, preserve_range=True) * dim
    return np.clip(np.rint(crop), 0, 255).astype(np.uint8)


def load_photos(size: int = 64, crops_per_photo: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random square crops of skimage's bundled RGB photos (`PHOTOS`), resized to `size`.

    Each crop's side is uniform in [max(size, short/4), short] pixels (short = the photo's short
    side), so crops range from a detail to the whole frame. Returns (uint8 `[P * crops_per_photo,
    size, size, 3]`, photo index int64 `[P * crops_per_photo]`).
    """
    rng = np.random.default_rng(seed)
    crops, labels = [], []
    for label, name in enumerate(PHOTOS):
        photo = torch.from_numpy(_photo(name)).permute(2, 0, 1).float()
        height, width = photo.shape[-2:]
        short = min(height, width)
        for _ in range(crops_per_photo):
            side = int(rng.integers(min(max(size, short // 4), short), short + 1))
            top = int(rng.integers(0, height - side + 1))
            left = int(rng.integers(0, width - side + 1))
            crops.append(resize(photo[None, :, top : top + side, left : left + side], size, size)[0])
            labels.append(label)
    images = torch.stack(crops).permute(0, 2, 3, 1).to(torch.uint8).numpy()
    return images, np.asarray(labels, dtype=np.int64)


def _image_transform(size: int, augment: bool, hflip: bool, seed: int):
    if augment:
        return RandomResizedCropVideo(size, IMAGE_CROP_SCALE, IMAGE_CROP_RATIO, hflip=hflip, seed=seed)
    return VideoTransform(size)


class ImageFolder(torch.utils.data.Dataset):
    """Images (.png/.jpg/.jpeg/.bmp) under `root`; the subfolder an image sits in is its class.

    Class names are the folders relative to `root` ("." for images directly in `root`), sorted,
    in `self.classes`. Without `augment`: short-side resize to `size * 256 / 224` and center crop
    `size`; with it: random resized crop to `size` (and a random flip if `hflip`), drawn from
    (seed, index, epoch). Item: dict(image=float `[3, size, size]`, label=int64, path=str).
    Any image mode (grayscale, RGBA, palette) is converted to RGB.
    """

    def __init__(
        self, root: str | Path, size: int = 224, augment: bool = False, hflip: bool = False, seed: int = 0
    ):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(
                f"image folder {self.root} does not exist; pass a folder with one subfolder per class"
            )
        self.files = sorted(
            p for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
        )
        if not self.files:
            raise DataError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {self.root}; add some")
        parents = [p.parent.relative_to(self.root).as_posix() for p in self.files]
        self.classes = sorted(set(parents))
        self.labels = [self.classes.index(p) for p in parents]
        self.transform = _image_transform(size, augment, hflip, seed)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw different augmentations in `epoch`."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict:
        path = self.files[index]
        try:
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("RGB"))
        except (OSError, UnidentifiedImageError) as e:
            raise DataError(f"cannot read image {path}: {e}; replace or remove the file") from e
        clip = self.transform(pixels[None], generator=item_generator(self.seed, index, self.epoch))
        return {"image": clip[:, 0], "label": torch.tensor(self.labels[index]), "path": str(path)}


class ArrayImageDataset(torch.utils.data.Dataset):
    """uint8 images `[N, H, W, 3]` with labels {name: `[N]` ints}, as normalized float `[3, H, W]`.

    `size` resizes (whole image, bilinear) to `size` x `size`. With `augment`, each item is a random
    resized crop to `size` (default H), plus a random horizontal flip if `hflip`, drawn from
    (seed, index, epoch). Item: dict(image=float `[3, size, size]`, <name>=int64 tensor ...).
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: dict[str, np.ndarray] | None = None,
        size: int | None = None,
        augment: bool = False,
        hflip: bool = False,
        seed: int = 0,
    ):
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ShapeError(f"expected uint8 images [N, H, W, 3], got {images.dtype} {images.shape}")
        self.images = images
        self.labels = {name: np.asarray(value, dtype=np.int64) for name, value in (labels or {}).items()}
        for name, value in self.labels.items():
            if value.shape != (len(images),):
                raise ShapeError(f"labels[{name!r}] has shape {value.shape}, expected ({len(images)},)")
        self.size = size
        self.augment = augment
        self.crop = RandomResizedCropVideo(
            size or images.shape[1], IMAGE_CROP_SCALE, IMAGE_CROP_RATIO, hflip=hflip
        )
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw different augmentations in `epoch`."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        frames = self.images[index][None]
        if self.augment:
            clip = self.crop(frames, generator=item_generator(self.seed, index, self.epoch))
        else:
            x = frames_to_tensor(frames)
            clip = to_clip(resize(x, self.size, self.size) if self.size else x)
        item = {"image": clip[:, 0]}
        for name, value in self.labels.items():
            item[name] = torch.tensor(value[index])
        return item
