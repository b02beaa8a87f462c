"""Shared tiny recipes: vit_test + predictor_test on 32 px inputs, a few steps; a tiny world model;
and a clip un-normalised back to [0, 1] pixels."""

import pytest
import torch

from worldjepa.data import IMAGENET_MEAN, IMAGENET_STD
from worldjepa.train import load_pretrain_config
from worldjepa.train.world_model_config import load_world_model_config

RECIPES = {
    # V-JEPA: tube masks on 16 moving-digit videos of 4 frames.
    "video": ["data.kind=moving_digits", "data.num_videos=16", "data.frames_per_clip=4", "masks.kind=tube"],
    # I-JEPA: multi-block masks on sklearn's digits.
    "image": ["data.kind=digits", "masks.kind=multiblock"],
}


def tiny_overrides(out_dir, data_root, recipe="video", steps=4) -> list[str]:
    return [
        "model.encoder=vit_test",
        "model.predictor=predictor_test",
        "data.crop_size=32",
        "data.batch_size=4",
        f"data.root={data_root}",
        f"optim.steps={steps}",
        "optim.warmup_steps=1",
        "run.log_every=1",
        "run.checkpoint_every=2",
        "run.progress=false",
        "run.tensorboard=false",
        "run.device=cpu",
        f"run.out_dir={out_dir}",
        *RECIPES[recipe],
    ]


@pytest.fixture(scope="session")
def data_root(tmp_path_factory):
    """One folder of generated moving digits, shared by every test of the session."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def tiny_config(tmp_path, data_root):
    """tiny_config(*overrides, recipe="video", steps=4, out="run") -> a PretrainConfig for tmp_path/out."""

    def make(*overrides, recipe="video", steps=4, out="run"):
        base = tiny_overrides(tmp_path / out, data_root, recipe, steps)
        return load_pretrain_config(None, [*base, *overrides])

    return make


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread for the test (restored after): CPU numerics then match a subprocess run with
    OMP_NUM_THREADS=1, and tiny models run faster on a busy shared CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_recipe(tmp_path, data_root, *extra, steps=4, out="run"):
    return load_world_model_config(
        None,
        [
            "model.encoder=vit_test",
            "model.latent_dim=16",
            "model.predictor_width=32",
            "model.predictor_depth=1",
            "model.predictor_heads=2",
            "model.frameskip=2",
            f"data.root={data_root}",
            "data.episodes=12",
            "data.steps=8",
            "data.window=3",
            "data.batch_size=4",
            "data.env={size: 32, max_episode_steps: 12}",
            f"optim.steps={steps}",
            "optim.warmup_steps=1",
            "run.log_every=1",
            "run.checkpoint_every=2",
            "run.monitor_every=2",
            "run.progress=false",
            "run.tensorboard=false",
            "run.device=cpu",
            f"run.out_dir={tmp_path / out}",
            *extra,
        ],
    )


def unnormalize_clip(clip: torch.Tensor) -> torch.Tensor:
    """A dataset's normalized clip [3, T, H, W] -> its pixels in [0, 1] (ImageNet mean and std undone)."""
    return clip * torch.tensor(IMAGENET_STD).view(3, 1, 1, 1) + torch.tensor(IMAGENET_MEAN).view(3, 1, 1, 1)
