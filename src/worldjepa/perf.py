"""Helpers for benchmarks: this machine's matmul peak, analytic model FLOPs, timing and peak memory.

FLOP convention (as torch.utils.flop_counter.FlopCounterMode): a multiply-add is 2 flops and only
matrix products are counted (convolutions, linears, attention's QK^T and AV); biases, norms,
activations, softmax and rotary embeddings are left out (a few % of a ViT at most).
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from worldjepa.errors import ConfigError
from worldjepa.models.config import EncoderConfig, PredictorConfig


def synchronize() -> None:
    """Wait for queued CUDA work, so a timer stops when the work is done (no-op without CUDA)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def measure_matmul_peak(
    size: int = 2048, seconds: float = 2.0, dtype: torch.dtype = torch.float32, device: str = "cpu"
) -> float:
    """FLOP/s of square [size, size] matmuls (2 * size^3 flops each) at the current torch thread count.

    `seconds` is split into several timed runs after a warm-up; the best run is returned, so other
    load on a shared machine lowers the figure as little as possible.
    """
    if size < 1 or seconds <= 0:
        raise ConfigError(f"measure_matmul_peak needs size >= 1 and seconds > 0, got {size} and {seconds}.")
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=gen).to(device=device, dtype=dtype)
    b = torch.randn(size, size, generator=gen).to(device=device, dtype=dtype)
    out = torch.empty_like(a)
    for _ in range(2):
        torch.matmul(a, b, out=out)
    synchronize()
    runs, best = 5, 0.0
    for _ in range(runs):
        count, start = 0, time.perf_counter()
        while True:
            torch.matmul(a, b, out=out)
            count += 1
            synchronize()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / runs:
                break
        best = max(best, 2.0 * size**3 * count / elapsed)
    return best


def device_matmul_peak(device: torch.device, seconds: float = 2.0, quick: bool = False) -> float:
    """The peak a model on `device` is measured against: bf16 [8192]^2 matmuls on CUDA (training and
    inference there run bf16 autocast), fp32 [2048]^2 on CPU ([1024]^2 when `quick`)."""
    if device.type == "cuda":
        return measure_matmul_peak(8192, seconds, torch.bfloat16, device.type)
    return measure_matmul_peak(1024 if quick else 2048, seconds, torch.float32, device.type)


def block_flops(tokens: int, width: int, hidden: int) -> float:
    """Forward flops of one pre-norm transformer block on [1, tokens, width]: qkv, proj, MLP, attention."""
    linears = 2 * tokens * width * (3 * width + width) + 2 * 2 * tokens * width * hidden
    attention = 2 * 2 * tokens * tokens * width  # QK^T and AV over all heads
    return float(linears + attention)


