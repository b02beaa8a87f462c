"""The command-line tool on tiny models: pretrain, resume, probe, embed, info, presets, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.numpy import load_file
from typer.testing import CliRunner

from worldjepa.cli import app, probe_data
from worldjepa.data import write_video
from worldjepa.hub import save_model_files
from worldjepa.models import create_model
from worldjepa.train.config import load_pretrain_config

CONFIGS = sorted((Path(__file__).parents[1] / "configs").glob("*.yaml"))

TINY = {
    "model": {"encoder": "vit_test", "predictor": "predictor_test"},
    "data": {"kind": "digits", "crop_size": 32, "batch_size": 8},
    "masks": {"kind": "multiblock", "num_targets": 2},
    "optim": {"steps": 2, "warmup_steps": 1},
    "run": {"device": "cpu", "progress": False, "tensorboard": False, "checkpoint_every": 1},
}


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def failed_cleanly(result, *words: str) -> bool:
    """Exit status 1, an `error:` line holding every word, and no traceback."""
    return (
        result.exit_code == 1
        and "error:" in result.output
        and all(w in result.output for w in words)
        and "Traceback" not in result.output
    )


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("recipe") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


@pytest.fixture(scope="module")
def run_dir(recipe, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "tiny"
    result = invoke("pretrain", "--config", recipe, "--set", "optim.lr=0.002", "--seed", 3, "--out", out)
    assert result.exit_code == 0, result.output
    assert "model dir" in result.output and "final loss" in result.output
    return out


def test_pretrain_applies_overrides_and_seed(run_dir):
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["run"]["seed"] == 3 and saved["optim"]["lr"] == 0.002
    assert saved["run"]["out_dir"] == str(run_dir)
    assert (run_dir / "model" / "model.safetensors").is_file()


def test_mistyped_set_key_is_a_clean_error(recipe, tmp_path):
    result = invoke("pretrain", "--config", recipe, "--set", "optim.stepz=3", "--out", tmp_path / "r")
    assert failed_cleanly(result, "optim.stepz", "steps")


def test_resume_continues(recipe, tmp_path):
    out = tmp_path / "run"
    assert invoke("pretrain", "--config", recipe, "--out", out).exit_code == 0
    again = invoke("pretrain", "--config", recipe, "--out", out)
    assert failed_cleanly(again, "--resume")
    longer = invoke("pretrain", "--config", recipe, "--out", out, "--resume", "--set", "optim.steps=3")
    assert failed_cleanly(longer, "optim.steps", "config.yaml")
    resumed = invoke("pretrain", "--config", out / "config.yaml", "--resume", "--set", "run.log_every=5")
    assert resumed.exit_code == 0, resumed.output
    assert "Resumed" in resumed.output and "step 2" in resumed.output


def test_probe_writes_json(run_dir, tmp_path):
    report_path = tmp_path / "probe.json"
    result = invoke(
        "probe",
        "--checkpoint",
        run_dir / "model",
        "--set",
        "data.crop_size=16",
        "--kinds",
        "knn,linear",
        "--seed",
        1,
        "--probe-seeds",
        2,
        "--json",
        report_path,
    )
    assert result.exit_code == 0, result.output
    assert "effective rank" in result.output and "knn" in result.output
    assert "mean of 2 probes (seeds 1, 2)" in result.output
    report = json.loads(report_path.read_text())
    assert {"checkpoint", "data", "kinds", "seed", "probes", "effective_rank", "width"} <= set(report)
    assert report["data"]["kind"] == "digits" and report["data"]["crop_size"] == 16
    scores = report["probes"]["label"]
    assert set(scores) == {"knn", "linear"} and all(0 <= acc <= 1 for acc in scores.values())
    # Two probe seeds (the seed and the next): the report gives their mean and keeps each.
    assert report["probe_seeds"] == [1, 2]
    per_seed = report["by_probe_seed"]["probes"]["label"]
    assert all(len(accs) == 2 for accs in per_seed.values())
    assert scores["linear"] == pytest.approx(sum(per_seed["linear"]) / 2)


def test_probe_rejects_bad_options(run_dir):
    model = run_dir / "model"
    assert failed_cleanly(invoke("probe", "--checkpoint", model, "--kinds", "linaer"), "linear")
    assert failed_cleanly(invoke("probe", "--checkpoint", model, "--probe-seeds", 0), "probe_seeds")
    assert failed_cleanly(invoke("probe", "--checkpoint", model, "--set", "optim.lr=1"), "data.")
    assert failed_cleanly(invoke("probe", "--checkpoint", model, "--set", "data.crop=8"), "data.crop")


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("videos")
    rng = np.random.default_rng(0)
    write_video(root / "a.mp4", rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8))
    write_video(root / "b.mp4", rng.integers(0, 256, (4, 36, 48, 3), dtype=np.uint8))
    (root / "corrupt.mp4").write_bytes(b"\x00not a video")
    return [root / "a.mp4", root / "corrupt.mp4", root / "b.mp4"]


@pytest.fixture(scope="module")
def video_model(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    return save_model_files(tmp_path_factory.mktemp("video_model"), {"encoder": create_model("vit_test")})


def test_embed_npy_with_corrupt_file(videos, video_model, tmp_path):
    out = tmp_path / "emb.npy"
    result = invoke("embed", *videos, "--checkpoint", video_model, "--out", out, "--batch-size", 2)
    assert result.exit_code == 0, result.output
    assert np.load(out).shape == (2, 32)
    index = json.loads((tmp_path / "emb.npy.json").read_text())
    assert [Path(i["path"]).name for i in index["items"]] == ["a.mp4", "b.mp4"]
    assert [Path(s["path"]).name for s in index["skipped"]] == ["corrupt.mp4"]
    assert "corrupt.mp4" in result.output and "Embedded 2 of 3" in result.output


def test_embed_tokens_and_safetensors(videos, video_model, tmp_path):
    assert (
        invoke(
            "embed", *videos, "--checkpoint", video_model, "--out", tmp_path / "t.npy", "--tokens"
        ).exit_code
        == 0
    )
    assert np.load(tmp_path / "t.npy").shape == (2, 32, 32)
    assert (
        invoke("embed", *videos, "--checkpoint", video_model, "--out", tmp_path / "e.safetensors").exit_code
        == 0
    )
    assert load_file(str(tmp_path / "e.safetensors"))["embeddings"].shape == (2, 32)


def test_embed_errors(videos, video_model, tmp_path):
    bad_ext = invoke("embed", videos[0], "--checkpoint", video_model, "--out", tmp_path / "e.txt")
    assert failed_cleanly(bad_ext, ".npy")
    all_bad = invoke("embed", videos[1], "--checkpoint", video_model, "--out", tmp_path / "e.npy")
    assert failed_cleanly(all_bad, "corrupt.mp4")


def test_info(run_dir, tmp_path):
    result = invoke("info", run_dir / "model")
    assert result.exit_code == 0, result.output
    for word in ("encoder", "predictor", "target_encoder", "18,944", "vit_test", "digits", "multiblock"):
        assert word in result.output
    assert failed_cleanly(invoke("info", tmp_path / "nowhere"), "nowhere", "does not exist")


def test_presets():
    result = invoke("presets")
    assert result.exit_code == 0 and "vit_large" in result.output and "303,885,312" in result.output


def test_unknown_option_is_a_usage_error():
    assert invoke("presets", "--bogus").exit_code == 2


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_configs_load(path):
    from worldjepa.train.world_model_config import load_world_model_config

    load = load_world_model_config if path.name.startswith("world_model") else load_pretrain_config
    assert load(path).run.out_dir.startswith("runs/")


def test_all_configs_present():
    assert {p.name for p in CONFIGS} >= {
        "ijepa_digits.yaml",
        "vjepa_moving_digits_ema.yaml",
        "vjepa_moving_digits_sigreg.yaml",
        "world_model_two_rooms.yaml",
    }


def test_probe_data_without_recipe_follows_the_encoder(video_model):
    data = probe_data(video_model, "digits", None, ["data.batch_size=4"])
    assert (data.kind, data.crop_size, data.frames_per_clip, data.batch_size) == ("digits", 32, 4, 4)
