"""Representation-collapse statistics of an embedding batch [N, D]."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from worldjepa.errors import ShapeError


def _check_embeddings(x: Tensor, min_rows: int) -> None:
    if x.ndim != 2 or x.shape[0] < min_rows:
        raise ShapeError(
            f"expected embeddings [N, D] with N >= {min_rows}, got shape {tuple(x.shape)}; "
            "flatten tokens to [B * N, D] or mean-pool them first."
        )


@torch.no_grad()
def effective_rank(x: Tensor, eps: float = 1e-7, center: bool = True) -> float:
    """RankMe (Garrido et al., 2023): exp of the entropy of the L1-normalised singular values of x [N, D].

    Ranges from ~1 (all rows on one line) to min(N, D) (a flat spectrum). By default the rows are
    centred first, so a mean embedding shared by every input (large for LayerNorm-ed ViT features
    of mostly-empty scenes) does not count as one dominant direction; `center=False` is RankMe as
    published.
    """
    _check_embeddings(x, min_rows=1)
    x = x.double()
    if center:
        x = x - x.mean(0, keepdim=True)
    singular = torch.linalg.svdvals(x)
    p = singular / singular.sum().clamp_min(eps) + eps
    return float(torch.exp(-(p * p.log()).sum()))


@torch.no_grad()
def feature_std(x: Tensor) -> float:
    """Mean over dimensions of the std across rows of L2-normalised x [N, D].

    0 when every row points the same way (collapse); about 1 / sqrt(D) for isotropic embeddings.
    """
    _check_embeddings(x, min_rows=2)
    return float(F.normalize(x.float(), dim=1).std(dim=0).mean())
