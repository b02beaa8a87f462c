"""Training a world model end to end on a tiny Two-Rooms collection, resuming, and evaluating planners."""

import json
from pathlib import Path

import pytest
import torch
from conftest import tiny_recipe
from typer.testing import CliRunner

from worldjepa.cli import app
from worldjepa.errors import ConfigError
from worldjepa.eval.plan_eval import PlanEvalConfig, evaluate_planning
from worldjepa.hub.world_model_files import load_world_model
from worldjepa.objectives import SIGReg
from worldjepa.train import world_model_trainer as trainer_module
from worldjepa.train.metrics import read_metrics
from worldjepa.train.world_model_config import load_world_model_config
from worldjepa.train.world_model_trainer import train_world_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wm")
    torch.set_num_threads(1)
    recipe = tiny_recipe(
        tmp, tmp / "data", "model.inverse_dynamics=true", "objective.inverse_dynamics_weight=0.5"
    )
    return recipe, train_world_model(recipe)


def test_training_collects_data_logs_every_term_and_saves_a_world_model(trained):
    recipe, result = trained
    assert json.loads((Path(recipe.data.root) / "card.json").read_text())["episodes"] == 12
    rows = read_metrics(result.run_dir)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert {"teacher_forcing", "rollout", "regularizer", "inverse_dynamics"} <= set(rows[-1])
    assert "effective_rank" in rows[1]
    model, meta = load_world_model(result.run_dir)
    assert meta["env"]["size"] == 32 and model.action_dim == 4 and model.inverse_dynamics is not None


@pytest.mark.parametrize("regularizer", ["vicreg", "none"])
def test_other_recipes_train(tmp_path, trained, regularizer):
    recipe, _ = trained
    extra = [f"objective.regularizer={regularizer}", "objective.rollout_steps=0", "model.latent=tokens"]
    result = train_world_model(tiny_recipe(tmp_path, recipe.data.root, *extra, steps=2))
    assert result.steps == 2 and torch.isfinite(torch.tensor(result.final_loss))


def test_resume_after_a_crash_continues_exactly(tmp_path, trained, monkeypatch):
    recipe, _ = trained
    reference = train_world_model(tiny_recipe(tmp_path, recipe.data.root, out="ref"))
    schedules = trainer_module.apply_schedules

    def crash_at_3(optimizer, step, optim):
        if step == 3:
            raise KeyboardInterrupt
        return schedules(optimizer, step, optim)

    monkeypatch.setattr(trainer_module, "apply_schedules", crash_at_3)
    with pytest.raises(KeyboardInterrupt):
        train_world_model(tiny_recipe(tmp_path, recipe.data.root, out="crashed"))
    monkeypatch.setattr(trainer_module, "apply_schedules", schedules)
    resumed = train_world_model(tiny_recipe(tmp_path, recipe.data.root, out="crashed"), resume=True)
    assert resumed.final_loss == reference.final_loss
    losses = [r["loss"] for r in read_metrics(resumed.run_dir)]
    assert losses == [r["loss"] for r in read_metrics(reference.run_dir)]


def test_frozen_encoder_needs_a_checkpoint_and_recipe_errors(tmp_path):
    with pytest.raises(ConfigError, match="encoder_checkpoint"):
        load_world_model_config(None, ["model.freeze_encoder=true"])
    with pytest.raises(ConfigError, match="rollout_steps"):
        load_world_model_config(None, ["objective.rollout_steps=9", "data.window=4"])
    with pytest.raises(ConfigError, match="regularizer"):
        load_world_model_config(None, ["objective.regularizer=sigregg"])
    # the optim section checks itself
    for bad in ("optim.lr=-0.001", "optim.predictor_lr_scale=nan", "optim.steps=0", "optim.grad_clip=-1"):
        with pytest.raises(ConfigError, match=bad.split("=")[0]):
            load_world_model_config(None, [bad])


def test_eval_plan_writes_results_and_pictures(tmp_path, trained):
    _, result = trained
    model, meta = load_world_model(result.model_dir)
    config = PlanEvalConfig(
        episodes=2, planner="cem", planner_overrides={"horizon": 2, "samples": 8, "topk": 2, "iterations": 1}
    )
    results = evaluate_planning(model, meta, config, tmp_path / "eval", progress=False)
    saved = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert saved["episodes"] == 2 and 0 <= saved["success_rate"] <= 1 and saved["ms_per_action"] > 0
    for key in ("success_rate_2px", "mean_final_distance", "mean_steps_to_success", "ms_per_plan"):
        assert key in saved
    for path in results["pictures"].values():
        assert (tmp_path / "eval").joinpath(path.rsplit("/", 1)[-1]).stat().st_size > 0


