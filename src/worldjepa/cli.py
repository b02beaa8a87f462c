"""The `worldjepa` command-line tool: parses arguments, calls library functions, prints with rich.

Pretraining, probing and inspection live here; embedding and video probes in `cli_video`; collecting
data, training world models, planning and the demo in `cli_world`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from worldjepa import (
    cli_hub,  # noqa: F401 (registers convert and releases)
    cli_surprise,  # noqa: F401 (registers surprise and physics-bench)
    cli_video,  # noqa: F401 (registers embed, probe-videos and eval-probe-videos)
    cli_world,  # noqa: F401 (registers the world-model commands)
)
from worldjepa.cli_app import DEVICE, OVERRIDES, RECIPE, RESUME, RUN_DIR, SEED, app, user_errors
from worldjepa.errors import ConfigError, suggest


@app.command()
@user_errors
def pretrain(
    config: Annotated[Path | None, RECIPE] = None,
    overrides: Annotated[list[str] | None, OVERRIDES] = None,
    resume: Annotated[bool, RESUME] = False,
    seed: Annotated[int | None, SEED] = None,
    out: Annotated[Path | None, RUN_DIR] = None,
):
    """Self-supervised pretraining (I-JEPA on images, V-JEPA 2 on video) from a YAML recipe."""
    from worldjepa.cli_tables import pretrain_table
    from worldjepa.train.config import load_pretrain_config
    from worldjepa.train.trainer import pretrain as run_pretrain

    pairs = list(overrides or [])
    if seed is not None:
        pairs.append(f"run.seed={seed}")
    if out is not None:
        pairs.append(f"run.out_dir={out}")
    result = run_pretrain(load_pretrain_config(config, pairs), resume=resume)
    console = Console()
    console.print(pretrain_table(result))
    console.print(
        f"Probe it with: worldjepa probe --checkpoint {result.model_dir}", markup=False, soft_wrap=True
    )


def probe_data(checkpoint: Path, kind: str | None, root: str | None, overrides: list[str]):
    """The checkpoint's training data section with --data-kind, --data-root and --set data.* applied."""
    from worldjepa.config import deep_merge, from_dict, parse_overrides
    from worldjepa.data.factory import DataConfig
    from worldjepa.eval.probe_report import checkpoint_data_fields

    data = checkpoint_data_fields(checkpoint)
    if kind is not None:
        data["kind"] = kind
    if root is not None:
        data["root"] = root
    parsed = parse_overrides(overrides)
    other = sorted(set(parsed) - {"data"})
    if other:
        raise ConfigError(
            f"probe --set only takes data.<key>=<value> (got '{other[0]}'); "
            "for example --set data.batch_size=64."
        )
    return from_dict(DataConfig, deep_merge(data, parsed.get("data", {})), where="data")


@app.command()
@user_errors
def probe(
    checkpoint: Annotated[Path, typer.Option("--checkpoint", help="Model folder (config.json + weights).")],
    data_kind: Annotated[
        str | None, typer.Option("--data-kind", help="Dataset kind; default: the recipe's.")
    ] = None,
    data_root: Annotated[str | None, typer.Option("--data-root", help="Dataset folder.")] = None,
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="Override a data key: --set data.crop_size=32.")
    ] = None,
    kinds: Annotated[str, typer.Option("--kinds", help="Comma-separated probes.")] = "linear,attentive,knn",
    baselines: Annotated[
        bool, typer.Option("--baselines", help="Also probe random weights and raw pixels.")
    ] = False,
    seed: Annotated[int, SEED] = 0,
    probe_seeds: Annotated[
        int,
        typer.Option(
            "--probe-seeds",
            help="Train each probe this many times (seeds SEED, SEED+1, ...); report the mean.",
        ),
    ] = 1,
    device: Annotated[str, DEVICE] = "auto",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON here.")] = None,
):
    """Frozen-feature probes (linear, attentive, kNN) of a trained encoder, with effective rank."""
    from worldjepa.cli_tables import probe_table
    from worldjepa.config import to_dict
    from worldjepa.device import resolve_device
    from worldjepa.eval.probe_report import probe_checkpoint, probe_table_rows
    from worldjepa.eval.probe_suite import PROBE_KINDS
    from worldjepa.io import write_json

    chosen = [k.strip() for k in kinds.split(",") if k.strip()]
    for kind in chosen or [""]:
        if kind not in PROBE_KINDS:
            raise ConfigError(
                f"Unknown probe kind '{kind}'.{suggest(kind, PROBE_KINDS)} Choose from {PROBE_KINDS}."
            )
    data = probe_data(checkpoint, data_kind, data_root, list(overrides or []))
    report = probe_checkpoint(
        checkpoint,
        data,
        kinds=chosen,
        seed=seed,
        baselines=baselines,
        device=str(resolve_device(device)),
        progress=True,
        probe_seeds=probe_seeds,
    )
    console = Console()
    console.print(probe_table(probe_table_rows(report)))
    if probe_seeds > 1:
        console.print(
            f"accuracy: the mean of {probe_seeds} probes (seeds {', '.join(map(str, report['probe_seeds']))})"
        )
    line = f"effective rank {report['effective_rank']:.1f} of width {report['width']}"
    if "random_init_stats" in report:
        line += f" (random init: {report['random_init_stats']['effective_rank']:.1f})"
    console.print(line)
    if json_out is not None:
        header = {"checkpoint": str(checkpoint), "data": to_dict(data), "kinds": chosen, "seed": seed}
        write_json(json_out, {**header, **report})
        console.print(f"Wrote {json_out}", markup=False)


def parameter_counts(folder: Path) -> dict[str, int] | None:
    """Elements per model in model.safetensors, read from its header; None when it cannot be read."""
    from safetensors import SafetensorError, safe_open

    from worldjepa.hub.model_files import WEIGHTS_FILE

    counts: dict[str, int] = {}
    try:
        with safe_open(str(folder / WEIGHTS_FILE), framework="pt") as f:
            for key in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
                shape = f.get_slice(key).get_shape()
                name = key.split(".", 1)[0]
                counts[name] = counts.get(name, 0) + math.prod(shape)
    except (SafetensorError, OSError):
        return None
    return counts


@app.command()
@user_errors
def info(checkpoint: Annotated[Path, typer.Argument(help="Model folder (config.json + model.safetensors).")]):
    """The models in a model folder and the recipe they were trained with (no weights are loaded)."""
    from worldjepa.cli_tables import key_value_table, models_table, recipe_summary
    from worldjepa.hub.model_files import WEIGHTS_FILE, read_model_config

    config = read_model_config(checkpoint)
    counts = parameter_counts(checkpoint)
    console = Console()
    console.print(models_table(config["models"], counts))
    if counts is None:
        warning = f"{checkpoint / WEIGHTS_FILE} is missing or unreadable; parameters not counted."
        console.print(Text(warning, style="yellow"))
    summary = recipe_summary(config.get("meta", {}))
    if summary:
        console.print(key_value_table("meta", summary))


@app.command()
@user_errors
def presets():
    """The named model sizes (`create_model(name)`), with parameter counts."""
    from worldjepa.cli_tables import presets_table

    Console().print(presets_table())


if __name__ == "__main__":
    app()
