"""The pretraining demo end to end on a tiny recipe: train, probe with baselines, plot, report."""

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from worldjepa.cli import app
from worldjepa.config import to_dict


def tiny_recipe(tmp_path, tiny_config):
    config = tiny_config("data.num_test_videos=16", steps=50)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(to_dict(config)))
    return path


def test_demo_trains_probes_and_plots(tmp_path, tiny_config):
    result = CliRunner().invoke(
        app,
        [
            "demo",
            "--seed",
            "0",
            "--out",
            str(tmp_path / "demo"),
            "--config",
            str(tiny_recipe(tmp_path, tiny_config)),
            "--steps",
            "2",  # the recipe says 50: the demo's budget overrides it
        ],
    )
    assert result.exit_code == 0, result.output
    assert "random init" in result.output and "pixels" in result.output
    report = json.loads((tmp_path / "demo" / "report.json").read_text())
    for source in ("probes", "random_init", "pixels"):
        assert set(report[source]) == {"digit", "direction"}
        assert set(report[source]["direction"]) == {"linear", "attentive"}
    assert 0 < report["effective_rank"] <= report["width"]
    assert report["training"]["steps"] == 2
    for key in ("probes_plot", "training_plot"):
        assert Path(report["files"][key]).read_bytes()[:4] == b"\x89PNG"


def test_demo_without_recipe_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path), "--config", str(tmp_path / "nope.yaml")]
    )
    assert result.exit_code == 1
    assert "not found" in result.output
