"""Exploration noise for sampling planners: white, or coloured in time as iCEM samples it.

Coloured noise (power spectral density proportional to 1 / f^beta, Pinneri et al. 2020, "Sample-efficient
Cross-Entropy Method for Real-time Planning") keeps consecutive actions correlated: beta = 0 is white noise,
beta = 2 a smooth random drift that travels far in one direction and reaches around obstacles that white
noise, averaging itself out step by step, rarely reaches.
"""

from __future__ import annotations

import torch
from torch import Tensor

from worldjepa.errors import ConfigError
from worldjepa.planning.protocol import normal_noise, resolve_group


def coloured_noise(
    shape: tuple[int, int, int],
    beta: float,
    generator: torch.Generator,
    like: Tensor,
    group: int | None = None,
) -> Tensor:
    """Unit-variance Gaussian noise [N, T, A], coloured with exponent `beta` along time.

    Time runs over every sub-action: a model step's action of A dims holds A / group env actions of
    `group` dims, so the noise is drawn for N sequences of T * A / group steps of `group` dims and
    each dim is coloured along those steps. beta = 0 gives the same numbers as `normal_noise`.
    """
    if beta < 0:
        raise ConfigError(f"Noise exponent beta must be >= 0 (0 = white noise), got {beta}.")
    n, t, a = shape
    if beta == 0:
        return normal_noise(shape, generator, like)
    g = resolve_group(a, group)
    steps = t * (a // g)
    freqs = torch.fft.rfftfreq(steps, dtype=torch.float64)
    freqs[0] = freqs[1] if steps > 1 else 1.0  # the constant drift gets the lowest frequency's power
    scale = freqs.pow(-beta / 2)
    spectrum = normal_noise((n, g, 2, freqs.numel()), generator, scale) * scale
    signal = torch.fft.irfft(torch.complex(spectrum[:, :, 0], spectrum[:, :, 1]), n=steps)  # [N, g, steps]
    # irfft drops the imaginary parts of the constant and (even length) Nyquist terms; every other
    # frequency k adds 2 Re(X_k e^(i w n)), of variance 4 scale_k^2: the per-step variance is their sum.
    counted = torch.full_like(scale, 4.0)
    counted[0] = 1.0
    if steps % 2 == 0 and steps > 1:
        counted[-1] = 1.0
    std = (counted * scale.square()).sum().sqrt() / steps
    return (signal / std).transpose(1, 2).reshape(n, t, a).to(device=like.device, dtype=like.dtype)
