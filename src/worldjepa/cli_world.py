"""World-model commands: collect offline data, train a world model, evaluate planners, the demos."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from worldjepa.cli_app import ENV_KWARGS, OVERRIDES, RECIPE, RESUME, RUN_DIR, SEED, app, user_errors
from worldjepa.errors import ConfigError

# Of the recipe's 2000 training and 20000 refit steps: keep `make demo` (install included) under 10
# minutes on 2 cores, with time left to evaluate three planners.
DEMO_STEPS = 1300
DEMO_DYNAMICS_STEPS = 4000

collect_app = typer.Typer(
    help="Collect offline trajectories from a built-in environment.", no_args_is_help=True
)
app.add_typer(collect_app, name="collect")


def parse_json_option(text: str | None, option: str) -> dict:
    """A JSON object given on the command line, with a clear error when it is not one."""
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{option} must be a JSON object such as '{{\"door_width\": 14}}': {e}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{option} must be a JSON object (key: value pairs), got {text!r}.")
    return value


@collect_app.command("two-rooms")
@user_errors
def collect_two_rooms_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for the shards and card.json.")],
    episodes: Annotated[int, typer.Option("--episodes", help="Number of episodes.")] = 2000,
    steps: Annotated[int, typer.Option("--steps", help="Actions per episode.")] = 32,
    policy: Annotated[
        str, typer.Option("--policy", help="momentum (crosses the door, pushes at the wall) or random.")
    ] = "momentum",
    env_kwargs: Annotated[str | None, ENV_KWARGS] = None,
    seed: Annotated[int, SEED] = 0,
):
    """Two-Rooms trajectories (uint8 frames, actions, true positions) as memory-mappable shards."""
    from rich.progress import Progress

    from worldjepa.data.trajectories import collect_two_rooms

    with Progress() as bar:
        task = bar.add_task("collect", total=episodes)
        root = collect_two_rooms(
            out,
            episodes,
            steps,
            seed=seed,
            env_kwargs=parse_json_option(env_kwargs, "--env-kwargs"),
            policy=policy,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    card = json.loads((root / "card.json").read_text())
    Console().print(
        f"{card['episodes']} episodes x {card['steps']} steps in {root}; "
        f"{card['door_crossing_fraction']:.0%} of episodes cross the door",
        markup=False,
    )


@app.command("train-world-model")
@user_errors
def train_world_model_command(
    config: Annotated[Path | None, RECIPE] = None,
    out: Annotated[Path | None, RUN_DIR] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Trajectories folder (sets data.root).")] = None,
    overrides: Annotated[list[str] | None, OVERRIDES] = None,
    resume: Annotated[bool, RESUME] = False,
    seed: Annotated[int | None, SEED] = None,
):
    """Train an action-conditioned world model (collecting its trajectories first when missing)."""
    from worldjepa.cli_tables import pretrain_table
    from worldjepa.train.world_model_config import load_world_model_config
    from worldjepa.train.world_model_trainer import train_world_model

    pairs = list(overrides or [])
    for key, value in (("run.seed", seed), ("run.out_dir", out), ("data.root", data)):
        if value is not None:
            pairs.append(f"{key}={value}")
    result = train_world_model(load_world_model_config(config, pairs), resume=resume)
    console = Console()
    console.print(pretrain_table(result))
    console.print(f"Evaluate it with: worldjepa eval-plan --checkpoint {result.model_dir}", markup=False)


@app.command("eval-plan")
@user_errors
def eval_plan_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for results.json and pictures.")],
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="World-model folder (or its run folder).")
    ] = None,
    true_dynamics: Annotated[
        bool,
        typer.Option(
            "--true-dynamics",
            help="Plan with the env's own dynamics (the planner's ceiling; cem, mppi). With --checkpoint: "
            "the true dynamics scored in that model's latent (how good its latent is as an energy).",
        ),
    ] = False,
    leak: Annotated[
        float,
        typer.Option(
            "--leak",
            help="With --true-dynamics: the fraction of wall-blocked motion the inner wall lets through "
            "(how exact a learned model's walls must be).",
        ),
    ] = 0.0,
    episodes: Annotated[
        int, typer.Option("--episodes", help="Episodes (start and goal in opposite rooms).")
    ] = 50,
    planner: Annotated[
        str, typer.Option("--planner", help="cem, mppi, gd (gradient) or tree (tree search, then CEM).")
    ] = "cem",
    planner_kwargs: Annotated[
        str | None, typer.Option("--planner-kwargs", help="Planner settings (JSON), e.g. '{\"horizon\": 6}'.")
    ] = None,
    env_kwargs: Annotated[str | None, ENV_KWARGS] = None,
    replan_every: Annotated[int, typer.Option("--replan-every", help="Model steps between plans.")] = 1,
    seed: Annotated[int, SEED] = 10_000,
):
    """Plan in latent space towards goal frames; success rates, timings and pictures."""
    from worldjepa.cli_tables import plan_table
    from worldjepa.envs.learned_energy_dynamics import LearnedEnergyDynamics
    from worldjepa.envs.two_rooms_dynamics import TwoRoomsTrueDynamics
    from worldjepa.eval.plan_eval import PlanEvalConfig, env_for, evaluate_planning
    from worldjepa.hub.world_model_files import load_world_model

    if checkpoint is None and not true_dynamics:
        raise ConfigError("Give --checkpoint (a trained world model), --true-dynamics, or both.")
    if leak and not true_dynamics:
        raise ConfigError("--leak changes the true dynamics' wall: use it with --true-dynamics.")
    env = parse_json_option(env_kwargs, "--env-kwargs")
    model, meta = load_world_model(checkpoint) if checkpoint is not None else (None, {})
    if true_dynamics:
        env_config = env_for(meta, env).config
        if model is None:
            model = TwoRoomsTrueDynamics(env_config, leak=leak)
        elif leak:
            raise ConfigError("--leak applies to the true dynamics alone; leave out --checkpoint.")
        else:
            model = LearnedEnergyDynamics(model, env_config)
    config = PlanEvalConfig(
        episodes=episodes,
        seed=seed,
        planner=planner,
        planner_overrides=parse_json_option(planner_kwargs, "--planner-kwargs"),
        replan_every=replan_every,
        env=env,
    )
    results = evaluate_planning(model, meta, config, out)
    console = Console()
    console.print(plan_table([results]))
    for name, path in results["pictures"].items():
        console.print(f"{name}: {path}", markup=False)
    console.print(f"results: {out / 'results.json'}", markup=False)


@app.command()
@user_errors
def demo(
    seed: Annotated[int, SEED] = 0,
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo's outputs.")] = Path("runs/demo"),
    config: Annotated[Path, typer.Option("--config", help="World-model recipe (YAML).")] = Path(
        "configs/world_model_two_rooms.yaml"
    ),
    steps: Annotated[
        int, typer.Option("--steps", help="Training steps (the recipe has 2000); 0 keeps the recipe's.")
    ] = DEMO_STEPS,
    dynamics_steps: Annotated[
        int,
        typer.Option(
            "--dynamics-steps", help="Step-dynamics refit steps (the recipe has 20000); 0 keeps the recipe's."
        ),
    ] = DEMO_DYNAMICS_STEPS,
    episodes: Annotated[int, typer.Option("--episodes", help="Evaluation episodes per planner.")] = 50,
):
    """Two-Rooms end to end on CPU: collect data, train a world model, plan with gradients, MPPI and CEM."""
    from worldjepa.cli_tables import plan_table
    from worldjepa.planning_demo import run_planning_demo

    report = run_planning_demo(
        seed=seed,
        out_dir=out,
        config=config,
        steps=steps or None,
        dynamics_steps=dynamics_steps or None,
        episodes=episodes,
    )
    console = Console()
    console.print(plan_table(report["planners"]))
    t = report["training"]
    console.print(
        f"world model: {t['steps']} steps in {t['seconds']:.0f} s ({t['samples_per_s']:.0f} samples/s); "
        f"{report['model']}",
        markup=False,
    )
    for name, path in report["files"].items():
        console.print(f"{name}: {path}", markup=False)


@app.command("pretrain-demo")
@user_errors
def pretrain_demo(
    seed: Annotated[int, SEED] = 0,
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo's outputs.")] = Path(
        "runs/pretrain_demo"
    ),
    config: Annotated[Path, typer.Option("--config", help="Pretraining recipe (YAML).")] = Path(
        "configs/vjepa_moving_digits_sigreg.yaml"
    ),
    steps: Annotated[int, typer.Option("--steps", help="Training steps; 0 keeps the recipe's.")] = 1500,
):
    """V-JEPA on moving digits on CPU: pretrain, probe against random weights and pixels, plot."""
    from worldjepa.cli_tables import comparison_table
    from worldjepa.demo import run_demo

    report = run_demo(seed=seed, out_dir=out, config=config, steps=steps or None)
    console = Console()
    console.print(comparison_table(report))
    console.print(
        f"effective rank {report['effective_rank']:.1f} of width {report['width']}; "
        f"trained {report['training']['steps']} steps at {report['training']['samples_per_s']:.0f} "
        f"samples/s in {report['training']['seconds']:.0f} s"
    )
    for name, path in report["files"].items():
        console.print(f"{name}: {path}")
