import pytest
import torch

from worldjepa.objectives.sigreg import center_and_scale
from worldjepa.train.jepa_step import JEPA


def sigreg_samples(embeddings: torch.Tensor, **options) -> torch.Tensor:
    jepa = JEPA(torch.nn.Identity(), torch.nn.Identity(), **options)
    return jepa.sigreg_samples(embeddings, step=0)


def test_sigreg_sees_standardized_clip_means_by_default_and_raw_ones_on_request():
    embeddings = 3.0 + 0.01 * torch.randn(16, 12, 8, generator=torch.Generator().manual_seed(0))
    # center_and_scale's own properties are tested in test_objectives.
    assert torch.equal(sigreg_samples(embeddings), center_and_scale(embeddings.mean(1)))
    # LeJEPA's test against N(0, I) as is: an offset and a tiny spread stay, for SIGReg to penalise.
    assert torch.equal(sigreg_samples(embeddings, standardize=False), embeddings.mean(1))


def test_raw_sigreg_samples_keep_the_gradient_to_every_sampled_token():
    embeddings = torch.randn(4, 6, 8, generator=torch.Generator().manual_seed(1), requires_grad=True)
    sigreg_samples(embeddings, standardize=False, sigreg_tokens=100).sum().backward()
    assert torch.equal(embeddings.grad, torch.ones_like(embeddings))  # all 24 tokens, each once


def test_sigreg_weight_ramps_linearly_from_zero_then_holds():
    jepa = JEPA(torch.nn.Identity(), torch.nn.Identity(), sigreg_weight=0.02, sigreg_ramp_steps=100)
    assert [jepa.sigreg_weight_at(s) for s in (0, 50, 100, 5000)] == pytest.approx([0.0, 0.01, 0.02, 0.02])
    assert JEPA(torch.nn.Identity(), torch.nn.Identity(), sigreg_weight=0.02).sigreg_weight_at(0) == 0.02
