import math

import pytest
import torch

from worldjepa.errors import ConfigError
from worldjepa.nn.rope import RotaryEmbedding, apply_rotary, axis_width


def scores(rope: RotaryEmbedding, q, k, pos):
    """q, k: [1, 1, N, h]; pos [N, 3] -> [N, N] dot products after rotation."""
    cos, sin = rope(pos)
    return apply_rotary(q, cos, sin) @ apply_rotary(k, cos, sin).transpose(-1, -2)


@pytest.mark.parametrize("head_dim", [64, 80])
def test_interleaved_scores_depend_on_position_differences_only(head_dim):
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 1, 1, 12, head_dim, generator=g)
    pos = torch.randint(0, 8, (12, 3), generator=g).float()
    rope = RotaryEmbedding(head_dim, 3, "interleaved")
    shifted = pos + torch.tensor([3.0, -2.0, 5.0])
    assert torch.allclose(scores(rope, q, k, pos), scores(rope, q, k, shifted), atol=1e-4)


def test_vjepa2_layout_is_not_shift_invariant():
    """The released layout pairs two different angles: a shift changes the scores (why both layouts exist)."""
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 1, 1, 12, 64, generator=g)
    pos = torch.randint(0, 8, (12, 3), generator=g).float()
    rope = RotaryEmbedding(64, 3, "vjepa2")
    shifted = pos + torch.tensor([3.0, -2.0, 5.0])
    assert not torch.allclose(scores(rope, q, k, pos), scores(rope, q, k, shifted), atol=1e-3)


def reference_vjepa2_rotation(x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """V-JEPA 2's 3-D RoPE written out channel by channel (float64).

    x: [N, h]; pos: [N, 3]. Per axis a chunk of d = 2 * ((h // 3) // 2) channels; frequencies
    1 / 10000 ** (i / (d / 2)); cos/sin laid out [f_0 .. f_{d/2-1}, f_0 .. f_{d/2-1}]; pairs (2i, 2i+1)
    rotated; the channels after the three chunks are copied unchanged.
    """
    n, h = x.shape
    d = 2 * ((h // 3) // 2)
    x, pos = x.double(), pos.double()
    out = x.clone()
    for a in range(3):
        start = a * d
        for token in range(n):
            freqs = [pos[token, a].item() / 10000 ** (i / (d / 2)) for i in range(d // 2)]
            angles = freqs + freqs  # the "repeat" layout
            for j in range(d // 2):
                c0, c1 = start + 2 * j, start + 2 * j + 1
                x0, x1 = x[token, c0].item(), x[token, c1].item()
                out[token, c0] = x0 * math.cos(angles[2 * j]) - x1 * math.sin(angles[2 * j])
                out[token, c1] = x1 * math.cos(angles[2 * j + 1]) + x0 * math.sin(angles[2 * j + 1])
    return out


@pytest.mark.parametrize("head_dim", [64, 80])
def test_vjepa2_layout_matches_reference_formula(head_dim):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, head_dim, generator=g)
    pos = torch.tensor([[0, 0, 0], [1, 2, 3], [7, 0, 15], [3, 15, 1], [2.0, 5, 9], [31, 4, 2]]).float()
    cos, sin = RotaryEmbedding(head_dim, 3, "vjepa2")(pos)
    got = apply_rotary(x[None, None], cos, sin)[0, 0]
    want = reference_vjepa2_rotation(x, pos).float()
    assert torch.allclose(got, want, atol=1e-5)
    # The channels after the three rotated chunks pass through unchanged.
    rotated = 3 * axis_width(head_dim, 3)
    assert torch.equal(got[:, rotated:], x[:, rotated:])


def test_cos_sin_tables_layout():
    cos, sin = RotaryEmbedding(64, 3, "vjepa2")(torch.tensor([[1.0, 2.0, 3.0]]))
    assert cos.shape == sin.shape == (1, 1, 64)  # a heads axis is inserted before N
    omega = 1 / 10000 ** (torch.arange(10) / 10.0)
    time_angles = torch.cat([omega, omega]) * 1.0
    assert torch.allclose(cos[0, 0, :20], time_angles.cos(), atol=1e-6)
    assert torch.allclose(sin[0, 0, 20:40], (torch.cat([omega, omega]) * 2.0).sin(), atol=1e-6)
    assert torch.equal(cos[0, 0, 60:], torch.ones(4)) and torch.equal(sin[0, 0, 60:], torch.zeros(4))
    cos_i, _ = RotaryEmbedding(64, 3, "interleaved")(torch.tensor([[1.0, 2.0, 3.0]]))
    assert torch.allclose(cos_i[0, 0, :20], omega.repeat_interleave(2).cos(), atol=1e-6)


def test_axis_widths():
    assert axis_width(64, 3) == 20  # 20 + 20 + 20 + 4 unrotated
    assert axis_width(80, 3) == 26  # 26 * 3 + 2 unrotated
    assert axis_width(16, 3) == 4
    assert axis_width(64, 2) == 32
    assert RotaryEmbedding(80, 3).width == 26


def test_zero_position_is_identity():
    x = torch.randn(1, 2, 5, 64)
    cos, sin = RotaryEmbedding(64)(torch.zeros(5, 3))
    assert torch.allclose(apply_rotary(x, cos, sin), x)


def test_bad_layout_and_axes():
    with pytest.raises(ConfigError, match="interleaved"):
        RotaryEmbedding(64, 3, "textbook")
    with pytest.raises(ConfigError):
        RotaryEmbedding(64, 4)
