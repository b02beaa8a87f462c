"""The violation-of-expectation benchmark as one call: fresh pairs, pretraining on possible videos
(or a given checkpoint), and pairwise accuracy per property for V-JEPA and its baselines: random
weights, a pixel-space predictor, and "nothing changes" in V-JEPA's own embedding space.

`out_dir` keeps: `pairs/` (the scored pairs), `pretrain/` (the run; `pretrain/model` is a
checkpoint `worldjepa surprise` reads), `results.json` and `accuracy.png`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch

from worldjepa.data.physics import generate_physics_pairs
from worldjepa.errors import ConfigError
from worldjepa.eval.pixel_baseline import PixelScorer, train_pixel_predictor
from worldjepa.eval.surprise import load_jepa_scorer
from worldjepa.eval.surprise_pairs import score_pairs
from worldjepa.io import write_json
from worldjepa.viz.surprise_plot import plot_pair_accuracy

PAIRS_SEED_OFFSET = 1_000  # the scored pairs' generator key never meets the training videos'
BENCHMARK_RECIPE = "configs/vjepa_physics_slow_encoder.yaml"  # pretraining's default recipe


def run_intphys(
    out_dir: str | Path,
    pairs_per_property: int = 50,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    context_frames: int | None = None,
    future_frames: int | None = None,
    recipe: str | Path = BENCHMARK_RECIPE,
    overrides: Sequence[str] = (),
    pixel_steps: int = 1000,
    device: str = "cpu",
    minutes: float | None = None,
) -> dict:
    """Run the benchmark; returns {"accuracy": {model: {property: acc, "property_mean", "all"}}
    (max surprise), "accuracy_mean_surprise" (the same with mean surprise), "checkpoint",
    "seconds", ..., "report" (the full `score_pairs` report, also in results.json)}.

    checkpoint: anything `load_jepa_scorer` takes, a released V-JEPA 2 model included;
    context_frames, future_frames: its window (default: the recipe's split, else half the clip each).
    The pixel baseline trains on the recipe's data (possible videos) for `pixel_steps` steps.
    `minutes` sets pretraining's length by time instead of `optim.steps`: the steps that fit in that
    many minutes on this machine, measured (`worldjepa.train.budget`).
    """
    from worldjepa.data.factory import build_dataset
    from worldjepa.train.config import load_pretrain_config

    if minutes is not None and checkpoint is not None:
        raise ConfigError("a time budget sizes pretraining; with a checkpoint there is none: drop one")
    if minutes is not None and any(o.split("=", 1)[0].strip() == "optim.steps" for o in overrides):
        raise ConfigError("give the pretraining length as minutes or as optim.steps, not both")
    out = Path(out_dir)
    seconds = {}
    started = time.perf_counter()
    pairs = generate_physics_pairs(
        out / "pairs", pairs_per_property, seed=PAIRS_SEED_OFFSET + seed, split="test"
    )
    seconds["generate_pairs"] = time.perf_counter() - started
    config = load_pretrain_config(
        recipe, [f"run.out_dir={out / 'pretrain'}", f"run.seed={seed}", "run.progress=false", *overrides]
    )
    config.run.device = device
    budget, trained_here = None, checkpoint is None
    if trained_here:
        from worldjepa.train.budget import steps_within
        from worldjepa.train.trainer import pretrain

        started = time.perf_counter()
        if minutes is not None:
            budget = steps_within(config, minutes)
            config.optim.steps = budget.steps
            seconds["calibrate"] = time.perf_counter() - started
            started = time.perf_counter()
        checkpoint = pretrain(config, resume=True).model_dir
        seconds["pretrain"] = time.perf_counter() - started
    jepa = load_jepa_scorer(checkpoint, context_frames, device, future_frames)
    started = time.perf_counter()
    config.data.frames_per_clip = jepa.context_frames + jepa.future_frames
    dataset, _ = build_dataset(config.data, split="train", seed=seed)
    pixels = train_pixel_predictor(
        dataset,
        jepa.context_frames,
        jepa.future_frames,
        steps=pixel_steps,
        batch_size=config.data.batch_size,
        seed=seed,
        device=device,
    )
    seconds["pixel_baseline"] = time.perf_counter() - started
    scorers = {
        "jepa": jepa,
        "random_init": jepa.with_random_weights(seed),
        "persistence": jepa.persistence(),
        "pixels": PixelScorer(pixels, config.data.crop_size, jepa.stride, device),  # the size it trained at
    }
    started = time.perf_counter()
    report = score_pairs(pairs, scorers)
    seconds["score"] = time.perf_counter() - started
    summary = {
        "benchmark": "intphys_voe",
        "seed": seed,
        "pairs_per_property": pairs_per_property,
        "pairs": report["pairs"],
        "checkpoint": str(checkpoint),
        "context_frames": jepa.context_frames,
        "future_frames": jepa.future_frames,
        "pretrain_steps": config.optim.steps if trained_here else None,
        "pretrain_budget": None if budget is None else asdict(budget),
        "torch_threads": torch.get_num_threads(),
        "accuracy": {m: s["max"] for m, s in report["models"].items()},
        "accuracy_mean_surprise": {m: s["mean"] for m, s in report["models"].items()},
        "seconds": seconds,
    }
    write_json(out / "results.json", {**summary, "report": report})
    plot_pair_accuracy(report, out / "accuracy.png")
    return {**summary, "report": report}
