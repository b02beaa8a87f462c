"""User-facing errors: a message that says what went wrong and what to do.

The CLI prints these without a traceback and exits non-zero; anything else is a bug.
"""

from __future__ import annotations

import difflib


class WorldJepaError(Exception):
    """Base class of every error a user can cause and fix."""


class ConfigError(WorldJepaError, ValueError):
    """A config key, value or preset name is wrong."""


class ShapeError(WorldJepaError, ValueError):
    """A tensor or file has the wrong shape, channel count or size."""


class CheckpointError(WorldJepaError):
    """A checkpoint is missing, corrupt, or of another architecture."""


class DataError(WorldJepaError):
    """A dataset is missing, empty, or has no readable item."""


class TrainingError(WorldJepaError):
    """Training cannot go on (for example a NaN loss)."""


def suggest(name: str, choices, n: int = 3) -> str:
    """' Did you mean: a, b?' for close matches of `name` among `choices`, or ''."""
    close = difflib.get_close_matches(name, list(choices), n=n, cutoff=0.5)
    return f" Did you mean: {', '.join(close)}?" if close else ""
