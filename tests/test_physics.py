"""Physics videos: matched possible/impossible twins, identical before the violation, on disk and as data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import unnormalize_clip

from worldjepa.data.factory import DataConfig, build_dataset
from worldjepa.data.physics import PROPERTIES, generate_physics_pairs, load_physics_videos, make_pair
from worldjepa.data.physics_scene import fully_hidden, sample_scene, simulate
from worldjepa.data.video import read_video
from worldjepa.errors import DataError


@pytest.mark.parametrize("prop", PROPERTIES)
def test_twins_are_identical_before_the_violation_frame(prop):
    for i in range(3):
        pair = make_pair(prop, (0, 1, PROPERTIES.index(prop), i))
        v = pair.violation_frame
        assert pair.possible.shape == pair.impossible.shape == (16, 64, 64, 3)
        assert np.array_equal(pair.possible[:v], pair.impossible[:v])
        assert not np.array_equal(pair.possible[v], pair.impossible[v])
        assert 6 <= v <= 13


def test_pairs_are_a_pure_function_of_their_key():
    a, b = make_pair("shape", (3, 1, 2, 5)), make_pair("shape", (3, 1, 2, 5))
    assert a.variant == b.variant and np.array_equal(a.impossible, b.impossible)
    assert not np.array_equal(a.possible, make_pair("shape", (3, 1, 2, 6)).possible)


def test_permanence_is_balanced_between_vanishing_and_appearing(tmp_path):
    variants = [make_pair("permanence", (0, 1, 0, i)).variant for i in range(12)]
    assert {"vanish", "appear"} == set(variants)  # drawn when not asked for
    assert make_pair("permanence", (0, 1, 0, 0), variant="appear").variant == "appear"
    with pytest.raises(DataError, match="only for permanence"):
        make_pair("shape", (0, 1, 0, 0), variant="vanish")
    index = json.loads((generate_physics_pairs(tmp_path, 4, seed=1) / "pairs.json").read_text())
    benchmark = [index[f"permanence_{i:04d}"]["variant"] for i in range(4)]
    assert benchmark == ["vanish", "appear", "vanish", "appear"]  # exactly balanced


def test_the_target_is_hidden_at_the_scene_hiding_frame_and_never_touches_another_body():
    rng = np.random.default_rng(0)
    for _ in range(10):
        scene = sample_scene(rng, 64, 16)
        states = simulate(scene, 16)
        assert fully_hidden(states[scene.hidden][0], scene.occluder)
        for bodies in states:
            target = bodies[0]
            for other in bodies[1:]:
                assert np.hypot(target.x - other.x, target.y - other.y) >= target.r + other.r


def test_pair_files_decode_identically_before_the_violation(tmp_path):
    folder = generate_physics_pairs(tmp_path / "pairs", 1, seed=4)
    index = json.loads((folder / "pairs.json").read_text())
    assert sorted(index) == sorted(f"{p}_0000" for p in PROPERTIES)
    for name, entry in index.items():
        possible, fps = read_video(folder / f"{name}_possible.mp4")
        impossible, _ = read_video(folder / f"{name}_impossible.mp4")
        v = entry["violation_frame"]
        assert fps == 8 and possible.shape == (16, 64, 64, 3)
        assert np.array_equal(possible[:v], impossible[:v]) and not np.array_equal(possible[v], impossible[v])
    before = (folder / "card.json").stat().st_mtime_ns
    generate_physics_pairs(tmp_path / "pairs", 1, seed=4)  # a complete set is reused
    assert (folder / "card.json").stat().st_mtime_ns == before


def test_physics_data_kind_gives_possible_video_clips(tmp_path):
    config = DataConfig(kind="physics", root=str(tmp_path), num_videos=4, frames_per_clip=8, crop_size=32)
    dataset, key = build_dataset(config, split="train")
    assert key == "video" and len(dataset) == 4
    assert dataset[0]["video"].shape == (3, 8, 32, 32)


def test_grayscale_greys_training_clips_only(tmp_path):
    config = DataConfig(kind="physics", root=str(tmp_path), num_videos=2, num_test_videos=2, grayscale=1.0)
    train = unnormalize_clip(build_dataset(config, split="train")[0][0]["video"])
    test = unnormalize_clip(build_dataset(config, split="test")[0][0]["video"])
    torch.testing.assert_close(train[0], train[2], atol=1e-5, rtol=0)
    assert (test[0] - test[2]).abs().max() > 0.02  # the background alone is bluish


def test_loading_a_folder_without_a_set_says_how_to_make_one(tmp_path):
    with pytest.raises(DataError, match="generate_physics_videos"):
        load_physics_videos(tmp_path)
