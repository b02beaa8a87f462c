"""Benchmark helpers: analytic FLOPs agree with torch's FlopCounterMode; timers and meters are sane."""

import math

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from worldjepa.errors import ConfigError
from worldjepa.models import create_model, preset_config
from worldjepa.perf import (
    device_matmul_peak,
    encoder_flops,
    measure_matmul_peak,
    peak_memory_mb,
    predictor_flops,
    time_forward,
    training_step_flops,
)


def counted_flops(fn) -> int:
    # The fused CPU SDPA kernel has no flop formula in FlopCounterMode; the math backend runs
    # attention as two bmm calls, which it counts.
    with sdpa_kernel(SDPBackend.MATH), torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


@pytest.mark.parametrize("num_frames", [4, 1])
def test_encoder_flops_match_flop_counter(num_frames):
    model = create_model("vit_test", num_frames=num_frames, mlp_ratio=3.0).eval()
    shape = (2, 3, num_frames, 32, 32) if num_frames > 1 else (2, 3, 32, 32)
    x = torch.randn(shape)
    assert encoder_flops(model.config, batch=2) == pytest.approx(counted_flops(lambda: model(x)), rel=0.01)


def test_video_encoder_flops_on_an_image():
    model = create_model("vit_test").eval()
    x = torch.randn(2, 3, 32, 32)
    expected = counted_flops(lambda: model(x))
    assert encoder_flops(model.config, batch=2, num_frames=1) == pytest.approx(expected, rel=0.01)


def test_masked_encoder_flops_match_flop_counter():
    model = create_model("vit_test", depth=2).eval()
    x = torch.randn(3, 3, 4, 48, 48)
    gen = torch.Generator().manual_seed(0)
    keep = torch.stack([torch.randperm(72, generator=gen)[:18] for _ in range(3)])
    expected = counted_flops(lambda: model(x, keep=keep))
    got = encoder_flops(model.config, batch=3, img_size=48, kept_tokens=18)
    assert got == pytest.approx(expected, rel=0.01)
    assert got < encoder_flops(model.config, batch=3, img_size=48)


def test_predictor_flops_match_flop_counter():
    model = create_model("predictor_test", predictor_embed_dim=16).eval()
    context = torch.randn(2, 20, 32)
    ids = torch.randperm(32, generator=torch.Generator().manual_seed(0))
    context_ids, target_ids = ids[:20].expand(2, -1), ids[20:].expand(2, -1)
    expected = counted_flops(lambda: model(context, context_ids, target_ids))
    assert predictor_flops(model.config, 2, 20, 12) == pytest.approx(expected, rel=0.01)


def test_training_step_flops_convention():
    enc, pred = preset_config("vit_test"), preset_config("predictor_test")
    ctx = encoder_flops(enc, 4, kept_tokens=8)
    full = encoder_flops(enc, 4)
    head = predictor_flops(pred, 4, 8, 16)
    assert training_step_flops(enc, pred, 4, [(8, [16])]) == 3 * (ctx + head) + full
    assert training_step_flops(enc, pred, 4, [(8, [16])], target_backward=True) == 3 * (ctx + head + full)
    two = training_step_flops(enc, pred, 4, [(8, [16, 16]), (8, [16])])
    assert two == 3 * (2 * ctx + 3 * head) + full


@pytest.mark.parametrize(
    "kwargs", [dict(kept_tokens=33), dict(img_size=30), dict(num_frames=3), dict(kept_tokens=-1)]
)
def test_encoder_flops_rejects_bad_sizes(kwargs):
    with pytest.raises(ConfigError):
        encoder_flops(preset_config("vit_test"), batch=1, **kwargs)


def test_matmul_peak_is_positive():
    peak = measure_matmul_peak(size=128, seconds=0.2)
    assert math.isfinite(peak) and peak > 0
    with pytest.raises(ConfigError):
        measure_matmul_peak(size=0)


def test_device_matmul_peak_on_cpu_is_an_fp32_peak():
    peak = device_matmul_peak(torch.device("cpu"), seconds=0.2, quick=True)
    assert math.isfinite(peak) and peak > 0


def test_time_forward_counts_calls():
    calls = []
    timing = time_forward(lambda: calls.append(1), warmup=2, repeats=3)
    assert len(calls) == 5
    assert 0 <= timing["seconds_best"] <= timing["seconds_mean"]


def build_allocation():
    return lambda: torch.ones(16 * 2**20)  # 64 MiB, every page touched


def test_peak_memory_sees_an_allocation():
    assert 56 < peak_memory_mb(build_allocation) < 200
