"""JEPA prediction losses: compare predicted embeddings with (layer-normed) target embeddings."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from worldjepa.errors import ConfigError, ShapeError, suggest

LOSS_KINDS = ("l1", "l2", "smooth_l1")


def gather_tokens(x: Tensor, ids: Tensor) -> Tensor:
    """Pick tokens by id: x [B, N, D], ids [B, K] -> [B, K, D]."""
    if x.dim() != 3 or ids.dim() != 2 or ids.shape[0] != x.shape[0]:
        raise ShapeError(
            f"gather_tokens expects x [B, N, D] and ids [B, K], got {tuple(x.shape)} and {tuple(ids.shape)}."
        )
    return torch.gather(x, 1, ids.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def normalize_targets(h: Tensor) -> Tensor:
    """Layer norm without affine over the last dim, [B, N, D] -> [B, N, D], as I-JEPA and V-JEPA do."""
    return F.layer_norm(h, (h.shape[-1],))


def jepa_loss(pred: Tensor, target: Tensor, kind: str = "l1") -> Tensor:
    """Mean over every element of the distance between pred and target, both [B, K, D].

    "l1": mean |p - t| (V-JEPA, V-JEPA 2); "l2": mean (p - t)^2; "smooth_l1": Huber with beta 1 (I-JEPA).
    """
    if pred.shape != target.shape:
        raise ShapeError(
            f"jepa_loss needs pred and target of one shape, got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}."
        )
    if kind == "l1":
        return (pred - target).abs().mean()
    if kind == "l2":
        return (pred - target).square().mean()
    if kind == "smooth_l1":
        return F.smooth_l1_loss(pred, target)
    raise ConfigError(
        f"Unknown loss kind '{kind}'; choose one of {', '.join(LOSS_KINDS)}.{suggest(kind, LOSS_KINDS)}"
    )
