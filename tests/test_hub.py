import json

import pytest
import torch

from worldjepa.errors import CheckpointError, WorldJepaError
from worldjepa.hub import (
    load_encoder,
    load_model_files,
    load_state_strict,
    read_model_config,
    save_model_files,
)
from worldjepa.models import Encoder, Predictor, create_model

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_models(seed=0):
    torch.manual_seed(seed)
    return {"encoder": create_model("vit_test"), "predictor": create_model("predictor_test")}


def edit_config(folder, name, **changes):
    path = folder / "config.json"
    data = json.loads(path.read_text())
    data["models"][name]["config"].update(changes)
    path.write_text(json.dumps(data))


def test_round_trip_gives_identical_weights_and_outputs(tmp_path):
    models = tiny_models()
    save_model_files(tmp_path / "m", models, meta={"steps": 3})
    loaded = load_model_files(tmp_path / "m")
    assert set(loaded) == {"encoder", "predictor"}
    assert isinstance(loaded["encoder"], Encoder) and isinstance(loaded["predictor"], Predictor)
    for name, module in models.items():
        assert loaded[name].config == module.config
        want, got = module.state_dict(), loaded[name].state_dict()
        assert want.keys() == got.keys()
        assert all(torch.equal(want[k], got[k]) for k in want)
        assert not loaded[name].training
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded["encoder"](x), models["encoder"].eval()(x))
    config = read_model_config(tmp_path / "m")
    assert config["format"] == "worldjepa" and config["meta"] == {"steps": 3}
    assert config["models"]["encoder"]["kind"] == "encoder"
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]


def test_load_some_names(tmp_path):
    save_model_files(tmp_path, tiny_models())
    assert list(load_model_files(tmp_path, ["predictor"])) == ["predictor"]
    with pytest.raises(CheckpointError, match="target_encoder") as err:
        load_model_files(tmp_path, ["target_encoder"])
    assert "encoder, predictor" in str(err.value)


def test_other_depth_lists_missing_and_unexpected_keys(tmp_path):
    save_model_files(tmp_path, tiny_models())
    edit_config(tmp_path, "encoder", depth=2)
    with pytest.raises(CheckpointError, match="missing keys") as err:
        load_model_files(tmp_path)
    assert "blocks.1.attn.qkv.weight" in str(err.value)
    edit_config(tmp_path, "encoder", depth=0)
    with pytest.raises(CheckpointError, match="unexpected keys") as err:
        load_model_files(tmp_path)
    assert "blocks.0.norm1.weight" in str(err.value)


def test_shape_mismatch_lists_key_and_both_shapes(tmp_path):
    save_model_files(tmp_path, tiny_models())
    edit_config(tmp_path, "encoder", mlp_ratio=2.0)
    with pytest.raises(CheckpointError, match="shape mismatches") as err:
        load_model_files(tmp_path)
    assert "blocks.0.mlp.fc1.weight: file (128, 32) vs model (64, 32)" in str(err.value)


def test_truncated_weights(tmp_path):
    save_model_files(tmp_path, tiny_models())
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_model_files(tmp_path)


def test_garbage_and_missing_weights(tmp_path):
    save_model_files(tmp_path, tiny_models())
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\x00" * 7)
    with pytest.raises(CheckpointError):
        load_model_files(tmp_path)
    weights.unlink()
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_model_files(tmp_path)


def test_missing_folder_and_missing_config(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model_files(tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match="config.json"):
        load_model_files(tmp_path)


def test_foreign_or_corrupt_config(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "vjepa2", "hidden_size": 1024}))
    with pytest.raises(CheckpointError, match="convert"):
        load_model_files(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_model_files(tmp_path)


def test_config_with_an_unknown_key_is_a_clear_error(tmp_path):
    save_model_files(tmp_path, tiny_models())
    edit_config(tmp_path, "encoder", embed_dimm=32)
    with pytest.raises(WorldJepaError, match="embed_dimm"):
        load_model_files(tmp_path)


def test_load_encoder_prefers_target_encoder(tmp_path):
    models = tiny_models()
    torch.manual_seed(1)
    target = create_model("vit_test")
    save_model_files(tmp_path / "both", {**models, "target_encoder": target})
    got = load_encoder(tmp_path / "both")
    assert torch.equal(got.blocks[0].attn.qkv.weight, target.blocks[0].attn.qkv.weight)
    save_model_files(tmp_path / "online", models)
    got = load_encoder(tmp_path / "online")
    assert torch.equal(got.blocks[0].attn.qkv.weight, models["encoder"].blocks[0].attn.qkv.weight)
    save_model_files(tmp_path / "pred", {"predictor": models["predictor"]})
    with pytest.raises(CheckpointError, match="no encoder"):
        load_encoder(tmp_path / "pred")


def test_load_state_strict_lists_everything_wrong():
    module = torch.nn.Linear(2, 3)
    good = {"weight": torch.ones(3, 2), "bias": torch.zeros(3)}
    load_state_strict(module, good)
    assert torch.equal(module.weight, torch.ones(3, 2))
    extra = {f"extra.{i}": torch.zeros(1) for i in range(15)}
    with pytest.raises(CheckpointError) as err:
        load_state_strict(module, {"weight": torch.ones(2, 2), **extra}, where="file.pt")
    message = str(err.value)
    assert "file.pt" in message
    assert "missing keys (1): bias" in message
    assert "unexpected keys (15)" in message and "(+3 more)" in message
    assert "weight: file (2, 2) vs model (3, 2)" in message
    assert torch.equal(module.weight, torch.ones(3, 2))  # nothing is copied on error


def test_save_overwrites_in_place(tmp_path):
    save_model_files(tmp_path, tiny_models(0))
    new = tiny_models(1)
    save_model_files(tmp_path, new)
    loaded = load_model_files(tmp_path, ["encoder"])["encoder"]
    assert torch.equal(loaded.patch_embed.proj.weight, new["encoder"].patch_embed.proj.weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]
