"""Encoder forward throughput per preset: clips/s, analytic GFLOP per clip, the fraction of this machine's
matmul peak reached, peak memory, and the masked-context path (the encoder sees 25 % of the tokens).

    python benchmarks/encoder_throughput.py            # default presets, a few minutes on 2 CPU cores
    python benchmarks/encoder_throughput.py --quick    # tiny presets, well under 30 s
    python benchmarks/encoder_throughput.py --presets vit_large --frames 16 --img-size 256 --device cuda

Prints one JSON object on stdout, progress on stderr. CPU runs fp32; CUDA runs bf16 autocast and
its peak is a bf16 matmul peak. Forward only (eval, no_grad); clips/s is the best of the timed calls.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import math
import os
import platform
import sys
from collections.abc import Callable
from contextlib import nullcontext

import torch

from worldjepa.errors import ConfigError, WorldJepaError
from worldjepa.models import PRESETS, Encoder, EncoderConfig, build_model, preset_config
from worldjepa.perf import device_matmul_peak, encoder_flops, peak_memory_mb, time_forward
from worldjepa.seed import seed_everything

DEFAULT_PRESETS = ["vit_test", "vit_pico", "vit_nano", "vit_tiny", "vit_small", "vit_base", "vit_large"]
QUICK_PRESETS = ["vit_test", "vit_pico", "vit_nano"]
# (frames, img_size, batch): the tiny presets at their own sizes; the ViT sizes on short 224 px clips,
# so that the default run fits in a few minutes on 2 CPU cores. Unlisted presets get LARGE_SIZE.
SIZES = {
    "vit_test": (4, 32, 8),
    "vit_pico": (8, 64, 8),
    "vit_nano": (8, 64, 8),
    "vit_tiny": (8, 224, 1),
    "vit_small": (8, 224, 1),
    "vit_base": (4, 224, 1),
    "vit_large": (4, 224, 1),
}
LARGE_SIZE = (2, 224, 1)
KEEP_FRACTION = 0.25


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--presets", nargs="+", help="encoder presets (space or comma separated)")
    parser.add_argument("--frames", type=positive, help="frames per clip for every preset (1 = images)")
    parser.add_argument("--img-size", type=positive, help="image side in pixels for every preset")
    parser.add_argument("--batch", type=positive, help="clips per forward for every preset")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny presets and short timings (< 30 s)")
    args = parser.parse_args(argv)
    names = args.presets or (QUICK_PRESETS if args.quick else DEFAULT_PRESETS)
    args.presets = [n for item in names for n in item.split(",") if n]
    return args


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    return int(text)


def sizes(name: str, args: argparse.Namespace) -> tuple[int, int, int]:
    """(frames, img_size, batch) of a preset: the flags where given, else SIZES."""
    frames, img_size, batch = SIZES.get(name, LARGE_SIZE)
    return args.frames or frames, args.img_size or img_size, args.batch or batch


def encoder_config(name: str, frames: int, img_size: int) -> EncoderConfig:
    if name in PRESETS and PRESETS[name].kind != "encoder":
        raise ConfigError(f"'{name}' is a {PRESETS[name].kind} preset; this benchmark takes encoder presets.")
    return preset_config(name, num_frames=frames, img_size=img_size)


def precision(device: torch.device):
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()


def make_inputs(
    model: Encoder, batch: int, gen: torch.Generator, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random clips [B, C, T, H, W] (images [B, C, H, W] when num_frames = 1) and keep ids [B, K]."""
    c = model.config
    frames = (c.num_frames,) if c.is_video else ()
    x = torch.randn(batch, c.in_chans, *frames, c.img_size, c.img_size, generator=gen)
    tokens = math.prod(model.grid(x.shape))
    kept = max(1, round(KEEP_FRACTION * tokens))
    keep = torch.stack([torch.randperm(tokens, generator=gen)[:kept].sort().values for _ in range(batch)])
    return x.to(device), keep.to(device)


