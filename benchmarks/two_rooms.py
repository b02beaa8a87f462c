"""Two-Rooms planning: train the default world model on CPU, then plan on unseen episodes.

Prints one JSON object: training wall time and samples/s; per planner the success rate (4.5 px and
2 px, start and goal in opposite rooms), mean final distance and planning ms per env action; with
--ablation, the same for recipe variants (no rollout loss, no anti-collapse term, anti-collapse over
the batch instead of within trajectories, no smoothness term, inverse dynamics, patch-token latents)
evaluated on fewer episodes. Pictures land in --out.
Usage: python benchmarks/two_rooms.py [--seed 0] [--episodes 200] [--out runs/bench_two_rooms]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sys
import time
from pathlib import Path

import torch

from worldjepa.eval.plan_eval import PlanEvalConfig, evaluate_planning
from worldjepa.hub.world_model_files import load_world_model
from worldjepa.planning_demo import EVAL_SEED
from worldjepa.train.world_model_config import load_world_model_config
from worldjepa.train.world_model_trainer import train_world_model

RECIPE = "configs/world_model_two_rooms.yaml"
ABLATIONS = {
    "no_rollout_loss": ["objective.rollout_steps=0"],
    "no_anti_collapse": ["objective.regularizer=none"],
    "anti_collapse_over_batch": ["objective.regularizer_scope=batch"],
    "no_smoothness": ["objective.smoothness_weight=0"],
    "inverse_dynamics": ["model.inverse_dynamics=true", "objective.inverse_dynamics_weight=1.0"],
    "patch_tokens": ["model.latent=tokens"],
}
KEPT = ("success_rate", "success_rate_2px", "mean_final_distance", "mean_steps_to_success")


def train(name: str, overrides: list[str], seed: int, out: Path, steps: int | None) -> tuple[Path, dict]:
    pairs = [
        f"run.out_dir={out / name / 'world_model'}",
        f"run.seed={seed}",
        "run.progress=false",
        *overrides,
    ]
    if steps is not None:
        pairs.append(f"optim.steps={steps}")
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the JSON report
        result = train_world_model(load_world_model_config(RECIPE, pairs), resume=True)
    return result.model_dir, {
        "steps": result.steps,
        "train_seconds": round(result.seconds, 1),
        "samples_per_s": round(result.samples_per_s, 1),
    }


def evaluate(model_dir: Path, planner: str, episodes: int, seed: int, out: Path) -> dict:
    model, meta = load_world_model(model_dir)
    config = PlanEvalConfig(episodes=episodes, seed=EVAL_SEED + seed, planner=planner)
    results = evaluate_planning(model, meta, config, out, progress=False)
    summary = {key: results[key] for key in KEPT}
    summary |= {
        "ms_per_action": round(results["ms_per_action"], 1),
        "ms_per_plan": round(results["ms_per_plan"], 1),
    }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--planners", nargs="+", default=["gd", "mppi", "cem"])
    parser.add_argument("--steps", type=int, default=None, help="Training steps (default: the recipe's).")
    parser.add_argument("--ablation", action="store_true", help="Also train and evaluate the variants.")
    parser.add_argument("--ablation-episodes", type=int, default=50)
    parser.add_argument("--variants", nargs="+", default=list(ABLATIONS), choices=list(ABLATIONS))
    parser.add_argument(
        "--only-ablation", action="store_true", help="Skip the default model (run it separately)."
    )
    parser.add_argument("--out", type=Path, default=Path("runs/bench_two_rooms"))
    args = parser.parse_args()
    started = time.time()
    training, planners, ablation = {}, {}, {}
    if not args.only_ablation:
        model_dir, training = train("default", [], args.seed, args.out, args.steps)
        planners = {
            name: evaluate(model_dir, name, args.episodes, args.seed, args.out / "default" / name)
            for name in args.planners
        }
    if args.ablation or args.only_ablation:
        for name in args.variants:
            overrides = ABLATIONS[name]
            variant_dir, variant_training = train(name, overrides, args.seed, args.out, args.steps)
            ablation[name] = variant_training | evaluate(
                variant_dir, args.planners[0], args.ablation_episodes, args.seed, args.out / name
            )
    report = {
        "machine": {
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "recipe": RECIPE,
        "seed": args.seed,
        "eval_seeds": [EVAL_SEED + args.seed, EVAL_SEED + args.seed + args.episodes - 1],
        "training": training,
        "planners": planners,
        "ablation": ablation,
        "wall_seconds": round(time.time() - started, 1),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    sys.exit(main())
