import math

import pytest
import torch

from worldjepa.errors import ConfigError, DataError, TrainingError
from worldjepa.hub import load_encoder, load_model_files
from worldjepa.train import Trainer, pretrain
from worldjepa.train.jepa_step import JEPA
from worldjepa.train.metrics import read_metrics
from worldjepa.train.sampler import GlobalBatchSampler
from worldjepa.train.schedules import cosine_ramp, wsd_lr
from worldjepa.train.state import latest_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")


def losses(run_dir) -> list[float]:
    return [row["loss"] for row in read_metrics(run_dir)]


def test_tiny_ema_run_writes_metrics_checkpoints_and_model(tiny_config):
    config = tiny_config()
    trainer = Trainer(config)
    result = trainer.fit()
    run = result.run_dir
    rows = read_metrics(run)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert all(math.isfinite(r["loss"]) and r["regularizer"] == 0 for r in rows)
    assert rows[-1]["loss"] == pytest.approx(result.final_loss)
    assert "effective_rank" in rows[-1] and "feature_std" in rows[-1]  # the monitor runs on the last step
    assert rows[0]["lr"] == pytest.approx(config.optim.start_lr)  # warmup starts at start_lr
    assert (run / "config.yaml").is_file()
    assert latest_checkpoint(run) == run / "checkpoints" / "step_0000004"
    assert sorted(p.name for p in (run / "checkpoints").glob("step_*")) == ["step_0000002", "step_0000004"]
    assert result.steps == 4 and result.model_dir == run / "model"
    models = load_model_files(result.model_dir)
    assert set(models) == {"encoder", "predictor", "target_encoder"}
    for name, module in trainer.checkpoint_models().items():
        want = module.state_dict()
        assert all(torch.equal(want[k], v) for k, v in models[name].state_dict().items())
    # The EMA target moved away from its start, and is what load_encoder picks.
    target = load_encoder(result.model_dir)
    assert torch.equal(target.patch_embed.proj.weight, trainer.ema.target.patch_embed.proj.weight)
    assert not torch.equal(target.patch_embed.proj.weight, trainer.encoder.patch_embed.proj.weight)


def test_sigreg_run_has_no_target_encoder(tiny_config):
    result = pretrain(tiny_config("objective.regularizer=sigreg", "objective.sigreg_slices=16", steps=2))
    rows = read_metrics(result.run_dir)
    assert len(rows) == 2 and all(math.isfinite(r["loss"]) and r["regularizer"] > 0 for r in rows)
    assert set(load_model_files(result.model_dir)) == {"encoder", "predictor"}


def test_sigreg_ramp_starts_from_the_prediction_loss_alone(tiny_config):
    sigreg = ["objective.regularizer=sigreg", "objective.sigreg_slices=16", "objective.sigreg_weight=0.5"]
    result = pretrain(tiny_config(*sigreg, "objective.sigreg_ramp_steps=4", steps=2))
    first, second = read_metrics(result.run_dir)
    assert first["loss"] == pytest.approx(first["prediction_loss"])  # weight 0 at step 0
    # weight 0.5 * 1/4 at step 1
    want = 0.875 * second["prediction_loss"] + 0.125 * second["regularizer"]
    assert second["loss"] == pytest.approx(want, rel=1e-5)


def test_sigreg_projector_is_trained_saved_and_left_out_of_features(tiny_config):
    sigreg = ["objective.regularizer=sigreg", "objective.sigreg_slices=16"]
    plain = pretrain(tiny_config(*sigreg, steps=2, out="plain"))
    trainer = Trainer(tiny_config(*sigreg, "objective.sigreg_projector=8", steps=2, out="projected"))
    start = {k: v.clone() for k, v in trainer.model.projector.state_dict().items()}
    result = trainer.fit()
    models = load_model_files(result.model_dir)
    assert set(models) == {"encoder", "predictor", "sigreg_projector"}
    assert models["sigreg_projector"].config.out_dim == 8
    assert models["sigreg_projector"].config.in_dim == models["encoder"].config.embed_dim
    trained = models["sigreg_projector"].state_dict()
    assert any(not torch.equal(start[k], trained[k]) for k in start)  # SIGReg's gradient reached it
    # SIGReg saw the projector's outputs, not the embeddings: the step-1 terms differ.
    assert read_metrics(result.run_dir)[0]["regularizer"] != read_metrics(plain.run_dir)[0]["regularizer"]
    assert load_encoder(result.model_dir).config == models["encoder"].config


def test_same_seed_gives_identical_losses(tiny_config):
    first = pretrain(tiny_config(steps=3, out="a"))
    second = pretrain(tiny_config(steps=3, out="b"))
    assert losses(first.run_dir) == losses(second.run_dir)
    third = pretrain(tiny_config("run.seed=1", steps=3, out="c"))
    assert losses(third.run_dir) != losses(first.run_dir)


def test_ijepa_images_with_multiblock_masks(tiny_config):
    result = pretrain(tiny_config(recipe="image", steps=2))
    assert all(math.isfinite(x) for x in losses(result.run_dir))
    encoder = load_model_files(result.model_dir, ["encoder"])["encoder"]
    assert encoder.config.num_frames == 1 and encoder.config.img_size == 32
    with torch.no_grad():
        assert encoder(torch.randn(1, 3, 32, 32)).shape == (1, 16, 32)


def test_vjepa_video_with_tube_masks(tiny_config):
    result = pretrain(tiny_config(recipe="video", steps=2))
    assert all(math.isfinite(x) for x in losses(result.run_dir))
    encoder = load_model_files(result.model_dir, ["encoder"])["encoder"]
    assert encoder.config.num_frames == 4
    with torch.no_grad():
        assert encoder(torch.randn(1, 3, 4, 32, 32)).shape == (1, 32, 32)


def test_nan_loss_stops_with_the_step(tiny_config, monkeypatch):
    forward = JEPA.forward

    def poisoned(self, x, masks, grid, targets=None, step=0):
        out = forward(self, x, masks, grid, targets, step)
        if step == 2:
            out.loss = out.loss * float("nan")
        return out

    monkeypatch.setattr(JEPA, "forward", poisoned)
    config = tiny_config()
    with pytest.raises(TrainingError, match="at step 2") as err:
        pretrain(config)
    assert "step_0000002" in str(err.value) and "resume" in str(err.value)
    assert [r["step"] for r in read_metrics(config.run.out_dir)] == [1, 2]


def test_bad_learning_rate_is_a_config_error(tiny_config):
    for value in (".nan", "-0.1", ".inf"):
        with pytest.raises(ConfigError, match="optim.lr"):
            tiny_config(f"optim.lr={value}")


def test_new_run_refuses_a_folder_with_checkpoints(tiny_config):
    pretrain(tiny_config(steps=2))
    with pytest.raises(ConfigError, match="resume"):
        pretrain(tiny_config(steps=2))


def test_resume_without_checkpoint_starts_fresh(tiny_config):
    result = pretrain(tiny_config(steps=2), resume=True)
    assert [r["step"] for r in read_metrics(result.run_dir)] == [1, 2]


def test_global_batch_sampler_rank_shares_partition_the_batch():
    whole = GlobalBatchSampler(size=10, global_batch=4, seed=3)
    halves = [GlobalBatchSampler(10, 4, 3, rank=r, world_size=2) for r in range(2)]
    quarters = [GlobalBatchSampler(10, 4, 3, rank=r, world_size=4) for r in range(4)]
    for step in range(7):
        batch = whole.batch(step)
        assert len(batch) == 4 and len(set(batch)) == 4
        assert halves[0].batch(step) + halves[1].batch(step) == batch
        assert sum((q.batch(step) for q in quarters), []) == batch
    # Determinism: a fresh sampler (or one started later, as on resume) yields the same batches.
    again = GlobalBatchSampler(10, 4, 3, start_step=5)
    assert next(iter(again)) == [(i, whole.epoch_of(5)) for i in whole.batch(5)]
    firsts = [[i for i, _ in b] for _, b in zip(range(3), iter(whole), strict=False)]
    assert firsts == [whole.batch(s) for s in range(3)]
    assert GlobalBatchSampler(10, 4, 4).batch(0) != whole.batch(0) or GlobalBatchSampler(10, 4, 4).batch(
        1
    ) != whole.batch(1)