def test_cli_eval_plan_end_to_end_and_errors(tmp_path, trained):
    _, result = trained
    runner = CliRunner()
    args = [
        "eval-plan",
        "--checkpoint",
        str(result.model_dir),
        "--out",
        str(tmp_path / "cli"),
        "--episodes",
        "1",
    ]
    small = '{"horizon": 2, "samples": 8, "topk": 2, "iterations": 1}'
    ok = runner.invoke(
        app, [*args, "--planner", "mppi", "--planner-kwargs", small.replace(', "topk": 2', "")]
    )
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "cli" / "results.json").is_file() and "success" in ok.output
    bad_env = runner.invoke(app, [*args, "--env-kwargs", '{"door_widht": 14}'])
    assert bad_env.exit_code == 1 and "door_widht" in bad_env.output and "door_width" in bad_env.output
    no_episodes = runner.invoke(app, [*args[:-2], "--episodes", "0"])
    assert no_episodes.exit_code == 1 and "episodes" in no_episodes.output
    bad_planner = runner.invoke(app, [*args, "--planner", "cme"])
    assert bad_planner.exit_code == 1 and "cem" in bad_planner.output
    wrong_kind = runner.invoke(
        app, ["eval-plan", "--checkpoint", str(tmp_path), "--out", str(tmp_path / "x")]
    )
    assert wrong_kind.exit_code == 1 and "error" in wrong_kind.output


def test_cli_eval_plan_scores_the_true_dynamics_in_a_learned_latent(tmp_path, trained):
    _, result = trained
    runner = CliRunner()
    args = ["eval-plan", "--checkpoint", str(result.model_dir), "--true-dynamics", "--episodes", "1"]
    small = [
        "--planner",
        "cem",
        "--planner-kwargs",
        '{"horizon": 2, "samples": 8, "topk": 2, "iterations": 1}',
    ]
    ok = runner.invoke(app, [*args, "--out", str(tmp_path / "energy"), *small])
    assert ok.exit_code == 0, ok.output
    saved = json.loads((tmp_path / "energy" / "results.json").read_text())
    assert saved["episodes"] == 1 and saved["env"]["size"] == 32  # the checkpoint's env
    leaky = runner.invoke(app, [*args, "--out", str(tmp_path / "x"), "--leak", "0.1", *small])
    assert leaky.exit_code == 1 and "leave out --checkpoint" in leaky.output


def test_cli_collect_two_rooms(tmp_path):
    out = tmp_path / "collected"
    result = CliRunner().invoke(
        app,
        [
            "collect",
            "two-rooms",
            "--episodes",
            "3",
            "--steps",
            "4",
            "--out",
            str(out),
            "--env-kwargs",
            '{"size": 32}',
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "card.json").read_text())["episodes"] == 3


def test_recipe_a_pretrains_on_env_frames_then_freezes_the_encoder(tmp_path, trained):
    from worldjepa.train import load_pretrain_config, pretrain

    recipe, _ = trained
    pre = load_pretrain_config(
        None,
        [
            "model.encoder=vit_test",
            "model.predictor=predictor_test",
            "model.encoder_overrides={num_frames: 1}",
            "data.kind=two_rooms",
            f"data.root={recipe.data.root}",
            "data.num_videos=8",
            "data.num_test_videos=4",
            "data.frame_step=2",
            "data.crop_size=32",
            "data.batch_size=4",
            "masks.kind=multiblock",
            "optim.steps=2",
            "run.progress=false",
            "run.tensorboard=false",
            f"run.out_dir={tmp_path / 'pre'}",
        ],
    )
    encoder_dir = pretrain(pre).model_dir
    frozen = tiny_recipe(
        tmp_path,
        recipe.data.root,
        f"model.encoder_checkpoint={encoder_dir}",
        "model.freeze_encoder=true",
        steps=2,
        out="frozen",
    )
    result = train_world_model(frozen)
    model, _ = load_world_model(result.model_dir)
    from worldjepa.hub.model_files import load_encoder

    pretrained = load_encoder(encoder_dir).state_dict()
    for name, value in model.encoder.state_dict().items():
        assert torch.equal(value, pretrained[name]), name
    assert "regularizer" not in read_metrics(result.run_dir)[-1]


def test_anti_collapse_within_trajectories_ignores_what_never_moves():
    from worldjepa.train.world_model_config import WorldObjectiveSection
    from worldjepa.train.world_model_step import anti_collapse

    g = torch.Generator().manual_seed(0)
    layout_only = torch.randn(64, 1, 1, 8, generator=g).expand(64, 5, 1, 8)  # constant within each window
    moving = torch.randn(64, 5, 1, 8, generator=g)
    for kind in ("vicreg", "sigreg"):
        batch = WorldObjectiveSection(regularizer=kind, regularizer_scope="batch")
        trajectory = WorldObjectiveSection(regularizer=kind, regularizer_scope="trajectory")
        sigreg = SIGReg(64)
        collapsed = anti_collapse(layout_only, trajectory, sigreg, 0)
        assert anti_collapse(layout_only, batch, sigreg, 0) < collapsed
        assert anti_collapse(moving, trajectory, sigreg, 0) < collapsed
