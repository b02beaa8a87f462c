"""One world-model training step's losses: teacher forcing, rollout, anti-collapse, inverse dynamics."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from worldjepa.models.world_model import WorldModel
from worldjepa.objectives import SIGReg, jepa_loss
from worldjepa.objectives.vicreg import covariance_loss, variance_loss
from worldjepa.train.world_model_config import WorldObjectiveSection


@dataclass
class WorldStepOutput:
    loss: Tensor
    terms: dict[str, Tensor]  # each weighted term, detached, for logging
    latents: Tensor  # [B, T+1, N, D], detached, for the collapse monitors


def world_model_losses(
    model: WorldModel,
    frames: Tensor,
    actions: Tensor,
    objective: WorldObjectiveSection,
    sigreg: SIGReg | None,
    step: int,
    frozen_encoder: bool,
) -> WorldStepOutput:
    """frames uint8 `[B, T+1, H, W, C]`, actions `[B, T, A]` -> the weighted loss and its terms.

    Teacher forcing predicts every z_{t+1} from the true z_<=t; the rollout feeds its own predictions
    back for `rollout_steps` steps from z_0 (V-JEPA 2-AC). Targets are detached when the encoder is
    frozen or `stop_grad_targets`; otherwise the regulariser keeps the jointly trained encoder from
    collapsing (LeWM, PLDM): SIGReg pulls each frame's flattened latent towards N(0, I), scale included
    (so the latents should not be layer-normed), or VICReg's variance + covariance terms.
    """
    o = objective
    if frozen_encoder:
        with torch.no_grad():
            z = model.encode(frames)
    else:
        z = model.encode(frames)
    target = z[:, 1:].detach() if frozen_encoder or o.stop_grad_targets else z[:, 1:]
    terms = {"teacher_forcing": jepa_loss(model.predict(z[:, :-1], actions), target, o.loss)}
    if o.rollout_steps > 0:
        k = o.rollout_steps
        rolled = model.rollout(z[:, 0], actions[:, :k])
        terms["rollout"] = o.rollout_weight * jepa_loss(rolled, target[:, :k], o.loss)
    if not frozen_encoder and o.regularizer != "none":
        flat = z.flatten(2).flatten(0, 1)  # one sample per frame: [B*(T+1), N*D]
        if o.regularizer == "sigreg":
            reg = sigreg(flat, step)
        else:
            reg = o.vicreg_std_weight * variance_loss(flat) + o.vicreg_cov_weight * covariance_loss(flat)
        terms["regularizer"] = o.regularizer_weight * reg
    if o.inverse_dynamics_weight > 0:
        inferred = model.infer_actions(z[:, :-1], z[:, 1:])
        terms["inverse_dynamics"] = o.inverse_dynamics_weight * (inferred - actions).square().mean()
    loss = sum(terms.values())
    return WorldStepOutput(loss, {k: v.detach() for k, v in terms.items()}, z.detach())
