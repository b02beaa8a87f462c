"""Physical surprise (violation of expectation) from next-frame prediction error.

After Garrido et al. 2025 ("Intuitive physics understanding emerges from self-supervised
pretraining on natural videos"): a window slides over the video; its first C frames are the
context, and the predictor, given the context tokens and mask tokens at the positions of the next
M frames, predicts their embeddings. The surprise of a predicted frame is the L1 error between the
prediction and what the target encoder makes of the frames that actually came. A frame predicted
by several windows gets the mean of their errors; the first C frames are never predicted (0).

A scorer is anything with `context_frames` (C), `future_frames` (M), `size` (frame side in px),
`stride` (frames between windows) and `window_errors(clips [W, 3, C + M, size, size]) -> [W, M]`:
`JepaScorer` is the V-JEPA one, `PersistenceScorer` its "nothing changes" baseline and
`worldjepa.eval.pixel_baseline.PixelScorer` predicts pixels.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from worldjepa.data.transforms import frames_to_tensor, resize, to_clip
from worldjepa.data.video import read_video
from worldjepa.errors import CheckpointError, DataError
from worldjepa.hub.model_files import load_model_files, read_model_config
from worldjepa.models.presets import build_model
from worldjepa.objectives import normalize_targets

WINDOWS_PER_BATCH = 16


@dataclass
class SurpriseCurve:
    """Per-frame surprise `[T]` (0 for the first `context_frames`, which nothing predicts)."""

    per_frame: np.ndarray
    context_frames: int

    @property
    def scored(self) -> np.ndarray:
        return self.per_frame[self.context_frames :]

    @property
    def max(self) -> float:
        return float(self.scored.max())

    @property
    def mean(self) -> float:
        return float(self.scored.mean())

    @property
    def peak_frame(self) -> int:
        return int(self.context_frames + self.scored.argmax())


def frame_errors(pred: Tensor, truth: Tensor, tokens_per_step: int, tubelet: int) -> Tensor:
    """Predicted and true tokens [W, Nt, D] of the predicted tubelets (Nt = steps x tokens_per_step)
    -> mean L1 error per predicted frame [W, steps x tubelet] on the CPU (a tubelet's frames share it)."""
    error = (pred - truth).abs().mean(-1).view(pred.shape[0], -1, tokens_per_step).mean(-1)
    return error.repeat_interleave(tubelet, dim=1).cpu()


class JepaScorer:
    """Surprise in embedding space: `encoder` sees the context, `predictor` fills in the next
    frames, `target_encoder` (the EMA encoder; the encoder itself without one) gives the truth."""

    def __init__(
        self,
        encoder: nn.Module,
        predictor: nn.Module,
        target_encoder: nn.Module,
        context_frames: int,
        device: str | torch.device = "cpu",
    ):
        c = encoder.config
        if not c.is_video:
            raise CheckpointError(
                "surprise needs a video model (encoder num_frames > 1, a V-JEPA checkpoint); "
                "this encoder takes images."
            )
        if context_frames % c.tubelet_size or not 0 < context_frames < c.num_frames:
            raise CheckpointError(
                f"context_frames = {context_frames} must be a multiple of the tubelet size "
                f"{c.tubelet_size} between 0 and the model's {c.num_frames}-frame clip."
            )
        self.device = torch.device(device)
        self.encoder, self.predictor = encoder.to(self.device).eval(), predictor.to(self.device).eval()
        self.target_encoder = target_encoder.to(self.device).eval()
        self.tubelet = self.stride = c.tubelet_size
        self.size = c.img_size
        self.context_frames, self.future_frames = context_frames, c.num_frames - context_frames

    @torch.no_grad()
    def window_errors(self, clips: Tensor) -> Tensor:
        """clips [W, 3, C + M, S, S] (normalized) -> L1 error per predicted frame [W, M]."""
        clips = clips.to(self.device)
        grid = self.encoder.grid(clips.shape)
        per_step = grid[1] * grid[2]
        cut = self.context_frames // self.tubelet * per_step
        ids = torch.arange(grid[0] * per_step, device=self.device).expand(clips.shape[0], -1)
        context_ids, target_ids = ids[:, :cut], ids[:, cut:]
        pred = self.predictor(self.encoder(clips, keep=context_ids), context_ids, target_ids, grid=grid)
        truth = normalize_targets(self.target_encoder(clips))[:, cut:]
        return frame_errors(pred, truth, per_step, self.tubelet)

    def persistence(self) -> PersistenceScorer:
        """The "nothing changes" baseline in this model's embedding space (see PersistenceScorer)."""
        return PersistenceScorer(self)

    def with_random_weights(self, seed: int = 0) -> JepaScorer:
        """The same architecture freshly initialised (target encoder = encoder, as at step 0)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            encoder = build_model(self.encoder.config)
            predictor = build_model(self.predictor.config)
        return JepaScorer(encoder, predictor, copy.deepcopy(encoder), self.context_frames, self.device)


class PersistenceScorer:
    """A JEPA's predictor replaced by "nothing changes": every predicted frame's tokens are the target
    encoder's tokens of the last context tubelet, at the same places. A predictor that learned dynamics
    beats it; one that scores like it has only learned to copy."""

    def __init__(self, jepa: JepaScorer):
        self.target_encoder, self.device = jepa.target_encoder, jepa.device
        self.tubelet, self.stride, self.size = jepa.tubelet, jepa.stride, jepa.size
        self.context_frames, self.future_frames = jepa.context_frames, jepa.future_frames

    @torch.no_grad()
    def window_errors(self, clips: Tensor) -> Tensor:
        """clips [W, 3, C + M, S, S] (normalized) -> L1 error per predicted frame [W, M]."""
        clips = clips.to(self.device)
        _, height, width = self.target_encoder.grid(clips.shape)
        per_step = height * width
        cut = self.context_frames // self.tubelet * per_step
        truth = normalize_targets(self.target_encoder(clips))
        last = truth[:, cut - per_step : cut]
        future_steps = self.future_frames // self.tubelet
        return frame_errors(last.repeat(1, future_steps, 1), truth[:, cut:], per_step, self.tubelet)


def load_jepa_scorer(
    checkpoint: str | Path, context_frames: int | None = None, device: str | torch.device = "cpu"
) -> JepaScorer:
    """A JepaScorer from a V-JEPA model folder. The context defaults to the recipe's future-mask
    split (masks.future_context of the clip, rounded to whole tubelets), else half the clip."""
    config = read_model_config(checkpoint)
    kinds = {name: entry["kind"] for name, entry in config["models"].items()}
    if kinds.get("encoder") != "encoder" or kinds.get("predictor") != "predictor":
        raise CheckpointError(
            f"'{checkpoint}' is not a V-JEPA video model: surprise needs an encoder and a predictor, "
            f"it holds {', '.join(f'{n} ({k})' for n, k in kinds.items())}."
        )
    encoder_config = config["models"]["encoder"]["config"]
    if encoder_config.get("num_frames", 1) <= 1:
        raise CheckpointError(
            f"'{checkpoint}' is an image model (num_frames = 1); surprise needs a video model "
            "pretrained with V-JEPA (for example configs/vjepa_physics.yaml)."
        )
    names = ["encoder", "predictor"] + (["target_encoder"] if "target_encoder" in kinds else [])
    models = load_model_files(checkpoint, names)
    if context_frames is None:
        frames, tubelet = encoder_config["num_frames"], encoder_config.get("tubelet_size", 2)
        fraction = config.get("meta", {}).get("recipe", {}).get("masks", {}).get("future_context", 0.5)
        steps = frames // tubelet
        context_frames = min(max(1, round(steps * fraction)), steps - 1) * tubelet
    target = models.get("target_encoder", models["encoder"])
    return JepaScorer(models["encoder"], models["predictor"], target, context_frames, device)


def prepare_frames(frames: np.ndarray, size: int) -> Tensor:
    """uint8 `[T, H, W, 3]` of any size -> the model's normalized clip `[3, T, size, size]`
    (the whole frame resized, as the built-in sets are)."""
    return to_clip(resize(frames_to_tensor(frames), size, size))


def surprise_curve(scorer, frames: np.ndarray) -> SurpriseCurve:
    """The per-frame surprise of video `frames` (uint8 `[T, H, W, 3]`) under `scorer`."""
    window = scorer.context_frames + scorer.future_frames
    total = len(frames)
    if total < window:
        raise DataError(
            f"the video has {total} frames but the model needs at least {window} "
            f"({scorer.context_frames} of context + {scorer.future_frames} to predict); use a longer video."
        )
    clip = prepare_frames(frames, scorer.size)
    starts = list(range(0, total - window + 1, scorer.stride))
    sums, counts = np.zeros(total), np.zeros(total)
    for i in range(0, len(starts), WINDOWS_PER_BATCH):
        chunk = starts[i : i + WINDOWS_PER_BATCH]
        clips = torch.stack([clip[:, s : s + window] for s in chunk])
        errors = scorer.window_errors(clips).double().numpy()  # [W, M]
        for s, row in zip(chunk, errors, strict=True):
            at = slice(s + scorer.context_frames, s + window)
            sums[at] += row
            counts[at] += 1
    per_frame = np.divide(sums, counts, out=np.zeros(total), where=counts > 0)
    return SurpriseCurve(per_frame, scorer.context_frames)


def video_surprise(scorer, path: str | Path) -> dict:
    """{"video", "fps", "surprise" (per frame), "max", "mean", "peak_frame", "context_frames"}."""
    frames, fps = read_video(path)
    curve = surprise_curve(scorer, frames)
    return {
        "video": str(path),
        "fps": fps,
        "surprise": [float(v) for v in curve.per_frame],
        "max": curve.max,
        "mean": curve.mean,
        "peak_frame": curve.peak_frame,
        "context_frames": curve.context_frames,
    }
