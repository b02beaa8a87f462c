"""Masks for JEPA pretraining: which tokens the encoder sees (context) and which it must predict (targets).

Token ids are frame-major over a patch grid (T, H, W): id = t*H*W + h*W + w; images have T = 1.
Block sizes are drawn once per batch and positions once per sample, as the I-JEPA and V-JEPA
collators do; each batch is then cut to the smallest count so its rows stack into one tensor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from worldjepa.errors import ConfigError

_TRIES = 20  # placements tried before a fallback (I-JEPA's mask generator uses 20 too)


def _check_grid(grid: Sequence[int], dims: int) -> tuple[int, ...]:
    grid = tuple(grid)
    if len(grid) != dims or any(not isinstance(g, int) or g < 1 for g in grid):
        raise ConfigError(f"Mask grid must be {dims} positive ints (patches per axis), got {grid}.")
    return grid


def _check_fraction(name: str, pair: Sequence[float]) -> None:
    if len(pair) != 2 or not 0 < pair[0] <= pair[1] <= 1:
        raise ConfigError(f"{name} must be (lo, hi) with 0 < lo <= hi <= 1, got {tuple(pair)}.")


def _check_aspect(name: str, pair: Sequence[float]) -> None:
    if len(pair) != 2 or not 0 < pair[0] <= pair[1]:
        raise ConfigError(f"{name} must be (lo, hi) with 0 < lo <= hi, got {tuple(pair)}.")


def _check_min_keep(min_keep: int, total: int) -> None:
    if not 1 <= min_keep < total:
        raise ConfigError(f"min_keep must be in [1, {total - 1}] for {total} grid tokens, got {min_keep}.")


def _check_batch(batch_size: int) -> None:
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}.")


@dataclass
class MaskPair:
    """Token ids of one masking of a batch.

    context: [B, Nc] sorted ids the encoder sees. targets: list of [B, Nt_k] sorted ids the predictor
    must predict; each target is disjoint from the context (targets may overlap each other).
    """

    context: Tensor
    targets: list[Tensor]


@dataclass(frozen=True)
class TubeSpec:
    """One V-JEPA 2 masking: the union of `num_blocks` tubes, each covering a `spatial_scale` fraction
    of the frame with the given aspect (height / width) and a `temporal_scale` fraction of time."""

    num_blocks: int
    spatial_scale: tuple[float, float]
    aspect: tuple[float, float] = (0.75, 1.5)
    temporal_scale: tuple[float, float] = (1.0, 1.0)

    def __post_init__(self):
        if self.num_blocks < 1:
            raise ConfigError(f"TubeSpec.num_blocks must be >= 1, got {self.num_blocks}.")
        _check_fraction("TubeSpec.spatial_scale", self.spatial_scale)
        _check_fraction("TubeSpec.temporal_scale", self.temporal_scale)
        _check_aspect("TubeSpec.aspect", self.aspect)


DEFAULT_TUBE_SPECS = (TubeSpec(8, (0.15, 0.15)), TubeSpec(2, (0.7, 0.7)))


class MultiBlockMasks:
    """I-JEPA masks: `num_targets` target blocks and one context block minus every target.

    Returns one MaskPair with `num_targets` targets. A sample whose context keeps fewer than
    `min_keep` tokens is re-drawn; after repeated failures its context block grows to the whole grid.
    """

    def __init__(
        self,
        grid: tuple[int, int],
        num_targets: int = 4,
        target_scale: tuple[float, float] = (0.15, 0.2),
        target_aspect: tuple[float, float] = (0.75, 1.5),
        context_scale: tuple[float, float] = (0.85, 1.0),
        min_keep: int = 4,
    ):
        self.grid = _check_grid(grid, 2)
        if num_targets < 1:
            raise ConfigError(f"num_targets must be >= 1, got {num_targets}.")
        _check_fraction("target_scale", target_scale)
        _check_aspect("target_aspect", target_aspect)
        _check_fraction("context_scale", context_scale)
        _check_min_keep(min_keep, self.total_tokens)
        self.num_targets = num_targets
        self.target_scale = tuple(target_scale)
        self.target_aspect = tuple(target_aspect)
        self.context_scale = tuple(context_scale)
        self.min_keep = min_keep

    @property
    def total_tokens(self) -> int:
        return self.grid[0] * self.grid[1]

    def __call__(self, batch_size: int, generator: torch.Generator) -> list[MaskPair]:
        _check_batch(batch_size)
        height, width = self.grid
        target_size = _block_hw(height, width, self.target_scale, self.target_aspect, generator)
        context_size = _block_hw(height, width, self.context_scale, (1.0, 1.0), generator)
        targets = torch.zeros(self.num_targets, batch_size, height, width, dtype=torch.bool)
        context = torch.zeros(batch_size, height, width, dtype=torch.bool)
        pending = torch.arange(batch_size)
        for attempt in range(2 * _TRIES):
            n = len(pending)
            boxes = [_random_boxes(self.grid, target_size, n, generator) for _ in range(self.num_targets)]
            tgt = torch.stack(boxes)  # [num_targets, n, H, W]
            block = context_size if attempt < _TRIES else self.grid
            ctx = _random_boxes(self.grid, block, n, generator) & ~tgt.any(0)
            ok = ctx.flatten(1).sum(1) >= self.min_keep
            targets[:, pending[ok]] = tgt[:, ok]
            context[pending[ok]] = ctx[ok]
            pending = pending[~ok]
            if len(pending) == 0:
                break
        else:
            raise ConfigError(
                f"Could not keep {self.min_keep} context tokens on a {height}x{width} grid beside "
                f"{self.num_targets} targets of scale {self.target_scale}: lower num_targets, "
                "target_scale or min_keep, or use a larger grid."
            )
        return [
            MaskPair(
                context=_collate(context.flatten(1), generator),
                targets=[_collate(t.flatten(1), generator) for t in targets],
            )
        ]


class TubeMasks:
    """V-JEPA 2 masks: per spec, the target is a union of tubes and the context is everything else.

    Returns one MaskPair per spec, each with a single target. A sample whose context keeps fewer than
    `min_keep` tokens is re-drawn; after repeated failures its tubes shrink by one patch.
    """

    def __init__(
        self,
        grid: tuple[int, int, int],
        specs: Sequence[TubeSpec] = DEFAULT_TUBE_SPECS,
        min_keep: int = 1,
    ):
        self.grid = _check_grid(grid, 3)
        if not specs:
            raise ConfigError("TubeMasks needs at least one TubeSpec.")
        _check_min_keep(min_keep, self.total_tokens)
        self.specs = tuple(specs)
        self.min_keep = min_keep

    @property
    def total_tokens(self) -> int:
        return math.prod(self.grid)

    def __call__(self, batch_size: int, generator: torch.Generator) -> list[MaskPair]:
        _check_batch(batch_size)
        return [self._pair(spec, batch_size, generator) for spec in self.specs]

    def _pair(self, spec: TubeSpec, batch_size: int, generator: torch.Generator) -> MaskPair:
        frames, height, width = self.grid
        lo, hi = spec.temporal_scale
        t = max(1, int(frames * (lo + _rand(generator) * (hi - lo))))
        size = (t, *_block_hw(height, width, spec.spatial_scale, spec.aspect, generator))
        target = torch.zeros(batch_size, *self.grid, dtype=torch.bool)
        pending = torch.arange(batch_size)
        attempt = 0
        while len(pending):
            n = len(pending)
            union = torch.zeros(n, *self.grid, dtype=torch.bool)
            for _ in range(spec.num_blocks):
                union |= _random_boxes(self.grid, size, n, generator)
            ok = (~union).flatten(1).sum(1) >= self.min_keep
            target[pending[ok]] = union[ok]
            pending = pending[~ok]
            attempt += 1
            if len(pending) and attempt % _TRIES == 0:
                size = _shrink(size, spec, self.grid)
        target = target.flatten(1)
        return MaskPair(context=_collate(~target, generator), targets=[_collate(target, generator)])


def _shrink(size: tuple[int, int, int], spec: TubeSpec, grid: tuple[int, ...]) -> tuple[int, int, int]:
    """One patch less along the longest spatial side, else along time."""
    t, h, w = size
    if h > 1 or w > 1:
        return (t, h - 1, w) if h >= w else (t, h, w - 1)
    if t > 1:
        return (t - 1, h, w)
    raise ConfigError(
        f"Could not keep a context beside {spec.num_blocks} tubes on a grid of {grid}: "
        "lower num_blocks or min_keep, or use a larger grid."
    )


def _rand(generator: torch.Generator) -> float:
    return torch.rand(1, generator=generator).item()


def _block_hw(
    height: int, width: int, scale: Sequence[float], aspect: Sequence[float], generator: torch.Generator
) -> tuple[int, int]:
    """Block (h, w) covering about `scale` of the grid with h / w = aspect, both ranges sampled uniformly."""
    area = int(height * width * (scale[0] + _rand(generator) * (scale[1] - scale[0])))
    ratio = aspect[0] + _rand(generator) * (aspect[1] - aspect[0])
    h = round(math.sqrt(area * ratio))
    w = round(math.sqrt(area / ratio))
    return min(max(h, 1), height), min(max(w, 1), width)


def _random_boxes(grid: Sequence[int], size: Sequence[int], n: int, generator: torch.Generator) -> Tensor:
    """[n, *grid] bool: one box of `size` per row, at a uniformly drawn valid offset."""
    mask = torch.ones(n, *grid, dtype=torch.bool)
    for axis, (extent, length) in enumerate(zip(grid, size, strict=True)):
        start = torch.randint(0, extent - length + 1, (n, 1), generator=generator)
        idx = torch.arange(extent)
        inside = (idx >= start) & (idx < start + length)
        shape = [n] + [1] * len(grid)
        shape[axis + 1] = extent
        mask &= inside.view(shape)
    return mask


def _collate(mask: Tensor, generator: torch.Generator) -> Tensor:
    """[B, N] bool -> [B, K] sorted ids, K the smallest row count.

    Rows with more tokens drop a random subset, not their last ids (as I-JEPA does), so cutting
    does not bias which frames or rows survive.
    """
    k = int(mask.sum(1).min())
    score = torch.rand(mask.shape, generator=generator).masked_fill_(~mask, 2.0)
    return score.argsort(dim=1)[:, :k].sort(dim=1).values


def context_steps(time_steps: int, fraction: float) -> int:
    """Context time steps of a future split: `fraction` of `time_steps`, at least 1, at most T - 1."""
    return min(max(1, round(time_steps * fraction)), time_steps - 1)


class FutureMasks:
    """Predict the future: the context is every token of the first frames, the target every later one.

    `context_fraction` of the T time steps (at least 1, at most T - 1) are context. One MaskPair,
    identical for every sample. This is the prediction a world model makes (and the one physical
    surprise measures); mixed with tube masks it makes pretraining attend to motion.

    `min_context_fraction` (optional, <= `context_fraction`) makes the split vary: each batch draws its
    number of context steps c uniformly from the whole steps between the two fractions and predicts the
    other T - c, so one predictor learns several horizons (and can be scored with any of them).
    """

    def __init__(
        self,
        grid: tuple[int, int, int],
        context_fraction: float = 0.5,
        min_context_fraction: float | None = None,
    ):
        self.grid = _check_grid(grid, 3)
        if self.grid[0] < 2:
            raise ConfigError(f"Future masks need at least 2 time steps in the token grid, got {self.grid}.")
        lowest = context_fraction if min_context_fraction is None else min_context_fraction
        _check_fraction("(min_context_fraction, context_fraction)", (lowest, context_fraction))
        self.context_frames = context_steps(self.grid[0], context_fraction)
        self.min_context_frames = context_steps(self.grid[0], lowest)

    @property
    def total_tokens(self) -> int:
        return math.prod(self.grid)

    def __call__(self, batch_size: int, generator: torch.Generator) -> list[MaskPair]:
        _check_batch(batch_size)
        steps = self.context_frames
        if self.min_context_frames < steps:
            steps = int(torch.randint(self.min_context_frames, steps + 1, (1,), generator=generator))
        cut = steps * self.grid[1] * self.grid[2]
        ids = torch.arange(self.total_tokens).expand(batch_size, -1)
        return [MaskPair(context=ids[:, :cut].clone(), targets=[ids[:, cut:].clone()])]


class CombinedMasks:
    """The pairs of several generators, one after the other (e.g. tube masks + future masks)."""

    def __init__(self, generators: Sequence):
        if not generators:
            raise ConfigError("CombinedMasks needs at least one mask generator.")
        self.generators = tuple(generators)

    @property
    def total_tokens(self) -> int:
        return self.generators[0].total_tokens

    def __call__(self, batch_size: int, generator: torch.Generator) -> list[MaskPair]:
        return [pair for g in self.generators for pair in g(batch_size, generator)]
