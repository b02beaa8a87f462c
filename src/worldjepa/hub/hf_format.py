"""Hugging Face folders of transformers' VJEPA2Model (`facebook/vjepa2-vitl-fpc64-256`), both ways.

A folder holds config.json (a VJEPA2Config) and model.safetensors (or shards listed in
model.safetensors.index.json). Names map one to one, except that transformers splits each fused
`qkv` into `query`, `key`, `value` (rows [q; k; v]) and stacks the predictor's mask tokens into one
`[n, 1, 1, D]` tensor:

    patch_embed.proj.*       <-> encoder.embeddings.patch_embeddings.proj.*
    blocks.i.attn.qkv.*      <-> encoder.layer.i.attention.{query,key,value}.*
    blocks.i.attn.proj.*     <-> encoder.layer.i.attention.proj.*   (norm1, norm2, mlp.fc1/fc2 alike)
    norm.*                   <-> encoder.layernorm.*
    predictor_embed.*        <-> predictor.embeddings.predictor_embeddings.*
    mask_tokens.i [1, 1, D]  <-> predictor.embeddings.mask_tokens[i]
    predictor_blocks.i.*     <-> predictor.layer.i.*
    predictor_norm.*, predictor_proj.* <-> predictor.layernorm.*, predictor.proj.*

Loading is strict: the file's keys and shapes are checked, in the file's own names, against those
its config.json implies.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from worldjepa.errors import CheckpointError, ConfigError
from worldjepa.hub.build import build_with_state
from worldjepa.hub.hf_config import configs_from_hf, hf_from_configs
from worldjepa.hub.pretrained import Pretrained
from worldjepa.hub.strict_load import listing
from worldjepa.io import atomic_path, write_json
from worldjepa.models.config import EncoderConfig, PredictorConfig
from worldjepa.models.encoder import Encoder
from worldjepa.models.predictor import Predictor
from worldjepa.models.presets import build_model

ENCODER_NAMES = (
    ("patch_embed.", "encoder.embeddings.patch_embeddings."),
    ("blocks.", "encoder.layer."),
    ("norm.", "encoder.layernorm."),
)
PREDICTOR_NAMES = (
    ("predictor_embed.", "predictor.embeddings.predictor_embeddings."),
    ("predictor_blocks.", "predictor.layer."),
    ("predictor_norm.", "predictor.layernorm."),
    ("predictor_proj.", "predictor.proj."),
)
MASK_TOKENS = "predictor.embeddings.mask_tokens"
QKV = ("query", "key", "value")
CONFIG_FILE, WEIGHTS_FILE, INDEX_FILE = "config.json", "model.safetensors", "model.safetensors.index.json"


def rename(key: str, table: tuple[tuple[str, str], ...], to_hf: bool) -> str | None:
    """`key` in the other format's names (None when no rule of `table` applies)."""
    for ours, theirs in table:
        src, dst = (ours, theirs) if to_hf else (theirs, ours)
        if key.startswith(src):
            rest = key[len(src) :]
            rest = rest.replace(".attn.", ".attention.") if to_hf else rest.replace(".attention.", ".attn.")
            return dst + rest
    return None


def to_hf_state(encoder: nn.Module, predictor: nn.Module) -> dict[str, Tensor]:
    """transformers' VJEPA2Model state dict of an Encoder and Predictor (fresh CPU tensors)."""
    out = {}
    for table, module in ((ENCODER_NAMES, encoder), (PREDICTOR_NAMES, predictor)):
        for key, value in module.state_dict().items():
            if key.startswith("mask_tokens."):
                continue
            name = rename(key, table, to_hf=True)
            base, _, kind = name.rpartition(".")
            if base.endswith(".attention.qkv"):
                for part, chunk in zip(QKV, value.chunk(3, dim=0), strict=True):
                    out[f"{base[: -len('qkv')]}{part}.{kind}"] = chunk.detach().clone()
            else:
                out[name] = value.detach().clone()
    out[MASK_TOKENS] = torch.stack([t.detach() for t in predictor.mask_tokens])
    return out


