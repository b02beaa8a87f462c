"""embed_files: videos and images in, [N, D] or [N, K, D] embeddings plus a JSON index out."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.numpy import load_file

from worldjepa.data import write_video
from worldjepa.embed import embed_files, first_frames, index_path
from worldjepa.errors import CheckpointError, ConfigError, DataError, ShapeError
from worldjepa.hub import save_model_files
from worldjepa.models import create_model


@pytest.fixture(scope="module")
def video_model(tmp_path_factory):
    """A tiny video encoder (32 px, 4 frames, tubelet 2, patch 8: 2 x 4 x 4 = 32 tokens of width 32)."""
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("model")
    save_model_files(folder, {"encoder": create_model("vit_test")})
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Two videos (one shorter than the encoder's 4 frames), one corrupt video and one image."""
    root = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    write_video(root / "long.mp4", rng.integers(0, 256, (6, 40, 48, 3), dtype=np.uint8))
    write_video(root / "short.mp4", rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8))
    (root / "broken.mp4").write_bytes(b"this is not a video")
    Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(root / "still.png")
    return root


def test_first_frames_pads_with_last_frame():
    assert first_frames(10, 4) == [0, 1, 2, 3]
    assert first_frames(3, 5) == [0, 1, 2, 2, 2]


def test_npy_pooled_with_skipped_file(video_model, inputs, tmp_path):
    out = tmp_path / "emb.npy"
    paths = [inputs / "long.mp4", inputs / "broken.mp4", inputs / "short.mp4"]
    index = embed_files(paths, video_model, out, progress=False)
    embeddings = np.load(out)
    assert embeddings.shape == (2, 32) and embeddings.dtype == np.float32
    assert json.loads(index_path(out).read_text()) == index
    assert [item["path"] for item in index["items"]] == [str(paths[0]), str(paths[2])]
    assert [item["index"] for item in index["items"]] == [0, 1]
    assert index["items"][1]["frames"] == [0, 1, 2, 2]
    assert [s["path"] for s in index["skipped"]] == [str(paths[1])]
    assert "broken.mp4" in index["skipped"][0]["reason"]
    assert index["model"] == str(video_model) and index["shape"] == [2, 32]


def test_tokens_and_safetensors(video_model, inputs, tmp_path):
    out = tmp_path / "emb.safetensors"
    paths = [inputs / "long.mp4", inputs / "short.mp4"]
    embed_files(paths, video_model, out, tokens=True, batch_size=1, progress=False)
    tokens = load_file(str(out))["embeddings"]
    assert tokens.shape == (2, 32, 32)
    pooled = embed_files(paths, video_model, tmp_path / "pooled.npy", progress=False)
    assert pooled["shape"] == [2, 32]
    np.testing.assert_allclose(np.load(tmp_path / "pooled.npy"), tokens.mean(1), rtol=1e-5, atol=1e-6)


def test_same_embedding_alone_or_in_a_batch(video_model, inputs, tmp_path):
    paths = [inputs / "long.mp4", inputs / "short.mp4"]
    embed_files(paths, video_model, tmp_path / "both.npy", progress=False)
    embed_files(paths[1:], video_model, tmp_path / "one.npy", progress=False)
    np.testing.assert_allclose(np.load(tmp_path / "both.npy")[1], np.load(tmp_path / "one.npy")[0], atol=1e-5)


def test_images_with_video_encoder(video_model, inputs, tmp_path):
    index = embed_files(
        [inputs / "still.png", inputs / "long.mp4"], video_model, tmp_path / "e.npy", progress=False
    )
    assert index["shape"] == [2, 32] and index["items"][0]["frames"] == [0]
    with pytest.raises(ShapeError, match="--tokens"):
        embed_files(
            [inputs / "still.png", inputs / "long.mp4"],
            video_model,
            tmp_path / "t.npy",
            tokens=True,
            progress=False,
        )


def test_image_encoder_takes_first_video_frame(inputs, tmp_path):
    folder = tmp_path / "image_model"
    save_model_files(folder, {"encoder": create_model("vit_test", num_frames=1)})
    index = embed_files(
        [inputs / "still.png", inputs / "long.mp4"], folder, tmp_path / "e.npy", tokens=True, progress=False
    )
    assert index["shape"] == [2, 16, 32] and index["items"][1]["frames"] == [0]


def test_errors(video_model, inputs, tmp_path):
    with pytest.raises(ConfigError, match="extension"):
        embed_files([inputs / "long.mp4"], video_model, tmp_path / "emb.csv", progress=False)
    with pytest.raises(DataError, match="broken.mp4"):
        embed_files(
            [inputs / "broken.mp4", tmp_path / "missing.mp4"], video_model, tmp_path / "e.npy", progress=False
        )
    assert not (tmp_path / "e.npy").exists()
    with pytest.raises(CheckpointError):
        embed_files([inputs / "long.mp4"], tmp_path / "no_model", tmp_path / "e.npy", progress=False)
