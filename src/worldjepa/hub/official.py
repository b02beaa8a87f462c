"""Official facebookresearch/vjepa2 checkpoints (`vitl.pt`, ..., `vjepa2-ac-vitg.pt`), both ways.

A file is a dict with `encoder`, `target_encoder` and `predictor` state dicts (plus optimizer state,
ignored). Entries are keyed `module.backbone.<name>` (`module.<name>` in the AC file); past those
prefixes the names are worldjepa's own, since Encoder, Predictor and ActionPredictor use the
official parameter names. Loading is strict: every key used and every shape checked (the official
loaders use strict=False, which hides a file of another size). Only the sin-cos tables a RoPE model
never reads (`pos_embed`, `predictor_pos_embed`) are dropped, by name.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from worldjepa.errors import CheckpointError, ConfigError
from worldjepa.hub.build import build_with_state
from worldjepa.hub.pretrained import Pretrained
from worldjepa.hub.released import get_release, match_release, with_mask_tokens
from worldjepa.io import atomic_path
from worldjepa.models.config import ActionPredictorConfig, EncoderConfig, PredictorConfig

ENCODER_KEYS = ("encoder", "target_encoder")
UNUSED_WITH_ROPE = ("pos_embed", "predictor_pos_embed")
PREFIX = {"predictor": "module.backbone.", "action_predictor": "module."}


def read_official(path: str | Path) -> dict[str, Any]:
    """The checkpoint dict of an official `.pt` file, read with torch.load(weights_only=True)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Checkpoint '{path}' does not exist or is not a file.")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except pickle.UnpicklingError as e:
        found = re.search(r"GLOBAL ([\w.]+)", str(e))
        what = f"it refers to {found.group(1)}" if found else "it holds objects other than tensors"
        raise CheckpointError(
            f"'{path}' cannot be read with torch.load(weights_only=True): {what}. worldjepa loads only "
            "tensors and plain containers. If you trust the file, re-save its state dicts in a trusted "
            "Python session: torch.save({'encoder': ..., 'target_encoder': ..., 'predictor': ...}, path)."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as e:
        raise CheckpointError(
            f"Cannot read '{path}' as a torch checkpoint (corrupt or cut short?): {e}"
        ) from None
    if not isinstance(checkpoint, dict) or not any(k in checkpoint for k in ENCODER_KEYS):
        held = ", ".join(map(str, checkpoint)) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CheckpointError(
            f"'{path}' is not an official V-JEPA 2 checkpoint: it has no 'encoder' or 'target_encoder' "
            f"entry (it holds: {held})."
        )
    return checkpoint


def strip_prefixes(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Drop the leading `module.` and `backbone.` of official keys (as the official loader does)."""
    out = {}
    for key, value in state.items():
        for prefix in ("module.", "backbone."):
            key = key.removeprefix(prefix)
        out[key] = value
    return out


def official_states(
    checkpoint: dict[str, Any], which: str = "encoder"
) -> tuple[dict[str, Tensor], dict[str, Tensor] | None]:
    """(encoder state, predictor state or None) in worldjepa names; `which` picks the encoder entry."""
    if which not in ENCODER_KEYS:
        raise ConfigError(f"which must be one of {ENCODER_KEYS}, got '{which}'.")
    if which not in checkpoint:
        raise CheckpointError(f"This checkpoint has no '{which}' entry; it holds: {', '.join(checkpoint)}.")
    encoder = {k: v for k, v in strip_prefixes(checkpoint[which]).items() if k not in UNUSED_WITH_ROPE}
    if "predictor" not in checkpoint:
        return encoder, None
    predictor = {
        k: v for k, v in strip_prefixes(checkpoint["predictor"]).items() if k not in UNUSED_WITH_ROPE
    }
    return encoder, predictor


def count_mask_tokens(state: dict[str, Tensor]) -> int:
    return sum(1 for k in state if re.fullmatch(r"mask_tokens\.\d+", k))


def encoder_shape(state: dict[str, Tensor]) -> tuple[int, int]:
    """(width, depth) of an encoder state dict."""
    if "patch_embed.proj.weight" not in state:
        raise CheckpointError(
            "The encoder entry has no patch_embed.proj.weight: it is not a V-JEPA 2 video encoder "
            f"(first keys: {', '.join(list(state)[:5])})."
        )
    depth = len({k.split(".")[1] for k in state if k.startswith("blocks.")})
    return int(state["patch_embed.proj.weight"].shape[0]), depth


def load_official(
    path: str | Path,
    encoder_config: EncoderConfig | None = None,
    predictor_config: PredictorConfig | ActionPredictorConfig | None = None,
    which: str = "encoder",
    preset: str | None = None,
) -> Pretrained:
    """Encoder and predictor of an official checkpoint.

    The architecture is `preset`'s (a release name) when given, else the release whose encoder has
    the file's width and depth (a "384" in the file name picks ViT-g at 384 px), unless both configs
    are given. The number of mask tokens is counted in the file. A file of another size raises a
    CheckpointError listing the keys and shapes that do not fit.
    """
    path = Path(path)
    encoder_state, predictor_state = official_states(read_official(path), which)
    if encoder_config is None or (predictor_config is None and predictor_state is not None):
        action = predictor_state is not None and "action_encoder.weight" in predictor_state
        release = (
            get_release(preset) if preset else match_release(*encoder_shape(encoder_state), action, path.name)
        )
        encoder_config = encoder_config or release.encoder_config()
        predictor_config = predictor_config or release.predictor_config()
    where = f"'{path}' ({which})" + (f" as {preset}" if preset else "")
    encoder = build_with_state(encoder_config, encoder_state, where)
    predictor = None
    if predictor_state is not None:
        config = with_mask_tokens(predictor_config, count_mask_tokens(predictor_state))
        predictor = build_with_state(config, predictor_state, f"'{path}' (predictor)")
    return Pretrained(encoder, predictor, source=str(path))


def official_checkpoint(model: Pretrained) -> dict[str, dict[str, Tensor]]:
    """The official layout of `model`: `encoder` and `target_encoder` (the same weights), `predictor`."""
    kind = "action_predictor" if model.action_conditioned else "predictor"
    prefix = PREFIX[kind]
    encoder = {prefix + k: v.detach().cpu() for k, v in model.encoder.state_dict().items()}
    checkpoint = {"encoder": encoder, "target_encoder": dict(encoder)}
    if model.predictor is not None:
        checkpoint["predictor"] = {
            prefix + k: v.detach().cpu() for k, v in model.predictor.state_dict().items()
        }
    return checkpoint


def save_official(path: str | Path, model: Pretrained) -> Path:
    """Write `model` as an official `.pt` checkpoint, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(official_checkpoint(model), tmp)
    return path
