import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from worldjepa.errors import ConfigError, ShapeError
from worldjepa.objectives import (
    EMA,
    SIGReg,
    covariance_loss,
    gather_tokens,
    jepa_loss,
    momentum_at,
    normalize_targets,
    variance_loss,
)


def test_gather_tokens():
    x = torch.arange(2 * 4 * 3, dtype=torch.float32).view(2, 4, 3)
    ids = torch.tensor([[0, 3], [2, 1]])
    out = gather_tokens(x, ids)
    assert out.shape == (2, 2, 3)
    assert torch.equal(out[0, 1], x[0, 3]) and torch.equal(out[1, 0], x[1, 2])
    with pytest.raises(ShapeError):
        gather_tokens(x, ids[0])


def test_jepa_loss_known_values():
    pred = torch.tensor([[[1.0, -1.0], [0.0, 3.0]]])
    target = torch.zeros_like(pred)
    assert jepa_loss(pred, target, "l1").item() == pytest.approx(5 / 4)
    assert jepa_loss(pred, target, "l2").item() == pytest.approx(11 / 4)
    assert jepa_loss(pred, target, "smooth_l1").item() == pytest.approx((0.5 + 0.5 + 0 + 2.5) / 4)
    assert jepa_loss(pred, target).item() == pytest.approx(5 / 4)
    with pytest.raises(ConfigError, match="l1"):
        jepa_loss(pred, target, "l3")
    with pytest.raises(ShapeError):
        jepa_loss(pred, target[..., :1])


def test_normalize_targets():
    h = torch.randn(2, 5, 8) * 3 + 2
    out = normalize_targets(h)
    assert torch.allclose(out.mean(-1), torch.zeros(2, 5), atol=1e-5)
    assert torch.allclose(out.var(-1, unbiased=False), torch.ones(2, 5), atol=1e-3)


def test_momentum_schedule():
    assert momentum_at(0, 100) == pytest.approx(0.996)
    assert momentum_at(50, 100) == pytest.approx(0.998)
    assert momentum_at(100, 100) == pytest.approx(1.0)
    assert momentum_at(500, 100) == pytest.approx(1.0)
    with pytest.raises(ConfigError):
        momentum_at(0, 0)


class _Wrapped(nn.Module):
    """Stands in for DistributedDataParallel: the real model sits in `.module`."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def test_ema_update_maths():
    online = _net()
    ema = EMA(_Wrapped(online))
    assert all(not p.requires_grad for p in ema.target.parameters())
    before = [p.clone() for p in ema.target.parameters()]
    with torch.no_grad():
        for p in online.parameters():
            p.add_(1.0)
    online(torch.randn(5, 3))  # moves the BatchNorm running stats

    ema.update(online, momentum=1.0)
    assert all(torch.equal(a, b) for a, b in zip(ema.target.parameters(), before, strict=True))
    ema.update(_Wrapped(online), momentum=0.5)
    for t, b, o in zip(ema.target.parameters(), before, online.parameters(), strict=True):
        assert torch.allclose(t, 0.5 * b + 0.5 * o)
    ema.update(online, momentum=0.0)
    assert all(torch.equal(t, o) for t, o in zip(ema.target.parameters(), online.parameters(), strict=True))
    assert torch.equal(ema.target[1].running_mean, online[1].running_mean)
    with pytest.raises(ConfigError):
        ema.update(online, momentum=1.5)


def test_sigreg_gaussian_small_collapsed_large():
    g = torch.Generator().manual_seed(0)
    sigreg = SIGReg()
    gaussian = sigreg(torch.randn(2048, 64, generator=g)).item()
    same = sigreg(torch.randn(1, 64, generator=g).expand(2048, 64)).item()
    rank1 = sigreg(torch.randn(2048, 1, generator=g) @ torch.randn(1, 64, generator=g)).item()
    assert gaussian < 2.0  # expected ~ sqrt(2 pi) (1 - 1/sqrt(3)) ~ 1.06
    assert same > 10 * gaussian and rank1 > 10 * gaussian


def test_sigreg_directions_follow_step_and_gradient_flows():
    sigreg = SIGReg(num_slices=16)
    z = torch.randn(64, 2, 8, requires_grad=True)  # leading dims are all samples
    a, b, c = sigreg(z, step=1), sigreg(z, step=1), sigreg(z, step=2)
    assert a.item() == b.item() and a.item() != c.item()
    a.backward()
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    with pytest.raises(ShapeError):
        sigreg(torch.randn(8))


_WORLD = 2


def _sigreg_rank(rank: int, init_file: str, z: torch.Tensor, out_dir: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=_WORLD)
    try:
        local = z.chunk(_WORLD)[rank].clone().requires_grad_(True)
        value = SIGReg(num_slices=32)(local, step=5)
        value.backward()
        torch.save({"value": value.detach(), "grad": local.grad}, f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_sigreg_ddp_matches_single_process(tmp_path):
    z = torch.randn(256, 16, generator=torch.Generator().manual_seed(0))
    single_z = z.clone().requires_grad_(True)
    single = SIGReg(num_slices=32)(single_z, step=5)
    single.backward()

    mp.spawn(_sigreg_rank, args=(str(tmp_path / "init"), z, str(tmp_path)), nprocs=_WORLD, join=True)
    results = [torch.load(tmp_path / f"rank{r}.pt") for r in range(_WORLD)]
    for r, res in enumerate(results):
        assert abs(res["value"].item() - single.item()) < 1e-6
        # each rank's gradient is world_size x its share; DDP's gradient averaging divides it out
        expected = single_z.grad.chunk(_WORLD)[r]
        assert torch.allclose(res["grad"] / _WORLD, expected, atol=1e-6, rtol=1e-4)


def test_vicreg_variance_and_covariance():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(512, 8, generator=g)
    z = (z - z.mean(0)) / z.std(0)
    assert variance_loss(z).item() == 0.0
    collapsed = torch.ones(512, 8)
    assert variance_loss(collapsed).item() == pytest.approx(1 - 1e-2, abs=1e-6)
    assert covariance_loss(collapsed).item() == 0.0

    x = torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, 1.0], [-1.0, -1.0]])  # cov = [[4/3, 4/3], [4/3, 4/3]]
    assert covariance_loss(x).item() == pytest.approx(2 * (4 / 3) ** 2 / 2)
    with pytest.raises(ShapeError):
        variance_loss(torch.randn(1, 4))


def test_center_and_scale_fixes_mean_and_total_variance():
    from worldjepa.objectives.sigreg import center_and_scale

    z = 5.0 + 1e-3 * torch.randn(64, 16, generator=torch.Generator().manual_seed(0))
    out = center_and_scale(z)
    assert out.mean(0).abs().max() < 1e-3  # float32 cancellation of the offset 5, scaled up 1000x
    assert torch.isclose(out.square().mean(), torch.tensor(1.0), atol=1e-4)


def test_sigreg_escapes_a_nearly_collapsed_start_after_center_and_scale():
    """A near-constant batch gives SIGReg almost no gradient; centred and scaled it does."""
    from worldjepa.objectives.sigreg import center_and_scale

    g = torch.Generator().manual_seed(0)
    x = torch.randn(128, 8, generator=g)
    w = (torch.randn(8, 8, generator=g) * 1e-3).requires_grad_()
    SIGReg(num_slices=64)(center_and_scale(x @ w + 1.0)).backward()
    assert w.grad.abs().max() > 1e-2
