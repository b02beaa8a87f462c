"""Building blocks, one per file."""

from worldjepa.nn.attention import Attention
from worldjepa.nn.block import Block
from worldjepa.nn.drop_path import DropPath
from worldjepa.nn.frame_causal import frame_causal_mask
from worldjepa.nn.mlp import MLP
from worldjepa.nn.patch_embed import PatchEmbed2D, TubeletEmbed
from worldjepa.nn.positions import token_positions
from worldjepa.nn.rope import RotaryEmbedding, apply_rotary
from worldjepa.nn.sincos import sincos_pos_embed

__all__ = [
    "MLP",
    "Attention",
    "Block",
    "DropPath",
    "PatchEmbed2D",
    "RotaryEmbedding",
    "TubeletEmbed",
    "apply_rotary",
    "frame_causal_mask",
    "sincos_pos_embed",
    "token_positions",
]
