"""Attentive probes on folders of labelled videos: the dataset, training, evaluation, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from worldjepa.cli import app
from worldjepa.data import write_video
from worldjepa.data.labelled_videos import LabelledVideos, centre_clip
from worldjepa.data.transforms import VideoTransform
from worldjepa.errors import DataError
from worldjepa.eval.official_probe import load_official_probe
from worldjepa.eval.probe_files import load_probe
from worldjepa.eval.video_probe import evaluate_video_probe, train_video_probe
from worldjepa.hub import save_model_files
from worldjepa.models import create_model


def write_class_videos(root, name: str, level: tuple[int, int], count: int, seed: int) -> None:
    """`count` noisy 6-frame videos whose mean brightness lies in `level` (bright or dark)."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        base = rng.integers(*level)
        frames = np.clip(base + rng.normal(0, 20, (6, 32, 32, 3)), 0, 255).astype(np.uint8)
        write_video(root / name / f"{name}_{i}.mp4", frames)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """train/{bright,dark} (6 videos each, plus a corrupt file in dark) and val/{bright,dark} (4 each)."""
    root = tmp_path_factory.mktemp("labelled")
    for split, count, seed in (("train", 6, 0), ("val", 4, 1)):
        write_class_videos(root / split, "bright", (170, 230), count, seed)
        write_class_videos(root / split, "dark", (20, 80), count, seed + 10)
    (root / "train" / "dark" / "broken.mp4").write_bytes(b"not a video")
    return root


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    torch.manual_seed(0)
    return save_model_files(tmp_path_factory.mktemp("model"), {"encoder": create_model("vit_test")})


def dataset(root, **kwargs) -> LabelledVideos:
    return LabelledVideos(root, frames_per_clip=4, frame_step=1, transform=VideoTransform(32), **kwargs)


def test_classes_sorted_and_corrupt_file_skipped(folders):
    videos = dataset(folders / "train")
    assert videos.classes == ["bright", "dark"] and len(videos) == 12 and videos.total == 13
    assert list(videos.skipped) == [str(folders / "train" / "dark" / "broken.mp4")]
    assert "skipped 1 of 13 files" in videos.report() and "broken.mp4" in videos.report()
    item = videos[11]
    assert item["video"].shape == (3, 4, 32, 32) and int(item["label"]) == 1
    assert item["indices"].tolist() == [1, 2, 3, 4]  # the middle 4 of 6 frames
    train, val = videos.split(0.2, seed=0)
    assert len(train) == 10 and len(val) == 2 and sorted(val.labels) == [0, 1] and not val.random_clip
    assert not set(train.files) & set(val.files)


def test_centre_clip_follows_the_short_video_rules():
    assert centre_clip(10, 4, 2).tolist() == [1, 3, 5, 7]
    assert centre_clip(6, 4, 2).tolist() == [1, 2, 3, 4]  # the step shrinks to fit
    assert centre_clip(3, 4, 1).tolist() == [0, 1, 2, 2]  # then the last frame repeats


def test_folder_errors(folders, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        dataset(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no class subfolders with files; put each class"):
        dataset(tmp_path / "empty")
    write_class_videos(tmp_path / "one", "only", (0, 50), 2, 0)
    with pytest.raises(DataError, match="single class .*'only'.*two class subfolders"):
        dataset(tmp_path / "one")
    with pytest.raises(DataError, match=r"\['only'\] that are not among the probe's classes"):
        dataset(tmp_path / "one", classes=["bright", "dark"])
    (tmp_path / "junk" / "a").mkdir(parents=True)
    (tmp_path / "junk" / "b").mkdir()
    (tmp_path / "junk" / "a" / "x.mp4").write_bytes(b"no")
    (tmp_path / "junk" / "b" / "y.mp4").write_bytes(b"no")
    with pytest.raises(DataError, match="none of the 2 files.*skipped 2 of 2"):
        dataset(tmp_path / "junk")
    write_class_videos(tmp_path / "tiny", "a", (0, 50), 1, 0)
    write_class_videos(tmp_path / "tiny", "b", (200, 250), 1, 0)
    with pytest.raises(DataError, match="too few videos to hold some out"):
        dataset(tmp_path / "tiny").split(0.2)


def test_train_probe_beats_chance_and_saves_every_format(folders, model, tmp_path):
    out = tmp_path / "probe"
    report = train_video_probe(
        folders / "train",
        model,
        out,
        val_dir=folders / "val",
        epochs=15,
        batch_size=4,
        lr=3e-3,
        seed=0,
        official=True,
        progress=False,
    )
    assert report["classes"] == ["bright", "dark"]
    assert (report["train_size"], report["val_size"]) == (12, 8)
    assert report["accuracy"] >= 0.875  # bright vs dark: chance is 0.5
    assert [s["path"] for s in report["skipped"]] == [str(folders / "train" / "dark" / "broken.mp4")]
    probe, meta = load_probe(out)
    assert probe.config.depth == 4 and probe.config.num_heads == 2  # the encoder's heads
    assert meta["classes"] == ["bright", "dark"] and meta["accuracy"] == report["accuracy"]
    official = load_official_probe(out / "probe.pt", num_heads=2)
    tokens = torch.randn(3, 32, 32)
    torch.testing.assert_close(official(tokens), probe(tokens), atol=0, rtol=0)
    evaluation = evaluate_video_probe(out, folders / "val", progress=False)
    assert evaluation["accuracy"] == report["accuracy"] and evaluation["size"] == 8
    assert set(evaluation["per_class"]) == {"bright", "dark"}


def test_same_seed_same_probe_with_a_held_out_split(folders, model, tmp_path):
    kwargs = dict(val_fraction=0.2, epochs=2, batch_size=4, progress=False)
    a = train_video_probe(folders / "train", model, tmp_path / "a", seed=1, **kwargs)
    b = train_video_probe(folders / "train", model, tmp_path / "b", seed=1, **kwargs)
    assert (a["train_size"], a["val_size"]) == (10, 2)
    assert a["loss"] == b["loss"] and a["accuracy"] == b["accuracy"]
    assert (tmp_path / "a" / "probe.safetensors").read_bytes() == (
        tmp_path / "b" / "probe.safetensors"
    ).read_bytes()
    assert not (tmp_path / "a" / "probe.pt").exists()


def test_cli_probe_videos(folders, model, tmp_path):
    def invoke(*args):
        return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})

    out = tmp_path / "cli"
    result = invoke(
        "probe-videos",
        folders / "train",
        "--checkpoint",
        model,
        "--val",
        folders / "val",
        "--out",
        out,
        "--seed",
        0,
        "--epochs",
        3,
        "--batch-size",
        4,
        "--official",
        "--device",
        "cpu",
    )
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "broken.mp4" in result.output and "2 classes" in result.output
    assert json.loads((out / "probe.json").read_text())["meta"]["val_size"] == 8
    assert (out / "probe.pt").is_file()
    evaluated = invoke("eval-probe-videos", out, folders / "val", "--device", "cpu")
    assert evaluated.exit_code == 0, evaluated.output
    assert "on 8 videos" in evaluated.output and "bright" in evaluated.output
    single = tmp_path / "single"
    write_class_videos(single, "only", (0, 50), 2, 0)
    failed = invoke("probe-videos", single, "--checkpoint", model, "--out", tmp_path / "x")
    assert failed.exit_code == 1 and "single class" in failed.output and "Traceback" not in failed.output
