"""Hugging Face VJEPA2Model folders: numerical parity with transformers, export, strict loading."""

import json

import pytest
import torch
from vjepa2_tiny import tiny_hf_model

from worldjepa.errors import CheckpointError, ConfigError
from worldjepa.hub.hf_config import configs_from_hf, hf_from_configs
from worldjepa.hub.hf_format import load_hf, save_hf
from worldjepa.hub.pretrained import Pretrained
from worldjepa.models import create_model

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hf")
    tiny_hf_model().save_pretrained(folder)
    return folder


def clip(batch=2, seed=1):
    """pixel_values_videos [B, T, C, H, W] for transformers and [B, C, T, H, W] for worldjepa."""
    x = torch.randn(batch, 4, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
    return x, x.transpose(1, 2)


def test_encoder_and_predictor_match_transformers(hf_folder):
    hf, ours = tiny_hf_model(), load_hf(hf_folder)
    hf_x, x = clip()
    with torch.no_grad():
        out = hf(hf_x)
        tokens = ours.encoder(x)
        n = tokens.shape[1]
        assert (out.last_hidden_state - tokens).abs().max() < 1e-5
        every = torch.arange(n).repeat(2, 1)
        full = ours.predictor(tokens, every, every)
        assert (out.predictor_output.last_hidden_state - full).abs().max() < 1e-5
        # A random context / target split, unsorted ids, as training masks give.
        g = torch.Generator().manual_seed(2)
        ids = torch.stack([torch.randperm(n, generator=g) for _ in range(2)])
        context, target = ids[:, :20], ids[:, 20:]
        out = hf(hf_x, context_mask=[context], target_mask=[target])
        picked = torch.gather(tokens, 1, context[..., None].expand(-1, -1, tokens.shape[-1]))
        pred = ours.predictor(picked, context, target)
        assert pred.shape == (2, n - 20, 48)
        assert (out.predictor_output.last_hidden_state - pred).abs().max() < 1e-5


def test_configs_read_from_config_json(hf_folder):
    ours = load_hf(hf_folder)
    e, p = ours.encoder.config, ours.predictor.config
    assert (e.embed_dim, e.depth, e.num_heads, e.img_size, e.patch_size, e.num_frames) == (48, 2, 4, 32, 8, 4)
    assert (p.predictor_embed_dim, p.depth, p.num_heads, p.num_mask_tokens) == (36, 2, 3, 4)
    assert ours.crop_size == 32 and not ours.encoder.training


def test_export_loads_in_transformers_exactly(hf_folder, tmp_path):
    from transformers import VJEPA2Model

    save_hf(tmp_path / "out", load_hf(hf_folder))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["config.json", "model.safetensors"]
    back = VJEPA2Model.from_pretrained(tmp_path / "out").eval()
    want, got = tiny_hf_model().state_dict(), back.state_dict()
    assert want.keys() == got.keys()
    assert all(torch.equal(want[k], got[k]) for k in want)
    assert back.config.hidden_size == 48 and back.config.pred_num_mask_tokens == 4


def test_config_of_another_size_names_keys_and_shapes(hf_folder, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes((hf_folder / "model.safetensors").read_bytes())
    config = json.loads((hf_folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "hidden_size": 64, "num_hidden_layers": 1}))
    with pytest.raises(CheckpointError) as err:
        load_hf(folder)
    text = str(err.value)
    assert "unexpected keys" in text and "encoder.layer.1.attention.key.bias" in text
    assert (
        "encoder.embeddings.patch_embeddings.proj.weight: file (48, 3, 2, 8, 8) vs config (64, 3, 2, 8, 8)"
        in text
    )


def test_foreign_and_unsupported_configs():
    with pytest.raises(CheckpointError, match="model_type"):
        configs_from_hf({"model_type": "vit"})
    with pytest.raises(CheckpointError, match="gelu"):
        configs_from_hf({"model_type": "vjepa2", "hidden_act": "silu"})
    encoder, predictor = configs_from_hf({"model_type": "vjepa2", "patch_size": [16, 16]})
    assert encoder.embed_dim == 1024 and encoder.patch_size == 16 and predictor.predictor_embed_dim == 384
    assert hf_from_configs(encoder, predictor)["hidden_size"] == 1024


def test_export_refuses_what_transformers_cannot_hold(tmp_path):
    encoder = create_model("vit_test")
    with pytest.raises(ConfigError, match="img_size 32 vs 64"):
        hf_from_configs(encoder.config, create_model("predictor_test", img_size=64).config)
    with pytest.raises(ConfigError, match="predict_change"):
        hf_from_configs(encoder.config, create_model("predictor_test", predict_change=True).config)
    with pytest.raises(ConfigError, match="V-JEPA 2-AC"):
        save_hf(tmp_path / "ac", Pretrained(encoder, create_model("ac_predictor_test")))
    with pytest.raises(ConfigError, match="rope"):
        save_hf(
            tmp_path / "s",
            Pretrained(create_model("vit_test", pos_embed="sincos"), create_model("predictor_test")),
        )
