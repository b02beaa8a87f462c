"""Future-prediction masks and mask combinations, and how the recipe's masks section builds them."""

import pytest
import torch

from worldjepa.errors import ConfigError
from worldjepa.objectives import CombinedMasks, FutureMasks, TubeMasks
from worldjepa.train.config import MaskSection
from worldjepa.train.masking import build_mask_generator

GRID = (4, 3, 3)


def test_future_context_is_the_first_frames_and_target_the_rest():
    (pair,) = FutureMasks(GRID, context_fraction=0.5)(2, torch.Generator().manual_seed(0))
    per_frame = GRID[1] * GRID[2]
    assert pair.context.tolist() == [list(range(2 * per_frame))] * 2
    assert pair.targets[0].tolist() == [list(range(2 * per_frame, 4 * per_frame))] * 2


@pytest.mark.parametrize("fraction, frames", [(0.01, 1), (0.99, 3), (0.75, 3)])
def test_future_keeps_at_least_one_frame_on_each_side(fraction, frames):
    assert FutureMasks(GRID, fraction).context_frames == frames


def test_future_split_varies_between_batches_within_its_range():
    masks = FutureMasks(GRID, context_fraction=0.75, min_context_fraction=0.25)
    gen = torch.Generator().manual_seed(0)
    per_frame = GRID[1] * GRID[2]
    seen = set()
    for _ in range(60):
        (pair,) = masks(2, gen)
        steps = pair.context.shape[1] // per_frame
        seen.add(steps)
        assert pair.context.tolist() == [list(range(steps * per_frame))] * 2
        assert pair.targets[0].tolist() == [list(range(steps * per_frame, 4 * per_frame))] * 2
    assert seen == {1, 2, 3}


def test_future_split_is_reproducible_and_fixed_without_a_range():
    ranged = FutureMasks(GRID, 0.75, 0.25)
    draws = [
        [ranged(1, g)[0].context.shape[1] for _ in range(20)]
        for g in (torch.Generator().manual_seed(3), torch.Generator().manual_seed(3))
    ]
    assert draws[0] == draws[1]
    gen = torch.Generator().manual_seed(0)
    state = gen.get_state()
    FutureMasks(GRID, 0.75)(2, gen)
    assert torch.equal(gen.get_state(), state)  # a fixed split draws nothing: old runs replay exactly


def test_future_split_range_must_be_ordered():
    with pytest.raises(ConfigError, match="min_context_fraction"):
        FutureMasks(GRID, context_fraction=0.25, min_context_fraction=0.75)


def test_future_needs_two_time_steps():
    with pytest.raises(ConfigError, match="2 time steps"):
        FutureMasks((1, 4, 4))


def test_combined_masks_concatenate_pairs():
    masks = CombinedMasks([TubeMasks(GRID), FutureMasks(GRID)])
    pairs = masks(3, torch.Generator().manual_seed(0))
    assert len(pairs) == 3  # two tube specs + one future pair
    assert masks.total_tokens == 36


def test_masks_section_builds_tubes_future_or_both():
    gen = torch.Generator().manual_seed(0)
    assert len(build_mask_generator(MaskSection(), GRID)(2, gen)) == 2
    assert len(build_mask_generator(MaskSection(future=True), GRID)(2, gen)) == 3
    only_future = build_mask_generator(MaskSection(small_blocks=0, large_blocks=0, future=True), GRID)
    assert isinstance(only_future, FutureMasks)
    ranged = build_mask_generator(
        MaskSection(
            small_blocks=0, large_blocks=0, future=True, future_context=0.75, future_context_min=0.25
        ),
        GRID,
    )
    assert (ranged.min_context_frames, ranged.context_frames) == (1, 3)
    with pytest.raises(ConfigError, match="no mask"):
        build_mask_generator(MaskSection(small_blocks=0, large_blocks=0), GRID)
