"""The planning demo (`make demo`): Two-Rooms data -> world model -> CEM, MPPI and gradient planning.

Under 10 minutes on 2 CPU cores: collecting takes seconds, training most of the budget, and each
planner is evaluated on the same unseen episodes (start and goal in opposite rooms).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

from worldjepa.errors import ConfigError
from worldjepa.eval.plan_eval import PlanEvalConfig, evaluate_planning
from worldjepa.hub.world_model_files import load_world_model
from worldjepa.io import write_json
from worldjepa.train.metrics import read_metrics
from worldjepa.train.world_model_config import load_world_model_config
from worldjepa.train.world_model_trainer import train_world_model
from worldjepa.viz import plot_training_curves

DEFAULT_RECIPE = Path("configs/world_model_two_rooms.yaml")
DEMO_PLANNERS = ("gd", "mppi", "cem")
# Planning is much of the demo's time (a failed episode plans 100 env steps): half the candidates of
# the planners' defaults, and a plan every 2 model steps, keep `make demo` under 10 minutes on 2 cores.
# The benchmark uses the defaults.
DEMO_PLANNER_SETTINGS = {"gd": {"samples": 2}, "mppi": {"samples": 128}, "cem": {"samples": 128, "topk": 16}}
DEMO_REPLAN_EVERY = 2
EVAL_SEED = 10_000  # episodes use env seeds from here on; training data uses collection seed 0


def run_planning_demo(
    seed: int = 0,
    out_dir: str | Path = "runs/demo",
    config: str | Path = DEFAULT_RECIPE,
    steps: int | None = None,
    dynamics_steps: int | None = None,
    episodes: int = 50,
    planners: tuple[str, ...] = DEMO_PLANNERS,
    progress: bool = True,
) -> dict[str, Any]:
    """Train (or resume) the recipe's world model under `out_dir/world_model` (`steps` and
    `dynamics_steps` replace the recipe's training and refit steps), evaluate each planner on
    `episodes` episodes into `out_dir/<planner>/`, write `out_dir/report.json`; return the report."""
    config, out_dir = Path(config), Path(out_dir)
    if not config.is_file():
        raise ConfigError(f"Demo recipe '{config}' not found; run the demo from the repository root.")
    recipe = load_world_model_config(
        config,
        [
            f"run.out_dir={out_dir / 'world_model'}",
            f"run.seed={seed}",
            f"run.progress={str(progress).lower()}",
        ]
        + ([f"optim.steps={steps}"] if steps is not None else [])
        + ([f"dynamics.steps={dynamics_steps}"] if dynamics_steps is not None else []),
    )
    result = train_world_model(recipe, resume=True)
    model_dir = str(result.model_dir)
    jobs = [(model_dir, name, episodes, EVAL_SEED + seed, str(out_dir / name)) for name in planners]
    evaluations = evaluate_planners(jobs, torch.get_num_threads(), progress)
    report = {
        "model": model_dir,
        "training": {
            "seconds": result.seconds,
            "steps": result.steps,
            "samples_per_s": result.samples_per_s,
            "final_loss": result.final_loss,
        },
        "planners": evaluations,
        "files": {
            "report": str(out_dir / "report.json"),
            "training_plot": str(
                plot_training_curves(read_metrics(result.run_dir), out_dir / "training.png", "World model")
            ),
        },
    }
    for evaluation in evaluations:
        for name, path in evaluation["pictures"].items():
            report["files"][f"{evaluation['planner']}_{name}"] = path
    write_json(out_dir / "report.json", report)
    return report


def evaluate_planners(jobs: list[tuple], threads: int, progress: bool) -> list[dict[str, Any]]:
    """`evaluate_planner` on each job, in order. With `threads` > 1 every planner runs in its own
    process of `max(1, threads // processes)` threads: a tiny model's planning uses one thread well
    and two badly, and three single-thread processes on 2 cores finish sooner than two followed by
    the third alone. Each process's numbers are fixed by its seed and thread count."""
    processes = len(jobs) if threads > 1 else 1
    if processes <= 1:
        return [evaluate_planner(*job, threads=threads, progress=progress) for job in jobs]
    if progress:
        print(f"Planning with {', '.join(job[1] for job in jobs)} in {processes} processes...", flush=True)
    context = multiprocessing.get_context("spawn")  # fork after torch's thread pools can deadlock
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = [pool.submit(evaluate_planner, *job, threads=max(1, threads // processes)) for job in jobs]
        return [future.result() for future in futures]


def evaluate_planner(
    model_dir: str, planner: str, episodes: int, seed: int, out_dir: str, threads: int, progress: bool = False
) -> dict[str, Any]:
    """Load the world model in `model_dir` and evaluate `planner` with the demo's settings, on
    `threads` threads (the process's count is restored afterwards)."""
    model, meta = load_world_model(model_dir)
    config = PlanEvalConfig(
        episodes=episodes,
        seed=seed,
        planner=planner,
        planner_overrides=DEMO_PLANNER_SETTINGS.get(planner, {}),
        replan_every=DEMO_REPLAN_EVERY,
    )
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return evaluate_planning(model, meta, config, out_dir, progress=progress)
    finally:
        torch.set_num_threads(before)
