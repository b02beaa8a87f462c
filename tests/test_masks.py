import pytest
import torch

from worldjepa.errors import ConfigError
from worldjepa.objectives import DEFAULT_TUBE_SPECS, MaskPair, MultiBlockMasks, TubeMasks, TubeSpec


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _check_pair(pair: MaskPair, batch: int, total: int) -> None:
    for ids in [pair.context, *pair.targets]:
        assert ids.dtype == torch.long and ids.dim() == 2 and ids.shape[0] == batch and ids.shape[1] >= 1
        assert ids.min() >= 0 and ids.max() < total
        assert (ids[:, 1:] > ids[:, :-1]).all()  # sorted, no repeats
    for b in range(batch):
        context = set(pair.context[b].tolist())
        for target in pair.targets:
            assert context.isdisjoint(target[b].tolist())


def test_multiblock_shapes_ranges_disjoint():
    masks = MultiBlockMasks((8, 8))
    assert masks.total_tokens == 64
    pairs = masks(6, _gen())
    assert len(pairs) == 1 and len(pairs[0].targets) == 4
    _check_pair(pairs[0], 6, 64)


def test_multiblock_target_ratio_matches_scale():
    masks = MultiBlockMasks((14, 14), target_scale=(0.15, 0.2))
    ratios = [t.shape[1] / 196 for seed in range(10) for t in masks(2, _gen(seed))[0].targets]
    assert all(0.1 <= r <= 0.26 for r in ratios)


def test_multiblock_deterministic_per_seed():
    masks = MultiBlockMasks((8, 8))
    a, b, c = masks(4, _gen(3))[0], masks(4, _gen(3))[0], masks(4, _gen(4))[0]
    assert torch.equal(a.context, b.context)
    assert all(torch.equal(x, y) for x, y in zip(a.targets, b.targets, strict=True))
    assert not torch.equal(a.context, c.context)


def test_multiblock_tiny_grid_keeps_min_context():
    masks = MultiBlockMasks((3, 3), num_targets=4, target_scale=(0.3, 0.3), min_keep=2)
    for seed in range(5):
        pair = masks(8, _gen(seed))[0]
        _check_pair(pair, 8, 9)
        assert pair.context.shape[1] >= 2


def test_tube_masks_default_specs():
    masks = TubeMasks((4, 8, 8))
    assert masks.total_tokens == 256
    pairs = masks(3, _gen())
    assert len(pairs) == len(DEFAULT_TUBE_SPECS)
    for pair in pairs:
        assert len(pair.targets) == 1
        _check_pair(pair, 3, 256)


def test_tube_target_spans_all_time_and_context_is_complement():
    frames, hw = 4, 64
    masks = TubeMasks((frames, 8, 8))
    for seed in range(4):
        for pair in masks(1, _gen(seed)):  # one sample: nothing is cut
            target = pair.targets[0][0]
            spatial = target % hw
            for pos in spatial.unique():
                assert (spatial == pos).sum() == frames
            assert pair.context.shape[1] + target.numel() == frames * hw


def test_tube_single_block_ratio():
    masks = TubeMasks((2, 8, 8), [TubeSpec(1, (0.25, 0.25))])
    ratios = [masks(2, _gen(s))[0].targets[0].shape[1] / 128 for s in range(10)]
    assert all(0.15 <= r <= 0.4 for r in ratios)


def test_tube_masks_deterministic_per_seed():
    masks = TubeMasks((2, 6, 6))
    a, b = masks(3, _gen(7)), masks(3, _gen(7))
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x.context, y.context) and torch.equal(x.targets[0], y.targets[0])


def test_tube_full_cover_shrinks_to_keep_context():
    masks = TubeMasks((2, 2, 2), [TubeSpec(2, (1.0, 1.0), aspect=(1.0, 1.0))])
    pair = masks(4, _gen())[0]
    _check_pair(pair, 4, 8)


def test_bad_configs_raise():
    with pytest.raises(ConfigError):
        MultiBlockMasks((8,))
    with pytest.raises(ConfigError):
        MultiBlockMasks((8, 8), target_scale=(0.3, 0.1))
    with pytest.raises(ConfigError):
        MultiBlockMasks((2, 2), min_keep=4)
    with pytest.raises(ConfigError):
        TubeSpec(0, (0.1, 0.2))
    with pytest.raises(ConfigError):
        TubeMasks((2, 4, 4), specs=[])
    with pytest.raises(ConfigError):
        MultiBlockMasks((4, 4))(0, _gen())
    with pytest.raises(ConfigError, match="lower num_targets"):  # one target covers the whole grid
        MultiBlockMasks((2, 2), num_targets=1, target_scale=(1.0, 1.0), min_keep=1)(2, _gen())
