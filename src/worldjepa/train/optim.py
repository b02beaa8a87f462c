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
    """AdamW over trainable parameters; biases and norms (1-d) get no weight decay. Parameters under
    `predictor.` learn at `optim.predictor_lr_scale` times the schedule's rate (their own groups only
    when the scale is not 1, so checkpoints of runs without it keep their layout)."""
    groups: dict[tuple[bool, float], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            decays = not (p.ndim == 1 or name.endswith(".bias"))
            scale = optim.predictor_lr_scale if name.startswith("predictor.") else 1.0
            groups.setdefault((decays, scale), []).append(p)
    order = sorted(groups, key=lambda key: (key[1] != 1.0, not key[0]))
    param_groups = [
        {"params": groups[key], "weight_decay": optim.weight_decay if key[0] else 0.0, "lr_scale": key[1]}
        for key in order
    ]
    return torch.optim.AdamW(param_groups, lr=optim.lr, betas=optim.betas)


def apply_schedules(optimizer: torch.optim.Optimizer, step: int, optim: OptimSection) -> tuple[float, float]:
    """Set this step's warmup-stable-decay lr (times each group's `lr_scale`) and cosine weight
    decay; returns (lr, weight decay) of the unscaled groups."""
    o = optim
    lr = wsd_lr(step, o.steps, o.lr, o.start_lr, o.final_lr, o.warmup_steps, o.decay_fraction)
    wd = cosine_ramp(step, o.steps, o.weight_decay, o.final_weight_decay)
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
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
