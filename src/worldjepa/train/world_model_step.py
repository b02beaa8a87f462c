"""One world-model training step's losses: teacher forcing, rollout, anti-collapse, inverse dynamics."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
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


def anti_collapse(z: Tensor, objective: WorldObjectiveSection, sigreg: SIGReg | None, step: int) -> Tensor:
    """The unweighted regulariser on latents `[B, T, N, D]`, one sample per frame (flattened N * D).

    Scope "trajectory" removes each window's mean first: a latent that only encodes what stays
    fixed within an episode (the room layout) then scores as collapsed.
    """
    flat = z.flatten(2)
    if objective.regularizer_scope == "trajectory":
        flat = flat - flat.mean(dim=1, keepdim=True)
    flat = flat.flatten(0, 1)
    if objective.regularizer == "sigreg":
        return sigreg(flat, step)  # all-reduces its statistics itself under torch.distributed
    if dist.is_available() and dist.is_initialized():  # VICReg's statistics are over the global batch
        flat = torch.cat(dist_fn.all_gather(flat), dim=0)
    o = objective
    return o.vicreg_std_weight * variance_loss(flat) + o.vicreg_cov_weight * covariance_loss(flat)


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
    (so the latents should not be layer-normed), or VICReg's variance + covariance terms. With
    `regularizer_scope: trajectory` each window's mean latent is removed first, so only what changes
    within a trajectory (the agent, not the room layout) can satisfy the regulariser. The smoothness
    term (PLDM) keeps consecutive latents close, so latent distance follows path length. The inverse-
    dynamics head predicts each model step's summed env action (in units of the max step) from the
    latents before and after.
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
        terms["regularizer"] = o.regularizer_weight * anti_collapse(z, o, sigreg, step)
    if o.smoothness_weight > 0:
        terms["smoothness"] = o.smoothness_weight * (z[:, 1:] - z[:, :-1]).square().mean()
    if o.inverse_dynamics_weight > 0:
        inferred = model.infer_actions(z[:, :-1], z[:, 1:])
        displacement = actions.unflatten(-1, (-1, inferred.shape[-1])).sum(-2) / model.config.max_norm
        terms["inverse_dynamics"] = o.inverse_dynamics_weight * (inferred - displacement).square().mean()
    loss = sum(terms.values())
    return WorldStepOutput(loss, {k: v.detach() for k, v in terms.items()}, z.detach())
