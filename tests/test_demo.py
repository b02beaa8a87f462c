"""The demos end to end on a tiny recipe: train, probe with baselines, plot, report."""

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from worldjepa.cli import app
from worldjepa.config import to_dict
from worldjepa.hub.world_model_files import load_world_model
from worldjepa.models.step_world_model import StepWorldModel


def tiny_recipe(tmp_path, tiny_config):
    config = tiny_config("data.num_test_videos=16", steps=50)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(to_dict(config)))
    return path


def test_pretrain_demo_trains_probes_and_plots(tmp_path, tiny_config):
    result = CliRunner().invoke(
        app,
        [
            "pretrain-demo",
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


def test_planning_demo_trains_a_world_model_and_evaluates_every_planner(tmp_path):
    from test_world_model_training import tiny_recipe as tiny_world_recipe

    recipe = tiny_world_recipe(tmp_path, tmp_path / "data", steps=50)
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(to_dict(recipe)))
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--config", str(path), "--steps", "2", "--dynamics-steps", "3"]
    args += ["--episodes", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert all(name in result.output for name in ("cem", "mppi", "gd"))
    report = json.loads((out / "report.json").read_text())
    assert report["training"]["steps"] == 2
    assert isinstance(load_world_model(report["model"])[0], StepWorldModel)  # the demo refits 3 steps
    assert [p["planner"] for p in report["planners"]] == ["gd", "mppi", "cem"]
    assert Path(report["files"]["cem_energy_landscape"]).read_bytes()[:4] == b"\x89PNG"
    assert Path(report["files"]["cem_episodes_gif"]).read_bytes()[:3] == b"GIF"
    assert_planners_give_the_same_numbers_side_by_side(report["model"], tmp_path)


def assert_planners_give_the_same_numbers_side_by_side(model_dir, tmp_path):
    """The demo's planners, one after another in this process or in 2 processes of 1 thread each,
    land on the same distances."""
    from worldjepa.planning_demo import evaluate_planners

    def final_distances(folder: str, threads: int) -> list[float]:
        jobs = [(model_dir, name, 1, 10_000, str(tmp_path / folder / name)) for name in ("gd", "cem")]
        return [result["mean_final_distance"] for result in evaluate_planners(jobs, threads, False)]

    assert final_distances("in_process", 1) == final_distances("side_by_side", 2)
