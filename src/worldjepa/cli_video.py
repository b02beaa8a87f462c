"""Video commands: embed files clip by clip, train and evaluate attentive probes on labelled video folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from worldjepa.cli_app import DEVICE, SEED, app, user_errors

CHECKPOINT = typer.Option(
    "--checkpoint",
    "--model",
    help="Encoder: worldjepa or HF folder, official .pt, HF repo id or release name.",
)
FRAME_STEP = typer.Option("--frame-step", help="Frames between the frames of a clip (1: every frame).")


@app.command()
@user_errors
def embed(
    inputs: Annotated[list[Path], typer.Argument(help="Image (.png/.jpg) and video files.")],
    checkpoint: Annotated[str, CHECKPOINT],
    out: Annotated[Path, typer.Option("--out", help="Output: .npy or .safetensors (index in <out>.json).")],
    tokens: Annotated[bool, typer.Option("--tokens", help="Keep every token: [N, K, D].")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Clips per forward pass.")] = 8,
    frame_step: Annotated[int, FRAME_STEP] = 1,
    stride: Annotated[
        int | None,
        typer.Option("--stride", help="Frames between clip starts; default: clips back to back."),
    ] = None,
    device: Annotated[str, DEVICE] = "auto",
):
    """Embed files clip by clip: mean-pooled [N, D] (or all tokens [N, K, D]), one row per clip."""
    from worldjepa.cli_tables import skipped_table
    from worldjepa.device import resolve_device
    from worldjepa.embed import embed_files, index_path

    index = embed_files(
        inputs,
        checkpoint,
        out,
        tokens=tokens,
        batch_size=batch_size,
        frame_step=frame_step,
        stride=stride,
        device=resolve_device(device),
    )
    console = Console()
    if index["skipped"]:
        console.print(skipped_table(index["skipped"]))
    for warning in index["warnings"]:
        console.print(Text(f"warning: {warning['reason']}", style="yellow"), soft_wrap=True)
    files = len({item["path"] for item in index["items"]})
    console.print(
        f"Embedded {files} of {len(inputs)} files ({len(index['items'])} clips): {tuple(index['shape'])} "
        f"-> {out} (index {index_path(out)})",
        markup=False,
        soft_wrap=True,
    )


@app.command("probe-videos")
@user_errors
def probe_videos(
    train_dir: Annotated[Path, typer.Argument(help="Folder with one subfolder of videos per class.")],
    checkpoint: Annotated[str, CHECKPOINT],
    out: Annotated[Path, typer.Option("--out", help="Folder for probe.safetensors + probe.json.")],
    val: Annotated[
        Path | None, typer.Option("--val", help="Validation folder (same classes); default: hold out 20%.")
    ] = None,
    frame_step: Annotated[int, FRAME_STEP] = 1,
    epochs: Annotated[int, typer.Option("--epochs", help="Passes over the training clips.")] = 20,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Clips per batch.")] = 16,
    lr: Annotated[float, typer.Option("--lr", help="Peak learning rate (AdamW, warmup + cosine).")] = 1e-3,
    depth: Annotated[int, typer.Option("--depth", help="Pooler depth (V-JEPA 2: 4).")] = 4,
    official: Annotated[
        bool, typer.Option("--official", help="Also write probe.pt in the V-JEPA 2 evals' format.")
    ] = False,
    seed: Annotated[int, SEED] = 0,
    device: Annotated[str, DEVICE] = "auto",
):
    """Train V-JEPA 2's attentive probe on frozen encoder tokens of labelled videos; print accuracy."""
    from worldjepa.cli_tables import skipped_table
    from worldjepa.device import resolve_device
    from worldjepa.eval.video_probe import train_video_probe

    report = train_video_probe(
        train_dir,
        checkpoint,
        out,
        val_dir=val,
        frame_step=frame_step,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        depth=depth,
        seed=seed,
        official=official,
        device=resolve_device(device),
    )
    console = Console()
    if report["skipped"]:
        console.print(skipped_table(report["skipped"]))
    console.print(
        f"{len(report['classes'])} classes, {report['train_size']} training and {report['val_size']} "
        f"validation videos: accuracy {100 * report['accuracy']:.1f}% "
        f"(train {100 * report['train_accuracy']:.1f}%). Probe in {report['out']}"
        + (f", official format {report['official']}" if report["official"] else ""),
        markup=False,
        soft_wrap=True,
    )


@app.command("eval-probe-videos")
@user_errors
def eval_probe_videos(
    probe_dir: Annotated[Path, typer.Argument(help="Probe folder written by probe-videos.")],
    video_dir: Annotated[Path, typer.Argument(help="Folder with one subfolder of videos per class.")],
    checkpoint: Annotated[
        str | None,
        typer.Option("--checkpoint", help="Encoder; default: the one the probe was trained on."),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Clips per batch.")] = 16,
    device: Annotated[str, DEVICE] = "auto",
):
    """Accuracy of a trained video probe on a folder of labelled videos, overall and per class."""
    from worldjepa.cli_tables import key_value_table, skipped_table
    from worldjepa.device import resolve_device
    from worldjepa.eval.video_probe import evaluate_video_probe

    report = evaluate_video_probe(
        probe_dir, video_dir, checkpoint, batch_size=batch_size, device=resolve_device(device)
    )
    console = Console()
    if report["skipped"]:
        console.print(skipped_table(report["skipped"]))
    per_class = {
        name: "no videos" if acc is None else f"{100 * acc:.1f}%" for name, acc in report["per_class"].items()
    }
    console.print(key_value_table("accuracy per class", per_class))
    console.print(f"accuracy {100 * report['accuracy']:.1f}% on {report['size']} videos", markup=False)
