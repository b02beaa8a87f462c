"""Save a matplotlib figure atomically, without a display."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from worldjepa.io import atomic_path  # noqa: E402


def save_figure(fig, path: str | Path, dpi: int = 120) -> Path:
    """Write `fig` as PNG to `path` (temp file + rename) and close it."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return path
