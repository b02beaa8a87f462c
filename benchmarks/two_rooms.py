"""Two-Rooms planning: train the default world model (and its step-dynamics refit) on CPU, then plan.

Prints one JSON object: training wall time and samples/s; per planner the success rate (4.5 px and
2 px, start and goal in opposite rooms), mean final distance and planning ms per env action; with
--ablation, the same for recipe variants (no rollout loss, no anti-collapse term, anti-collapse over
the batch instead of within trajectories, no smoothness term, inverse dynamics, patch-token latents)
evaluated on fewer episodes; with --true-dynamics, CEM and MPPI planning with the env's own dynamics
(the planners' ceiling), at their defaults and with the SETTLING settings; with --leaks, CEM with the
SETTLING settings on true dynamics whose inner wall lets that fraction of blocked motion through (how
exact a learned model's walls must be); with --door-margins, the same with true dynamics whose door is
that many px wider on each side (negative: narrower) than the frame shows (how exact a learned model's
door edges must be); with --learned-energy, CEM with the SETTLING settings on the true
dynamics scored in the trained model's latent (how good that latent is as an energy, apart from its
predictor; `--model-dir` takes an already trained model). The trained model's wall leak (how much of a
16-env-step push into the wall its predictor lets through) and its door margin (how much wider than the
real one its door is) are always reported. Pictures land in --out.
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

from worldjepa.envs import TwoRoomsTrueDynamics
from worldjepa.envs.learned_energy_dynamics import LearnedEnergyDynamics
from worldjepa.eval.door_edges import door_edges
from worldjepa.eval.plan_eval import PlanEvalConfig, env_for, evaluate_planning
from worldjepa.eval.wall_push import wall_push
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
    # The step-dynamics refit needs a compact latent: patch tokens plan with their predictor.
    "patch_tokens": ["model.latent=tokens", "dynamics.steps=0"],
}
# Sampling-planner settings that let the agent settle on the goal: with the true dynamics they took CEM
# and MPPI from about 50-75 % (V-JEPA 2-AC's final-step L1 energy) to 98 % (50 episodes). A final-step
# energy leaves the first actions of a plan free, so the agent wanders near the goal; the path term
# prefers getting there early and staying. The planners' defaults now use this energy with 4 iterations.
SETTLING = {"distance": "l2", "path_weight": 0.3, "noise_beta": 2.0, "iterations": 8}
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
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the JSON report
        result = train_world_model(load_world_model_config(RECIPE, pairs), resume=True)
    return result.model_dir, {
        "steps": result.steps,
        "train_seconds": round(result.seconds, 1),  # world model and step-dynamics refit
        "wall_seconds_with_collection": round(time.perf_counter() - started, 1),
        "samples_per_s": round(result.samples_per_s, 1),
    }


def evaluate(
    model_dir: Path | None,
    planner: str,
    episodes: int,
    seed: int,
    out: Path,
    overrides: dict | None = None,
    leak: float = 0.0,
    true_dynamics: bool = False,
    door_margin: float = 0.0,
) -> dict:
    """Planner results on unseen episodes, with the trained model in `model_dir` or (None) the env's
    true dynamics, whose inner wall lets `leak` of blocked motion through and whose door is
    `door_margin` px wider on each side; with a model and `true_dynamics`, the true dynamics scored in
    the model's latent."""
    if model_dir:
        model, meta = load_world_model(model_dir)
    else:
        model, meta = TwoRoomsTrueDynamics(leak=leak, door_margin=door_margin), {}
    if model_dir and true_dynamics:
        model = LearnedEnergyDynamics(model)
    config = PlanEvalConfig(
        episodes=episodes, seed=EVAL_SEED + seed, planner=planner, planner_overrides=overrides or {}
    )
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
    parser.add_argument("--planners", nargs="+", default=["gd", "mppi", "cem", "tree"])
    parser.add_argument("--steps", type=int, default=None, help="Training steps (default: the recipe's).")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="Recipe overrides for the default model, e.g. dynamics.steps=20000 (refit step dynamics).",
    )
    parser.add_argument(
        "--settling", action="store_true", help="Plan with the default model using the SETTLING settings."
    )
    parser.add_argument("--ablation", action="store_true", help="Also train and evaluate the variants.")
    parser.add_argument("--ablation-episodes", type=int, default=50)
    parser.add_argument("--variants", nargs="+", default=list(ABLATIONS), choices=list(ABLATIONS))
    parser.add_argument(
        "--skip-default", action="store_true", help="Skip the default model (run it separately)."
    )
    parser.add_argument(
        "--true-dynamics",
        action="store_true",
        help="Also plan with the env's true dynamics (the planners' ceiling): defaults and SETTLING.",
    )
    parser.add_argument(
        "--leaks",
        nargs="*",
        type=float,
        default=[],
        help="Also plan (CEM, SETTLING) with true dynamics whose wall lets these fractions through.",
    )
    parser.add_argument(
        "--door-margins",
        nargs="*",
        type=float,
        default=[],
        help="Also plan (CEM, SETTLING) with true dynamics whose door is this many px wider per side.",
    )
    parser.add_argument(
        "--learned-energy",
        action="store_true",
        help="Also plan (CEM, SETTLING) with the true dynamics scored in the trained model's latent.",
    )
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="With --skip-default: the trained model to use."
    )
    parser.add_argument("--out", type=Path, default=Path("runs/bench_two_rooms"))
    args = parser.parse_args()
    started = time.time()
    training, planners, ablation = {}, {}, {}
    model_dir = args.model_dir
    if not args.skip_default:
        model_dir, training = train("default", args.set, args.seed, args.out, args.steps)
        settings = SETTLING if args.settling else {}
        planners = {
            name: evaluate(model_dir, name, args.episodes, args.seed, args.out / "default" / name, settings)
            for name in args.planners
        }
    if args.ablation:
        for name in args.variants:
            overrides = ABLATIONS[name]
            variant_dir, variant_training = train(name, overrides, args.seed, args.out, args.steps)
            ablation[name] = variant_training | evaluate(
                variant_dir, args.planners[0], args.ablation_episodes, args.seed, args.out / name
            )
    true_dynamics = {}
    if args.true_dynamics:
        for name in ("cem", "mppi"):
            for label, overrides in (("defaults", {}), ("settling", SETTLING)):
                true_dynamics[f"{name}_{label}"] = evaluate(
                    None,
                    name,
                    args.episodes,
                    args.seed,
                    args.out / "true_dynamics" / f"{name}_{label}",
                    overrides,
                )
    leaky_walls = {
        str(leak): evaluate(
            None, "cem", args.episodes, args.seed, args.out / "leaky_walls" / str(leak), SETTLING, leak
        )
        for leak in args.leaks
    }
    door_margins = {
        str(margin): evaluate(
            None,
            "cem",
            args.episodes,
            args.seed,
            args.out / "door_margins" / str(margin),
            SETTLING,
            door_margin=margin,
        )
        for margin in args.door_margins
    }
    walls, door = {}, {}
    if model_dir is not None:
        model, meta = load_world_model(model_dir)
        env = env_for(meta, {})
        walls = {k: round(v, 3) for k, v in wall_push(model, env, seed=args.seed).items()}
        edges = door_edges(model, env, seed=args.seed)
        door = {
            "door_margin": None if edges["door_margin"] is None else round(edges["door_margin"], 2),
            "pass": {str(k): round(v, 2) for k, v in edges["pass"].items()},
        }
    learned_energy = {}
    if args.learned_energy:
        if model_dir is None:
            parser.error(
                "--learned-energy needs the default model: leave out --skip-default or give --model-dir."
            )
        learned_energy = evaluate(
            model_dir,
            "cem",
            args.episodes,
            args.seed,
            args.out / "learned_energy",
            SETTLING,
            true_dynamics=True,
        )
    report = {
        "machine": {
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "recipe": RECIPE,
        "recipe_overrides": args.set,
        "planner_settings": "settling" if args.settling else "defaults",
        "seed": args.seed,
        "eval_seeds": [EVAL_SEED + args.seed, EVAL_SEED + args.seed + args.episodes - 1],
        "training": training,
        "planners": planners,
        "ablation": ablation,
        "true_dynamics": true_dynamics,
        "leaky_walls": leaky_walls,
        "door_margins": door_margins,
        "wall_push": walls,
        "door_edges": door,
        "learned_energy": learned_energy,
        "wall_seconds": round(time.time() - started, 1),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    sys.exit(main())
