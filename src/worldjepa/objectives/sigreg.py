"""SIGReg (LeJEPA, Balestriero & LeCun 2025): push embeddings towards an isotropic Gaussian.

Embeddings are projected onto random unit directions; on each 1-D projection the Epps-Pulley
statistic compares the empirical characteristic function (ECF) with N(0, 1)'s, exp(-t^2 / 2):

    T = N * integral over [-t_max, t_max] of |ECF(t) - exp(-t^2/2)|^2 * exp(-t^2/2) dt

The integrand is even in t, so the trapezoid rule runs on [0, t_max] with doubled weights, as in
the reference code. For N(0, I) data T stays near sqrt(2 pi) (1 - 1/sqrt(3)) ~ 1.06 whatever N;
a collapsed batch grows with N.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
from torch import Tensor, nn

from worldjepa.errors import ConfigError, ShapeError


class SIGReg(nn.Module):
    """Sliced Epps-Pulley statistic, averaged over `num_slices` random directions.

    Under torch.distributed the ECF sums and the sample count are all-reduced (with gradient),
    so every rank returns the statistic of the global batch. Each rank's gradient is then
    world_size times its share of the global gradient, which DDP's gradient averaging divides
    back out: training on R ranks with N / R samples each matches one process with N.
    """

    def __init__(self, num_slices: int = 256, num_knots: int = 17, t_max: float = 3.0):
        super().__init__()
        if num_slices < 1 or num_knots < 2 or t_max <= 0:
            raise ConfigError(
                f"SIGReg needs num_slices >= 1, num_knots >= 2 and t_max > 0, got {num_slices}, "
                f"{num_knots} and {t_max}."
            )
        self.num_slices = num_slices
        t = torch.linspace(0.0, t_max, num_knots)
        dt = t_max / (num_knots - 1)
        trapezoid = torch.full((num_knots,), 2 * dt)  # doubled: the [-t_max, 0] half
        trapezoid[[0, -1]] = dt
        phi = torch.exp(-0.5 * t.square())
        self.register_buffer("t", t, persistent=False)
        self.register_buffer("phi", phi, persistent=False)
        self.register_buffer("weights", trapezoid * phi, persistent=False)

    def directions(self, dim: int, step: int) -> Tensor:
        """[dim, num_slices] unit columns, the same for a given `step` on every rank and device."""
        g = torch.Generator().manual_seed(step)
        a = torch.randn(dim, self.num_slices, generator=g)
        return a / a.norm(dim=0, keepdim=True)

    def forward(self, z: Tensor, step: int = 0) -> Tensor:
        """z [N, D] or [..., D] (leading dims are all samples) -> scalar statistic."""
        if z.dim() < 2 or z.numel() == 0:
            raise ShapeError(f"SIGReg expects embeddings [N, D] with N, D >= 1, got {tuple(z.shape)}.")
        z = z.reshape(-1, z.shape[-1])
        # cos/sin of bf16 projections are too coarse: the statistic is computed in fp32.
        with torch.autocast(device_type=z.device.type, enabled=False):
            proj = z.float() @ self.directions(z.shape[-1], step).to(z.device)  # [N, S]
            xt = proj.unsqueeze(-1) * self.t  # [N, S, K]
            sums = torch.stack([xt.cos().sum(0), xt.sin().sum(0)])  # [2, S, K]
            count = torch.tensor(float(z.shape[0]), device=z.device)
            if dist.is_available() and dist.is_initialized():
                sums = dist_fn.all_reduce(sums)
                dist.all_reduce(count)
            cos_mean, sin_mean = sums / count
            err = (cos_mean - self.phi).square() + sin_mean.square()  # [S, K]
            return (err @ self.weights * count).mean()


def center_and_scale(z: Tensor, eps: float = 1e-12) -> Tensor:
    """z [N, D] minus its batch mean, divided by its root mean per-dimension variance.

    What SIGReg then sees has zero mean and total variance D whatever the encoder's scale, so its
    gradient does not vanish when the embeddings start nearly collapsed (a near-constant batch has
    a flat Epps-Pulley landscape); shape (rank, anisotropy, non-Gaussianity) is still penalised,
    as LeJEPA's batch-normalised projector does. Batch statistics are global under torch.distributed.
    """
    z = z.float()
    count = torch.tensor(float(z.shape[0]), device=z.device)
    sums = z.sum(0)
    if dist.is_available() and dist.is_initialized():
        sums = dist_fn.all_reduce(sums)
        dist.all_reduce(count)
    centered = z - sums / count
    squares = centered.square().sum(0)
    if dist.is_available() and dist.is_initialized():
        squares = dist_fn.all_reduce(squares)
    return centered / (squares.mean() / count + eps).sqrt()
