"""Commands for released V-JEPA 2 models: convert between formats, list the releases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from worldjepa.cli_app import app, user_errors


@app.command()
@user_errors
def convert(
    src: Annotated[
        str, typer.Argument(help="Release name, Hugging Face repo id, official .pt, HF or worldjepa folder.")
    ],
    dst: Annotated[Path, typer.Argument(help="Output: a folder (worldjepa, hf) or a .pt file (official).")],
    to: Annotated[
        str | None,
        typer.Option("--to", help="official, hf or worldjepa (default: official for .pt, else worldjepa)."),
    ] = None,
    which: Annotated[
        str, typer.Option("--which", help="Encoder of an official file: encoder or target_encoder.")
    ] = "encoder",
    preset: Annotated[
        str | None,
        typer.Option("--preset", help="Release an official file must match (default: from its shapes)."),
    ] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Use only cached downloads.")] = False,
):
    """Convert a V-JEPA 2 model (encoder + predictor) between official, Hugging Face and worldjepa formats."""
    from worldjepa.cli_tables import key_value_table
    from worldjepa.hub.convert import convert as run_convert
    from worldjepa.hub.convert import default_format

    model, path = run_convert(src, dst, to=to, which=which, preset=preset, local_files_only=offline)
    rows = {"from": model.source, "to": path, "format": to or default_format(dst)}
    for name, module in model.modules().items():
        rows[name] = f"{type(module).__name__}, {sum(p.numel() for p in module.parameters()):,} parameters"
    Console().print(key_value_table("convert", rows))


@app.command()
@user_errors
def releases():
    """The released V-JEPA 2 models `worldjepa.load(name)` downloads, with their sources."""
    from rich import box
    from rich.table import Table

    from worldjepa.hub.released import RELEASES, VITS

    table = Table(title="V-JEPA 2 releases", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("name", "encoder", "crop", "predictor", "source"):
        table.add_column(column, no_wrap=True)
    for r in RELEASES.values():
        v = VITS[r.vit]
        encoder = f"{r.vit} {v['embed_dim']}x{v['depth']}x{v['num_heads']}"
        predictor = "action-conditioned" if r.action_conditioned else "mask tokens"
        table.add_row(r.name, encoder, str(r.crop_size), predictor, r.hf_repo or r.official_url)
    Console().print(table)
