"""Multi-head self-attention through scaled_dot_product_attention, with optional rotary positions."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from worldjepa.nn.rope import apply_rotary


class Attention(nn.Module):
    """x: [B, N, D] -> [B, N, D].

    `rope` is a (cos, sin) pair broadcastable to [B, heads, N, head_dim], computed from each token's
    true position, so masked (dropped) tokens keep their place. `attn_mask` follows SDPA
    (bool: True = may attend).
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, rope: tuple[Tensor, Tensor] | None = None, attn_mask: Tensor | None = None):
        b, n, d = x.shape
        q, k, v = self.qkv(x).unflatten(-1, (3, self.num_heads, self.head_dim)).permute(2, 0, 3, 1, 4)
        if rope is not None:
            cos, sin = rope
            q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        x = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.proj(x.transpose(1, 2).reshape(b, n, d))
