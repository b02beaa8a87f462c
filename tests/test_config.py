import math

import pytest

from worldjepa.config import deep_merge, from_dict, load_yaml, parse_overrides, to_dict
from worldjepa.errors import ConfigError
from worldjepa.models import preset_config
from worldjepa.train import PretrainConfig, load_pretrain_config


def test_unknown_nested_key_is_named_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"'optim\.lrr'") as err:
        from_dict(PretrainConfig, {"optim": {"lrr": 1e-3}})
    assert "Did you mean: lr" in str(err.value)
    with pytest.raises(ConfigError, match=r"'run\.out_dirr'.*out_dir"):
        from_dict(PretrainConfig, {"run": {"out_dirr": "x"}})
    with pytest.raises(ConfigError, match=r"'optimizer'.*optim"):
        from_dict(PretrainConfig, {"optimizer": {}})


def test_parse_overrides_nests_and_parses_yaml_values():
    got = parse_overrides(
        [
            "optim.lr=0.001",
            "optim.steps=20",
            "model.encoder=vit_test",
            "run.progress=false",
            "masks.target_scale=[0.1, 0.2]",
            "data.root=null",
            "run.out_dir=a=b",
            "model.encoder_overrides.depth=2",
        ]
    )
    assert got == {
        "optim": {"lr": 0.001, "steps": 20},
        "model": {"encoder": "vit_test", "encoder_overrides": {"depth": 2}},
        "run": {"progress": False, "out_dir": "a=b"},
        "masks": {"target_scale": [0.1, 0.2]},
        "data": {"root": None},
    }
    assert math.isnan(parse_overrides(["optim.lr=.nan"])["optim"]["lr"])
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["optim.lr"])


def test_load_pretrain_config_from_yaml_and_overrides(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text(
        "model:\n  encoder: vit_test\n  predictor: predictor_test\n"
        "optim:\n  steps: 7\n  lr: 0.002\n  start_lr: 1e-4\n"
        "masks:\n  target_scale: [0.1, 0.3]\n"
    )
    overrides = ["optim.lr=5e-4", "data.batch_size=4", "objective.regularizer=sigreg"]
    config = load_pretrain_config(path, overrides)
    assert config.model.encoder == "vit_test"
    assert config.optim.steps == 7 and config.optim.lr == 5e-4
    assert config.optim.start_lr == 1e-4
    assert config.data.batch_size == 4 and config.objective.regularizer == "sigreg"
    assert config.masks.target_scale == (0.1, 0.3)  # lists become the declared tuple
    assert config.optim.warmup_steps == PretrainConfig().optim.warmup_steps  # untouched defaults stay
    assert load_pretrain_config() == PretrainConfig()


def test_scientific_notation_is_a_float(tmp_path):
    """PyYAML reads `1e-3` (no dot) as a string; recipes and overrides write learning rates that way."""
    config = load_pretrain_config(None, ["optim.lr=1e-3", "optim.final_lr=2E-6", "optim.start_lr=1.5e-4"])
    assert (config.optim.lr, config.optim.final_lr, config.optim.start_lr) == (1e-3, 2e-6, 1.5e-4)
    assert all(isinstance(v, float) for v in (config.optim.lr, config.optim.final_lr))
    path = tmp_path / "recipe.yaml"
    path.write_text(
        "objective:\n  ema_start: 9.96e-1\nmasks:\n  target_scale: [1e-1, 2e-1]\n"
        "model:\n  encoder_overrides:\n    init_std: 2e-2\n"
    )
    config = load_pretrain_config(path)
    assert config.objective.ema_start == 0.996
    assert config.masks.target_scale == (0.1, 0.2)
    assert preset_config("vit_test", **config.model.encoder_overrides).init_std == 0.02


def test_values_are_coerced_or_rejected():
    config = from_dict(PretrainConfig, {"optim": {"lr": 1, "steps": 10.0}})
    assert isinstance(config.optim.lr, float) and config.optim.steps == 10
    with pytest.raises(ConfigError, match=r"'optim\.steps'.*int"):
        from_dict(PretrainConfig, {"optim": {"steps": "many"}})
    with pytest.raises(ConfigError, match=r"'optim\.steps'"):
        from_dict(PretrainConfig, {"optim": {"steps": 2.5}})
    with pytest.raises(ConfigError, match=r"'run\.progress'.*bool"):
        from_dict(PretrainConfig, {"run": {"progress": "yes please"}})
    with pytest.raises(ConfigError, match=r"'optim'.*mapping"):
        from_dict(PretrainConfig, {"optim": 3})
    with pytest.raises(ConfigError, match="lr"):
        load_pretrain_config(None, ["optim.lr=fast"])


def test_bad_choices():
    with pytest.raises(ConfigError, match="objective.regularizer.*foo"):
        load_pretrain_config(None, ["objective.regularizer=foo"])
    with pytest.raises(ConfigError, match="masks.kind"):
        load_pretrain_config(None, ["masks.kind=random"])
    with pytest.raises(ConfigError, match="objective.loss"):
        load_pretrain_config(None, ["objective.loss=l3"])
    with pytest.raises(ConfigError, match="data.kind.*moving_digits"):
        load_pretrain_config(None, ["data.kind=moving_digit"])
    for bad in (
        "optim.steps=0",
        "optim.warmup_steps=-1",
        "optim.decay_fraction=1.5",
        "optim.grad_clip=0",
        "optim.betas=[0.9, 1.0]",
        "data.batch_size=0",
    ):
        with pytest.raises(ConfigError, match=bad.split("=")[0]):
            load_pretrain_config(None, [bad])
    with pytest.raises(ConfigError, match="sigreg_projector = -1.*width >= 1"):
        load_pretrain_config(None, ["objective.sigreg_projector=-1"])
    with pytest.raises(ConfigError, match="sigreg_ramp_steps = -5"):
        load_pretrain_config(None, ["objective.sigreg_ramp_steps=-5"])


def test_yaml_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("optim: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_pretrain_config(bad)
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_yaml(bad)


def test_to_dict_round_trip():
    config = load_pretrain_config(None, ["optim.lr=3e-4", "model.encoder_overrides.depth=2"])
    plain = to_dict(config)
    assert plain["optim"]["betas"] == [0.9, 0.999]  # tuples become lists (YAML/JSON-safe)
    assert from_dict(PretrainConfig, plain) == config


def test_deep_merge_does_not_modify_its_inputs():
    base = {"a": {"b": 1, "c": 2}, "d": 3}
    merged = deep_merge(base, {"a": {"b": 5}, "e": 6})
    assert merged == {"a": {"b": 5, "c": 2}, "d": 3, "e": 6}
    assert base == {"a": {"b": 1, "c": 2}, "d": 3}


def test_grayscale_is_a_probability_for_colour_videos():
    with pytest.raises(ConfigError, match=r"data\.grayscale = 1\.5"):
        from_dict(PretrainConfig, {"data": {"kind": "physics", "grayscale": 1.5}})
    with pytest.raises(ConfigError, match="colour videos"):
        from_dict(PretrainConfig, {"data": {"kind": "moving_digits", "grayscale": 0.5}})
    assert from_dict(PretrainConfig, {"data": {"kind": "physics", "grayscale": 0.5}}).data.grayscale == 0.5
