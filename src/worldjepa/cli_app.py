"""The typer app every command registers on, and the error handling they share.

A WorldJepaError (a mistake the user can fix) is printed as `error: <message>` without a
traceback and exits with status 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools

import typer
from rich.console import Console
from rich.text import Text

from worldjepa.errors import WorldJepaError

app = typer.Typer(
    name="worldjepa",
    help="JEPA world models: pretrain, probe, embed, train world models and plan.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

SEED = typer.Option("--seed", help="Random seed; the same seed on CPU gives the same numbers.")
DEVICE = typer.Option("--device", help="auto (CUDA when available), cpu, cuda or cuda:N.")
RECIPE = typer.Option("--config", help="YAML recipe (configs/*.yaml).")
OVERRIDES = typer.Option("--set", help="Override a recipe key: --set optim.steps=100.")
RESUME = typer.Option("--resume", help="Continue from the run's newest checkpoint.")
RUN_DIR = typer.Option("--out", help="Run folder (sets run.out_dir).")
ENV_KWARGS = typer.Option("--env-kwargs", help="TwoRooms keyword arguments (JSON).")


def user_errors(command):
    """Turn a WorldJepaError into a red `error: ...` line and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except WorldJepaError as e:
            Console(stderr=True).print(Text(f"error: {e}", style="red"), soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper
