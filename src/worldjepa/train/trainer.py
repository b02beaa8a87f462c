"""The pretraining loop for images (I-JEPA) and video (V-JEPA 2), on one CPU or many GPUs."""

from __future__ import annotations

import math
import time

import torch
from torch.nn.parallel import DistributedDataParallel

from worldjepa.data.factory import build_dataset
from worldjepa.eval.collapse import effective_rank, feature_std
from worldjepa.models import create_model
from worldjepa.models.projector import Projector, ProjectorConfig
from worldjepa.objectives import EMA, SIGReg, momentum_at
from worldjepa.seed import seed_everything
from worldjepa.train.config import PretrainConfig
from worldjepa.train.distributed import all_reduce_mean
from worldjepa.train.jepa_step import JEPA, normalize_targets, subsample_tokens
from worldjepa.train.masking import build_mask_generator, masks_for_rank
from worldjepa.train.metrics import MetricsLog
from worldjepa.train.optim import apply_schedules, autocast_for, build_adamw, check_finite
from worldjepa.train.progress import TrainProgress
from worldjepa.train.run import TrainingRun, TrainResult


class Trainer(TrainingRun):
    """Builds models, data, masks and optimizer from a PretrainConfig; `fit()` trains and saves.

    Checkpoints (model + optimizer + step + RNG) are written atomically every
    `run.checkpoint_every` steps; `resume=True` continues from the newest one exactly.
    """

    def __init__(self, config: PretrainConfig, resume: bool = False, dataset=None):
        self.config = c = config
        self.setup_run(c.run)
        seed_everything(c.run.seed)
        self.dataset, self.input_key = dataset or build_dataset(c.data, split="train", seed=c.run.seed)
        is_video = self.input_key == "video"
        self.encoder, self.predictor = self.build_models(is_video)
        self.grid = self.encoder.config.grid
        self.masks = build_mask_generator(c.masks, self.grid)
        self.ema = EMA(self.encoder) if c.objective.regularizer == "ema" else None
        sigreg = SIGReg(num_slices=c.objective.sigreg_slices) if c.objective.regularizer == "sigreg" else None
        self.model = JEPA(
            self.encoder,
            self.predictor,
            c.objective.loss,
            sigreg,
            sigreg_weight=c.objective.sigreg_weight,
            sigreg_ramp_steps=c.objective.sigreg_ramp_steps,
            sigreg_tokens=c.objective.sigreg_tokens,
            target_grad=c.objective.sigreg_target_grad,
            standardize=c.objective.sigreg_standardize,
            projector=self.build_projector(),
        ).to(self.device)
        if self.ema is not None:
            self.ema.target.to(self.device)
        self.optimizer = build_adamw(self.model, c.optim)
        self.start_step = self.restore() if resume else self.fresh_start()
        self.ddp_model = self.model
        if self.world.distributed:
            ids = [self.device] if self.device.type == "cuda" else None
            # Only one of the predictor's mask tokens is used per step: DDP must not wait for the others.
            self.ddp_model = DistributedDataParallel(self.model, device_ids=ids, find_unused_parameters=True)

    # -- construction ------------------------------------------------------------------------
    def build_models(self, is_video: bool):
        c = self.config
        size = dict(img_size=c.data.crop_size, num_frames=c.data.frames_per_clip if is_video else 1)
        encoder = create_model(c.model.encoder, **{**size, **c.model.encoder_overrides})
        e = encoder.config
        predictor = create_model(
            c.model.predictor,
            **{
                "embed_dim": e.embed_dim,
                "img_size": e.img_size,
                "patch_size": e.patch_size,
                "num_frames": e.num_frames,
                "tubelet_size": e.tubelet_size,
                "pos_embed": e.pos_embed,
                "rope_layout": e.rope_layout,
                **c.model.predictor_overrides,
            },
        )
        return encoder, predictor

    def build_projector(self) -> Projector | None:
        """SIGReg's projector (objective.sigreg_projector wide), or None."""
        o = self.config.objective
        if o.regularizer != "sigreg" or o.sigreg_projector == 0:
            return None
        width = o.sigreg_projector
        return Projector(ProjectorConfig(self.encoder.config.embed_dim, hidden_dim=4 * width, out_dim=width))

    def checkpoint_models(self) -> dict[str, torch.nn.Module]:
        models = {"encoder": self.encoder, "predictor": self.predictor}
        if self.ema is not None:
            models["target_encoder"] = self.ema.target
        if self.model.projector is not None:
            models["sigreg_projector"] = self.model.projector
        return models

    def autocast(self):
        return autocast_for(self.device, self.config.run.precision)

    def set_schedules(self, step: int) -> tuple[float, float]:
        return apply_schedules(self.optimizer, step, self.config.optim)

    def fit(self) -> TrainResult:
        c = self.config
        total = c.optim.steps
        log = (
            MetricsLog(self.run_dir, self.start_step if self.start_step else None, c.run.tensorboard)
            if self.world.is_main
            else None
        )
        progress = TrainProgress(total, self.start_step, c.run.progress and self.world.is_main)
        batches = self.loader(c.data.batch_size, c.data.num_workers)
        self.model.train()
        started, window_start, window_samples = time.perf_counter(), time.perf_counter(), 0
        loss_value, samples_per_s = math.nan, 0.0
        try:
            for step in range(self.start_step, total):
                batch = next(batches)
                x = batch[self.input_key].to(self.device, non_blocking=True)
                masks = masks_for_rank(
                    self.masks(
                        c.data.batch_size, torch.Generator().manual_seed(c.run.seed * 1_000_003 + step)
                    ),
                    self.world,
                    self.device,
                )
                lr, wd = self.set_schedules(step)
                with self.autocast():
                    targets = None
                    if self.ema is not None:
                        with torch.no_grad():
                            targets = normalize_targets(self.ema.target(x))
                    out = self.ddp_model(x, masks, self.grid, targets, step)
                loss_value = float(all_reduce_mean(out.loss.float(), self.world))
                check_finite(loss_value, step, self.run_dir)
                self.optimizer.zero_grad(set_to_none=True)
                out.loss.backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.optim.grad_clip)
                self.optimizer.step()
                momentum = momentum_at(step, total, c.objective.ema_start, c.objective.ema_end)
                if self.ema is not None:
                    self.ema.update(self.encoder, momentum)
                window_samples += c.data.batch_size
                done = step + 1
                if done % c.run.log_every == 0 or done == total:
                    now = time.perf_counter()
                    samples_per_s = window_samples / max(now - window_start, 1e-9)
                    window_start, window_samples = now, 0
                    row = {
                        "step": done,
                        "loss": loss_value,
                        "prediction_loss": float(all_reduce_mean(out.prediction_loss, self.world)),
                        "regularizer": float(all_reduce_mean(out.regularizer, self.world)),
                        "lr": lr,
                        "weight_decay": wd,
                        "momentum": momentum,
                        "grad_norm": float(grad_norm),
                        "samples_per_s": samples_per_s,
                    }
                    if done % c.run.monitor_every == 0 or done == total:
                        row.update(self.monitor(out.targets))
                    if log is not None:
                        log.log(row)
                progress.update(done, loss_value, samples_per_s)
                if done % c.run.checkpoint_every == 0 or done == total:
                    self.save(done)
        finally:
            progress.close()
            if log is not None:
                log.close()
        return self.finish(loss_value, started, c.data.batch_size)

    @torch.no_grad()
    def monitor(self, targets: torch.Tensor) -> dict[str, float]:
        """Collapse monitors on the target tokens: per-dimension std and effective rank."""
        flat = subsample_tokens(targets.float(), 2048, step=0).cpu()
        return {"effective_rank": effective_rank(flat), "feature_std": feature_std(flat)}


def pretrain(config: PretrainConfig, resume: bool = False, dataset=None) -> TrainResult:
    """Train a JEPA from a recipe; returns where the run and the final model folder are."""
    return Trainer(config, resume=resume, dataset=dataset).fit()
