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
from worldjepa.errors import CheckpointError, ConfigError, DataError
from worldjepa.hub.hf_format import is_hf_folder
from worldjepa.hub.model_files import load_model_files, read_model_config
from worldjepa.models.presets import build_model
from worldjepa.objectives import normalize_targets
from worldjepa.objectives.masks import context_steps

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
        future_frames: int | None = None,
    ):
        c = encoder.config
        if not c.is_video:
            raise CheckpointError(
                "surprise needs a video model (encoder num_frames > 1, a V-JEPA checkpoint); "
                "this encoder takes images."
            )
        if future_frames is None:
            if context_frames >= c.num_frames:
                raise ConfigError(
                    f"context_frames = {context_frames} leaves nothing of the model's {c.num_frames}-frame "
                    "clip to predict: give a shorter context, or future_frames as well."
                )
            future_frames = c.num_frames - context_frames
        for name, frames in (("context_frames", context_frames), ("future_frames", future_frames)):
            if frames <= 0 or frames % c.tubelet_size:
                raise ConfigError(
                    f"{name} = {frames} must be a positive multiple of the tubelet size {c.tubelet_size}."
                )
        self.device = torch.device(device)
        self.encoder, self.predictor = encoder.to(self.device).eval(), predictor.to(self.device).eval()
        self.target_encoder = target_encoder.to(self.device).eval()
        self.tubelet = self.stride = c.tubelet_size
        self.size = c.img_size
        self.context_frames, self.future_frames = context_frames, future_frames

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
        return JepaScorer(
            encoder, predictor, copy.deepcopy(encoder), self.context_frames, self.device, self.future_frames
        )


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
    checkpoint: str | Path,
    context_frames: int | None = None,
    device: str | torch.device = "cpu",
    future_frames: int | None = None,
) -> JepaScorer:
    """A JepaScorer from a V-JEPA model with its mask-token predictor.

    checkpoint: a worldjepa model folder (its target encoder, where it has one, gives the truth), or
    anything `worldjepa.load` reads: a release name (`vjepa2-vitl-fpc64-256`), a Hugging Face repo id or
    folder, an official `.pt` file (their one encoder gives the truth).
    context_frames: defaults to the recipe's future-mask split (masks.future_context of the clip,
    rounded to whole tubelets), else half the clip. future_frames: frames each window predicts;
    defaults to the rest of the model's clip. Rotary (and sin-cos) positions let a window of any
    whole number of tubelets through, so a 64-frame model can score 16-frame videos (e.g. 8 + 8).
    """
    path = Path(checkpoint)
    if (path / "config.json").is_file() and not is_hf_folder(path):
        encoder, predictor, target, recipe = worldjepa_models(path)
    else:
        from worldjepa.hub.load import load

        model = load(checkpoint)
        if model.predictor is None or model.action_conditioned:
            kind = "an action-conditioned predictor" if model.action_conditioned else "no predictor"
            raise CheckpointError(
                f"'{checkpoint}' has {kind}; surprise needs V-JEPA's mask-token predictor "
                "(a vjepa2-vit* release, not vjepa2-ac-vitg)."
            )
        encoder, predictor, target, recipe = model.encoder, model.predictor, model.encoder, {}
    if context_frames is None and encoder.config.is_video:
        frames, tubelet = encoder.config.num_frames, encoder.config.tubelet_size
        fraction = recipe.get("masks", {}).get("future_context", 0.5)
        context_frames = context_steps(frames // tubelet, fraction) * tubelet
    return JepaScorer(encoder, predictor, target, context_frames, device, future_frames)


def worldjepa_models(folder: Path) -> tuple[nn.Module, nn.Module, nn.Module, dict]:
    """(encoder, predictor, target encoder or the encoder, recipe) of a worldjepa V-JEPA model folder."""
    config = read_model_config(folder)
    kinds = {name: entry["kind"] for name, entry in config["models"].items()}
    if kinds.get("encoder") != "encoder" or kinds.get("predictor") != "predictor":
        raise CheckpointError(
            f"'{folder}' is not a V-JEPA video model: surprise needs an encoder and a predictor, "
            f"it holds {', '.join(f'{n} ({k})' for n, k in kinds.items())}."
        )
    if config["models"]["encoder"]["config"].get("num_frames", 1) <= 1:
        raise CheckpointError(
            f"'{folder}' is an image model (num_frames = 1); surprise needs a video model "
            "pretrained with V-JEPA (for example configs/vjepa_physics.yaml)."
        )
    names = ["encoder", "predictor"] + (["target_encoder"] if "target_encoder" in kinds else [])
    models = load_model_files(folder, names)
    target = models.get("target_encoder", models["encoder"])
    recipe = config.get("meta", {}).get("recipe", {})
    return models["encoder"], models["predictor"], target, recipe


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
