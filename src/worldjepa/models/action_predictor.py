"""The V-JEPA 2-AC action-conditioned predictor: rolls frame latents forward under actions.

Per frame t the sequence holds [action a_t, state s_t (optional), latent tokens of frame t]; attention
is frame-causal (a frame sees itself and earlier frames), and the output at frame t predicts the
latent tokens of frame t + 1. Positions: latent tokens at (t, row, col); action and state tokens
at (t, 0, 0), so only their time channels are rotated (as V-JEPA 2-AC).
"""

from __future__ import annotations

import torch
import torch.utils.checkpoint
from torch import Tensor, nn

from worldjepa.errors import ShapeError
from worldjepa.models.config import ActionPredictorConfig
from worldjepa.models.init import init_vit_weights, rescale_residual_branches
from worldjepa.nn import Block, RotaryEmbedding, frame_causal_mask


class ActionPredictor(nn.Module):
    """forward(latents [B, T, N, D], actions [B, T, A], states [B, T, S] | None) -> [B, T, N, D].

    N = grid_size**2 tokens per frame, D = embed_dim. Output frame t predicts input frame t + 1.
    Parameter names follow V-JEPA 2-AC (predictor_embed, action_encoder, state_encoder,
    extrinsics_encoder, predictor_blocks, predictor_norm, predictor_proj).
    """

    def __init__(self, config: ActionPredictorConfig):
        super().__init__()
        self.config = c = config
        width = c.predictor_embed_dim
        self.predictor_embed = nn.Linear(c.embed_dim, width)
        self.action_encoder = nn.Linear(c.action_dim, width)
        self.state_encoder = nn.Linear(c.state_dim, width) if c.state_dim else None
        self.extrinsics_encoder = nn.Linear(c.extrinsics_dim, width) if c.extrinsics_dim else None
        self.rope = RotaryEmbedding(width // c.num_heads, 3, c.rope_layout)
        dpr = [c.drop_path_rate * i / max(c.depth - 1, 1) for i in range(c.depth)]
        self.predictor_blocks = nn.ModuleList(
            Block(width, c.num_heads, c.mlp_ratio, c.qkv_bias, dpr[i], c.norm_eps) for i in range(c.depth)
        )
        self.predictor_norm = nn.LayerNorm(width, eps=c.norm_eps)
        self.predictor_proj = nn.Linear(width, c.embed_dim)
        init_vit_weights(self, c.init_std)
        rescale_residual_branches(self.predictor_blocks)

    def positions(self, frames: int, device: torch.device, first_frame: int = 0) -> Tensor:
        """Float `[frames * (cond + N), 3]` positions of the interleaved sequence."""
        c = self.config
        side = torch.arange(c.grid_size, device=device, dtype=torch.float32)
        rows, cols = side.repeat_interleave(c.grid_size), side.repeat(c.grid_size)
        spatial = torch.cat([torch.zeros(c.cond_tokens, 2, device=device), torch.stack([rows, cols], -1)])
        time = torch.arange(first_frame, first_frame + frames, device=device, dtype=torch.float32)
        per_frame = spatial.shape[0]
        return torch.cat([time.repeat_interleave(per_frame)[:, None], spatial.repeat(frames, 1)], dim=-1)

    def forward(
        self, latents: Tensor, actions: Tensor, states: Tensor | None = None, first_frame: int = 0
    ) -> Tensor:
        """`first_frame`: the time index of the first frame given (a rollout's sliding window)."""
        self.check(latents, actions, states)
        c = self.config
        b, t, n, _ = latents.shape
        cond = [self.action_encoder(actions).unsqueeze(2)]
        if self.state_encoder is not None:
            cond.append(self.state_encoder(states).unsqueeze(2))
        x = torch.cat([*cond, self.predictor_embed(latents)], dim=2).flatten(1, 2)
        rope = self.rope(self.positions(t, x.device, first_frame).to(x.dtype))
        mask = frame_causal_mask(t, c.cond_tokens + n, c.context_frames, device=x.device)
        for block in self.predictor_blocks:
            if c.activation_checkpointing and self.training:
                x = torch.utils.checkpoint.checkpoint(block, x, rope, mask, use_reentrant=False)
            else:
                x = block(x, rope=rope, attn_mask=mask)
        x = x.unflatten(1, (t, c.cond_tokens + n))[:, :, c.cond_tokens :]
        return self.predictor_proj(self.predictor_norm(x))

    def check(self, latents: Tensor, actions: Tensor, states: Tensor | None) -> None:
        c = self.config
        n = c.tokens_per_frame
        if latents.dim() != 4 or latents.shape[2:] != (n, c.embed_dim):
            raise ShapeError(
                f"ActionPredictor latents must be [B, T, {n}, {c.embed_dim}], got {tuple(latents.shape)}."
            )
        b, t = latents.shape[:2]
        if t > c.max_frames:
            raise ShapeError(f"At most {c.max_frames} frames fit this predictor, got {t}.")
        if actions.shape != (b, t, c.action_dim):
            raise ShapeError(
                f"actions must be [B={b}, T={t}, A={c.action_dim}] (the model's action dimension is "
                f"{c.action_dim}), got {tuple(actions.shape)}."
            )
        if (states is None) != (c.state_dim == 0) or (
            states is not None and states.shape != (b, t, c.state_dim)
        ):
            want = "no states" if c.state_dim == 0 else f"states [B={b}, T={t}, S={c.state_dim}]"
            got = "none" if states is None else tuple(states.shape)
            raise ShapeError(f"This predictor takes {want}, got {got}.")
