"""embed_files: videos (cut into clips) and images in, [N, D] or [N, K, D] embeddings + a JSON index out."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.numpy import load_file

from worldjepa.data import read_video, write_video
from worldjepa.data.transforms import VideoTransform
from worldjepa.embed import embed_files, index_path
from worldjepa.errors import CheckpointError, ConfigError, DataError, ShapeError
from worldjepa.eval.features import frozen_encoder
from worldjepa.hub import load_encoder, save_model_files
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
    write_video(root / "ten.mp4", rng.integers(0, 256, (10, 32, 32, 3), dtype=np.uint8), fps=5)
    (root / "broken.mp4").write_bytes(b"this is not a video")
    Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(root / "still.png")
    return root


def test_npy_pooled_with_skipped_files(video_model, inputs, tmp_path):
    out = tmp_path / "emb.npy"
    paths = [inputs / "long.mp4", inputs / "broken.mp4", inputs / "short.mp4", inputs / "ten.mp4"]
    index = embed_files(paths, video_model, out, progress=False)
    embeddings = np.load(out)
    # long: 6 frames -> one 4-frame clip (the 2-frame tail is left out); ten: 10 frames -> two clips
    assert embeddings.shape == (3, 32) and embeddings.dtype == np.float32
    assert json.loads(index_path(out).read_text()) == index
    assert [item["path"] for item in index["items"]] == [str(paths[0]), str(paths[3]), str(paths[3])]
    assert [item["index"] for item in index["items"]] == [0, 1, 2]
    assert [item["clip"] for item in index["items"]] == [0, 0, 1]
    assert index["items"][2]["frames"] == [4, 5, 6, 7]
    assert [s["path"] for s in index["skipped"]] == [str(paths[1]), str(paths[2])]
    assert "broken.mp4" in index["skipped"][0]["reason"]
    assert "has 3 frames and the model needs 4" in index["skipped"][1]["reason"]
    assert index["model"] == str(video_model) and index["shape"] == [3, 32] and index["stride"] == 4


def test_clip_windows_and_index_times(video_model, inputs, tmp_path):
    """10 frames at 5 fps, 4 frames 2 apart (a 7-frame span), a clip every 3 frames: starts 0 and 3."""
    path = inputs / "ten.mp4"
    index = embed_files([path], video_model, tmp_path / "e.npy", frame_step=2, stride=3, progress=False)
    items = index["items"]
    assert [i["frames"] for i in items] == [[0, 2, 4, 6], [3, 5, 7, 9]]
    assert [(i["start_frame"], i["end_frame"]) for i in items] == [(0, 6), (3, 9)]
    assert [i["start_time"] for i in items] == pytest.approx([0.0, 0.6])
    assert [i["end_time"] for i in items] == pytest.approx([1.4, 2.0])  # the last frame's end
    # each streamed clip is exactly the transformed frames read at once
    encoder = load_encoder(video_model)
    transform = VideoTransform(32)
    with torch.no_grad():
        expected = torch.stack(
            [encoder(transform(read_video(path, i["frames"])[0])[None])[0].mean(0) for i in items]
        )
    np.testing.assert_allclose(np.load(tmp_path / "e.npy"), expected.numpy(), atol=1e-5)


def test_tokens_and_safetensors(video_model, inputs, tmp_path):
    out = tmp_path / "emb.safetensors"
    paths = [inputs / "long.mp4", inputs / "ten.mp4"]
    embed_files(paths, video_model, out, tokens=True, batch_size=1, progress=False)
    tokens = load_file(str(out))["embeddings"]
    assert tokens.shape == (3, 32, 32)
    pooled = embed_files(paths, video_model, tmp_path / "pooled.npy", progress=False)
    assert pooled["shape"] == [3, 32]
    np.testing.assert_allclose(np.load(tmp_path / "pooled.npy"), tokens.mean(1), rtol=1e-5, atol=1e-6)


def test_same_embedding_alone_or_in_a_batch(video_model, inputs, tmp_path):
    paths = [inputs / "long.mp4", inputs / "ten.mp4"]
    embed_files(paths, video_model, tmp_path / "both.npy", batch_size=3, progress=False)
    embed_files(paths[1:], video_model, tmp_path / "one.npy", batch_size=1, progress=False)
    np.testing.assert_allclose(np.load(tmp_path / "both.npy")[1:], np.load(tmp_path / "one.npy"), atol=1e-5)


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


def test_image_encoder_embeds_every_video_frame(inputs, tmp_path):
    folder = tmp_path / "image_model"
    save_model_files(folder, {"encoder": create_model("vit_test", num_frames=1)})
    index = embed_files(
        [inputs / "still.png", inputs / "long.mp4"], folder, tmp_path / "e.npy", tokens=True, progress=False
    )
    assert index["shape"] == [7, 16, 32]
    assert [i["frames"] for i in index["items"]] == [[0], [0], [1], [2], [3], [4], [5]]
    assert index["items"][0]["start_time"] is None  # an image has no time


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
    with pytest.raises(
        DataError, match=r"has 6 frames and the model needs 7 \(4 frames, 2 apart\).*smaller frame step"
    ):
        embed_files([inputs / "long.mp4"], video_model, tmp_path / "e.npy", frame_step=2, progress=False)
    with pytest.raises(ConfigError, match="stride"):
        embed_files([inputs / "long.mp4"], video_model, tmp_path / "e.npy", stride=0, progress=False)


def test_frozen_encoder_prefers_the_ema_target_encoder(tmp_path):
    torch.manual_seed(0)
    online, target = create_model("vit_test"), create_model("vit_test")
    save_model_files(tmp_path / "run", {"encoder": online, "target_encoder": target})
    loaded = frozen_encoder(tmp_path / "run")
    assert not loaded.training
    expected = target.state_dict()
    assert loaded.state_dict().keys() == expected.keys()
    assert all(torch.equal(value, expected[key]) for key, value in loaded.state_dict().items())
    assert not torch.equal(online.blocks[0].attn.qkv.weight, target.blocks[0].attn.qkv.weight)


def test_released_weights_get_the_processor_and_worldjepa_folders_their_own_transform(video_model, tmp_path):
    from worldjepa.data.transforms import ProcessorTransform, VideoTransform
    from worldjepa.eval.features import clip_transform

    own = clip_transform(video_model, 32)
    assert type(own) is VideoTransform and own.crop_size == 32 and own.short_side == 36  # centre crop
    digits = save_model_files(
        tmp_path / "digits",
        {"encoder": create_model("vit_test")},
        meta={"recipe": {"data": {"kind": "moving_digits"}}},
    )
    assert clip_transform(digits, 32).short_side == 32  # pretrained on whole frames: resized whole
    hf_folder = tmp_path / "hf"
    hf_folder.mkdir()
    (hf_folder / "config.json").write_text('{"model_type": "vjepa2"}')
    for released in ("vjepa2-vitl-fpc64-256", tmp_path / "vitl.pt", hf_folder):
        assert type(clip_transform(released, 256)) is ProcessorTransform