def forward_call(model: Encoder, x: torch.Tensor, keep: torch.Tensor | None) -> Callable[[], torch.Tensor]:
    def call() -> torch.Tensor:
        with torch.no_grad(), precision(x.device):
            return model(x, keep=keep)

    return call


def build_forward(name: str, frames: int, img_size: int, batch: int, seed: int, device: str) -> Callable:
    """The full forward of one preset, built from scratch (peak_memory_mb runs this in a child)."""
    seed_everything(seed)
    model = build_model(encoder_config(name, frames, img_size)).eval().to(device)
    x, _ = make_inputs(model, batch, torch.Generator().manual_seed(seed), torch.device(device))
    return forward_call(model, x, None)


def best_seconds(calls: list[Callable], budget_s: float) -> list[float]:
    """Best wall time of each call. The first (warm-up) round sets how many rounds fit in budget_s;
    the calls alternate within a round, so changing load on a shared machine hits them alike."""
    first = sum(time_forward(call, warmup=0, repeats=1)["seconds_best"] for call in calls)
    rounds = min(max(math.ceil(budget_s / max(first, 1e-6)), 2), 50)
    times = [
        [time_forward(call, warmup=0, repeats=1)["seconds_best"] for call in calls] for _ in range(rounds)
    ]
    return [min(column) for column in zip(*times, strict=True)]


def measure(name: str, args: argparse.Namespace, device: torch.device, peak_gflops: float) -> dict:
    frames, img_size, batch = sizes(name, args)
    config = encoder_config(name, frames, img_size)
    seed_everything(args.seed)
    model = build_model(config).eval().to(device)
    x, keep = make_inputs(model, batch, torch.Generator().manual_seed(args.seed), device)
    tokens, kept = math.prod(model.grid(x.shape)), keep.shape[1]
    calls = [forward_call(model, x, None), forward_call(model, x, keep)]
    full, masked = (batch / s for s in best_seconds(calls, budget_s=1.0 if args.quick else 4.0))
    del model, x, keep
    gc.collect()
    build = functools.partial(build_forward, name, frames, img_size, batch, args.seed, device.type)
    memory = peak_memory_mb(build, device.type)
    gflop = encoder_flops(config, 1) / 1e9
    masked_gflop = encoder_flops(config, 1, kept_tokens=kept) / 1e9
    print(
        f"{name}: {frames}x{img_size}px batch {batch}: {full:.3g} clips/s, {gflop:.3g} GFLOP/clip, "
        f"{memory:.0f} MiB; masked ({kept}/{tokens} tokens) {masked:.3g} clips/s",
        file=sys.stderr,
    )
    return {
        "preset": name,
        "frames": frames,
        "img_size": img_size,
        "batch": batch,
        "tokens": tokens,
        "clips_per_s": full,
        "gflop_per_clip": gflop,
        "fraction_of_peak": gflop * full / peak_gflops,
        "peak_memory_mb": memory,
        "kept_tokens": kept,
        "masked_clips_per_s": masked,
        "masked_gflop_per_clip": masked_gflop,
        "masked_speedup": masked / full,
    }


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else platform.processor() or platform.machine()


def machine(device: torch.device, quick: bool) -> dict:
    cuda = device.type == "cuda"
    peak = device_matmul_peak(device, seconds=0.5 if quick else 2.0, quick=quick)
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "device": torch.cuda.get_device_name(device) if cuda else "cpu",
        "precision": "bf16 autocast" if cuda else "fp32",
        "matmul_peak_gflops": peak / 1e9,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("CUDA is not available on this machine; run with --device cpu.")
        for name in args.presets:
            encoder_config(name, *sizes(name, args)[:2])  # fail on a bad name or size before measuring
        device = torch.device(args.device)
        info = machine(device, args.quick)
        print(f"matmul peak {info['matmul_peak_gflops']:.1f} GFLOP/s", file=sys.stderr)
        results = [measure(name, args, device, info["matmul_peak_gflops"]) for name in args.presets]
    except WorldJepaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps({"machine": info, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
