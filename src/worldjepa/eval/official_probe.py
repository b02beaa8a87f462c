"""V-JEPA 2 probe files: the official evals' `.pt` and transformers' classifier key names.

Official (`evals/video_classification_frozen/eval.py`, `save_checkpoint`): a `torch.save`d dict
{"classifiers": [state_dict, ...], "opt": [...], "scaler": ..., "epoch", "batch_size", "world_size"},
one classifier per optimiser setting. Each was wrapped in DistributedDataParallel, so its keys start
with "module." ("module.pooler.query_tokens", "module.linear.weight", ...); without that prefix they
are AttentiveClassifier's own names. The released probes (e.g. `ssv2-vitl-16x2x3.pt`) use
`num_heads=16` and depth 4 (`num_probe_blocks`), and `nn.LayerNorm`'s eps 1e-5.

transformers (`VJEPA2ForVideoClassification`): the head is "pooler.*" + "classifier.*", with q, k and v
as separate projections (the official fused rows are [q; k; v] and [k; v]). Its pooler's LayerNorms
use `config.layer_norm_eps` (1e-6): build the probe with that eps to reproduce its logits.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor

from worldjepa.errors import CheckpointError
from worldjepa.eval.attentive_probe import AttentiveClassifier, ProbeConfig
from worldjepa.hub.strict_load import load_state_strict
from worldjepa.io import atomic_path

DDP_PREFIX = "module."
OFFICIAL_NUM_HEADS = 16

# (our name, transformers' name) prefixes, fused q/k/v already split into q., k., v.; `{i}` is a block
# index, `{n}` a norm number, `{p}` one of q, k, v. One table serves both directions.
_NAMES = [
    ("pooler.cross_attention_block.norm{n}.", "pooler.cross_attention_layer.layer_norm{n}."),
    ("pooler.cross_attention_block.xattn.{p}.", "pooler.cross_attention_layer.cross_attn.{p}_proj."),
    ("pooler.cross_attention_block.mlp.", "pooler.cross_attention_layer.mlp."),
    ("pooler.blocks.{i}.norm{n}.", "pooler.self_attention_layers.{i}.layer_norm{n}."),
    ("pooler.blocks.{i}.attn.{p}.", "pooler.self_attention_layers.{i}.self_attn.{p}_proj."),
    ("pooler.blocks.{i}.attn.proj.", "pooler.self_attention_layers.{i}.self_attn.out_proj."),
    ("pooler.blocks.{i}.mlp.", "pooler.self_attention_layers.{i}.mlp."),
    ("linear.", "classifier."),
]
_FIELDS = {"i": r"(?P<i>\d+)", "n": r"(?P<n>\d)", "p": r"(?P<p>[qkv])"}


def _prefix_pattern(template: str) -> re.Pattern:
    pattern = re.escape(template)
    for name, group in _FIELDS.items():
        pattern = pattern.replace(re.escape("{" + name + "}"), group)
    return re.compile(pattern)


_TO_HF = [(_prefix_pattern(ours), theirs) for ours, theirs in _NAMES]
_FROM_HF = [(_prefix_pattern(theirs), ours) for ours, theirs in _NAMES]
_FUSED = ((".attn.qkv.", ".attn.", "qkv"), (".xattn.kv.", ".xattn.", "kv"))  # fused, stem, parts


def _rename(key: str, table: list[tuple[re.Pattern, str]]) -> str:
    """`key` with the first matching prefix of `table` replaced (its fields carried over)."""
    for pattern, replacement in table:
        match = pattern.match(key)
        if match:
            return replacement.format(**match.groupdict()) + key[match.end() :]
    return key


def to_hf_state(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """AttentiveClassifier state -> the `pooler.` / `classifier.` keys of VJEPA2ForVideoClassification."""
    split: dict[str, Tensor] = {}
    for key, value in state.items():
        for fused, stem, parts in _FUSED:
            if fused in key:
                for name, chunk in zip(parts, value.chunk(len(parts), dim=0), strict=True):
                    split[key.replace(fused, f"{stem}{name}.")] = chunk.clone()
                break
        else:
            split[key] = value
    return {_rename(key, _TO_HF): value for key, value in split.items()}


def from_hf_state(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The `pooler.` / `classifier.` entries of a VJEPA2ForVideoClassification state -> our names.

    Other entries (the `vjepa2.` encoder and predictor) are ignored.
    """
    out = {_rename(k, _FROM_HF): v for k, v in state.items() if k.startswith(("pooler.", "classifier."))}
    for fused, stem, parts in _FUSED:
        first = f"{stem}{parts[0]}."
        for key in [k for k in out if first in k]:
            names = [key.replace(first, f"{stem}{p}.") for p in parts]
            missing = [n for n in names if n not in out]
            if missing:
                raise CheckpointError(f"transformers probe state lacks {', '.join(missing)}; is it complete?")
            out[key.replace(first, fused)] = torch.cat([out.pop(n) for n in names], dim=0)
    return out


