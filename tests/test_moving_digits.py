"""The built-in moving-digits video set."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from worldjepa.data import generate_moving_digits, load_moving_digits, read_video, render_moving_digit
from worldjepa.errors import DataError

SMALL = {"frames": 8, "size": 32, "digit_size": 12}


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    return generate_moving_digits(tmp_path_factory.mktemp("md"), num_videos=4, seed=0, **SMALL)


def test_generates_videos_labels_and_card(small_set):
    names = [f"video_{i:05d}.mp4" for i in range(4)]
    assert sorted(p.name for p in small_set.glob("*.mp4")) == names
    labels = json.loads((small_set / "labels.json").read_text())
    assert sorted(labels) == names
    for entry in labels.values():
        assert 0 <= entry["digit"] <= 9 and 0 <= entry["direction"] <= 7
    card = json.loads((small_set / "card.json").read_text())
    assert card["params"]["num_videos"] == 4 and sum(card["counts"]["direction"].values()) == 4
    video, fps = read_video(small_set / names[0])
    assert video.shape == (8, 32, 32, 3) and fps == pytest.approx(8.0)
    assert not np.array_equal(video[0], video[-1])  # the digit moves
    assert video.max() > 200 and np.median(video) < 20  # white digit on black


def test_same_seed_same_frames_other_seed_or_split_differs(tmp_path):
    first_set = generate_moving_digits(tmp_path / "first", num_videos=2, seed=0, **SMALL)
    again = generate_moving_digits(tmp_path / "again", num_videos=2, seed=0, **SMALL)
    other = generate_moving_digits(tmp_path / "other", num_videos=2, seed=1, **SMALL)
    test = generate_moving_digits(tmp_path / "test", num_videos=2, seed=0, split="test", **SMALL)
    first, _ = read_video(first_set / "video_00000.mp4")
    np.testing.assert_array_equal(first, read_video(again / "video_00000.mp4")[0])
    assert not np.array_equal(first, read_video(other / "video_00000.mp4")[0])
    assert not np.array_equal(first, read_video(test / "video_00000.mp4")[0])


def test_reuses_a_complete_set_and_regenerates_on_change(tmp_path):
    out = generate_moving_digits(tmp_path, num_videos=3, **SMALL)
    stamp = (out / "video_00000.mp4").stat().st_mtime_ns
    generate_moving_digits(tmp_path, num_videos=3, **SMALL)
    assert (out / "video_00000.mp4").stat().st_mtime_ns == stamp
    generate_moving_digits(tmp_path, num_videos=2, **SMALL)
    assert sorted(p.name for p in out.glob("*.mp4")) == ["video_00000.mp4", "video_00001.mp4"]
    with pytest.raises(DataError, match="split"):
        generate_moving_digits(tmp_path / "bad", num_videos=1, split="val", **SMALL)


def test_direction_label_is_the_initial_velocity():
    digit = np.full((4, 4), 255, dtype=np.uint8)
    checked = 0
    for seed in range(40):
        video, k = render_moving_digit(digit, 2, 64, np.random.default_rng(seed))
        (y0, x0), (y1, x1) = (np.argwhere(video[t, ..., 0]).mean(axis=0) for t in range(2))
        if min(y0, x0, y1, x1) < 4 or max(y0, x0, y1, x1) > 56:  # may have bounced
            continue
        angle = k * math.pi / 4
        assert (x1 - x0) * math.cos(angle) - (y1 - y0) * math.sin(angle) > 0.5
        checked += 1
    assert checked > 20


def test_load_moving_digits(small_set, tmp_path):
    ds = load_moving_digits(small_set, frames_per_clip=4, frame_step=2, crop_size=16)
    item = ds[0]
    assert item["video"].shape == (3, 4, 16, 16)
    assert item["digit"].dtype == torch.int64 and 0 <= int(item["direction"]) <= 7
    assert load_moving_digits(small_set, 4, 1, 16, augment=True)[1]["video"].shape == (3, 4, 16, 16)
    with pytest.raises(DataError, match="generate_moving_digits"):
        load_moving_digits(tmp_path)


def _centroid(frame: np.ndarray) -> np.ndarray:
    """(x, y) of the bright pixels of an [H, W] frame."""
    ys, xs = np.nonzero(frame > 0)
    weights = frame[ys, xs].astype(float)
    return np.array([np.average(xs, weights=weights), np.average(ys, weights=weights)])


@pytest.mark.parametrize("seed", range(12))
def test_direction_label_is_the_net_displacement_the_frames_show(seed):
    digit = np.zeros((6, 6), dtype=np.uint8)
    digit[1:5, 1:5] = 255  # a square, so its centroid is its position
    video, direction = render_moving_digit(digit, 8, 32, np.random.default_rng(seed))
    dx, dy = _centroid(video[-1, ..., 0]) - _centroid(video[0, ..., 0])
    angle = math.degrees(math.atan2(-dy, dx)) % 360  # screen y points down
    gap = abs((angle - 45 * direction + 180) % 360 - 180)
    assert gap <= 22.5 + 5  # rounding to the nearest 45 degrees, plus pixel rounding of positions


def test_photo_backgrounds_keep_the_digit_and_change_the_scene(tmp_path):
    black = generate_moving_digits(tmp_path / "black", num_videos=1, **SMALL)
    photos = generate_moving_digits(tmp_path / "photos", num_videos=1, background="photos", **SMALL)
    plain, _ = read_video(black / "video_00000.mp4")
    scene, _ = read_video(photos / "video_00000.mp4")
    assert plain.shape == scene.shape
    background = plain.max(axis=-1) < 40
    assert scene[background].mean() > plain[background].mean() + 20  # a photo, not black
    assert json.loads((photos / "labels.json").read_text()) == json.loads((black / "labels.json").read_text())
    with pytest.raises(DataError, match="background"):
        generate_moving_digits(tmp_path / "bad", num_videos=1, background="noise", **SMALL)
