"""A training budget in minutes instead of steps: this machine's step rate, measured, sizes the run.

The schedules (warmup, decay, EMA momentum, weight decay) are defined over `optim.steps`, so a time
budget is turned into a step count before the run starts: a short calibration run of the same recipe
(model, data, batch, device, precision) in a temporary folder is timed, and the steps that fit in the
budget at that rate are returned. A laptop CPU and a GPU then run the same recipe for the same time.
"""

from __future__ import annotations

import copy
import math
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from worldjepa.errors import ConfigError
from worldjepa.train.config import PretrainConfig, load_pretrain_config
from worldjepa.train.metrics import read_metrics
from worldjepa.train.state import latest_checkpoint

CALIBRATION_STEPS = 30  # timed in 3 windows; the first (start-up, data caching) is left out


@dataclass
class StepBudget:
    steps: int
    steps_per_s: float  # measured; 0 when the steps were read from an existing run
    first_read_s: float  # measured extra seconds of one item's first read (decoding), spread over workers
    minutes: float


def steps_within(
    config: PretrainConfig, minutes: float, calibration_steps: int = CALIBRATION_STEPS
) -> StepBudget:
    """The steps of `config` that fit in `minutes` of training here (at least 1). One process: under
    torchrun, measure once and pass the steps to every rank.

    The budget pays for the steps at the measured rate and for the first read of every item the
    run touches (a caching dataset decodes each video once; others pay it on every read, which the
    rate already holds). When `config.run.out_dir` already holds a checkpoint, the run's own
    `optim.steps` (its config.yaml) is returned instead, so that resuming continues its schedule.
    """
    if not (math.isfinite(minutes) and minutes > 0):
        raise ConfigError(f"the training budget must be a positive number of minutes, got {minutes}")
    if calibration_steps < 3:
        raise ConfigError(f"calibration needs at least 3 steps, got {calibration_steps}")
    run_dir = Path(config.run.out_dir)
    if latest_checkpoint(run_dir) is not None and (run_dir / "config.yaml").is_file():
        saved = load_pretrain_config(run_dir / "config.yaml")
        return StepBudget(saved.optim.steps, 0.0, 0.0, minutes)
    rate, first_read, items = measure_training_rate(config, calibration_steps)
    return StepBudget(
        max(1, fitting_steps(minutes * 60, rate, first_read, items, config.data.batch_size)),
        rate,
        first_read,
        minutes,
    )


def fitting_steps(seconds: float, rate: float, first_read: float, items: int, batch: int) -> int:
    """The most steps s with s / rate + min(items, s * batch) * first_read <= seconds."""
    within_first_epoch = seconds / (1 / rate + batch * first_read)
    if within_first_epoch * batch <= items:
        return int(within_first_epoch)
    return int(rate * max(seconds - items * first_read, 0.0))


def measure_training_rate(config: PretrainConfig, steps: int = CALIBRATION_STEPS) -> tuple[float, float, int]:
    """(steps/s, first-read seconds per item, items in the training set) of `config` on this machine.

    Steps/s: a `steps`-step run in a temporary folder, timed over its last two thirds (the first
    holds start-up), drawing its batches from the first 2 x batch_size items so that a dataset that
    caches decoded videos serves the timed steps from memory, as it does after the run's first epoch.
    First read: one batch of other items read twice; the difference, divided among the loader's
    workers (0 for a dataset without a cache).
    """
    from worldjepa.data.factory import build_dataset
    from worldjepa.train.trainer import pretrain

    window = max(1, steps // 3)
    trial = copy.deepcopy(config)
    trial.optim.steps = 3 * window
    trial.run.log_every = window
    trial.run.monitor_every = 3 * window
    trial.run.checkpoint_every = 3 * window
    trial.run.progress = False
    trial.run.tensorboard = False
    dataset, key = build_dataset(config.data, split="train", seed=config.run.seed)
    batch = config.data.batch_size
    subset = torch.utils.data.Subset(dataset, range(min(len(dataset), 2 * batch)))
    with tempfile.TemporaryDirectory(prefix="worldjepa-calibrate-") as folder:
        trial.run.out_dir = folder
        rows = read_metrics(pretrain(trial, dataset=(subset, key)).run_dir)
    samples_per_s = statistics.fmean(r["samples_per_s"] for r in rows if r["step"] > window)
    others = range(len(subset), min(len(dataset), len(subset) + batch))
    first, again = (read_seconds(dataset, others) for _ in range(2))
    per_item = max(first - again, 0.0) / max(len(others), 1) / max(config.data.num_workers, 1)
    return samples_per_s / batch, per_item, len(dataset)


def read_seconds(dataset, indices) -> float:
    started = time.perf_counter()
    for i in indices:
        dataset[i]
    return time.perf_counter() - started
