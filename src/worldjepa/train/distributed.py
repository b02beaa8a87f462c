"""torchrun set-up: read RANK / WORLD_SIZE from the environment, gloo on CPU, nccl on CUDA."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup_distributed(device: torch.device) -> World:
    """Join the process group torchrun describes; a plain single process otherwise."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return World()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return World(rank, world_size, local_rank)


def all_reduce_mean(value: torch.Tensor, world: World) -> torch.Tensor:
    """Mean of a tensor over ranks (a copy; the identity on one process)."""
    value = value.detach().clone()
    if world.distributed:
        dist.all_reduce(value)
        value /= world.world_size
    return value
