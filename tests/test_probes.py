"""Probes on frozen features: linear, attentive, kNN, collapse statistics, feature extraction."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from worldjepa.errors import ConfigError, DataError, ShapeError
from worldjepa.eval import (
    AttentiveClassifier,
    effective_rank,
    extract_features,
    feature_std,
    knn_classify,
    pixel_features,
    run_probes,
    run_probes_over_seeds,
    train_attentive_probe,
    train_linear_probe,
)


def blobs(n: int, d: int = 16, classes: int = 4, seed: int = 0, spread: float = 0.5):
    """Well-separated Gaussian blobs [n, d] with labels [n]; centres fixed across seeds."""
    centres = 3.0 * torch.randn(classes, d, generator=torch.Generator().manual_seed(99))
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    return centres[y] + spread * torch.randn(n, d, generator=g), y


def which_token(n: int, k: int = 8, d: int = 32, classes: int = 4, seed: int = 0):
    """Tokens [n, k, d]: the class is WHICH token carries a fixed signal; the token mean is blind to it."""
    position = torch.randn(k, d, generator=torch.Generator().manual_seed(123))
    signal = 3.0 * torch.randn(d, generator=torch.Generator().manual_seed(7))
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    x = position + 0.5 * torch.randn(n, k, d, generator=g)
    x[torch.arange(n), y] += signal
    return x, y


def test_linear_probe_separates_blobs_and_is_at_chance_on_random_labels():
    x, y = blobs(400)
    x_test, y_test = blobs(200, seed=1)
    assert train_linear_probe(x, y, x_test, y_test)["accuracy"] > 0.98
    noise = torch.randint(0, 4, (400,), generator=torch.Generator().manual_seed(5))
    noise_test = torch.randint(0, 4, (200,), generator=torch.Generator().manual_seed(6))
    assert train_linear_probe(x, noise, x_test, noise_test)["accuracy"] < 0.4


def test_linear_probe_ignores_constant_features():
    x, y = blobs(200)
    x_test, y_test = blobs(100, seed=1)
    x = torch.cat([x, torch.ones(200, 1)], 1)
    x_test = torch.cat([x_test, 5 * torch.ones(100, 1)], 1)
    out = train_linear_probe(x, y, x_test, y_test)
    assert math.isfinite(out["loss"]) and out["accuracy"] > 0.98


def test_attentive_probe_reads_which_token_where_mean_pooling_cannot():
    x, y = which_token(256)
    x_test, y_test = which_token(256, seed=1)
    attentive = train_attentive_probe(x, y, x_test, y_test, epochs=20, batch_size=32, lr=3e-3)
    linear = train_linear_probe(x.mean(1), y, x_test.mean(1), y_test)
    assert attentive["accuracy"] > 0.9
    assert linear["accuracy"] < 0.45
    assert isinstance(attentive["model"], AttentiveClassifier) and not attentive["model"].training


def test_knn_classifies_blobs():
    x, y = blobs(300)
    x_test, y_test = blobs(100, seed=1)
    assert knn_classify(x, y, x_test, y_test, k=10)["accuracy"] > 0.95
    # k larger than the train set and a chunk smaller than the test set still work.
    assert knn_classify(x[:5], y[:5], x_test, y_test, k=20, chunk_size=7)["accuracy"] >= 0.0


def test_probes_are_deterministic_given_a_seed():
    x, y = which_token(64, k=4, d=16)
    x_test, y_test = which_token(32, k=4, d=16, seed=1)
    kwargs = dict(epochs=2, batch_size=16, lr=3e-3)
    a = train_attentive_probe(x, y, x_test, y_test, seed=3, **kwargs)
    b = train_attentive_probe(x, y, x_test, y_test, seed=3, **kwargs)
    c = train_attentive_probe(x, y, x_test, y_test, seed=4, **kwargs)
    assert a["accuracy"] == b["accuracy"] and a["loss"] == b["loss"]
    for (name, p), q in zip(a["model"].state_dict().items(), b["model"].state_dict().values(), strict=True):
        assert torch.equal(p, q), name
    assert not torch.equal(a["model"].linear.weight, c["model"].linear.weight)
    flat, flat_test = x.mean(1), x_test.mean(1)
    assert train_linear_probe(flat, y, flat_test, y_test, seed=1) == train_linear_probe(
        flat, y, flat_test, y_test, seed=1
    )


def test_attentive_classifier_mirrors_official_names_and_shapes():
    model = AttentiveClassifier(embed_dim=16, num_classes=3, num_heads=2, depth=3, num_queries=2)
    keys = set(model.state_dict())
    for key in (
        "pooler.query_tokens",
        "pooler.blocks.0.norm1.weight",
        "pooler.blocks.1.attn.qkv.weight",
        "pooler.blocks.1.attn.proj.weight",
        "pooler.blocks.1.mlp.fc2.weight",
        "pooler.cross_attention_block.norm1.weight",
        "pooler.cross_attention_block.xattn.q.weight",
        "pooler.cross_attention_block.xattn.kv.weight",
        "pooler.cross_attention_block.mlp.fc1.weight",
        "linear.weight",
    ):
        assert key in keys, key
    assert not any(k.startswith("pooler.blocks.2") or "xattn.proj" in k for k in keys)
    assert model.pooler.query_tokens.shape == (1, 2, 16)
    assert model.pooler.blocks[1].attn.qkv.weight.shape == (48, 16)
    assert model(torch.randn(5, 7, 16)).shape == (5, 3)
    assert not any(k.startswith("pooler.blocks") for k in AttentiveClassifier(16, 3, 2).state_dict())
    with pytest.raises(ConfigError):
        AttentiveClassifier(embed_dim=10, num_classes=3, num_heads=4)


def test_attentive_pooler_cross_attention_matches_a_manual_softmax():
    generator = torch.Generator().manual_seed(0)
    model = AttentiveClassifier(embed_dim=8, num_classes=2, num_heads=2, generator=generator)
    block = model.pooler.cross_attention_block
    tokens = torch.randn(3, 5, 8)
    q = block.xattn.q(model.pooler.query_tokens.expand(3, -1, -1)).reshape(3, 1, 2, 4).transpose(1, 2)
    k, v = block.xattn.kv(block.norm1(tokens)).reshape(3, 5, 2, 2, 4).permute(2, 0, 3, 1, 4)
    attn = torch.softmax(q @ k.transpose(-1, -2) / 2.0, dim=-1)
    pooled = model.pooler.query_tokens + (attn @ v).transpose(1, 2).reshape(3, 1, 8)
    pooled = pooled + block.mlp(block.norm2(pooled))
    torch.testing.assert_close(model.pooler(tokens), pooled)


def test_effective_rank_and_feature_std():
    g = torch.Generator().manual_seed(0)
    full = torch.randn(2000, 16, generator=g)
    assert effective_rank(full) > 15.0
    rank_one = torch.randn(200, 1, generator=g) * torch.randn(1, 16, generator=g)
    assert effective_rank(rank_one) < 1.01
    assert abs(feature_std(full) - 1 / math.sqrt(16)) < 0.02
    assert feature_std(torch.ones(50, 16) + 1e-6 * torch.randn(50, 16, generator=g)) < 1e-4
    with pytest.raises(ShapeError):
        effective_rank(torch.randn(4, 3, 2))
    with pytest.raises(ShapeError):
        feature_std(torch.randn(1, 8))


class PatchEncoder(nn.Module):
    """Tiny stand-in encoder: video [B, C, T, H, W] -> tokens [B, T * (H / 4) * (W / 4), D]."""

    embed_dim = 8

    def __init__(self):
        super().__init__()
        self.proj = nn.Conv3d(3, self.embed_dim, kernel_size=(1, 4, 4), stride=(1, 4, 4))

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


def video_loader(n: int = 10, batch_size: int = 4):
    g = torch.Generator().manual_seed(0)
    items = [
        {"video": torch.randn(3, 2, 8, 8, generator=g), "label": i % 3, "direction": torch.tensor(i % 2)}
        for i in range(n)
    ]
    return DataLoader(items, batch_size=batch_size, shuffle=False)


def test_extract_features_runs_a_frozen_encoder_over_dict_batches():
    encoder = PatchEncoder().train()
    tokens, labels = extract_features(encoder, video_loader(), "video", ["label", "direction"])
    assert tokens.shape == (10, 2 * 2 * 2, 8) and tokens.dtype == torch.float32
    assert labels["label"].tolist() == [i % 3 for i in range(10)]
    assert labels["direction"].dtype == torch.long and labels["direction"].shape == (10,)
    assert encoder.training
    videos = torch.stack([item["video"] for item in video_loader().dataset])
    with torch.no_grad():
        torch.testing.assert_close(tokens, encoder(videos))
    pooled, _ = extract_features(encoder, video_loader(), "video", ["label"], pool_tokens=2)
    expected = F.adaptive_avg_pool1d(tokens.transpose(1, 2), 2).transpose(1, 2)
    torch.testing.assert_close(pooled, expected)


def test_extract_features_names_missing_keys():
    with pytest.raises(DataError, match="video"):
        extract_features(PatchEncoder(), video_loader(), "vidoe", ["label"])
    with pytest.raises(DataError, match="labl"):
        extract_features(PatchEncoder(), video_loader(), "video", ["labl"])
    with pytest.raises(DataError):
        extract_features(PatchEncoder(), [], "video", ["label"])
    with pytest.raises(ShapeError):
        extract_features(nn.Flatten(), video_loader(), "video", ["label"])


def test_pixel_features_give_one_token_per_frame_or_per_row():
    tokens, labels = pixel_features(video_loader(), "video", ["label"], size=4)
    assert tokens.shape == (10, 2, 3 * 4 * 4) and labels["label"].shape == (10,)
    images = [{"image": torch.rand(3, 16, 16), "digit": 1} for _ in range(3)]
    tokens, labels = pixel_features(DataLoader(images, batch_size=2), "image", ["digit"], size=8)
    assert tokens.shape == (3, 8, 3 * 8) and labels["digit"].tolist() == [1, 1, 1]
    # Row r of the downsampled image is token r.
    small = F.adaptive_avg_pool2d(images[0]["image"], 8)
    torch.testing.assert_close(tokens[0, 5], small[:, 5].reshape(-1))


def test_run_probes_reports_every_kind_for_every_label():
    x, y = which_token(128, k=4, d=16)
    x_test, y_test = which_token(64, k=4, d=16, seed=1)
    parity, parity_test = y % 2, y_test % 2
    results = run_probes(
        x,
        {"slot": y, "parity": parity},
        x_test,
        {"slot": y_test, "parity": parity_test},
        attentive_kwargs={"epochs": 2, "batch_size": 32},
    )
    assert set(results) == {"slot", "parity"}
    for scores in results.values():
        assert set(scores) == {"linear", "attentive", "knn"}
        assert all(0.0 <= acc <= 1.0 for acc in scores.values())
    assert run_probes(x, {"slot": y}, x_test, {"slot": y_test}, kinds=("knn",)) == {
        "slot": {"knn": knn_classify(x.mean(1), y, x_test.mean(1), y_test)["accuracy"]}
    }


def test_probes_over_seeds_average_each_seeds_own_run():
    x, y = which_token(96, k=4, d=16)
    x_test, y_test = which_token(48, k=4, d=16, seed=1)
    kwargs = {"attentive_kwargs": {"epochs": 2, "batch_size": 32}}
    mean, per_seed = run_probes_over_seeds(
        x, {"slot": y}, x_test, {"slot": y_test}, ("linear", "attentive"), seeds=(3, 4), **kwargs
    )
    runs = [
        run_probes(x, {"slot": y}, x_test, {"slot": y_test}, ("linear", "attentive"), seed=s, **kwargs)
        for s in (3, 4)
    ]
    for kind in ("linear", "attentive"):
        assert per_seed["slot"][kind] == [run["slot"][kind] for run in runs]
        assert mean["slot"][kind] == pytest.approx(sum(per_seed["slot"][kind]) / 2)
    with pytest.raises(ConfigError, match="probe seed"):
        run_probes_over_seeds(x, {"slot": y}, x_test, {"slot": y_test}, seeds=())


def test_bad_inputs_raise_worldjepa_errors():
    x, y = blobs(20)
    with pytest.raises(ShapeError, match="labels"):
        train_linear_probe(x, y[:10], x, y)
    with pytest.raises(ShapeError, match=r"\[N, D\]"):
        train_linear_probe(x[None], y, x, y)
    with pytest.raises(ShapeError, match="widths"):
        knn_classify(x, y, x[:, :3], y)
    with pytest.raises(ShapeError, match="integer"):
        knn_classify(x, y.float(), x, y)
    with pytest.raises(ShapeError, match=r"\[N, K, D\]"):
        train_attentive_probe(x, y, x, y)
    with pytest.raises(ShapeError, match="num_classes"):
        train_linear_probe(x, y, x, y, num_classes=2)
    tokens = x[:, None]
    with pytest.raises(ConfigError, match="linear"):
        run_probes(tokens, {"label": y}, tokens, {"label": y}, kinds=("linaer",))
    with pytest.raises(DataError):
        run_probes(tokens, {"label": y}, tokens, {"digit": y})
    with pytest.raises(ShapeError):
        run_probes(tokens, {"label": y}, tokens[:5], {"label": y})
