"""Video decoding, transforms, clip sampling and VideoDataset on tiny files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import unnormalize_clip

from worldjepa.data import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    RandomGrayscaleVideo,
    RandomResizedCropVideo,
    VideoDataset,
    VideoTransform,
    count_frames,
    read_video,
    sample_clip,
    write_video,
)
from worldjepa.data.factory import DataConfig, build_dataset
from worldjepa.errors import DataError, ShapeError


def moving_square(frames: int = 8, height: int = 32, width: int = 48) -> np.ndarray:
    """uint8 [T, H, W, 3]: a white square sliding right over a gray background."""
    video = np.full((frames, height, width, 3), 60, dtype=np.uint8)
    for t in range(frames):
        video[t, 8:20, 2 * t : 2 * t + 12] = 255
    return video


def test_write_then_read_back(tmp_path):
    frames = moving_square()
    path = tmp_path / "clip.mp4"
    write_video(path, frames, fps=8)
    decoded, fps = read_video(path)
    assert decoded.shape == frames.shape and decoded.dtype == np.uint8
    assert fps == pytest.approx(8.0)
    assert np.abs(decoded.astype(int) - frames).mean() < 4
    assert count_frames(path) == 8
    assert not list(tmp_path.glob(".*tmp")), "the temporary file was left behind"


def test_read_selected_indices_in_order(tmp_path):
    frames = moving_square()
    write_video(tmp_path / "clip.mp4", frames)
    all_frames, _ = read_video(tmp_path / "clip.mp4")
    picked, _ = read_video(tmp_path / "clip.mp4", [5, 0, 5])
    np.testing.assert_array_equal(picked, all_frames[[5, 0, 5]])
    with pytest.raises(DataError, match="only 8 frames"):
        read_video(tmp_path / "clip.mp4", [8])


def test_write_rejects_bad_frames(tmp_path):
    with pytest.raises(ShapeError, match="even"):
        write_video(tmp_path / "odd.mp4", np.zeros((2, 31, 32, 3), np.uint8))
    with pytest.raises(ShapeError, match="uint8"):
        write_video(tmp_path / "float.mp4", np.zeros((2, 32, 32, 3), np.float32))
    assert not list(tmp_path.iterdir())


def test_decode_failures_name_the_path(tmp_path):
    with pytest.raises(DataError, match="missing.mp4"):
        read_video(tmp_path / "missing.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n")
    with pytest.raises(DataError, match="notes.mp4"):
        read_video(text)
    with pytest.raises(DataError):
        count_frames(text)
    good = tmp_path / "good.mp4"
    write_video(good, moving_square())
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError, match="cut.mp4"):
        read_video(cut)


def test_video_transform_shape_and_normalization():
    frames = np.full((4, 48, 64, 3), 128, dtype=np.uint8)
    out = VideoTransform(32)(frames)
    assert out.shape == (3, 4, 32, 32) and out.dtype == torch.float32
    expected = (128 / 255 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    torch.testing.assert_close(out.mean(dim=(1, 2, 3)), expected)
    raw = VideoTransform(32, normalize=False)(torch.from_numpy(frames))
    torch.testing.assert_close(raw, torch.full_like(raw, 128 / 255))
    assert VideoTransform(224).short_side == 256
    assert VideoTransform(256).short_side == 292  # transformers' VJEPA2VideoProcessor shortest_edge


def test_video_transform_center_crop_keeps_the_middle():
    frames = np.zeros((1, 64, 64, 3), dtype=np.uint8)
    frames[:, 24:40, 24:40] = 255
    out = VideoTransform(32, normalize=False, preserve_border=True)(frames)
    assert out.shape == (3, 1, 32, 32)
    assert out[:, 0, 14:18, 14:18].min() > 0.9 and out[:, 0, :4, :4].max() < 0.1


def test_video_transform_rejects_bad_input():
    with pytest.raises(ShapeError, match="uint8"):
        VideoTransform(32)(np.zeros((2, 32, 32, 3), np.float32))
    with pytest.raises(ShapeError, match=r"\[T, H, W, 3\]"):
        VideoTransform(32)(np.zeros((2, 32, 32), np.uint8))


def test_random_resized_crop_is_seeded_and_shared_across_frames():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (1, 40, 56, 3), dtype=np.uint8)
    frames = np.repeat(frame, 3, axis=0)
    crop = RandomResizedCropVideo(24)
    a = crop(frames, generator=torch.Generator().manual_seed(1))
    b = crop(frames, generator=torch.Generator().manual_seed(1))
    c = crop(frames, generator=torch.Generator().manual_seed(2))
    assert a.shape == (3, 3, 24, 24)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)
    torch.testing.assert_close(a[:, 0], a[:, 2])


def test_random_grayscale_turns_whole_clips_grey_with_its_probability():
    frames = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    plain = VideoTransform(16, normalize=False, preserve_border=True)
    grey = RandomGrayscaleVideo(plain, 1.0)(frames, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(grey[0], grey[1])
    torch.testing.assert_close(grey[0], grey[2])
    luma = frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(grey[0].numpy() * 255, np.rint(luma), atol=0.5)
    never = RandomGrayscaleVideo(plain, 0.0)(frames, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(never, plain(frames))
    half = RandomGrayscaleVideo(plain, 0.5)
    draws = [half(frames, generator=torch.Generator().manual_seed(s)) for s in range(40)]
    greyed = [bool(torch.equal(d[0], d[1])) for d in draws]
    assert 10 <= sum(greyed) <= 30
    again = half(frames, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(again, draws[3])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        RandomGrayscaleVideo(plain, 1.5)


def test_sample_clip_long_video():
    rng = np.random.default_rng(0)
    for _ in range(20):
        idx = sample_clip(100, 8, 4, rng)
        assert idx.shape == (8,) and np.all(np.diff(idx) == 4) and idx[0] >= 0 and idx[-1] < 100


def test_sample_clip_short_video_lowers_stride_then_pads():
    rng = np.random.default_rng(0)
    idx = sample_clip(20, 8, 4, rng)  # 8 * 4 = 32 > 20: stride drops to 20 // 8 = 2
    assert np.all(np.diff(idx) == 2) and idx[-1] < 20
    np.testing.assert_array_equal(sample_clip(5, 8, 2, rng), [0, 1, 2, 3, 4, 4, 4, 4])
    with pytest.raises(DataError):
        sample_clip(0, 8, 2, rng)


def make_folder(root, corrupt: bool = True):
    for name in ("left/a.mp4", "right/b.mp4"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        write_video(root / name, moving_square(frames=6))
    if corrupt:
        good = (root / "left/a.mp4").read_bytes()
        (root / "left/truncated.mp4").write_bytes(good[: len(good) // 2])
        (root / "right/text.mp4").write_text("hello")
    return root


def test_video_dataset_skips_and_counts_corrupt_files(tmp_path):
    ds = VideoDataset(make_folder(tmp_path), frames_per_clip=4, frame_step=1)
    assert len(ds) == 4 and ds.classes == ["left", "right"]
    paths = []
    for i in range(len(ds)):
        item = ds[i]
        assert item["video"].shape == (3, 4, 32, 48) and item["video"].dtype == torch.float32
        assert item["video"].min() >= 0 and item["video"].max() <= 1
        assert item["label"].dtype == torch.int64
        paths.append(item["path"])
    assert {p.split("/")[-1] for p in paths} == {"a.mp4", "b.mp4"}
    assert len(ds.skipped) == 2 and ds.report().startswith("skipped 2 of 4 files")
    assert ds[0]["label"] == 0 and ds[2]["label"] == 1  # a.mp4 in left/, b.mp4 in right/


def test_video_dataset_is_deterministic_per_seed_index_epoch(tmp_path):
    root = tmp_path / "v"
    root.mkdir()
    write_video(root / "long.mp4", moving_square(frames=24))
    ds = VideoDataset(
        root, frames_per_clip=4, frame_step=2, seed=3, clips_per_video=4, transform=VideoTransform(16)
    )
    first = [ds[i]["indices"].tolist() for i in range(4)]
    assert first == [ds[i]["indices"].tolist() for i in range(4)]
    torch.testing.assert_close(ds[1]["video"], ds[1]["video"])
    ds.set_epoch(1)
    assert first != [ds[i]["indices"].tolist() for i in range(4)]


def test_video_dataset_uses_labels_json(tmp_path):
    make_folder(tmp_path, corrupt=False)
    (tmp_path / "labels.json").write_text(json.dumps({"left/a.mp4": {"speed": 3}, "b.mp4": {"speed": 5}}))
    ds = VideoDataset(tmp_path, frames_per_clip=2)
    assert [int(ds[i]["speed"]) for i in range(2)] == [3, 5] and "label" not in ds[0]
    with pytest.raises(DataError, match="no labels"):
        VideoDataset(tmp_path, labels={"a.mp4": {"speed": 1}})


def test_video_dataset_errors(tmp_path):
    with pytest.raises(DataError, match="no video files"):
        VideoDataset(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        VideoDataset(tmp_path / "nowhere")
    (tmp_path / "x.mp4").write_text("junk")
    (tmp_path / "y.mp4").write_bytes(b"\x00" * 100)
    ds = VideoDataset(tmp_path)
    with pytest.raises(DataError, match="none of the 2 video files"):
        ds[0]
    assert len(ds.skipped) == 2


def test_video_folder_reads_its_split_and_greys_training_clips_only(tmp_path):
    clip = moving_square(frames=8, height=32, width=32)
    clip[..., 0] = 200  # reddish, so a grey clip is told apart
    for split in ("train", "test"):
        (tmp_path / split / "squares").mkdir(parents=True)
        write_video(tmp_path / split / "squares" / f"{split}.mp4", clip)
    config = DataConfig(
        kind="video_folder", root=str(tmp_path), crop_size=32, frames_per_clip=4, grayscale=1.0
    )
    train, key = build_dataset(config, split="train")
    test, _ = build_dataset(config, split="test")
    assert key == "video" and [len(train), len(test)] == [1, 1]
    assert train.files[0].name == "train.mp4" and test.files[0].name == "test.mp4"
    grey, colour = unnormalize_clip(train[0]["video"]), unnormalize_clip(test[0]["video"])
    torch.testing.assert_close(grey[0], grey[2], atol=1e-5, rtol=0)
    assert (colour[0] - colour[2]).abs().max() > 0.3
