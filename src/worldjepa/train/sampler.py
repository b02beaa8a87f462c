"""Global batches as a pure function of (seed, step): resume and DDP see exactly the same samples."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from torch.utils.data import Dataset

from worldjepa.errors import DataError


class GlobalBatchSampler:
    """Yields this rank's share of each global batch, from `start_step` on, as (index, epoch) pairs
    (per-sample augmentation depends on the epoch too; see `EpochIndexed`).

    Each epoch is a fresh permutation drawn from (seed, epoch); the last incomplete batch is dropped.
    Rank r of W takes rows [r*B/W, (r+1)*B/W) of every global batch of B.
    """

    def __init__(
        self, size: int, global_batch: int, seed: int, rank: int = 0, world_size: int = 1, start_step: int = 0
    ):
        if size < global_batch:
            raise DataError(f"The dataset has {size} items, fewer than one batch of {global_batch}.")
        if global_batch % world_size:
            raise DataError(f"Batch size {global_batch} must be divisible by the {world_size} processes.")
        self.size, self.global_batch, self.seed = size, global_batch, seed
        self.rank, self.world_size, self.start_step = rank, world_size, start_step
        self.per_epoch = size // global_batch

    def epoch_of(self, step: int) -> int:
        return step // self.per_epoch

    def batch(self, step: int) -> list[int]:
        epoch, k = divmod(step, self.per_epoch)
        order = np.random.default_rng((self.seed, epoch)).permutation(self.size)
        rows = order[k * self.global_batch : (k + 1) * self.global_batch]
        share = self.global_batch // self.world_size
        return rows[self.rank * share : (self.rank + 1) * share].tolist()

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step = self.start_step
        while True:
            epoch = self.epoch_of(step)
            yield [(index, epoch) for index in self.batch(step)]
            step += 1


class EpochIndexed(Dataset):
    """Wraps a dataset so that item (index, epoch) is `dataset[index]` drawn in `epoch`."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, item: tuple[int, int]):
        index, epoch = item
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        return self.dataset[index]
