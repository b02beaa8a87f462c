"""Violation-of-expectation benchmark (IntPhys-style) on the built-in physics videos.

Generates N fresh pairs per property (permanence, continuity, shape, colour), pretrains V-JEPA on
possible videos with configs/vjepa_physics_slow_encoder.yaml (or scores --checkpoint), and reports
pairwise accuracy (the impossible twin has the larger max surprise) for V-JEPA, the same architecture
with random weights and a pixel-space predictor. Prints one JSON object on stdout; --out keeps the
pairs, the checkpoint (pretrain/model), results.json and accuracy.png.
Usage: python benchmarks/intphys.py [--out runs/bench_intphys] [--pairs 50] [--seed 0] [--threads 2]
       [--device auto] [--minutes 15]
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

from worldjepa.device import resolve_device
from worldjepa.eval.intphys import BENCHMARK_RECIPE, run_intphys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/bench_intphys")
    parser.add_argument("--pairs", type=int, default=50, help="pairs per property")
    parser.add_argument(
        "--checkpoint", default=None, help="score this model (folder, .pt, release) instead of pretraining"
    )
    parser.add_argument("--context-frames", type=int, default=None, help="context frames per window")
    parser.add_argument("--future-frames", type=int, default=None, help="frames each window predicts")
    parser.add_argument("--config", default=BENCHMARK_RECIPE, help="YAML recipe (default: %(default)s)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], help="recipe override key=value"
    )
    parser.add_argument("--pixel-steps", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto (CUDA when there is one), cpu or cuda")
    parser.add_argument(
        "--minutes", type=float, default=None, help="pretrain this long (steps measured here)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    summary = run_intphys(
        args.out,
        args.pairs,
        seed=args.seed,
        checkpoint=args.checkpoint,
        context_frames=args.context_frames,
        future_frames=args.future_frames,
        recipe=args.config,
        overrides=args.overrides,
        pixel_steps=args.pixel_steps,
        device=str(resolve_device(args.device)),
        minutes=args.minutes,
    )
    summary.pop("report")
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
