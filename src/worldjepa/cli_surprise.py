"""Physical-surprise commands: `surprise` (score videos or matched pairs) and `physics-bench`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from worldjepa.cli_app import DEVICE, OVERRIDES, SEED, app, user_errors
from worldjepa.errors import ConfigError

CHECKPOINT = typer.Option(
    "--checkpoint",
    "--model",
    help="V-JEPA model with its predictor: worldjepa or HF folder, official .pt, HF repo id or release name.",
)
CONTEXT = typer.Option(
    "--context-frames", help="Frames of context per window; default: the recipe's split, else half the clip."
)
FUTURE = typer.Option(
    "--future-frames", help="Frames each window predicts; default: the rest of the model's clip."
)


def accuracy_table(report: dict, groups: list[str], title: str, summary: str = "max") -> Table:
    """Pairwise accuracy per group of pairs (columns: properties, variants, ...) for each model (rows)."""
    table = Table(title=f"{title}, {summary} surprise")
    table.add_column("model")
    for group in groups:
        table.add_column("mean of properties" if group == "property_mean" else group, justify="right")
    for model, summaries in report["models"].items():
        accuracy = summaries[summary]
        table.add_row(model, *(f"{100 * accuracy[g]:.1f} %" for g in groups))
    return table


def print_pairs(console: Console, report: dict) -> None:
    """Accuracy per property, then per variant where the pairs name variants (permanence's vanish /
    appear)."""
    properties = [*report["properties"], "property_mean"] if report["properties"] else []
    title = f"Pairwise accuracy ({report['pairs']} pairs)"
    console.print(accuracy_table(report, [*properties, "all"], title))
    if report["variants"]:
        console.print(accuracy_table(report, report["variants"], "Permanence by variant"))


def videos_table(results: list[dict]) -> Table:
    table = Table(title="Surprise")
    for column in ("video", "frames", "fps", "max", "mean", "peak frame"):
        table.add_column(column, justify="left" if column == "video" else "right")
    for r in results:
        table.add_row(
            r["video"],
            str(len(r["surprise"])),
            f"{r['fps']:.1f}",
            f"{r['max']:.4f}",
            f"{r['mean']:.4f}",
            str(r["peak_frame"]),
        )
    return table


@app.command()
@user_errors
def surprise(
    videos: Annotated[list[Path] | None, typer.Argument(help="Video files (anything PyAV decodes).")] = None,
    checkpoint: Annotated[str | None, CHECKPOINT] = None,
    pairs: Annotated[
        Path | None, typer.Option("--pairs", help="Folder of NAME_possible.mp4 / NAME_impossible.mp4 pairs.")
    ] = None,
    baselines: Annotated[
        bool,
        typer.Option(
            "--baselines",
            help="With --pairs: also score the same model with random weights, and 'nothing changes' "
            "(the last context frame's embeddings as the prediction).",
        ),
    ] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a PNG plot here.")] = None,
    context_frames: Annotated[int | None, CONTEXT] = None,
    future_frames: Annotated[int | None, FUTURE] = None,
    seed: Annotated[int, SEED] = 0,
    device: Annotated[str, DEVICE] = "auto",
):
    """Per-frame physical surprise of videos, or pairwise accuracy over matched possible/impossible pairs."""
    from worldjepa.device import resolve_device
    from worldjepa.eval.surprise import load_jepa_scorer, video_surprise
    from worldjepa.io import write_json
    from worldjepa.seed import seed_everything

    if checkpoint is None:
        raise ConfigError(
            "surprise needs --checkpoint, a V-JEPA model with its predictor (e.g. runs/vjepa_physics/model "
            "or vjepa2-vitl-fpc64-256)."
        )
    if bool(videos) == (pairs is not None):
        raise ConfigError("Give either video files or --pairs DIR (not both, not neither).")
    seed_everything(seed)
    scorer = load_jepa_scorer(checkpoint, context_frames, resolve_device(device), future_frames)
    console = Console()
    if pairs is not None:
        from worldjepa.eval.surprise_pairs import score_pairs
        from worldjepa.viz.surprise_plot import plot_pair_accuracy

        scorers = {"jepa": scorer}
        if baselines:
            scorers |= {"random_init": scorer.with_random_weights(seed), "persistence": scorer.persistence()}
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("pairs", total=None)
            report = score_pairs(
                pairs, scorers, progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
        print_pairs(console, report)
        outputs = {"checkpoint": str(checkpoint), "folder": str(pairs), "seed": seed, **report}
        if plot is not None:
            plot_pair_accuracy(report, plot)
    else:
        from worldjepa.viz.surprise_plot import plot_surprise_curves

        results = []
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("videos", total=len(videos))
            for path in videos:
                results.append(video_surprise(scorer, path))
                bar.advance(task)
        console.print(videos_table(results))
        outputs = results
        if plot is not None:
            plot_surprise_curves(results, plot, f"Surprise under {checkpoint}")
    if json_out is not None:
        write_json(json_out, outputs)
    for path in (json_out, plot):
        if path is not None:
            console.print(f"Wrote {path}", markup=False, soft_wrap=True)


@app.command("physics-bench")
@user_errors
def physics_bench(
    out: Annotated[Path, typer.Option("--out", help="Folder for pairs, checkpoint, results.json and chart.")],
    pairs_per_property: Annotated[int, typer.Option("--pairs", help="Pairs generated per property.")] = 50,
    checkpoint: Annotated[
        str | None,
        typer.Option(
            "--checkpoint", "--model", help="Skip pretraining: score this model (as surprise does)."
        ),
    ] = None,
    context_frames: Annotated[int | None, CONTEXT] = None,
    future_frames: Annotated[int | None, FUTURE] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="YAML recipe (configs/*.yaml); default: the benchmark's own."),
    ] = None,
    overrides: Annotated[list[str] | None, OVERRIDES] = None,
    pixel_steps: Annotated[
        int, typer.Option("--pixel-steps", help="Training steps of the pixel baseline.")
    ] = 1000,
    seed: Annotated[int, SEED] = 0,
    device: Annotated[str, DEVICE] = "auto",
    minutes: Annotated[
        float | None,
        typer.Option("--minutes", help="Pretrain this long (steps measured here), not optim.steps."),
    ] = None,
):
    """Violation-of-expectation benchmark: pretrain on possible videos, score fresh pairs per property
    (V-JEPA, random weights, pixel predictor), write results.json and accuracy.png."""
    from worldjepa.device import resolve_device
    from worldjepa.eval.intphys import BENCHMARK_RECIPE, run_intphys

    summary = run_intphys(
        out,
        pairs_per_property,
        seed=seed,
        checkpoint=checkpoint,
        context_frames=context_frames,
        future_frames=future_frames,
        recipe=config or BENCHMARK_RECIPE,
        overrides=list(overrides or []),
        pixel_steps=pixel_steps,
        device=str(resolve_device(device)),
        minutes=minutes,
    )
    console = Console()
    print_pairs(console, summary["report"])
    console.print(json.dumps({k: v for k, v in summary.items() if k != "report"}, indent=2), markup=False)
