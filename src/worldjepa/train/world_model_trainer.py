"""Training the action-conditioned world model on offline Two-Rooms trajectories."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import torch
from rich.console import Console

from worldjepa.config import from_dict, to_dict
from worldjepa.data.trajectories import TrajectoryDataset, collect_two_rooms
from worldjepa.envs import TwoRoomsConfig
from worldjepa.errors import ConfigError
from worldjepa.eval.collapse import effective_rank, feature_std
from worldjepa.hub.model_files import load_encoder, save_model_files
from worldjepa.hub.strict_load import load_state_strict
from worldjepa.hub.world_model_files import MODEL_NAME, STEP_DYNAMICS_NAME
from worldjepa.models import ActionPredictorConfig, WorldModel, WorldModelConfig, preset_config
from worldjepa.objectives import SIGReg
from worldjepa.seed import seed_everything
from worldjepa.train.distributed import all_reduce_mean
from worldjepa.train.metrics import MetricsLog
from worldjepa.train.optim import apply_schedules, autocast_for, build_adamw, check_finite
from worldjepa.train.progress import TrainProgress
from worldjepa.train.run import TrainingRun, TrainResult
from worldjepa.train.step_dynamics_fit import dynamics_config, fit_step_dynamics
from worldjepa.train.world_model_config import WorldModelTrainConfig
from worldjepa.train.world_model_step import world_model_losses


def build_world_model_config(config: WorldModelTrainConfig, env: TwoRoomsConfig) -> WorldModelConfig:
    """The model a recipe describes, sized for the environment's frames and actions."""
    m = config.model
    if m.encoder_checkpoint:
        encoder = load_encoder(m.encoder_checkpoint).config
    else:
        frame = dict(img_size=env.size, num_frames=1, tubelet_size=1)
        encoder = preset_config(m.encoder, **{**frame, **m.encoder_overrides})
    if encoder.img_size != env.size or encoder.num_frames != 1:
        raise ConfigError(
            f"The encoder must take single {env.size} px frames (img_size {env.size}, num_frames 1); "
            f"got img_size {encoder.img_size}, num_frames {encoder.num_frames}."
        )
    side = {"pooled": m.latent_grid, "projected": 1}.get(m.latent, encoder.img_size // encoder.patch_size)
    predictor = ActionPredictorConfig(
        embed_dim=m.latent_dim or encoder.embed_dim,
        predictor_embed_dim=m.predictor_width,
        depth=m.predictor_depth,
        num_heads=m.predictor_heads,
        mlp_ratio=m.predictor_mlp_ratio,
        grid_size=side,
        action_dim=2 * m.frameskip,
        state_dim=0,
        max_frames=max(config.data.window + 1, 16),
        context_frames=m.context_frames,
        rope_layout=m.rope_layout,
    )
    return WorldModelConfig(
        encoder=encoder,
        predictor=predictor,
        latent=m.latent,
        latent_grid=m.latent_grid,
        latent_dim=m.latent_dim,
        latent_norm=m.latent_norm,
        frameskip=m.frameskip,
        env_action_dim=2,
        max_norm=env.max_step,
        inverse_dynamics=m.inverse_dynamics,
    )


def trajectories_for(config: WorldModelTrainConfig, console: Console) -> Path:
    """The collection the recipe names, collected first when it is missing or was made differently."""
    d = config.data
    root = Path(d.root)
    console.print(f"Trajectories: {root} ({d.episodes} episodes x {d.steps} steps, policy {d.policy})")
    return collect_two_rooms(root, d.episodes, d.steps, d.collect_seed, d.env, policy=d.policy)


METRICS = [
    "step",
    "loss",
    "teacher_forcing",
    "rollout",
    "regularizer",
    "smoothness",
    "inverse_dynamics",
    "lr",
    "weight_decay",
    "grad_norm",
    "samples_per_s",
    "effective_rank",
    "feature_std",
]


class WorldModelTrainer(TrainingRun):
    """Builds the world model, data and optimizer from a recipe; `fit()` trains and saves.

    Atomic checkpoints every `run.checkpoint_every` steps; `resume=True` continues exactly. Under
    torchrun each rank trains on its share of the global batch; gradients are averaged by hand.
    """

    def __init__(self, config: WorldModelTrainConfig, resume: bool = False):
        self.config = c = config
        self.setup_run(c.run)
        self.env = from_dict(TwoRoomsConfig, c.data.env, where="data.env")
        root = trajectories_for(c, self.console) if self.world.is_main else Path(c.data.root)
        if self.world.distributed:
            torch.distributed.barrier()
        self.dataset = TrajectoryDataset(root, c.data.window, c.model.frameskip)
        seed_everything(c.run.seed)
        self.model = WorldModel(build_world_model_config(c, self.env)).to(self.device)
        if c.model.encoder_checkpoint:
            pretrained = load_encoder(c.model.encoder_checkpoint)
            load_state_strict(self.model.encoder, pretrained.state_dict(), where=c.model.encoder_checkpoint)
        if c.model.freeze_encoder:
            self.model.encoder.requires_grad_(False)
        self.sigreg = SIGReg(c.objective.sigreg_slices).to(self.device)
        self.optimizer = build_adamw(self.model, c.optim)
        self.start_step = self.restore() if resume else self.fresh_start()

    def checkpoint_models(self) -> dict[str, torch.nn.Module]:
        return {MODEL_NAME: self.model}

    def meta(self) -> dict:
        return super().meta() | {"env": to_dict(self.env), "data_card": self.dataset.card}

    def fit(self) -> TrainResult:
        c = self.config
        total = c.optim.steps
        log = (
            MetricsLog(self.run_dir, self.start_step or None, c.run.tensorboard, METRICS, "world_model")
            if self.world.is_main
            else None
        )
        progress = TrainProgress(total, self.start_step, c.run.progress and self.world.is_main, "world model")
        batches = self.loader(c.data.batch_size, c.data.num_workers)
        self.model.train()
        started, window_start, window_samples = time.perf_counter(), time.perf_counter(), 0
        loss_value, samples_per_s = math.nan, 0.0
        try:
            for step in range(self.start_step, total):
                batch = next(batches)
                frames = batch["frames"].to(self.device).movedim(2, -1)  # [B, T+1, H, W, C]
                actions = batch["actions"].to(self.device)
                lr, wd = apply_schedules(self.optimizer, step, c.optim)
                with autocast_for(self.device, c.run.precision):
                    out = world_model_losses(
                        self.model,
                        frames,
                        actions,
                        c.objective,
                        self.sigreg,
                        step,
                        c.model.freeze_encoder,
                    )
                loss_value = float(all_reduce_mean(out.loss.float(), self.world))
                check_finite(loss_value, step, self.run_dir)
                self.optimizer.zero_grad(set_to_none=True)
                out.loss.backward()
                if self.world.distributed:
                    self.average_gradients()
                grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.optim.grad_clip)
                self.optimizer.step()
                window_samples += c.data.batch_size
                done = step + 1
                if done % c.run.log_every == 0 or done == total:
                    now = time.perf_counter()
                    samples_per_s = window_samples / max(now - window_start, 1e-9)
                    window_start, window_samples = now, 0
                    row = {"step": done, "loss": loss_value, "lr": lr, "weight_decay": wd}
                    row |= {k: float(all_reduce_mean(v, self.world)) for k, v in out.terms.items()}
                    row |= {"grad_norm": float(grad_norm), "samples_per_s": samples_per_s}
                    if done % c.run.monitor_every == 0 or done == total:
                        flat = out.latents.flatten(2).flatten(0, 1).float().cpu()
                        row |= {"effective_rank": effective_rank(flat), "feature_std": feature_std(flat)}
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

    def average_gradients(self) -> None:
        """Average gradients over ranks (the model is not wrapped in DDP: rollouts call it many times)."""
        for p in self.model.parameters():
            if p.grad is not None:
                torch.distributed.all_reduce(p.grad)
                p.grad /= self.world.world_size


