"""A rich progress bar with loss and throughput; silent when disabled."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class TrainProgress:
    def __init__(self, total: int, start: int = 0, enabled: bool = True, description: str = "pretrain"):
        self.progress = None
        if enabled:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TextColumn("{task.fields[speed]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            )
            self.task = self.progress.add_task(description, total=total, completed=start, loss="-", speed="")
            self.progress.start()

    def update(self, step: int, loss: float, samples_per_s: float) -> None:
        if self.progress is not None:
            self.progress.update(
                self.task, completed=step, loss=f"{loss:.4f}", speed=f"{samples_per_s:.1f} samples/s"
            )

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
