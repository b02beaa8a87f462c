"""Metrics to CSV (always) and TensorBoard (when installed and asked for)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

COLUMNS = [
    "step",
    "loss",
    "prediction_loss",
    "regularizer",
    "lr",
    "weight_decay",
    "momentum",
    "grad_norm",
    "samples_per_s",
    "effective_rank",
    "feature_std",
]


class MetricsLog:
    """Appends one CSV row per logged step. On resume, rows after the resumed step are dropped,
    so the file always describes one consistent run."""

    def __init__(
        self,
        run_dir: str | Path,
        resume_step: int | None = None,
        tensorboard: bool = True,
        columns: list[str] = COLUMNS,
        prefix: str = "pretrain",
    ):
        self.path = Path(run_dir) / "metrics.csv"
        self.columns, self.prefix = columns, prefix
        rows = []
        if resume_step is not None and self.path.is_file():
            with self.path.open() as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
        with self.path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        self.writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard not installed: CSV only
                SummaryWriter = None
            if SummaryWriter is not None:
                self.writer = SummaryWriter(str(Path(run_dir) / "tensorboard"), purge_step=resume_step)

    def log(self, row: dict[str, Any]) -> None:
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.columns).writerow({k: row.get(k, "") for k in self.columns})
        if self.writer is not None:
            for key, value in row.items():
                if key != "step" and isinstance(value, (int, float)):
                    self.writer.add_scalar(f"{self.prefix}/{key}", value, row["step"])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def read_metrics(run_dir: str | Path) -> list[dict[str, float]]:
    """Rows of metrics.csv as floats (empty cells dropped)."""
    with (Path(run_dir) / "metrics.csv").open() as f:
        return [{k: float(v) for k, v in r.items() if v != ""} for r in csv.DictReader(f)]