def test_global_batch_sampler_epochs():
    sampler = GlobalBatchSampler(size=12, global_batch=4, seed=0)
    assert sampler.per_epoch == 3
    epoch0 = sum((sampler.batch(s) for s in range(3)), [])
    epoch1 = sum((sampler.batch(s) for s in range(3, 6)), [])
    assert sorted(epoch0) == sorted(epoch1) == list(range(12))  # each epoch visits every item once
    assert epoch0 != epoch1  # in a new order
    assert sampler.epoch_of(2) == 0 and sampler.epoch_of(3) == 1
    # An incomplete last batch is dropped: 10 items, batches of 4 -> 2 per epoch.
    assert GlobalBatchSampler(10, 4, 0).per_epoch == 2


def test_global_batch_sampler_errors():
    with pytest.raises(DataError, match="fewer"):
        GlobalBatchSampler(size=3, global_batch=4, seed=0)
    with pytest.raises(DataError, match="divisible"):
        GlobalBatchSampler(size=10, global_batch=5, seed=0, world_size=2)


def test_warmup_stable_decay_schedule():
    kw = dict(total=100, lr=1.0, start_lr=0.1, final_lr=0.01, warmup=10, decay_fraction=0.2)
    assert wsd_lr(0, **kw) == pytest.approx(0.1)
    assert wsd_lr(5, **kw) == pytest.approx(0.55)
    assert wsd_lr(10, **kw) == pytest.approx(1.0)
    assert wsd_lr(50, **kw) == pytest.approx(1.0)
    assert wsd_lr(79, **kw) == pytest.approx(1.0)
    assert wsd_lr(80, **kw) == pytest.approx(1.0)  # decay starts at total - 20
    assert wsd_lr(90, **kw) == pytest.approx(0.505)
    assert wsd_lr(100, **kw) == pytest.approx(0.01)
    assert wsd_lr(150, **kw) == pytest.approx(0.01)
    assert wsd_lr(50, **{**kw, "decay_fraction": 0.0}) == pytest.approx(1.0)
    assert wsd_lr(0, **{**kw, "warmup": 0}) == pytest.approx(1.0)


def test_cosine_weight_decay_ramp():
    assert cosine_ramp(0, 100, 0.04, 0.4) == pytest.approx(0.04)
    assert cosine_ramp(50, 100, 0.04, 0.4) == pytest.approx(0.22)
    assert cosine_ramp(100, 100, 0.04, 0.4) == pytest.approx(0.4)
    assert cosine_ramp(200, 100, 0.04, 0.4) == pytest.approx(0.4)


def test_schedules_reach_the_optimizer(tiny_config):
    trainer = Trainer(tiny_config(steps=10, out="sched"))
    lr, wd = trainer.set_schedules(5)
    decay, no_decay = trainer.optimizer.param_groups
    assert decay["lr"] == no_decay["lr"] == lr
    assert decay["weight_decay"] == pytest.approx(wd) and no_decay["weight_decay"] == 0.0
    assert all(p.ndim > 1 for p in decay["params"])


def test_predictor_lr_scale_gives_the_predictor_its_own_rate(tiny_config):
    trainer = Trainer(tiny_config("optim.predictor_lr_scale=4", steps=10, out="fast_predictor"))
    lr, _ = trainer.set_schedules(5)
    names = {id(p): n for n, p in trainer.model.named_parameters()}
    groups = trainer.optimizer.param_groups
    assert len(groups) == 4
    for group in groups:
        in_predictor = {names[id(p)].startswith("predictor.") for p in group["params"]}
        assert len(in_predictor) == 1
        assert group["lr"] == pytest.approx(lr * (4.0 if in_predictor.pop() else 1.0))
    run = pretrain(tiny_config("optim.predictor_lr_scale=4", steps=3, out="fast_predictor_run"))
    assert all(math.isfinite(x) for x in losses(run.run_dir)) and len(losses(run.run_dir)) == 3


def test_predictor_lr_scale_must_be_a_number_at_least_zero(tiny_config):
    with pytest.raises(ConfigError, match="optim.predictor_lr_scale"):
        tiny_config("optim.predictor_lr_scale=-1")
