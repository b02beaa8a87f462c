"""worldjepa's V-JEPA 2 encoder against transformers' VJEPA2Model on the same weights and inputs.

Per model (a tiny config, and ViT-L/16 at 256 px on a short clip): max abs difference of the
encoder tokens and of the predictor outputs, clips/s of each and their ratio (calls interleaved),
peak memory of one forward (median of 3 fresh processes each), and the fraction of this machine's fp32
matmul peak (measured just before and after the timings, the higher kept) each reaches. Also the
masked-context path: worldjepa encodes only the kept tokens (as the official code), transformers
runs the full encoder and selects them (its only way).

    python benchmarks/hf_parity_speed.py                 # tiny + ViT-L (8 frames): a few minutes on 2 cores
    python benchmarks/hf_parity_speed.py --models tiny   # seconds

Prints one JSON object on stdout, progress on stderr. fp32, CPU, eval, no_grad.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys

import torch

from worldjepa.hub.build import build_with_state
from worldjepa.hub.hf_config import configs_from_hf
from worldjepa.hub.hf_format import from_hf_state
from worldjepa.models import Encoder
from worldjepa.perf import encoder_flops, measure_matmul_peak, peak_memory_mb, time_forward

MODELS = {
    "tiny": dict(
        hidden_size=64,
        num_attention_heads=4,
        num_hidden_layers=2,
        pred_hidden_size=48,
        pred_num_attention_heads=4,
        pred_num_hidden_layers=2,
        crop_size=64,
        patch_size=8,
        frames_per_clip=8,
        pred_zero_init_mask_tokens=False,
    ),
    "vitl": dict(
        crop_size=256, frames_per_clip=64, pred_zero_init_mask_tokens=False
    ),  # VJEPA2Config's defaults
}
KEEP_FRACTION = 0.25
MEMORY_RUNS = 3


def build_pair(name: str, seed: int = 0):
    """(transformers VJEPA2Model, worldjepa encoder, worldjepa predictor) with the same random weights."""
    from transformers import VJEPA2Config, VJEPA2Model

    torch.manual_seed(seed)
    config = VJEPA2Config(**MODELS[name], attn_implementation="sdpa")
    hf = VJEPA2Model(config).eval()
    encoder_config, predictor_config = configs_from_hf(config.to_dict())
    encoder_state, predictor_state = from_hf_state(hf.state_dict())
    encoder = build_with_state(encoder_config, encoder_state, name)
    return hf, encoder, build_with_state(predictor_config, predictor_state, name)


def clip(frames: int, side: int, seed: int = 1) -> torch.Tensor:
    """[1, C, T, H, W] (transformers takes its transpose [1, T, C, H, W])."""
    return torch.randn(1, 3, frames, side, side, generator=torch.Generator().manual_seed(seed))


def memory_call(which: str, name: str, frames: int):
    """In a fresh process: the zero-argument forward whose peak memory is measured (weights left
    uninitialised, which changes no allocation)."""
    from transformers import VJEPA2Config, VJEPA2Model

    config = VJEPA2Config(**MODELS[name], attn_implementation="sdpa")
    with torch.device("meta"):
        model = Encoder(configs_from_hf(config.to_dict())[0]) if which == "ours" else VJEPA2Model(config)
    model = model.to_empty(device="cpu").eval()
    x = clip(frames, MODELS[name]["crop_size"])
    if which == "ours":
        return torch.no_grad()(lambda: model(x))
    hf_x = x.transpose(1, 2).contiguous()
    return torch.no_grad()(lambda: model(hf_x, skip_predictor=True))


def interleaved_best(calls: list, repeats: int) -> list[float]:
    """Best wall time of each call, timed in turn (a, b, c, a, b, c, ...) after one warm-up each, so
    that load from other work on a shared machine falls on all of them alike."""
    times = [[] for _ in calls]
    for call in calls:
        call()
    for _ in range(repeats):
        for i, call in enumerate(calls):
            times[i].append(time_forward(call, warmup=0, repeats=1)["seconds_best"])
    return [min(t) for t in times]


def compare(name: str, frames: int, repeats: int) -> dict:
    print(f"[{name}] building", file=sys.stderr)
    hf, encoder, predictor = build_pair(name)
    x = clip(frames, MODELS[name]["crop_size"])
    hf_x = x.transpose(1, 2).contiguous()
    n = encoder.grid(x.shape)
    n = n[0] * n[1] * n[2]
    g = torch.Generator().manual_seed(2)
    keep = torch.randperm(n, generator=g)[: int(n * KEEP_FRACTION)].sort().values[None]
    rest = torch.tensor(sorted(set(range(n)) - set(keep[0].tolist())))[None]
    peak = 0.0
    with torch.no_grad():
        print(f"[{name}] parity", file=sys.stderr)
        out = hf(hf_x, context_mask=[keep], target_mask=[rest])
        tokens = encoder(x)
        context = tokens[:, keep[0]]
        predicted = predictor(context, keep, rest)
        encoder_diff = (out.last_hidden_state - tokens).abs().max().item()
        predictor_diff = (out.predictor_output.last_hidden_state - predicted).abs().max().item()
        masked_diff = (out.masked_hidden_state - encoder(x, keep=keep)).abs().max().item()
        print(f"[{name}] timing", file=sys.stderr)
        peak = max(peak, measure_matmul_peak())
        ours, theirs, ours_masked = interleaved_best(
            [lambda: encoder(x), lambda: hf(hf_x, skip_predictor=True), lambda: encoder(x, keep=keep)],
            repeats,
        )
        peak = max(peak, measure_matmul_peak())
    print(f"[{name}] memory", file=sys.stderr)
    # the resident-set rise of a fresh process varies by +-15 MiB from run to run: the median of a few
    memory = {
        w: statistics.median(
            peak_memory_mb(functools.partial(memory_call, w, name, frames)) for _ in range(MEMORY_RUNS)
        )
        for w in ("ours", "hf")
    }
    flops = functools.partial(encoder_flops, encoder.config, 1, frames)
    full, kept = flops(), flops(kept_tokens=keep.shape[1])
    return {
        "matmul_peak_gflops": peak / 1e9,
        "frames": frames,
        "img_size": MODELS[name]["crop_size"],
        "tokens": n,
        "encoder_max_abs_diff": encoder_diff,
        "predictor_max_abs_diff": predictor_diff,
        "clips_per_s": {"worldjepa": 1 / ours, "transformers": 1 / theirs},
        "speed_ratio_worldjepa_over_transformers": theirs / ours,
        "fraction_of_matmul_peak": {"worldjepa": full / ours / peak, "transformers": full / theirs / peak},
        "peak_memory_mb": memory,
        "masked_context": {
            "kept_tokens": int(keep.shape[1]),
            "worldjepa_clips_per_s": 1 / ours_masked,
            "transformers_clips_per_s": 1 / theirs,
            "speedup_over_transformers": theirs / ours_masked,
            "worldjepa_fraction_of_matmul_peak": kept / ours_masked / peak,
            "max_abs_diff_vs_transformers_selection": masked_diff,
        },
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["tiny", "vitl"], choices=list(MODELS))
    parser.add_argument("--vitl-frames", type=int, default=8, help="frames of the ViT-L clip (even)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    frames = {"tiny": 8, "vitl": args.vitl_frames}
    result = {
        "torch": torch.__version__,
        "threads": args.threads,
        "note": "masked_context: worldjepa encodes only the kept tokens (as the official code); transformers "
        "encodes every token and selects, so its numbers differ by design",
        "models": {name: compare(name, frames[name], args.repeats) for name in args.models},
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
