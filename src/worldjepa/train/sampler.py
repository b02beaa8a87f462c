"""Global batches as a pure function of (seed, step): resume and DDP see exactly the same samples."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from worldjepa.errors import DataError


class GlobalBatchSampler:
    """Yields the dataset indices of this rank's share of each global batch, from `start_step` on.

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

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        while True:
            yield self.batch(step)
            step += 1
