"""Refit single-env-step dynamics with a room code on a trained world model's frozen latents.

Every frame of the collection is encoded once; then `StepDynamics` learns z_{k+1} from (z_k, the room
code of another frame of the same episode, a_k) for many cheap steps. Reading the code from a frame at
another time keeps the agent out of it. No encoder forward pass is left in the loop, so tens of
thousands of steps fit in a few CPU minutes: what a predictor needs to learn walls exact enough to plan.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from worldjepa.data.trajectories import TrajectoryDataset
from worldjepa.errors import TrainingError
from worldjepa.models.step_dynamics import StepDynamics, StepDynamicsConfig
from worldjepa.models.world_model import WorldModel
from worldjepa.train.progress import TrainProgress
from worldjepa.train.world_model_config import StepDynamicsSection


@dataclass
class StepDynamicsFit:
    """The fitted dynamics; `data_loss`: the mean normalised squared error over every transition of
    the collection (the code read from each episode's first frame)."""

    dynamics: StepDynamics
    final_loss: float
    data_loss: float
    seconds: float


@torch.no_grad()
def encode_collection(model: WorldModel, dataset: TrajectoryDataset, batch: int = 512) -> Tensor:
    """Every frame of every episode -> flattened latents `[E, steps + 1, Dz]` (float32, CPU)."""
    device = next(model.parameters()).device
    per_chunk = max(1, batch // (dataset.card["steps"] + 1))
    out = []
    for first in range(0, dataset.num_episodes, per_chunk):
        last = min(first + per_chunk, dataset.num_episodes)
        frames = torch.from_numpy(np.stack([dataset.episode_frames(e) for e in range(first, last)]))
        out.append(model.encode(frames.to(device)).flatten(2).float().cpu())
    return torch.cat(out)


def unit_frames(frames: np.ndarray, device: torch.device) -> Tensor:
    """uint8 frames `[B, H, W, 3]` -> float `[B, 3, H, W]` in [0, 1] on `device`, as `StepDynamics.code`
    takes them."""
    return torch.from_numpy(frames).to(device).movedim(-1, 1).float() / 255.0


def dynamics_config(model: WorldModel, section: StepDynamicsSection, latent_dim: int) -> StepDynamicsConfig:
    """The `StepDynamicsConfig` a recipe's `dynamics` section gives for `model` (raises ConfigError for
    settings that do not fit the model's frames, so a recipe can be checked before training)."""
    c = model.config
    return StepDynamicsConfig(
        latent_dim=latent_dim,
        code_dim=section.code_dim,
        code_frame_size=section.code_frame_size,
        width=section.width,
        depth=section.depth,
        env_action_dim=c.env_action_dim,
        max_norm=c.max_norm,
        frame_size=c.encoder.img_size,
    )


def fit_step_dynamics(
    model: WorldModel,
    dataset: TrajectoryDataset,
    section: StepDynamicsSection,
    seed: int,
    progress: bool = True,
) -> StepDynamicsFit:
    """Fit `StepDynamics` on `model`'s frozen latents of `dataset`'s episodes, on the model's device.

    Deterministic per seed on CPU. Raises TrainingError if the loss stops being finite.
    """
    started = time.perf_counter()
    model.eval()
    device = next(model.parameters()).device
    latents = encode_collection(model, dataset).to(device)  # [E, S + 1, Dz]
    actions = torch.from_numpy(dataset.all_actions()).to(device)  # [E, S, 2]
    episodes, frames_per_episode, dz = latents.shape
    torch.manual_seed(seed)
    dynamics = StepDynamics(dynamics_config(model, section, dz)).to(device)
    dynamics.set_statistics(latents[:, :-1].flatten(0, 1), latents[:, 1:].flatten(0, 1))
    optimizer = torch.optim.AdamW(dynamics.parameters(), section.lr, weight_decay=section.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    bar = TrainProgress(section.steps, 0, progress, "step dynamics")
    b, k = section.batch_episodes, section.transitions_per_episode
    loss_value, window_start = math.nan, time.perf_counter()
    try:
        for step in range(section.steps):
            for group in optimizer.param_groups:
                group["lr"] = section.lr * 0.5 * (1 + math.cos(math.pi * step / section.steps))
            episode = torch.randint(episodes, (b,), generator=generator)
            code_time = torch.randint(frames_per_episode, (b,), generator=generator)
            frames = np.stack(
                [dataset.episode_frame(int(e), int(t)) for e, t in zip(episode, code_time, strict=True)]
            )
            code = dynamics.code(unit_frames(frames, device))
            e = episode.repeat_interleave(k).to(device)
            t = torch.randint(frames_per_episode - 1, (b * k,), generator=generator).to(device)
            z, z_next = latents[e, t], latents[e, t + 1]
            pred = dynamics.step(z, code.repeat_interleave(k, 0), actions[e, t])
            loss = step_loss(pred, z, z_next, dynamics.step_std, section.overshoot_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):
                raise TrainingError(
                    f"The step-dynamics loss became {loss_value} at step {step}; lower dynamics.lr and retry "
                    "(the world model itself is saved)."
                )
            if (step + 1) % 50 == 0 or step + 1 == section.steps:
                now = time.perf_counter()
                bar.update(step + 1, loss_value, 50 * b * k / max(now - window_start, 1e-9))
                window_start = now
    finally:
        bar.close()
    dynamics.eval()
    data_loss = collection_loss(dynamics, dataset, latents, actions)
    return StepDynamicsFit(dynamics, loss_value, data_loss, time.perf_counter() - started)


def step_loss(pred: Tensor, z: Tensor, z_next: Tensor, step_std: Tensor, overshoot_weight: float) -> Tensor:
    """Mean normalised squared error of predictions `pred` [M, Dz] of `z_next` [M, Dz] from `z` [M, Dz].

    Transitions whose predicted step is longer than the real one count `overshoot_weight` times: where
    the model cannot tell whether the wall stops the agent (a door's edge in a layout it has not
    seen), it then errs towards blocked. A door too narrow costs a planner little, one too wide a lot.
    """
    error = ((pred - z_next) / step_std).square().sum(-1)
    if overshoot_weight != 1.0:
        longer = ((pred - z) / step_std).square().sum(-1) > ((z_next - z) / step_std).square().sum(-1)
        error = torch.where(longer, overshoot_weight * error, error)
    return error.mean() / z.shape[-1]


@torch.no_grad()
def collection_loss(
    dynamics: StepDynamics, dataset: TrajectoryDataset, latents: Tensor, actions: Tensor, chunk: int = 256
) -> float:
    """Mean normalised squared one-step error over every transition of latents `[E, S + 1, Dz]`."""
    device, total = latents.device, 0.0
    for first in range(0, len(latents), chunk):
        e = range(first, min(first + chunk, len(latents)))
        code = dynamics.code(unit_frames(np.stack([dataset.episode_frame(i, 0) for i in e]), device))
        z, z_next = latents[first : e.stop, :-1].flatten(0, 1), latents[first : e.stop, 1:].flatten(0, 1)
        pred = dynamics.step(
            z, code.repeat_interleave(latents.shape[1] - 1, 0), actions[first : e.stop].flatten(0, 1)
        )
        total += float(step_loss(pred, z, z_next, dynamics.step_std, 1.0)) * z.numel()
    return total / latents[:, 1:].numel()