def from_hf_state(state: dict[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """(encoder state, predictor state) in worldjepa names from a checked VJEPA2Model state dict."""
    encoder, predictor = {}, {}
    for name, value in state.items():
        if name == MASK_TOKENS:
            predictor.update({f"mask_tokens.{i}": t for i, t in enumerate(value.unbind(0))})
            continue
        is_encoder = name.startswith("encoder.")
        table, target = (ENCODER_NAMES, encoder) if is_encoder else (PREDICTOR_NAMES, predictor)
        key = rename(name, table, to_hf=False)
        base, _, kind = key.rpartition(".")
        head, _, part = base.rpartition(".")
        if part not in QKV or not head.endswith(".attn"):
            target[key] = value
        elif part == "query":
            parts = [state[name.replace(".query.", f".{p}.")] for p in QKV]
            target[f"{head}.qkv.{kind}"] = torch.cat(parts, dim=0)
    return encoder, predictor


def expected_shapes(encoder_config: EncoderConfig, predictor_config: PredictorConfig) -> dict[str, tuple]:
    """{HF name: shape} of the VJEPA2Model these configs describe (built on the meta device)."""
    with torch.device("meta"):
        state = to_hf_state(build_model(encoder_config), build_model(predictor_config))
    return {k: tuple(v.shape) for k, v in state.items()}


def check_hf_state(state: dict[str, Tensor], want: dict[str, tuple], where: str) -> None:
    missing = sorted(k for k in want if k not in state)
    unexpected = sorted(k for k in state if k not in want)
    shapes = sorted(
        f"{k}: file {tuple(state[k].shape)} vs config {want[k]}"
        for k in want
        if k in state and tuple(state[k].shape) != want[k]
    )
    if missing or unexpected or shapes:
        hint = (
            "\n  Keys under 'vjepa2.' are a VJEPA2ForVideoClassification checkpoint; "
            "worldjepa loads VJEPA2Model."
            if any(k.startswith("vjepa2.") for k in unexpected)
            else "\n  The weights do not match the sizes in config.json: check that both come from one model."
        )
        raise CheckpointError(
            f"{where} does not fit its config.json."
            + listing("missing keys", missing)
            + listing("unexpected keys", unexpected)
            + listing("shape mismatches", shapes)
            + hint
        )


def read_hf_tensors(folder: Path) -> dict[str, Tensor]:
    """Every tensor of model.safetensors, or of the shards its index lists."""
    index = folder / INDEX_FILE
    try:
        if index.is_file():
            files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            return {k: v for f in files for k, v in load_file(str(folder / f)).items()}
        return load_file(str(folder / WEIGHTS_FILE))
    except (SafetensorError, OSError, ValueError, KeyError) as e:
        raise CheckpointError(f"Cannot read the weights of '{folder}': {e}") from None


def is_hf_folder(folder: str | Path) -> bool:
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text()).get("model_type") == "vjepa2"
    except (json.JSONDecodeError, AttributeError):
        return False


def load_hf(folder: str | Path) -> Pretrained:
    """Encoder and predictor of a transformers V-JEPA 2 folder (config.json + safetensors)."""
    folder = Path(folder)
    path = folder / CONFIG_FILE
    try:
        config = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise CheckpointError(f"Cannot read '{path}': {e}") from None
    encoder_config, predictor_config = configs_from_hf(config, where=str(path))
    state = read_hf_tensors(folder)
    check_hf_state(state, expected_shapes(encoder_config, predictor_config), f"'{folder}'")
    encoder_state, predictor_state = from_hf_state(state)
    encoder = build_with_state(encoder_config, encoder_state, f"'{folder}' (encoder)")
    predictor = build_with_state(predictor_config, predictor_state, f"'{folder}' (predictor)")
    return Pretrained(encoder, predictor, source=str(folder))


def save_hf(folder: str | Path, model: Pretrained) -> Path:
    """Write `model` as a transformers VJEPA2Model folder (config.json + model.safetensors)."""
    if not isinstance(model.encoder, Encoder) or not isinstance(model.predictor, Predictor):
        raise ConfigError(
            "The Hugging Face V-JEPA 2 format holds an encoder with its mask-token predictor; this model has "
            f"predictor {type(model.predictor).__name__}. V-JEPA 2-AC has no transformers counterpart: "
            "convert it to the official or worldjepa format."
        )
    config = hf_from_configs(model.encoder.config, model.predictor.config)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        save_file(to_hf_state(model.encoder, model.predictor), str(tmp), metadata={"format": "pt"})
    write_json(folder / CONFIG_FILE, config)
    return folder
