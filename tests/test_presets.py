import pytest
import torch

from worldjepa.errors import ConfigError
from worldjepa.models import (
    PRESETS,
    ActionPredictor,
    Encoder,
    EncoderConfig,
    Predictor,
    PredictorConfig,
    build_model,
    create_model,
    list_models,
    preset_config,
)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    "name, params",
    [("vit_large", 303_885_312), ("vit_huge", 631_648_000), ("vit_giant", 1_012_173_952)],
)
def test_vjepa2_encoder_sizes(name, params):
    with torch.device("meta"):
        model = create_model(name)
    assert isinstance(model, Encoder)
    assert count(model) == params


@pytest.mark.parametrize("embed_dim, params", [(1024, 22_086_016), (1280, 22_282_880), (1408, 22_381_312)])
def test_vjepa2_predictor_sizes(embed_dim, params):
    with torch.device("meta"):
        model = create_model("predictor_vjepa2", embed_dim=embed_dim)
    assert isinstance(model, Predictor)
    assert count(model) == params
    assert len(model.mask_tokens) == 10


@pytest.mark.parametrize("name", list_models())
def test_every_preset_builds(name):
    with torch.device("meta"):
        model = create_model(name)
    kind = PRESETS[name].kind
    classes = {"encoder": Encoder, "predictor": Predictor, "action_predictor": ActionPredictor}
    assert isinstance(model, classes[kind])
    assert count(model) > 0


def test_vjepa2_ac_predictor_size():
    """The released V-JEPA 2-AC predictor, including its unused 6-d extrinsics encoder."""
    with torch.device("meta"):
        model = create_model("ac_predictor_vjepa2")
    assert count(model) == 305_220_992


def test_list_models_by_kind():
    kinds = {kind: list_models(kind) for kind in ("encoder", "predictor", "action_predictor")}
    assert "vit_large" in kinds["encoder"] and "predictor_vjepa2" in kinds["predictor"]
    assert "ac_predictor_vjepa2" in kinds["action_predictor"]
    assert set().union(*kinds.values()) == set(list_models())
    assert sum(map(len, kinds.values())) == len(list_models())


def test_unknown_preset_suggests_close_name():
    with pytest.raises(ConfigError, match="vit_large"):
        create_model("vit_larg")
    with pytest.raises(ConfigError, match="Known"):
        preset_config("resnet50")


def test_unknown_override_names_the_key():
    with pytest.raises(ConfigError, match="embed_dimm") as err:
        create_model("vit_test", embed_dimm=64)
    assert "embed_dim" in str(err.value).replace("embed_dimm", "")


def test_override_of_wrong_type():
    with pytest.raises(ConfigError, match="depth"):
        create_model("vit_test", depth="two")


def test_preset_config_applies_overrides():
    config = preset_config("vit_large", num_frames=64, img_size=384)
    assert isinstance(config, EncoderConfig)
    assert (config.embed_dim, config.depth, config.num_heads) == (1024, 24, 16)
    assert config.grid == (32, 24, 24)
    assert isinstance(preset_config("predictor_test"), PredictorConfig)


def test_build_model_from_config():
    model = build_model(preset_config("vit_test"))
    assert isinstance(model, Encoder) and model.config.embed_dim == 32
    with pytest.raises(ConfigError):
        build_model({"embed_dim": 32})


def test_vit_giant_mlp_width():
    with torch.device("meta"):
        model = create_model("vit_giant", depth=1)
    assert model.blocks[0].mlp.fc1.out_features == 6144  # 1408 * 48 / 11


def test_create_model_is_exported_at_the_top_level():
    import worldjepa

    with torch.device("meta"):
        model = worldjepa.create_model("vit_large")
    assert sum(p.numel() for p in model.parameters()) == 303_885_312
    assert "vit_giant" in worldjepa.list_models()
