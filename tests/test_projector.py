import pytest
import torch

from worldjepa.errors import ConfigError, ShapeError
from worldjepa.models.presets import build_model, config_from_kind, config_kind
from worldjepa.models.projector import Projector, ProjectorConfig


def test_projector_maps_any_leading_dims_and_rebuilds_from_its_kind():
    projector = Projector(ProjectorConfig(in_dim=16, hidden_dim=32, out_dim=8))
    assert projector(torch.randn(5, 16)).shape == (5, 8)
    assert projector(torch.randn(2, 3, 16)).shape == (2, 3, 8)
    kind = config_kind(projector.config)
    assert kind == "projector"
    rebuilt = build_model(config_from_kind(kind, {"in_dim": 16, "hidden_dim": 32, "out_dim": 8}))
    assert isinstance(rebuilt, Projector) and rebuilt.config == projector.config


def test_projector_errors_name_the_problem():
    with pytest.raises(ConfigError, match="positive widths"):
        ProjectorConfig(in_dim=16, out_dim=0)
    with pytest.raises(ShapeError, match=r"\[\.\.\., 16\].*\(4, 12\)"):
        Projector(ProjectorConfig(in_dim=16))(torch.randn(4, 12))
