"""A run killed at any moment resumes from its last checkpoint and continues exactly as if never stopped."""

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from worldjepa.config import to_dict
from worldjepa.errors import CheckpointError, ConfigError
from worldjepa.train import Trainer, pretrain
from worldjepa.train.metrics import read_metrics
from worldjepa.train.resume_recipe import recipe_changes
from worldjepa.train.state import latest_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")

# Trains in a child process with one thread. Steps from 4 on sleep first (which changes no numbers), so
# the parent, polling for checkpoint 4, kills it long before its end even on a busy machine.
CHILD = """
import sys, time
import torch
torch.set_num_threads(1)
from worldjepa.train import Trainer, load_pretrain_config, pretrain
set_schedules = Trainer.set_schedules
def slow_set_schedules(self, step):
    time.sleep(0.05 if step < 4 else 1.0)
    return set_schedules(self, step)
Trainer.set_schedules = slow_set_schedules
pretrain(load_pretrain_config(sys.argv[1]))
"""


def checkpoint_step(run_dir) -> int:
    path = latest_checkpoint(run_dir)
    return int(path.name.split("_")[1]) if path else 0


def metric(run_dir, key="loss") -> dict[int, float]:
    return {int(row["step"]): row[key] for row in read_metrics(run_dir)}


def test_resume_after_sigkill_matches_an_uninterrupted_run(tiny_config, tmp_path):
    steps = 12
    reference = pretrain(tiny_config(steps=steps, out="reference")).run_dir
    config = tiny_config(steps=steps, out="killed")
    run_dir = tmp_path / "killed"
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(to_dict(config)))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(recipe)],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while checkpoint_step(run_dir) < 4:
            if child.poll() is not None:
                pytest.fail(f"the training child exited early: {child.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("no checkpoint after 120 s")
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stderr.close()
    killed_at = checkpoint_step(run_dir)
    assert 4 <= killed_at < steps, "the run must be killed before its end"
    assert not (run_dir / "model").exists()

    result = pretrain(config, resume=True)
    assert result.steps == steps
    want, got = metric(reference), metric(run_dir)
    # Rows the killed run logged past its checkpoint were dropped, and logged again.
    assert sorted(got) == list(range(1, steps + 1))
    assert all(got[s] == want[s] for s in range(killed_at + 1, steps + 1)), (killed_at, got, want)
    assert got == want  # the rows the child wrote before the kill match too
    assert metric(run_dir, "grad_norm") == metric(reference, "grad_norm")


SIGREG = ["objective.regularizer=sigreg", "objective.sigreg_slices=16", "objective.sigreg_tokens=40"]


@pytest.mark.parametrize(
    "recipe, overrides",
    [
        ("video", []),
        ("video", SIGREG),
        ("video", [*SIGREG, "objective.sigreg_projector=8"]),
        ("image", ["objective.loss=l2"]),
    ],
)
def test_resume_after_a_crash_in_process(tiny_config, monkeypatch, recipe, overrides):
    """A run that dies after checkpoint 4 (here by an exception at step 5) resumes bit for bit."""
    steps = 6
    reference = pretrain(tiny_config(*overrides, recipe=recipe, steps=steps, out="reference")).run_dir
    config = tiny_config(*overrides, recipe=recipe, steps=steps, out="crashed")
    set_schedules = Trainer.set_schedules

    def crash_at_5(self, step):
        if step == 5:
            raise KeyboardInterrupt
        return set_schedules(self, step)

    monkeypatch.setattr(Trainer, "set_schedules", crash_at_5)
    with pytest.raises(KeyboardInterrupt):
        pretrain(config)
    monkeypatch.setattr(Trainer, "set_schedules", set_schedules)
    run_dir = config.run.out_dir
    assert checkpoint_step(run_dir) == 4 and sorted(metric(run_dir)) == [1, 2, 3, 4, 5]

    trainer = Trainer(config, resume=True)
    assert trainer.start_step == 4
    trainer.fit()
    assert metric(run_dir) == metric(reference)
    assert metric(run_dir, "regularizer") == metric(reference, "regularizer")


@pytest.mark.parametrize("damaged", ["train_state.safetensors", "train_state.json"])
def test_resume_from_a_corrupt_checkpoint_is_a_checkpoint_error(tiny_config, damaged):
    config = tiny_config(steps=2)
    pretrain(config)
    path = latest_checkpoint(config.run.out_dir) / damaged
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(CheckpointError, match="Cannot resume"):
        pretrain(config, resume=True)


def test_resume_with_another_architecture_is_a_checkpoint_error(tiny_config):
    sigreg = ["objective.regularizer=sigreg", "objective.sigreg_slices=16"]
    config_file = pretrain(tiny_config(*sigreg, steps=2)).run_dir / "config.yaml"
    config_file.unlink()  # a run folder without its recipe: only the checkpoint's keys are checked
    with pytest.raises(CheckpointError, match="target_encoder"):
        pretrain(tiny_config(steps=4), resume=True)  # EMA needs a target encoder the file lacks
    with pytest.raises(CheckpointError, match="missing keys"):
        pretrain(tiny_config(*sigreg, "model.encoder_overrides.depth=2", steps=4), resume=True)


def test_resume_with_another_recipe_names_what_differs(tiny_config):
    pretrain(tiny_config(steps=2))
    with pytest.raises(ConfigError, match=r"optim\.lr: .* in the run, 0\.5 now") as error:
        pretrain(tiny_config("optim.lr=0.5", "run.seed=7", steps=2), resume=True)
    assert "run.seed" in str(error.value) and "config.yaml --resume" in str(error.value)
    # Where and how it runs and reports may change: these resume.
    resumed = pretrain(tiny_config("run.log_every=3", "run.progress=false", steps=2), resume=True)
    assert resumed.steps == 2


def test_recipe_changes_ignores_settings_the_saved_recipe_predates():
    saved = {"optim": {"lr": 0.001}, "run": {"log_every": 10}}
    now = {"optim": {"lr": 0.001, "new_knob": 3}, "run": {"log_every": 5}}
    assert recipe_changes(saved, now) == []
    assert recipe_changes(saved, {"optim": {"lr": 0.002}}) == ["optim.lr: 0.001 in the run, 0.002 now"]
