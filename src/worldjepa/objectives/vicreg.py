"""VICReg regularisers (Bardes, Ponce & LeCun 2022) that keep embeddings from collapsing."""

from __future__ import annotations

import torch
from torch import Tensor

from worldjepa.errors import ShapeError


def _check(z: Tensor, name: str) -> None:
    if z.dim() != 2 or z.shape[0] < 2:
        raise ShapeError(f"{name} expects embeddings [N, D] with N >= 2, got {tuple(z.shape)}.")


def variance_loss(z: Tensor, gamma: float = 1.0, eps: float = 1e-4) -> Tensor:
    """Hinge on each dimension's std: mean over D of relu(gamma - sqrt(var + eps)), z [N, D]."""
    _check(z, "variance_loss")
    std = torch.sqrt(z.var(dim=0) + eps)
    return torch.relu(gamma - std).mean()


def covariance_loss(z: Tensor) -> Tensor:
    """Sum of squared off-diagonal covariances divided by D, z [N, D]."""
    _check(z, "covariance_loss")
    n, d = z.shape
    zc = z - z.mean(dim=0)
    cov = zc.T @ zc / (n - 1)
    off_diag = cov - torch.diag(torch.diagonal(cov))
    return off_diag.square().sum() / d
