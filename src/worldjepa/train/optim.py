"""What every training loop shares: AdamW groups, schedules, autocast, the non-finite-loss stop."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import torch
from torch import nn

from worldjepa.errors import TrainingError
from worldjepa.train.config import OptimSection
from worldjepa.train.schedules import cosine_ramp, wsd_lr
from worldjepa.train.state import latest_checkpoint


def build_adamw(model: nn.Module, optim: OptimSection) -> torch.optim.AdamW:
    """AdamW over trainable parameters; biases and norms (1-d) get no weight decay."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim == 1 or name.endswith(".bias") else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": optim.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=optim.lr, betas=optim.betas)


def apply_schedules(optimizer: torch.optim.Optimizer, step: int, optim: OptimSection) -> tuple[float, float]:
    """Set this step's warmup-stable-decay lr and cosine weight decay; returns (lr, weight decay)."""
    o = optim
    lr = wsd_lr(step, o.steps, o.lr, o.start_lr, o.final_lr, o.warmup_steps, o.decay_fraction)
    wd = cosine_ramp(step, o.steps, o.weight_decay, o.final_weight_decay)
    for group in optimizer.param_groups:
        group["lr"] = lr
        if group["weight_decay"] > 0:
            group["weight_decay"] = wd
    return lr, wd


def autocast_for(device: torch.device, precision: str):
    """bf16 autocast on CUDA ("auto" or "bf16"); fp32 (no autocast) otherwise."""
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" else "fp32"
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def check_finite(loss: float, step: int, run_dir: Path) -> None:
    """Stop with a message naming the last good checkpoint when the loss is NaN or infinite."""
    if math.isfinite(loss):
        return
    last = latest_checkpoint(run_dir)
    advice = (
        f"The last good checkpoint is {last} (resume with --resume, perhaps with a lower optim.lr)."
        if last
        else "No checkpoint was written yet; lower optim.lr and retry."
    )
    raise TrainingError(f"The loss became {loss} at step {step}; training stopped. {advice}")
