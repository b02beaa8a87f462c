"""Physical surprise on tiny models: curves, pair scoring, the pixel baseline, the CLI and its errors."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from worldjepa.cli import app
from worldjepa.data.physics import (
    PROPERTIES,
    generate_physics_pairs,
    generate_physics_videos,
    load_physics_videos,
)
from worldjepa.data.video import write_video
from worldjepa.errors import CheckpointError, ConfigError, DataError
from worldjepa.eval.pixel_baseline import PixelScorer, train_pixel_predictor
from worldjepa.eval.surprise import JepaScorer, load_jepa_scorer, surprise_curve, video_surprise
from worldjepa.eval.surprise_pairs import pair_credit, score_pairs
from worldjepa.hub import save_model_files
from worldjepa.hub.load import load
from worldjepa.hub.pretrained import Pretrained
from worldjepa.models import create_model
from worldjepa.objectives import normalize_targets


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def failed_cleanly(result, *words: str) -> bool:
    return (
        result.exit_code == 1
        and "error:" in result.output
        and "Traceback" not in result.output
        and all(w in result.output for w in words)
    )


@pytest.fixture
def scorer():
    torch.manual_seed(0)
    encoder = create_model("vit_test")  # 32 px, 8 px patches, 4 frames in tubelets of 2
    predictor = create_model("predictor_test")
    return JepaScorer(encoder, predictor, encoder, context_frames=2)


@pytest.fixture
def video_model(tmp_path):
    torch.manual_seed(0)
    models = {"encoder": create_model("vit_test"), "predictor": create_model("predictor_test")}
    return save_model_files(tmp_path / "model", models)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    return generate_physics_pairs(tmp_path_factory.mktemp("pairs"), 1, frames=14, size=32, seed=2)


def random_video(frames: int, height: int = 32, width: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (frames, height, width, 3), dtype=np.uint8)


def test_surprise_curve_has_one_value_per_frame_and_none_before_the_context(scorer):
    curve = surprise_curve(scorer, random_video(10, 48, 40))  # any size: resized to the model's 32 px
    assert curve.per_frame.shape == (10,)
    assert np.all(curve.per_frame[:2] == 0) and np.all(curve.per_frame[2:] > 0)
    assert curve.max >= curve.mean > 0
    assert 2 <= curve.peak_frame < 10 and curve.per_frame[curve.peak_frame] == curve.max


def test_surprise_grows_where_the_video_breaks(scorer):
    still = np.repeat(random_video(1), 12, axis=0)
    broken = still.copy()
    broken[8:] = random_video(4, seed=1)
    calm, jolt = surprise_curve(scorer, still), surprise_curve(scorer, broken)
    assert np.allclose(calm.per_frame[:8], jolt.per_frame[:8], atol=1e-5)  # nothing differs before frame 8
    assert jolt.max > calm.max and jolt.peak_frame >= 8


def test_a_video_shorter_than_the_window_is_refused(scorer):
    with pytest.raises(DataError, match="at least 4"):
        surprise_curve(scorer, random_video(3))


def test_an_image_model_is_not_a_video_model(tmp_path):
    models = {
        "encoder": create_model("vit_test", num_frames=1),
        "predictor": create_model("predictor_test", num_frames=1),
    }
    with pytest.raises(CheckpointError, match="image model"):
        load_jepa_scorer(save_model_files(tmp_path / "image", models))
    encoder_only = save_model_files(tmp_path / "encoder_only", {"encoder": create_model("vit_test")})
    with pytest.raises(CheckpointError, match="needs an encoder and a predictor"):
        load_jepa_scorer(encoder_only)


def test_a_released_format_model_scores_with_its_own_predictor_over_any_window(tmp_path):
    pytest.importorskip("transformers")
    from vjepa2_tiny import tiny_hf_model

    tiny_hf_model().save_pretrained(tmp_path / "hf")  # 4-frame clips, 32 px, like a release's files
    video = random_video(10)
    scorer = load_jepa_scorer(tmp_path / "hf", context_frames=2, future_frames=4)  # a 6-frame window
    assert (scorer.context_frames, scorer.future_frames) == (2, 4)
    curve = surprise_curve(scorer, video)
    assert curve.per_frame.shape == (10,) and np.all(curve.per_frame[2:] > 0)
    loaded = load(tmp_path / "hf")
    by_hand = JepaScorer(loaded.encoder, loaded.predictor, loaded.encoder, 2, future_frames=4)
    assert np.allclose(surprise_curve(by_hand, video).per_frame, curve.per_frame, atol=1e-6)
    default = load_jepa_scorer(tmp_path / "hf")  # no recipe: half the model's clip predicts the rest
    assert (default.context_frames, default.future_frames) == (2, 2)


def test_surprise_needs_the_mask_token_predictor(tmp_path, monkeypatch):
    encoder = create_model("vit_test")
    action_conditioned = Pretrained(encoder, create_model("ac_predictor_test", state_dim=2, extrinsics_dim=1))
    hub_load = importlib.import_module("worldjepa.hub.load")  # the module; worldjepa.hub.load is the function
    monkeypatch.setattr(hub_load, "load", lambda name: action_conditioned)
    with pytest.raises(CheckpointError, match="action-conditioned predictor"):
        load_jepa_scorer("vjepa2-ac-vitg")
    monkeypatch.setattr(hub_load, "load", lambda name: Pretrained(encoder))
    with pytest.raises(CheckpointError, match="no predictor"):
        load_jepa_scorer("some/encoder-only")


def test_a_window_must_be_whole_tubelets():
    encoder, predictor = create_model("vit_test"), create_model("predictor_test")
    with pytest.raises(ConfigError, match="future_frames = 3 must be a positive multiple of the tubelet"):
        JepaScorer(encoder, predictor, encoder, 2, future_frames=3)
    with pytest.raises(ConfigError, match="context_frames = 4"):
        JepaScorer(encoder, predictor, encoder, 4)  # the whole 4-frame clip, nothing left to predict


def test_random_weights_differ_from_the_model(scorer):
    clips = torch.randn(2, 3, 4, 32, 32)
    fresh = scorer.with_random_weights(seed=1)
    assert fresh.window_errors(clips).shape == (2, 2)
    assert not torch.allclose(fresh.window_errors(clips), scorer.window_errors(clips))


def test_persistence_predicts_the_last_context_tubelet_unchanged(scorer):
    clips = torch.randn(3, 3, 4, 32, 32)  # 2 context frames (1 tubelet) and 2 to predict
    truth = normalize_targets(scorer.target_encoder(clips)).detach()  # [3, 2 steps x 16 tokens, D]
    expected = (truth[:, 16:] - truth[:, :16]).abs().mean(dim=(1, 2))
    errors = scorer.persistence().window_errors(clips)
    assert errors.shape == (3, 2)  # one value per predicted frame, the same for both of a tubelet
    assert torch.allclose(errors, expected[:, None].expand(3, 2), atol=1e-6)
    assert not torch.allclose(errors, scorer.window_errors(clips))  # the predictor is not a copy


def test_pairs_are_scored_per_property(scorer, pairs):
    report = score_pairs(pairs, {"jepa": scorer, "random_init": scorer.with_random_weights(3)})
    assert report["pairs"] == 4 and report["properties"] == list(PROPERTIES)
    accuracy = report["models"]["jepa"]["max"]
    assert report["variants"] == ["permanence/vanish"]  # pair 0 of permanence vanishes (pairs.json)
    assert set(accuracy) == {*PROPERTIES, "all", "property_mean", "permanence/vanish"}
    assert all(accuracy[p] in (0.0, 0.5, 1.0) for p in PROPERTIES)
    assert accuracy["permanence/vanish"] == accuracy["permanence"]
    assert accuracy["all"] == pytest.approx(sum(accuracy[p] for p in PROPERTIES) / 4)
    row = report["scores"][0]
    assert accuracy[row["property"]] == pair_credit(
        row["jepa"]["impossible"]["max"], row["jepa"]["possible"]["max"]
    )


def test_a_tie_is_worth_half_a_pair(scorer, tmp_path):
    assert (pair_credit(2.0, 1.0), pair_credit(1.0, 1.0), pair_credit(1.0, 2.0)) == (1.0, 0.5, 0.0)
    video = random_video(8)
    for kind in ("possible", "impossible"):  # twins that never differ: every summary ties
        write_video(tmp_path / f"same_{kind}.mp4", video, fps=8, crf=0)
    accuracy = score_pairs(tmp_path, {"jepa": scorer})["models"]["jepa"]
    assert accuracy["max"]["all"] == accuracy["mean"]["all"] == 0.5


def test_pixel_baseline_trains_and_scores(tmp_path):
    root = generate_physics_videos(tmp_path / "videos", 4, frames=14, size=32)
    dataset = load_physics_videos(root, frames_per_clip=4, crop_size=32)
    model = train_pixel_predictor(dataset, context_frames=2, future_frames=2, steps=3, batch_size=2)
    pixel = PixelScorer(model, size=32)
    curve = surprise_curve(pixel, random_video(8))
    assert curve.per_frame.shape == (8,) and curve.max > 0
    # fewer clips than one batch: it trains on batches of all of them (it used to wait forever)
    train_pixel_predictor(dataset, context_frames=2, future_frames=2, steps=2, batch_size=32)


def test_cli_writes_documented_json_and_a_plot(tmp_path, video_model):
    video = tmp_path / "clip.mp4"
    write_video(video, random_video(9, 40, 56), fps=12)
    out, plot = tmp_path / "s.json", tmp_path / "s.png"
    result = invoke(
        "surprise", video, "--checkpoint", video_model, "--json", out, "--plot", plot, "--device", "cpu"
    )
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(out.read_text())
    assert {"video", "fps", "surprise", "max", "mean", "peak_frame"} <= set(entry)
    assert entry["video"] == str(video) and entry["fps"] == pytest.approx(12)
    assert len(entry["surprise"]) == 9 and entry["max"] == max(entry["surprise"])
    assert entry["surprise"][entry["peak_frame"]] == entry["max"]
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert video_surprise(load_jepa_scorer(video_model), video)["max"] == pytest.approx(entry["max"])


def test_cli_scores_a_folder_of_pairs(tmp_path, video_model, pairs):
    out = tmp_path / "pairs.json"
    result = invoke("surprise", "--pairs", pairs, "--checkpoint", video_model, "--baselines", "--json", out)
    assert result.exit_code == 0, result.output
    assert "Pairwise accuracy" in result.output and all(p in result.output for p in PROPERTIES)
    assert "Permanence by variant" in result.output and "permanence/vanish" in result.output
    report = json.loads(out.read_text())
    assert set(report["models"]) == {"jepa", "random_init", "persistence"} and report["pairs"] == 4


def test_cli_takes_a_released_format_model_and_its_window(tmp_path):
    pytest.importorskip("transformers")
    from vjepa2_tiny import tiny_hf_model

    tiny_hf_model().save_pretrained(tmp_path / "hf")
    video, out = tmp_path / "clip.mp4", tmp_path / "s.json"
    write_video(video, random_video(10))
    args = ("--model", tmp_path / "hf", "--context-frames", 2, "--future-frames", 4, "--json", out)
    result = invoke("surprise", video, *args)
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(out.read_text())
    assert len(entry["surprise"]) == 10 and entry["context_frames"] == 2
    odd = invoke("surprise", video, "--model", tmp_path / "hf", "--future-frames", 3)
    assert failed_cleanly(odd, "future_frames = 3", "multiple of the tubelet size")


def test_cli_errors_are_clean(tmp_path, video_model):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    assert failed_cleanly(invoke("surprise", broken, "--checkpoint", video_model), "cannot read video")
    short = tmp_path / "short.mp4"
    write_video(short, random_video(3))
    assert failed_cleanly(invoke("surprise", short, "--checkpoint", video_model), "at least 4")
    image = save_model_files(tmp_path / "image", {"encoder": create_model("vit_test", num_frames=1)})
    assert failed_cleanly(invoke("surprise", short, "--checkpoint", image), "not a V-JEPA video model")
    assert failed_cleanly(invoke("surprise", "--pairs", tmp_path, "--checkpoint", video_model), "no pairs")
    assert failed_cleanly(invoke("surprise", short), "--checkpoint")


def test_physics_bench_scores_a_released_format_model(tmp_path):
    pytest.importorskip("transformers")
    from vjepa2_tiny import tiny_hf_model

    tiny_hf_model().save_pretrained(tmp_path / "hf")
    data = ("--set", "data.num_videos=2", "--set", f"data.root={tmp_path / 'data'}")
    window = ("--context-frames", 2, "--future-frames", 4)
    out = tmp_path / "bench"
    args = ("--pairs", 1, "--pixel-steps", 2, *data)
    result = invoke("physics-bench", "--out", out, "--model", tmp_path / "hf", *window, *args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "results.json").read_text())
    assert (summary["context_frames"], summary["future_frames"], summary["pretrain_steps"]) == (2, 4, None)
    assert set(summary["accuracy"]) == {"jepa", "random_init", "persistence", "pixels"}


def test_physics_bench_end_to_end_on_a_tiny_budget(tmp_path):
    tiny = [
        "optim.steps=2",
        "optim.warmup_steps=1",
        "data.num_videos=4",
        "data.num_test_videos=2",
        "data.batch_size=2",
        f"data.root={tmp_path / 'data'}",
        "run.checkpoint_every=1",
        "run.monitor_every=100",
    ]
    sets = [a for o in tiny for a in ("--set", o)]
    out = tmp_path / "bench"
    result = invoke("physics-bench", "--out", out, "--pairs", 1, "--seed", 1, "--pixel-steps", 2, *sets)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "results.json").read_text())
    assert set(summary["accuracy"]) == {"jepa", "random_init", "persistence", "pixels"}
    assert all(0 <= summary["accuracy"][m]["property_mean"] <= 1 for m in summary["accuracy"])
    assert (out / "accuracy.png").read_bytes()[:4] == b"\x89PNG"
    assert load_jepa_scorer(summary["checkpoint"]).context_frames == 6  # a checkpoint `surprise` reads
