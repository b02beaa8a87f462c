"""Rich tables for the command-line tool: what each command prints, built from plain data."""

from __future__ import annotations

from typing import Any

import torch
from rich import box
from rich.table import Table
from rich.text import Text

from worldjepa.models.presets import PRESETS, build_model, preset_config

VIDEO_DATA = ("moving_digits", "video_folder")


def key_value_table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False, box=box.SIMPLE, pad_edge=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in rows.items():
        table.add_row(key, Text(str(value)))  # Text: paths are not rich markup
    return table


def pretrain_table(result) -> Table:
    """Summary of a `TrainResult`."""
    return key_value_table(
        "pretrain",
        {
            "run dir": result.run_dir,
            "model dir": result.model_dir,
            "steps": result.steps,
            "final loss": f"{result.final_loss:.4f}",
            "samples/s": f"{result.samples_per_s:.1f}",
            "time": f"{result.seconds:.1f} s",
        },
    )


def probe_table(rows: list[tuple[str, str, str, str]]) -> Table:
    """Rows of `probe_table_rows`: (label, probe, source, accuracy %)."""
    table = Table(
        title="probe accuracy (test split)", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True
    )
    for name in ("label", "probe", "source"):
        table.add_column(name)
    table.add_column("accuracy %", justify="right")
    for row in rows:
        table.add_row(*row)
    return table


def comparison_table(report: dict[str, Any]) -> Table:
    """Probe accuracy (%) per label and probe: trained encoder, random weights, raw pixels."""
    table = Table(title="probe accuracy % (test split)", box=box.SIMPLE_HEAD, pad_edge=False)
    sources = [
        (k, n)
        for k, n in (("probes", "trained"), ("random_init", "random init"), ("pixels", "pixels"))
        if k in report
    ]
    for name in ("label", "probe", *(n for _, n in sources)):
        table.add_column(name, justify="left" if name in ("label", "probe") else "right")
    for label, scores in report["probes"].items():
        for kind in scores:
            table.add_row(label, kind, *(f"{100 * report[k][label][kind]:.1f}" for k, _ in sources))
    return table


def models_table(models: dict[str, Any], parameters: dict[str, int] | None) -> Table:
    """The `models` section of a model folder's config.json, with parameter counts when known."""
    table = Table(title="models", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for name in ("name", "kind", "params", "width", "depth", "heads", "img", "patch", "frames"):
        table.add_column(name, justify="left" if name in ("name", "kind") else "right", no_wrap=True)
    for name, entry in models.items():
        c = entry.get("config", {})
        width = c.get("predictor_embed_dim", c.get("embed_dim"))
        count = parameters.get(name) if parameters is not None else None
        patch = str(c.get("patch_size"))
        if c.get("num_frames", 1) > 1:
            patch += f"x{c.get('tubelet_size')}"
        table.add_row(
            name,
            str(entry.get("kind", "?")),
            f"{count:,}" if count is not None else "-",
            str(width),
            str(c.get("depth")),
            str(c.get("num_heads")),
            str(c.get("img_size")),
            patch,
            str(c.get("num_frames")),
        )
    return table


def recipe_summary(meta: dict[str, Any]) -> dict[str, Any]:
    """The lines of a pretraining recipe (config.json meta) worth showing."""
    rows: dict[str, Any] = {}
    if "steps" in meta:
        rows["steps"] = meta["steps"]
    recipe = meta.get("recipe") or {}
    model, data = recipe.get("model", {}), recipe.get("data", {})
    masks, objective, optim = recipe.get("masks", {}), recipe.get("objective", {}), recipe.get("optim", {})
    if model:
        rows["presets"] = f"{model.get('encoder')} + {model.get('predictor')}"
    if data:
        frames = f", {data.get('frames_per_clip')} frames" if data.get("kind") in VIDEO_DATA else ""
        rows["data"] = (
            f"{data.get('kind')} ({data.get('crop_size')} px{frames}, batch {data.get('batch_size')})"
        )
    if masks:
        rows["masks"] = masks.get("kind")
    if objective:
        rows["objective"] = f"{objective.get('loss')} loss, {objective.get('regularizer')}"
    if optim:
        rows["optim"] = f"{optim.get('steps')} steps, lr {optim.get('lr')}"
    if "seed" in recipe.get("run", {}):
        rows["seed"] = recipe["run"]["seed"]
    return rows


def presets_table() -> Table:
    """Every preset with its size; parameter counts come from a model built on the meta device."""
    table = Table(title="model presets", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("name", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    for name in ("width", "depth", "heads", "params"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("note")
    for name, preset in PRESETS.items():
        config = preset_config(name)
        with torch.device("meta"):
            count = sum(p.numel() for p in build_model(config).parameters())
        width = getattr(config, "predictor_embed_dim", config.embed_dim)
        table.add_row(
            name, preset.kind, str(width), str(config.depth), str(config.num_heads), f"{count:,}", preset.note
        )
    return table


def skipped_table(skipped: list[dict[str, str]]) -> Table:
    table = Table(title=f"skipped {len(skipped)} file(s)", title_style="yellow")
    table.add_column("path", overflow="fold")
    table.add_column("reason", overflow="fold")
    for entry in skipped:
        table.add_row(Text(entry["path"]), Text(entry["reason"]))
    return table


def plan_table(results: list[dict[str, Any]]) -> Table:
    """One row per planner evaluation (results.json of `evaluate_planning`)."""
    table = Table(title="Two-Rooms planning (start and goal in opposite rooms)")
    for column in ("planner", "episodes", "success 4.5 px", "success 2 px", "final dist px", "ms/action"):
        table.add_column(column, justify="right" if column != "planner" else "left")
    for r in results:
        table.add_row(
            r["planner"],
            str(r["episodes"]),
            f"{100 * r['success_rate']:.1f} %",
            f"{100 * r['success_rate_2px']:.1f} %",
            f"{r['mean_final_distance']:.1f}",
            f"{r['ms_per_action']:.1f}",
        )
    return table
