"""What both trainers share: device and process-group set-up, the run folder, resuming, batches,
checkpoints and the final model folder. A trainer supplies `checkpoint_models()` and `meta()`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from rich.console import Console

from worldjepa.config import to_dict
from worldjepa.device import resolve_device
from worldjepa.errors import ConfigError
from worldjepa.hub.model_files import save_model_files
from worldjepa.io import write_text
from worldjepa.train.config import RunSection
from worldjepa.train.distributed import World, setup_distributed
from worldjepa.train.resume_recipe import check_resume_recipe
from worldjepa.train.sampler import EpochIndexed, GlobalBatchSampler
from worldjepa.train.state import latest_checkpoint, load_checkpoint, save_checkpoint


@dataclass
class TrainResult:
    run_dir: Path
    model_dir: Path
    final_loss: float
    steps: int
    seconds: float
    samples_per_s: float


class TrainingRun:
    """A run folder with atomic checkpoints every `run.checkpoint_every` steps and exact resume."""

    config: Any  # a recipe dataclass with a `run: RunSection`
    dataset: torch.utils.data.Dataset
    optimizer: torch.optim.Optimizer
    start_step: int

    def setup_run(self, run: RunSection) -> None:
        """Device, torch.distributed (under torchrun), a console that only rank 0 prints to."""
        self.device = resolve_device(run.device)
        self.world: World = setup_distributed(self.device)
        if self.device.type == "cuda" and self.world.distributed:
            self.device = torch.device("cuda", self.world.local_rank)
        self.console = Console(stderr=True, quiet=not self.world.is_main)  # logs, so stdout stays for results
        self.run_dir = Path(run.out_dir)

    def checkpoint_models(self) -> dict[str, torch.nn.Module]:
        raise NotImplementedError

    def meta(self) -> dict[str, Any]:
        """What the model folder records beside the weights (at least the recipe)."""
        return {"recipe": to_dict(self.config)}

    def fresh_start(self) -> int:
        if latest_checkpoint(self.run_dir) is not None:
            raise ConfigError(
                f"'{self.run_dir}' already holds checkpoints of a run. Pass --resume to continue it, "
                "or set run.out_dir to a new folder."
            )
        if self.world.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_text(self.run_dir / "config.yaml", yaml.safe_dump(to_dict(self.config), sort_keys=False))
        return 0

    def restore(self) -> int:
        path = latest_checkpoint(self.run_dir)
        if path is None:
            self.console.print(f"[yellow]No checkpoint in {self.run_dir}; starting from step 0.")
            return self.fresh_start()
        check_resume_recipe(self.run_dir, to_dict(self.config))
        saved = load_checkpoint(path, self.checkpoint_models(), self.optimizer)
        self.console.print(f"Resumed from {path} (step {saved['step']}).")
        return int(saved["step"])

    def loader(self, batch_size: int, num_workers: int):
        """Batches as a pure function of (seed, step), split over ranks; continues at `start_step`."""
        sampler = GlobalBatchSampler(
            len(self.dataset),
            batch_size,
            self.config.run.seed,
            self.world.rank,
            self.world.world_size,
            self.start_step,
        )
        return iter(
            torch.utils.data.DataLoader(
                EpochIndexed(self.dataset),
                batch_sampler=sampler,
                num_workers=num_workers,
                pin_memory=self.device.type == "cuda",
                persistent_workers=num_workers > 0,
            )
        )

    def save(self, step: int) -> None:
        if self.world.is_main:
            save_checkpoint(
                self.run_dir,
                step,
                self.checkpoint_models(),
                self.optimizer,
                {"meta": self.meta()},
                keep=self.config.run.keep_checkpoints,
            )
        if self.world.distributed:
            torch.distributed.barrier()

    def save_final(self, steps: int) -> Path:
        """The trained models as a model folder, `run_dir/model`."""
        model_dir = self.run_dir / "model"
        if self.world.is_main:
            save_model_files(model_dir, self.checkpoint_models(), meta=self.meta() | {"steps": steps})
        return model_dir

    def finish(self, final_loss: float, started: float, batch_size: int) -> TrainResult:
        """Save the final model folder; `started` is the `time.perf_counter()` of the first step."""
        seconds = time.perf_counter() - started
        total = self.config.optim.steps
        model_dir = self.save_final(total)
        trained = total - self.start_step
        return TrainResult(
            self.run_dir, model_dir, final_loss, total, seconds, trained * batch_size / max(seconds, 1e-9)
        )
