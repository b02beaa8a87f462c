"""Pretrain V-JEPA on moving digits for a fixed budget (CPU by default), then probe the frozen encoder.

For each recipe (EMA target encoder; SIGReg without one) prints, as one JSON object on stdout:
per seed, probe accuracy for digit and motion direction (trained encoder, the same architecture with
random weights, raw pixels), effective rank, training samples/s, and the fraction of the training
device's measured matmul peak that training reaches (model FLOPs per step / step time / peak; fp32 on
CPU, bf16 on CUDA, where training runs bf16 autocast).
With several seeds (`--seed 0 1 2`) each recipe is pretrained and probed once per seed, and a summary
gives the attentive direction probe's gain over random weights as mean, std, min and max: one seed's
gain swung by +-8 points at 3,000 steps. Each probe is trained --probe-seeds times (default 3) on the
same frozen features and the accuracies are their mean: the attentive probe of one model moves by up to
7 points between probe seeds. Plots go to --out (per seed: --out/seed_N).
Usage: python benchmarks/pretrain_probe.py [--seed 0 [1 2]] [--out runs/bench_pretrain] [--set key=value]
       [--device cpu|cuda] [--steps N | --minutes M] [--probe-seeds K]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from worldjepa.device import resolve_device
from worldjepa.eval.probe_report import probe_checkpoint
from worldjepa.models import create_model
from worldjepa.perf import device_matmul_peak, training_step_flops
from worldjepa.train import PretrainConfig, load_pretrain_config, pretrain
from worldjepa.train.budget import steps_within
from worldjepa.train.masking import build_mask_generator
from worldjepa.train.metrics import read_metrics
from worldjepa.viz import plot_probe_report, plot_training_curves

RECIPES = {
    "ema": "configs/vjepa_moving_digits_ema.yaml",
    "sigreg": "configs/vjepa_moving_digits_sigreg.yaml",
}


def step_flops(config) -> float:
    """Analytic FLOPs of one training step of `config` (masks sampled once, as the trainer does)."""
    encoder = create_model(
        config.model.encoder,
        img_size=config.data.crop_size,
        num_frames=config.data.frames_per_clip,
        **config.model.encoder_overrides,
    )
    e = encoder.config
    predictor = create_model(
        config.model.predictor,
        embed_dim=e.embed_dim,
        img_size=e.img_size,
        patch_size=e.patch_size,
        num_frames=e.num_frames,
        tubelet_size=e.tubelet_size,
        **config.model.predictor_overrides,
    )
    masks = build_mask_generator(config.masks, e.grid)(
        config.data.batch_size, torch.Generator().manual_seed(0)
    )
    pairs = [(p.context.shape[1], [t.shape[1] for t in p.targets]) for p in masks]
    return training_step_flops(
        e,
        predictor.config,
        config.data.batch_size,
        pairs,
        target_backward=config.objective.regularizer == "sigreg",
    )


def run_config(name: str, path: str, seed: int, out: Path, overrides: list[str]) -> PretrainConfig:
    """Recipe `path` with `overrides` for the run of `name` at `seed` under `out`."""
    run = [f"run.out_dir={out / name}", f"run.seed={seed}", "run.progress=false"]
    return load_pretrain_config(path, [*run, *overrides])


def budget_steps(name: str, path: str, seed: int, out: Path, overrides: list[str], minutes: float) -> str:
    """The `optim.steps=N` override that fits `minutes` of training of one recipe here, measured once so
    that every seed of the recipe trains the same steps."""
    return f"optim.steps={steps_within(run_config(name, path, seed, out, overrides), minutes).steps}"


def run_recipe(
    name: str, path: str, seed: int, out: Path, peak: float, overrides: list[str], probe_seeds: int
) -> dict:
    """Pretrain recipe `path` (with `overrides`, key=value, run.device among them) at `seed`, probe it
    (probes on CPU features, each trained `probe_seeds` times), and measure it."""
    config = run_config(name, path, seed, out, overrides)
    result = pretrain(config, resume=True)
    report = probe_checkpoint(
        result.model_dir,
        data=config.data,
        kinds=("linear", "attentive"),
        baselines=True,
        seed=seed,
        probe_seeds=probe_seeds,
    )
    plot_probe_report(report, out / f"{name}_probes.png", f"V-JEPA ({name}) on moving digits")
    plot_training_curves(read_metrics(result.run_dir), out / f"{name}_training.png", f"V-JEPA ({name})")
    flops = step_flops(config)
    step_seconds = config.data.batch_size / result.samples_per_s
    return {
        "recipe": path,
        "steps": result.steps,
        "train_seconds": round(result.seconds, 1),
        "samples_per_s": round(result.samples_per_s, 1),
        "gflop_per_step": round(flops / 1e9, 3),
        "fraction_of_matmul_peak": round(flops / step_seconds / peak, 3),
        "width": report["width"],
        "effective_rank": round(report["effective_rank"], 1),
        "effective_rank_fraction": round(report["effective_rank"] / report["width"], 3),
        "random_init_effective_rank": round(report["random_init_stats"]["effective_rank"], 1),
        "accuracy": {
            src: report[key]
            for src, key in (("trained", "probes"), ("random_init", "random_init"), ("pixels", "pixels"))
        },
        "probe_seeds": report["probe_seeds"],
        "direction_attentive_by_probe_seed": {
            src: report["by_probe_seed"][key]["direction"]["attentive"]
            for src, key in (("trained", "probes"), ("random_init", "random_init"))
        },
        "direction_attentive_gain_over_random": round(
            report["probes"]["direction"]["attentive"] - report["random_init"]["direction"]["attentive"], 3
        ),
    }


def gain_summary(runs: list[dict]) -> dict:
    """Mean, std (0 for one run), min and max of the runs' attentive direction gain over random init."""
    gains = [r["direction_attentive_gain_over_random"] for r in runs]
    std = statistics.stdev(gains) if len(gains) > 1 else 0.0
    return {
        "mean": round(statistics.fmean(gains), 3),
        "std": round(std, 3),
        "min": min(gains),
        "max": max(gains),
        "seeds": len(gains),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, nargs="+", default=[0], help="one run per seed")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_pretrain"))
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--steps", type=int, default=None, help="Training steps (default: the recipe's).")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], help="override of both recipes, key=value"
    )
    parser.add_argument("--device", default="cpu", help="training device: cpu, cuda or auto")
    parser.add_argument("--minutes", type=float, default=None, help="train each run this long, not --steps")
    parser.add_argument(
        "--probe-seeds", type=int, default=3, help="train each probe this many times; report the mean"
    )
    args = parser.parse_args()
    if args.probe_seeds < 1:
        parser.error("--probe-seeds must be at least 1")
    if args.minutes is not None and args.steps is not None:
        parser.error("give the training length as --steps or as --minutes, not both")
    device = resolve_device(args.device)
    overrides = [
        f"run.device={device}",
        *args.overrides,
        *([f"optim.steps={args.steps}"] if args.steps is not None else []),
    ]
    started = time.time()
    peak = device_matmul_peak(device)
    several = len(args.seed) > 1

    def out_of(seed: int) -> Path:
        return args.out / f"seed_{seed}" if several else args.out

    results = {}
    for name, path in RECIPES.items():
        if name not in args.recipes:
            continue
        recipe_overrides = overrides
        if args.minutes is not None:
            first = args.seed[0]
            steps = budget_steps(name, path, first, out_of(first), overrides, args.minutes)
            recipe_overrides = [*overrides, steps]
        results[name] = [
            run_recipe(name, path, seed, out_of(seed), peak, recipe_overrides, args.probe_seeds)
            for seed in args.seed
        ]
    print(
        json.dumps(
            {
                "machine": {
                    "cores": torch.get_num_threads(),
                    "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                    "torch": torch.__version__,
                    "python": platform.python_version(),
                    "matmul_peak_gflops": round(peak / 1e9, 1),
                },
                "seeds": args.seed,
                "overrides": overrides,
                "results": results,
                "direction_attentive_gain": {name: gain_summary(runs) for name, runs in results.items()},
                "wall_seconds": round(time.time() - started, 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