def probe_config_from_state(
    state: Mapping[str, Tensor], num_heads: int = OFFICIAL_NUM_HEADS, layer_norm_eps: float = 1e-5
) -> ProbeConfig:
    """The ProbeConfig of an AttentiveClassifier state (our names); heads and eps are not in the weights."""
    needed = ("pooler.query_tokens", "linear.weight", "pooler.cross_attention_block.mlp.fc1.weight")
    missing = [k for k in needed if k not in state]
    if missing:
        raise CheckpointError(
            f"not an attentive probe state: missing {', '.join(missing)} (keys start with "
            f"{sorted({k.split('.')[0] for k in state})}); pass a V-JEPA 2 probe checkpoint."
        )
    _, num_queries, embed_dim = state["pooler.query_tokens"].shape
    blocks = {int(m[1]) for k in state if (m := re.match(r"pooler\.blocks\.(\d+)\.", k))}
    hidden = state["pooler.cross_attention_block.mlp.fc1.weight"].shape[0]
    return ProbeConfig(
        embed_dim=int(embed_dim),
        num_classes=int(state["linear.weight"].shape[0]),
        num_heads=num_heads,
        depth=len(blocks) + 1,
        mlp_ratio=hidden / embed_dim,
        num_queries=int(num_queries),
        qkv_bias="pooler.cross_attention_block.xattn.q.bias" in state,
        layer_norm_eps=layer_norm_eps,
    )


def probe_from_state(
    state: Mapping[str, Tensor],
    num_heads: int = OFFICIAL_NUM_HEADS,
    layer_norm_eps: float = 1e-5,
    where: str = "probe",
) -> AttentiveClassifier:
    """An AttentiveClassifier (eval mode) holding `state` (our names), keys and shapes checked strictly."""
    model = AttentiveClassifier.from_config(probe_config_from_state(state, num_heads, layer_norm_eps))
    load_state_strict(model, state, where=where)
    return model.eval()


def load_official_probe(
    path: str | Path, num_heads: int = OFFICIAL_NUM_HEADS, index: int = 0
) -> AttentiveClassifier:
    """Classifier `index` of an official V-JEPA 2 probe `.pt` (`weights_only=True`, strict keys and shapes).

    `num_heads` is not stored in the file: 16 in every released V-JEPA 2 probe.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"probe checkpoint '{path}' does not exist; pass the .pt the V-JEPA 2 evals saved."
        )
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as e:
        raise CheckpointError(
            f"cannot read '{path}' as a weights-only torch file ({e}); is it a complete V-JEPA 2 probe .pt?"
        ) from None
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("classifiers"), list):
        held = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CheckpointError(
            f"'{path}' is not an official probe checkpoint: it needs a 'classifiers' list, it holds {held}. "
            "Encoder checkpoints (with 'encoder' / 'target_encoder') load with worldjepa.load."
        )
    classifiers = checkpoint["classifiers"]
    if not 0 <= index < len(classifiers):
        raise CheckpointError(
            f"'{path}' holds {len(classifiers)} classifier(s); index {index} is out of range."
        )
    state = {k.removeprefix(DDP_PREFIX): v for k, v in classifiers[index].items()}
    return probe_from_state(state, num_heads, where=f"'{path}' (classifier {index})")


def save_official_probe(
    path: str | Path,
    probes: AttentiveClassifier | Sequence[AttentiveClassifier],
    epoch: int = 0,
    batch_size: int = 0,
) -> Path:
    """Write probes as the official evals do (keys "module.<name>"), atomically.

    "opt" is an empty list and "scaler" None: the official eval loads the file (`val_only` or resume)
    and starts the optimiser afresh.
    """
    probes = [probes] if isinstance(probes, AttentiveClassifier) else list(probes)
    checkpoint = {
        "classifiers": [
            {DDP_PREFIX + k: v.detach().cpu().contiguous() for k, v in p.state_dict().items()} for p in probes
        ],
        "opt": [],
        "scaler": None,
        "epoch": int(epoch),
        "batch_size": int(batch_size),
        "world_size": 1,
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)
    return path