def train_world_model(config: WorldModelTrainConfig, resume: bool = False) -> TrainResult:
    """Train a world model from a recipe (collecting its data first if needed); returns the run's paths.

    With `dynamics.steps` > 0 the trained model then gets refit single-step dynamics (saved beside it in
    the model folder; `load_world_model` returns the pair). On resume that refit is redone from the
    trained model: it is deterministic and takes minutes.
    """
    trainer = WorldModelTrainer(config, resume=resume)
    if config.dynamics.steps:  # a refit that cannot run fails now, not after training
        dynamics_config(trainer.model, config.dynamics, latent_dim=1)
    result = trainer.fit()
    if config.dynamics.steps == 0:
        return result
    if trainer.world.is_main:
        fit = fit_step_dynamics(
            trainer.model, trainer.dataset, config.dynamics, config.run.seed, config.run.progress
        )
        trainer.console.print(
            f"Step dynamics: {config.dynamics.steps} steps in {fit.seconds:.0f} s, "
            f"error over the collection {fit.data_loss:.4f}"
        )
        models = trainer.checkpoint_models() | {STEP_DYNAMICS_NAME: fit.dynamics}
        meta = trainer.meta() | {"steps": config.optim.steps, "step_dynamics_loss": fit.data_loss}
        save_model_files(result.model_dir, models, meta=meta)
        result = dataclasses.replace(result, seconds=result.seconds + fit.seconds)
    if trainer.world.distributed:
        torch.distributed.barrier()
    return result