def encoder_flops(
    config: EncoderConfig,
    batch: int,
    num_frames: int | None = None,
    img_size: int | None = None,
    kept_tokens: int | None = None,
) -> float:
    """Forward flops of an Encoder on `batch` clips (sizes default to the config's).

    num_frames = 1 is an image; a video encoder repeats it over one tubelet, as Encoder does.
    With `kept_tokens` (the masked-context path, `keep`) the blocks run on that many tokens while
    the patch embedding still covers every patch, as Encoder embeds before it gathers.
    """
    frames = config.num_frames if num_frames is None else num_frames
    img = config.img_size if img_size is None else img_size
    if img < config.patch_size or img % config.patch_size:
        raise ConfigError(f"img_size {img} must be a positive multiple of patch_size {config.patch_size}.")
    if frames < 1 or (not config.is_video and frames != 1):
        raise ConfigError(f"num_frames {frames} must be 1 for an image encoder and >= 1 for a video one.")
    if frames > 1 and frames % config.tubelet_size:
        raise ConfigError(f"num_frames {frames} must be a multiple of tubelet_size {config.tubelet_size}.")
    side = img // config.patch_size
    tokens = max(frames // config.tubelet_size, 1) * side * side
    kept = tokens if kept_tokens is None else kept_tokens
    if not 0 <= kept <= tokens:
        raise ConfigError(f"kept_tokens must be in [0, {tokens}] (tokens of the input), got {kept}.")
    tubelet = config.tubelet_size if config.is_video else 1
    width = config.embed_dim
    patch = 2 * tokens * width * config.in_chans * tubelet * config.patch_size**2
    blocks = config.depth * block_flops(kept, width, int(width * config.mlp_ratio))
    return float(batch * (patch + blocks))


def predictor_flops(config: PredictorConfig, batch: int, n_context: int, n_target: int) -> float:
    """Forward flops of a Predictor: embed the context, blocks over context + targets, project targets."""
    if n_context < 0 or n_target < 0:
        raise ConfigError(f"Token counts must be >= 0, got n_context={n_context}, n_target={n_target}.")
    width, outer = config.predictor_embed_dim, config.embed_dim
    embed = 2 * n_context * outer * width
    blocks = config.depth * block_flops(n_context + n_target, width, int(width * config.mlp_ratio))
    proj = 2 * n_target * width * outer
    return float(batch * (embed + blocks + proj))


def training_step_flops(
    encoder: EncoderConfig,
    predictor: PredictorConfig,
    batch: int,
    pairs: Sequence[tuple[int, Sequence[int]]],
    num_frames: int | None = None,
    img_size: int | None = None,
    target_backward: bool = False,
) -> float:
    """Approximate flops of one JEPA training step.

    `pairs`: one (context token count, [target token count, ...]) per mask pair, as the trainer
    runs them: each context is encoded once and the predictor runs once per target.
    Convention: backward costs about 2x forward (gradients of activations and of weights), so a
    trained module costs 3x its forward. The context encoder and the predictor are trained; the
    target encoder sees every token and runs forward only (EMA), or is trained too when
    `target_backward` (SIGReg, where targets come from the same encoder).
    """
    target = encoder_flops(encoder, batch, num_frames, img_size)
    trained = 0.0
    for n_context, n_targets in pairs:
        trained += encoder_flops(encoder, batch, num_frames, img_size, kept_tokens=n_context)
        trained += sum(predictor_flops(predictor, batch, n_context, n) for n in n_targets)
    return 3 * trained + (3 if target_backward else 1) * target


def time_forward(fn: Callable[[], object], warmup: int = 1, repeats: int = 3) -> dict[str, float]:
    """Wall time of `fn()`: {"seconds_best", "seconds_mean"} over `repeats` calls after `warmup` calls."""
    if repeats < 1 or warmup < 0:
        raise ConfigError(f"time_forward needs repeats >= 1 and warmup >= 0, got {repeats} and {warmup}.")
    for _ in range(warmup):
        fn()
    synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return {"seconds_best": min(times), "seconds_mean": sum(times) / len(times)}


def peak_memory_mb(build: Callable[[], Callable[[], object]], device: str = "cpu") -> float:
    """Peak memory (MiB) one call needs beyond what was held before it.

    `build()` constructs what the call needs (model, input) and returns the zero-argument call.
    CPU: `build` runs in a fresh process (multiprocessing 'spawn', same torch thread count), so
    no allocator cache of earlier work hides the cost; the result is the rise of its resident set
    (peak during the call minus resident size just before it). `build` must therefore be picklable:
    a module-level function or a functools.partial of one. The call is the first in that process, so
    it also pays one-time library set-up (thread pools, kernel caches: about 15 MiB with torch 2.13).
    CUDA: in this process, torch.cuda.max_memory_allocated during the call minus the allocation
    before it (tensors only, not the allocator's cache or the CUDA context).
    """
    if torch.device(device).type == "cuda":
        call = build()
        synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        call()
        synchronize()
        return (torch.cuda.max_memory_allocated() - before) / 2**20
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(rss_rise_mb, (build, torch.get_num_threads()))


def rss_rise_mb(build: Callable[[], Callable[[], object]], threads: int) -> float:
    """In the child: build, then the peak resident-set rise (MiB) of one call."""
    torch.set_num_threads(threads)
    call = build()
    gc.collect()
    status = Path("/proc/self/status")
    if reset_peak_rss():
        before = proc_status_kb(status, "VmRSS")
        call()
        return (proc_status_kb(status, "VmHWM") - before) / 1024
    # Without a resettable peak, the rise over the earlier peak is all we see: a lower bound.
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB elsewhere
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    call()
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, 0) * scale / 2**20


def reset_peak_rss() -> bool:
    """Reset this process's peak resident size (VmHWM) to its current size; False if unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def proc_status_kb(status: Path, field: str) -> int:
    """A 'kB' field of /proc/<pid>/status, for example VmRSS or VmHWM."""
    for line in status.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing from {status}")
