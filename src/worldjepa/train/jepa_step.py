"""The JEPA pretraining forward: encode the context, predict the targets, compare in latent space."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from worldjepa.objectives import MaskPair, gather_tokens, jepa_loss, normalize_targets
from worldjepa.objectives.sigreg import center_and_scale
from worldjepa.train.schedules import linear_ramp


@dataclass
class StepOutput:
    loss: Tensor  # what is minimised
    prediction_loss: Tensor
    regularizer: Tensor  # SIGReg term (0 with an EMA target)
    targets: Tensor  # [B, N, D] layer-normed target tokens, detached, for monitors


class JEPA(nn.Module):
    """Encoder + predictor as one module, so DDP sees exactly one forward per step.

    forward(x [B, C, (T,) H, W], masks, grid, targets=None) -> StepOutput. With `targets` given
    (layer-normed tokens of an EMA target encoder, no gradient) they are the regression targets.
    Without (SIGReg), the same encoder also encodes the full input (targets get no gradient from
    the prediction loss unless `target_grad`), and SIGReg on its embeddings keeps them from
    collapsing: loss = (1 - w) * prediction + w * SIGReg, as LeJEPA combines them (w rises
    linearly from 0 over the first `sigreg_ramp_steps` steps when that is > 0). With a
    `projector`, SIGReg looks at its outputs instead of the embeddings (LeJEPA's placement).
    """

    def __init__(
        self,
        encoder: nn.Module,
        predictor: nn.Module,
        loss_kind: str = "l1",
        sigreg: nn.Module | None = None,
        sigreg_weight: float = 0.0,
        sigreg_ramp_steps: int = 0,
        sigreg_tokens: int = 0,
        target_grad: bool = False,
        standardize: bool = True,
        projector: nn.Module | None = None,
    ):
        super().__init__()
        self.encoder, self.predictor, self.sigreg = encoder, predictor, sigreg
        self.projector = projector
        self.loss_kind, self.sigreg_weight, self.sigreg_tokens = loss_kind, sigreg_weight, sigreg_tokens
        self.sigreg_ramp_steps = sigreg_ramp_steps
        self.target_grad, self.standardize = target_grad, standardize

    def sigreg_weight_at(self, step: int) -> float:
        """SIGReg's weight at `step`: rising linearly from 0 over `sigreg_ramp_steps`, then constant."""
        return linear_ramp(step, self.sigreg_ramp_steps, 0.0, self.sigreg_weight)

    def sigreg_samples(self, embeddings: Tensor, step: int) -> Tensor:
        """What SIGReg sees: one mean-pooled embedding per clip [B, D] (sigreg_tokens = 0), or a
        fixed-seed subset of `sigreg_tokens` single tokens [K, D]; through the projector when there
        is one ([., D] -> [., P]); centred and scaled over the (global) batch (see `center_and_scale`)
        when `standardize`, else as they are, so SIGReg holds their scale to N(0, I)'s as LeJEPA does."""
        samples = (
            embeddings.mean(1)
            if self.sigreg_tokens <= 0
            else subsample_tokens(embeddings, self.sigreg_tokens, step)
        )
        if self.projector is not None:
            samples = self.projector(samples)
        return center_and_scale(samples) if self.standardize else samples

    def forward(
        self,
        x: Tensor,
        masks: list[MaskPair],
        grid: tuple[int, int, int],
        targets: Tensor | None = None,
        step: int = 0,
    ) -> StepOutput:
        embeddings = None
        if targets is None:
            embeddings = self.encoder(x)
            targets = normalize_targets(embeddings if self.target_grad else embeddings.detach())
        losses = []
        for pair in masks:
            context = self.encoder(x, keep=pair.context)
            for target_ids in pair.targets:
                pred = self.predictor(context, pair.context, target_ids, grid=grid)
                losses.append(jepa_loss(pred, gather_tokens(targets, target_ids), self.loss_kind))
        prediction = torch.stack(losses).mean()
        if self.sigreg is None:
            regularizer = prediction.new_zeros(())
            loss = prediction
        else:
            regularizer = self.sigreg(self.sigreg_samples(embeddings, step), step=step)
            weight = self.sigreg_weight_at(step)
            loss = (1 - weight) * prediction + weight * regularizer
        return StepOutput(loss, prediction.detach(), regularizer.detach(), targets.detach())


def subsample_tokens(tokens: Tensor, count: int, step: int) -> Tensor:
    """[B, N, D] -> [min(count, B*N), D]: a fixed-seed subset of tokens, the same on every DDP rank."""
    flat = tokens.flatten(0, 1)
    if flat.shape[0] <= count:
        return flat
    gen = torch.Generator().manual_seed(step)
    idx = torch.randperm(flat.shape[0], generator=gen)[:count].to(flat.device)
    return flat[idx]
