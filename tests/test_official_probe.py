"""V-JEPA 2 probe interop: logits parity with transformers' classifier, the official .pt round trip."""

from __future__ import annotations

import pickle

import pytest
import torch

from worldjepa.errors import CheckpointError
from worldjepa.eval.attentive_probe import AttentiveClassifier
from worldjepa.eval.official_probe import (
    from_hf_state,
    load_official_probe,
    probe_from_state,
    save_official_probe,
    to_hf_state,
)
from worldjepa.eval.probe_files import load_probe, save_probe

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def hf_model():
    """A tiny VJEPA2ForVideoClassification (width 32, 2 heads, 3 pooler self-attention layers = depth 4)."""
    config = transformers.VJEPA2Config(
        hidden_size=32,
        num_attention_heads=2,
        num_hidden_layers=1,
        crop_size=32,
        patch_size=8,
        frames_per_clip=4,
        tubelet_size=2,
        num_pooler_layers=3,
        pred_hidden_size=16,
        pred_num_attention_heads=2,
        pred_num_hidden_layers=1,
        num_labels=5,
    )
    torch.manual_seed(0)
    model = transformers.VJEPA2ForVideoClassification(config).eval()
    with torch.no_grad():  # every head weight random and O(1), biases and norms included
        for name, param in model.named_parameters():
            if name.startswith(("pooler.", "classifier.")):
                param.copy_(0.3 * torch.randn_like(param) + (1.0 if "layer_norm" in name else 0.0))
    return model


def hf_logits_and_tokens(model, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """HF logits [B, C] and the frozen encoder tokens [B, N, D] they were computed from."""
    with torch.no_grad():
        logits = model(pixel_values_videos=video).logits
        tokens = model.vjepa2(pixel_values_videos=video, skip_predictor=True).last_hidden_state
    return logits, tokens


def test_hf_head_weights_give_the_same_logits_in_our_probe(hf_model):
    video = torch.randn(3, 4, 3, 32, 32, generator=torch.Generator().manual_seed(1))  # [B, T, C, H, W]
    logits, tokens = hf_logits_and_tokens(hf_model, video)
    probe = probe_from_state(
        from_hf_state(hf_model.state_dict()), num_heads=2, layer_norm_eps=hf_model.config.layer_norm_eps
    )
    assert probe.config.depth == 4 and probe.config.num_classes == 5 and probe.config.embed_dim == 32
    assert logits.abs().max() > 0.1  # a head that outputs ~0 would compare nothing
    torch.testing.assert_close(probe(tokens), logits, atol=1e-5, rtol=0)


def test_our_probe_weights_give_the_same_logits_in_transformers(hf_model):
    video = torch.randn(2, 4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    ours = AttentiveClassifier(32, 5, num_heads=2, depth=4, layer_norm_eps=1e-6)
    with torch.no_grad():
        for param in ours.parameters():
            param.add_(0.3 * torch.randn_like(param))
    ours.eval()
    target = transformers.VJEPA2ForVideoClassification(hf_model.config).eval()
    target.vjepa2.load_state_dict(hf_model.vjepa2.state_dict())
    result = target.load_state_dict(to_hf_state(ours.state_dict()), strict=False)
    assert not result.unexpected_keys
    assert all(k.startswith("vjepa2.") for k in result.missing_keys)  # every head key was filled
    logits, tokens = hf_logits_and_tokens(target, video)
    torch.testing.assert_close(ours(tokens), logits, atol=1e-5, rtol=0)
    # and the mapping is its own inverse
    back = from_hf_state(target.state_dict())
    assert back.keys() == ours.state_dict().keys()
    assert all(torch.equal(back[k], v) for k, v in ours.state_dict().items())


def random_probe(seed: int = 0, depth: int = 4) -> AttentiveClassifier:
    """Width 32 with the released probes' 16 heads (the official loader's default)."""
    return AttentiveClassifier(
        32, 3, num_heads=16, depth=depth, generator=torch.Generator().manual_seed(seed)
    ).eval()


def test_official_format_round_trip(tmp_path):
    probes = [random_probe(0), random_probe(1)]
    path = save_official_probe(tmp_path / "probe.pt", probes, epoch=7, batch_size=4)
    checkpoint = torch.load(path, weights_only=True)
    assert set(checkpoint) == {"classifiers", "opt", "scaler", "epoch", "batch_size", "world_size"}
    assert checkpoint["epoch"] == 7 and len(checkpoint["classifiers"]) == 2
    keys = set(checkpoint["classifiers"][0])
    assert {
        "module.pooler.query_tokens",
        "module.pooler.blocks.2.attn.qkv.weight",
        "module.linear.bias",
    } <= keys
    assert all(k.startswith("module.") for k in keys)
    tokens = torch.randn(4, 10, 32)
    for index, probe in enumerate(probes):
        loaded = load_official_probe(path, index=index)
        assert loaded.config.depth == 4 and loaded.config.num_heads == 16
        torch.testing.assert_close(loaded(tokens), probe(tokens), atol=0, rtol=0)
    with pytest.raises(CheckpointError, match="2 classifier"):
        load_official_probe(path, index=2)


def test_probe_folder_round_trip(tmp_path):
    probe = random_probe(3, depth=2)
    save_probe(tmp_path / "p", probe, meta={"classes": ["a", "b", "c"]})
    loaded, meta = load_probe(tmp_path / "p")
    assert meta == {"classes": ["a", "b", "c"]} and loaded.config == probe.config
    tokens = torch.randn(2, 5, 32)
    torch.testing.assert_close(loaded(tokens), probe(tokens), atol=0, rtol=0)
    with pytest.raises(CheckpointError, match="probe-videos"):
        load_probe(tmp_path / "nothing")


def test_official_probe_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_official_probe(tmp_path / "missing.pt")
    torch.save({"encoder": {"module.backbone.x": torch.zeros(1)}, "epoch": 1}, tmp_path / "encoder.pt")
    with pytest.raises(CheckpointError, match="'classifiers' list.*worldjepa.load"):
        load_official_probe(tmp_path / "encoder.pt")
    (tmp_path / "code.pt").write_bytes(pickle.dumps(print, protocol=2))  # a pickle that weights_only refuses
    with pytest.raises(CheckpointError, match="weights-only"):
        load_official_probe(tmp_path / "code.pt")
    state = {f"module.{k}": v for k, v in random_probe(0).state_dict().items()}
    state["module.linear.weight"] = torch.zeros(3, 31)
    del state["module.pooler.blocks.0.norm1.bias"]
    torch.save({"classifiers": [state]}, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match=r"(?s)missing keys \(1\).*shape mismatches \(1\)"):
        load_official_probe(tmp_path / "bad.pt")
    torch.save({"classifiers": [{"module.linear.weight": torch.zeros(3, 32)}]}, tmp_path / "partial.pt")
    with pytest.raises(CheckpointError, match="pooler.query_tokens"):
        load_official_probe(tmp_path / "partial.pt")
