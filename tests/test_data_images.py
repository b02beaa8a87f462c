"""Image loaders and datasets: sklearn digits, skimage photos, folders, arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from worldjepa.data import PHOTOS, ArrayImageDataset, ImageFolder, load_digits_images, load_photos
from worldjepa.errors import DataError, ShapeError


def test_load_digits_images():
    images, labels = load_digits_images(size=16)
    assert images.shape == (1797, 16, 16, 3) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.int64 and set(labels.tolist()) == set(range(10))
    assert images.min() == 0 and images.max() == 255
    np.testing.assert_array_equal(images[..., 0], images[..., 2])  # gray as RGB


def test_load_photos_is_seeded():
    images, labels = load_photos(size=32, crops_per_photo=2, seed=0)
    assert images.shape == (2 * len(PHOTOS), 32, 32, 3) and images.dtype == np.uint8
    assert labels.tolist() == [i for i in range(len(PHOTOS)) for _ in range(2)]
    again, _ = load_photos(size=32, crops_per_photo=2, seed=0)
    other, _ = load_photos(size=32, crops_per_photo=2, seed=1)
    np.testing.assert_array_equal(images, again)
    assert not np.array_equal(images, other)
    assert images.std() > 20  # real photo content, not blank


def test_image_folder_with_grayscale_and_rgba(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "cat").mkdir()
    (tmp_path / "dog").mkdir()
    Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(tmp_path / "cat/a.png")
    Image.fromarray(rng.integers(0, 256, (24, 24), dtype=np.uint8), mode="L").save(tmp_path / "dog/gray.png")
    Image.fromarray(rng.integers(0, 256, (16, 16, 4), dtype=np.uint8), mode="RGBA").save(
        tmp_path / "dog/rgba.png"
    )
    (tmp_path / "dog/readme.txt").write_text("ignored")
    ds = ImageFolder(tmp_path, size=16)
    assert len(ds) == 3 and ds.classes == ["cat", "dog"]
    items = [ds[i] for i in range(3)]
    assert all(item["image"].shape == (3, 16, 16) and item["image"].dtype == torch.float32 for item in items)
    assert [int(item["label"]) for item in items] == [0, 1, 1]
    aug = ImageFolder(tmp_path, size=16, augment=True, hflip=True, seed=1)
    torch.testing.assert_close(aug[0]["image"], aug[0]["image"])


def test_image_folder_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        ImageFolder(tmp_path / "nowhere")
    with pytest.raises(DataError, match="no images"):
        ImageFolder(tmp_path)
    (tmp_path / "broken.png").write_text("not a png")
    with pytest.raises(DataError, match="broken.png"):
        ImageFolder(tmp_path, size=8)[0]


def test_array_image_dataset():
    images = np.random.default_rng(0).integers(0, 256, (6, 20, 20, 3), dtype=np.uint8)
    labels = {"digit": np.arange(6)}
    plain = ArrayImageDataset(images, labels)
    item = plain[2]
    assert item["image"].shape == (3, 20, 20) and int(item["digit"]) == 2
    assert ArrayImageDataset(images, size=16)[0]["image"].shape == (3, 16, 16)
    aug = ArrayImageDataset(images, labels, size=16, augment=True, hflip=True, seed=0)
    first = aug[1]["image"]
    assert first.shape == (3, 16, 16)
    torch.testing.assert_close(first, aug[1]["image"])
    aug.set_epoch(1)
    assert not torch.equal(first, aug[1]["image"])


def test_array_image_dataset_rejects_bad_input():
    with pytest.raises(ShapeError):
        ArrayImageDataset(np.zeros((4, 8, 8), np.uint8))
    with pytest.raises(ShapeError, match="digit"):
        ArrayImageDataset(np.zeros((4, 8, 8, 3), np.uint8), {"digit": np.arange(3)})
