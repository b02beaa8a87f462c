"""Mask generators from the recipe, and each DDP rank's rows of a global batch of masks."""

from __future__ import annotations

import torch

from worldjepa.errors import ConfigError
from worldjepa.objectives import CombinedMasks, FutureMasks, MaskPair, MultiBlockMasks, TubeMasks, TubeSpec
from worldjepa.train.config import MaskSection
from worldjepa.train.distributed import World


def build_mask_generator(section: MaskSection, grid: tuple[int, int, int]):
    """Tube masks (V-JEPA 2) over (T, H, W) or multi-block masks (I-JEPA) over (H, W), plus
    future-prediction masks when `section.future`."""
    if section.kind == "multiblock":
        return MultiBlockMasks(
            grid[1:],
            num_targets=section.num_targets,
            target_scale=section.target_scale,
            target_aspect=section.target_aspect,
            context_scale=section.context_scale,
        )
    generators = [
        TubeMasks(grid, specs=[TubeSpec(n, (scale, scale))])
        for n, scale in (
            (section.small_blocks, section.small_scale),
            (section.large_blocks, section.large_scale),
        )
        if n > 0
    ]
    if section.future:
        generators.append(FutureMasks(grid, section.future_context, section.future_context_min))
    if not generators:
        raise ConfigError("The masks section gives no mask: set small_blocks, large_blocks or future.")
    return generators[0] if len(generators) == 1 else CombinedMasks(generators)


def masks_for_rank(masks: list[MaskPair], world: World, device: torch.device) -> list[MaskPair]:
    """Masks are drawn for the global batch (same on every rank); keep this rank's rows."""

    def rows(t: torch.Tensor) -> torch.Tensor:
        share = t.shape[0] // world.world_size
        return t[world.rank * share : (world.rank + 1) * share].to(device, non_blocking=True)

    return [MaskPair(rows(p.context), [rows(t) for t in p.targets]) for p in masks]
