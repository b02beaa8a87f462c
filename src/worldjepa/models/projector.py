"""The MLP projector that SIGReg regularises in LeJEPA, so the encoder's own features need not be Gaussian.

LeJEPA pushes a projector's outputs, not the backbone's features, towards an isotropic Gaussian: a
collapsed encoder still fails the test (a constant input gives a constant output), but the features
the probes read are free to put their variance where the prediction loss wants it. The projector is
used in training only and saved beside the encoder so a run resumes exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from worldjepa.errors import ConfigError, ShapeError


@dataclass
class ProjectorConfig:
    """in_dim (the encoder's width) -> hidden_dim -> out_dim."""

    in_dim: int
    hidden_dim: int = 256
    out_dim: int = 64

    def __post_init__(self):
        if min(self.in_dim, self.hidden_dim, self.out_dim) < 1:
            raise ConfigError(
                f"A projector needs positive widths, got in {self.in_dim}, hidden {self.hidden_dim}, "
                f"out {self.out_dim}."
            )


class Projector(nn.Module):
    """z [..., in_dim] -> [..., out_dim]: Linear, LayerNorm, GELU, Linear.

    LayerNorm rather than LeJEPA's BatchNorm: it needs no batch statistics, so training on several
    ranks matches one process; the batch is centred and scaled before SIGReg anyway.
    """

    def __init__(self, config: ProjectorConfig):
        super().__init__()
        self.config = c = config
        self.net = nn.Sequential(
            nn.Linear(c.in_dim, c.hidden_dim),
            nn.LayerNorm(c.hidden_dim),
            nn.GELU(),
            nn.Linear(c.hidden_dim, c.out_dim),
        )

    def forward(self, z: Tensor) -> Tensor:
        if z.shape[-1] != self.config.in_dim:
            raise ShapeError(f"The projector expects [..., {self.config.in_dim}], got {tuple(z.shape)}.")
        return self.net(z)
