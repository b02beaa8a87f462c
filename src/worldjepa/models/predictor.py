"""The V-JEPA 2 predictor: context tokens plus mask tokens at target positions -> predicted targets."""

from __future__ import annotations

import torch
import torch.utils.checkpoint
from torch import Tensor, nn

from worldjepa.errors import ShapeError
from worldjepa.models.config import PredictorConfig
from worldjepa.models.init import init_vit_weights, rescale_residual_branches
from worldjepa.nn import Block, RotaryEmbedding, sincos_pos_embed
from worldjepa.nn.positions import token_positions
from worldjepa.objectives.losses import normalize_targets


def gather(x: Tensor, ids: Tensor) -> Tensor:
    """x: [B, N, D], ids: [B, K] -> [B, K, D]."""
    return torch.gather(x, 1, ids.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def latest_at_same_place(context: Tensor, context_ids: Tensor, target_ids: Tensor, per_step: int) -> Tensor:
    """For each target, the latest context token at its place from an earlier time step.

    context [B, Nc, D], context_ids [B, Nc], target_ids [B, Nt] (ids = step * per_step + place)
    -> [B, Nt, D], zeros where no earlier context token shares the target's place."""
    ctx_step, ctx_place = context_ids // per_step, context_ids % per_step
    tgt_step, tgt_place = target_ids // per_step, target_ids % per_step
    earlier = (ctx_place[:, None, :] == tgt_place[:, :, None]) & (ctx_step[:, None, :] < tgt_step[:, :, None])
    latest = torch.where(earlier, ctx_step[:, None, :], -1).argmax(-1)  # [B, Nt]
    return gather(context, latest) * earlier.any(-1, keepdim=True).to(context.dtype)


class Predictor(nn.Module):
    """forward(context [B, Nc, De], context_ids [B, Nc], target_ids [B, Nt]) -> [B, Nt, De].

    Order of operations (as V-JEPA 2): context -> linear to predictor width; targets start as
    mask_tokens[mask_index % n]; both are sorted by position, run through the blocks, unsorted;
    the targets are returned after the final LayerNorm and the projection back to encoder width.
    Positions come from `grid` (default: the square grid of the config). With
    `config.predict_change`, that output is added to `latest_at_same_place` of the layer-normed context
    (without gradient into the context through that copy).
    """

    def __init__(self, config: PredictorConfig):
        super().__init__()
        self.config = c = config
        width = c.predictor_embed_dim
        self.predictor_embed = nn.Linear(c.embed_dim, width)
        self.mask_tokens = nn.ParameterList(
            nn.Parameter(torch.zeros(1, 1, width)) for _ in range(c.num_mask_tokens)
        )
        self.rope = RotaryEmbedding(width // c.num_heads, 3, c.rope_layout) if c.pos_embed == "rope" else None
        dpr = [c.drop_path_rate * i / max(c.depth - 1, 1) for i in range(c.depth)]
        self.predictor_blocks = nn.ModuleList(
            Block(width, c.num_heads, c.mlp_ratio, c.qkv_bias, dpr[i], c.norm_eps) for i in range(c.depth)
        )
        self.predictor_norm = nn.LayerNorm(width, eps=c.norm_eps)
        self.predictor_proj = nn.Linear(width, c.embed_dim)
        init_vit_weights(self, c.init_std)
        rescale_residual_branches(self.predictor_blocks)
        if c.predict_change:
            nn.init.zeros_(self.predictor_proj.weight)
            nn.init.zeros_(self.predictor_proj.bias)
        if not c.zero_init_mask_tokens:
            for token in self.mask_tokens:
                nn.init.trunc_normal_(token, std=c.init_std)

    def forward(
        self,
        context: Tensor,
        context_ids: Tensor,
        target_ids: Tensor,
        mask_index: int = 1,
        grid: tuple[int, int, int] | None = None,
    ) -> Tensor:
        grid = grid or self.config.grid
        self.check(context, context_ids, target_ids, grid)
        b, n_ctx = context_ids.shape
        x = self.predictor_embed(context)
        targets = self.mask_tokens[mask_index % len(self.mask_tokens)].expand(b, target_ids.shape[1], -1)
        x = torch.cat([x, targets], dim=1)
        ids = torch.cat([context_ids, target_ids], dim=1).long()
        if self.rope is None:
            x = x + sincos_pos_embed(x.shape[-1], grid).to(x)[ids]
        order = torch.argsort(ids, dim=1)
        x, ids = gather(x, order), torch.gather(ids, 1, order)
        rope = self.rope(token_positions(ids, grid).to(x.dtype)) if self.rope is not None else None
        for block in self.predictor_blocks:
            if self.config.activation_checkpointing and self.training:
                x = torch.utils.checkpoint.checkpoint(block, x, rope, use_reentrant=False)
            else:
                x = block(x, rope=rope)
        x = self.predictor_norm(x)
        x = gather(x, torch.argsort(order, dim=1))[:, n_ctx:]
        out = self.predictor_proj(x)
        if self.config.predict_change:
            # Normalised as the targets are; no gradient, so the encoder is not pushed towards
            # features that hold still over time (which made the copy exact and the rank collapse).
            normed = normalize_targets(context.detach())
            out = out + latest_at_same_place(normed, context_ids.long(), target_ids.long(), grid[1] * grid[2])
        return out

    def check(
        self, context: Tensor, context_ids: Tensor, target_ids: Tensor, grid: tuple[int, int, int]
    ) -> None:
        c = self.config
        if context.dim() != 3 or context.shape[-1] != c.embed_dim:
            raise ShapeError(
                f"Predictor context must be [B, N, {c.embed_dim}] encoder tokens, got {tuple(context.shape)}."
            )
        if context_ids.shape != context.shape[:2]:
            raise ShapeError(
                f"context_ids {tuple(context_ids.shape)} must match the context tokens "
                f"{tuple(context.shape[:2])}."
            )
        if target_ids.dim() != 2 or target_ids.shape[0] != context.shape[0]:
            raise ShapeError(f"target_ids must be [B={context.shape[0]}, Nt], got {tuple(target_ids.shape)}.")
        n = grid[0] * grid[1] * grid[2]
        if target_ids.numel() and int(target_ids.max()) >= n and self.rope is None:
            raise ShapeError(
                f"target ids reach {int(target_ids.max())}, beyond the {n} positions of grid {grid}."
            )
