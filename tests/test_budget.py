"""Training budgets in minutes: a measured step rate sizes the run; a started run keeps its steps."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worldjepa.errors import ConfigError
from worldjepa.eval.intphys import run_intphys
from worldjepa.train import pretrain
from worldjepa.train.budget import fitting_steps, measure_training_rate, steps_within


def test_the_training_rate_is_measured_without_leaving_a_folder(tiny_config):
    config = tiny_config()
    rate, first_read, items = measure_training_rate(config, steps=6)
    assert rate > 0 and first_read >= 0 and items == 16  # the tiny recipe's 16 videos
    assert not Path(config.run.out_dir).exists()


def test_steps_within_pays_for_steps_and_first_reads(tiny_config, monkeypatch):
    config = tiny_config()  # batch 4
    rate = "worldjepa.train.budget.measure_training_rate"
    monkeypatch.setattr(rate, lambda config, steps: (2.5, 0.0, 100))
    budget = steps_within(config, minutes=2)
    assert (budget.steps, budget.steps_per_s, budget.first_read_s, budget.minutes) == (300, 2.5, 0.0, 2)
    monkeypatch.setattr(rate, lambda config, steps: (2.5, 0.1, 100))
    assert steps_within(config, minutes=2).steps == 275  # 100 first reads of 0.1 s: 10 s fewer
    monkeypatch.setattr(rate, lambda config, steps: (2.5, 0.1, 10_000))
    assert steps_within(config, minutes=2).steps == 150  # every step reads 4 new items
    assert steps_within(config, minutes=1e-6).steps == 1  # never 0


def test_a_started_run_keeps_its_own_steps(tiny_config):
    pretrain(tiny_config(steps=4))
    budget = steps_within(tiny_config(), minutes=60)
    assert (budget.steps, budget.steps_per_s, budget.first_read_s) == (4, 0.0, 0.0)


@given(
    seconds=st.floats(1, 1e5),
    rate=st.floats(0.01, 1e3),
    first_read=st.floats(0, 1),
    items=st.integers(1, 10**6),
    batch=st.integers(1, 4096),
)
def test_fitting_steps_is_the_most_that_fit(seconds, rate, first_read, items, batch):
    def cost(steps):
        return steps / rate + min(items, steps * batch) * first_read

    steps = fitting_steps(seconds, rate, first_read, items, batch)
    assert cost(steps) <= seconds * (1 + 1e-9)
    assert cost(steps + 1) > seconds * (1 - 1e-9)


@pytest.mark.parametrize("minutes", [0, -1, float("nan"), float("inf")])
def test_a_budget_must_be_positive_minutes(tiny_config, minutes):
    with pytest.raises(ConfigError, match="positive number of minutes"):
        steps_within(tiny_config(), minutes)


def test_intphys_takes_minutes_or_steps_not_both(tmp_path):
    with pytest.raises(ConfigError, match="not both"):
        run_intphys(tmp_path, 1, overrides=["optim.steps=5"], minutes=1)
    with pytest.raises(ConfigError, match="with a checkpoint there is none"):
        run_intphys(tmp_path, 1, checkpoint=tmp_path / "model", minutes=1)
