"""transformers' VJEPA2Config (config.json of `facebook/vjepa2-*`) <-> worldjepa Encoder/Predictor configs.

One VJEPA2Config describes both halves of a VJEPA2Model: the encoder fields, the `pred_*` fields,
and shared ones (crop, patch, tubelet, qkv bias, LayerNorm eps, drop path) that worldjepa keeps in
each config. `frames_per_clip` becomes both configs' `num_frames` (with RoPE it only sizes the grid
a training mask addresses, never a position).
"""

from __future__ import annotations

from typing import Any

from worldjepa.errors import CheckpointError, ConfigError
from worldjepa.models.config import EncoderConfig, PredictorConfig

# VJEPA2Config's defaults (transformers 5.x), for config.json files that leave fields out.
HF_DEFAULTS: dict[str, Any] = {
    "patch_size": 16,
    "crop_size": 256,
    "frames_per_clip": 64,
    "tubelet_size": 2,
    "hidden_size": 1024,
    "in_chans": 3,
    "num_attention_heads": 16,
    "num_hidden_layers": 24,
    "drop_path_rate": 0.0,
    "mlp_ratio": 4.0,
    "layer_norm_eps": 1e-6,
    "qkv_bias": True,
    "attention_probs_dropout_prob": 0.0,
    "hidden_act": "gelu",
    "initializer_range": 0.02,
    "attention_dropout": 0.0,
    "num_pooler_layers": 3,
    "pred_hidden_size": 384,
    "pred_num_attention_heads": 12,
    "pred_num_hidden_layers": 12,
    "pred_num_mask_tokens": 10,
    "pred_zero_init_mask_tokens": True,
    "pred_mlp_ratio": 4.0,
}
SHARED = ("img_size", "patch_size", "tubelet_size", "qkv_bias", "norm_eps")


def side(value: Any, where: str) -> int:
    """An int size; transformers also allows a square [n, n]."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2 or value[0] != value[1]:
            raise CheckpointError(f"{where}: only square sizes are supported, got {value}.")
        value = value[0]
    return int(value)


def configs_from_hf(
    config: dict[str, Any], where: str = "config.json"
) -> tuple[EncoderConfig, PredictorConfig]:
    """Encoder and predictor configs of a transformers VJEPA2Config dict."""
    if config.get("model_type") != "vjepa2":
        raise CheckpointError(
            f"{where} is not a V-JEPA 2 transformers config (model_type {config.get('model_type')!r}, "
            "expected 'vjepa2')."
        )
    c = {**HF_DEFAULTS, **config}
    if c["hidden_act"] != "gelu":
        raise CheckpointError(
            f"{where}: hidden_act {c['hidden_act']!r} is not supported; V-JEPA 2 uses 'gelu'."
        )
    if c["frames_per_clip"] < c["tubelet_size"]:
        raise CheckpointError(f"{where}: frames_per_clip {c['frames_per_clip']} is below the tubelet size.")
    shared = dict(
        img_size=side(c["crop_size"], where),
        patch_size=side(c["patch_size"], where),
        num_frames=int(c["frames_per_clip"]),
        tubelet_size=int(c["tubelet_size"]),
        qkv_bias=bool(c["qkv_bias"]),
        norm_eps=float(c["layer_norm_eps"]),
        drop_path_rate=float(c["drop_path_rate"]),
        init_std=float(c["initializer_range"]),
    )
    try:
        encoder = EncoderConfig(
            embed_dim=int(c["hidden_size"]),
            depth=int(c["num_hidden_layers"]),
            num_heads=int(c["num_attention_heads"]),
            mlp_ratio=float(c["mlp_ratio"]),
            in_chans=int(c["in_chans"]),
            **shared,
        )
        predictor = PredictorConfig(
            embed_dim=int(c["hidden_size"]),
            predictor_embed_dim=int(c["pred_hidden_size"]),
            depth=int(c["pred_num_hidden_layers"]),
            num_heads=int(c["pred_num_attention_heads"]),
            mlp_ratio=float(c["pred_mlp_ratio"]),
            num_mask_tokens=int(c["pred_num_mask_tokens"]),
            zero_init_mask_tokens=bool(c["pred_zero_init_mask_tokens"]),
            **shared,
        )
    except ConfigError as e:
        raise CheckpointError(f"{where} describes a model worldjepa cannot build: {e}") from None
    return encoder, predictor


def hf_from_configs(encoder: EncoderConfig, predictor: PredictorConfig) -> dict[str, Any]:
    """The VJEPA2Config dict (config.json) of an encoder and predictor pair."""
    if not encoder.is_video or encoder.pos_embed != "rope" or encoder.rope_layout != "vjepa2":
        raise ConfigError(
            "The Hugging Face V-JEPA 2 format holds video encoders with V-JEPA 2 rotary embeddings "
            f"(num_frames > 1, pos_embed 'rope', rope_layout 'vjepa2'); this encoder has num_frames "
            f"{encoder.num_frames}, pos_embed '{encoder.pos_embed}', rope_layout '{encoder.rope_layout}'."
        )
    if predictor.predict_change:
        raise ConfigError(
            "This predictor predicts changes over the context (predict_change), which the Hugging Face "
            "V-JEPA 2 format cannot describe; save it as a worldjepa checkpoint instead."
        )
    if (
        predictor.pos_embed != "rope"
        or predictor.rope_layout != "vjepa2"
        or predictor.embed_dim != encoder.embed_dim
    ):
        raise ConfigError(
            "The predictor must use V-JEPA 2 rotary embeddings and the encoder's width "
            f"({encoder.embed_dim}) to be written in the Hugging Face format."
        )
    differ = [f for f in SHARED if getattr(encoder, f) != getattr(predictor, f)]
    if differ:
        raise ConfigError(
            f"A VJEPA2Config shares {', '.join(differ)} between encoder and predictor, but these differ "
            "here: "
            + ", ".join(f"{f} {getattr(encoder, f)} vs {getattr(predictor, f)}" for f in differ)
            + "."
        )
    return {
        "architectures": ["VJEPA2Model"],
        "model_type": "vjepa2",
        **HF_DEFAULTS,
        "patch_size": encoder.patch_size,
        "crop_size": encoder.img_size,
        "frames_per_clip": encoder.num_frames,
        "tubelet_size": encoder.tubelet_size,
        "hidden_size": encoder.embed_dim,
        "in_chans": encoder.in_chans,
        "num_attention_heads": encoder.num_heads,
        "num_hidden_layers": encoder.depth,
        "drop_path_rate": encoder.drop_path_rate,
        "mlp_ratio": encoder.mlp_ratio,
        "layer_norm_eps": encoder.norm_eps,
        "qkv_bias": encoder.qkv_bias,
        "initializer_range": encoder.init_std,
        "pred_hidden_size": predictor.predictor_embed_dim,
        "pred_num_attention_heads": predictor.num_heads,
        "pred_num_hidden_layers": predictor.depth,
        "pred_num_mask_tokens": predictor.num_mask_tokens,
        "pred_zero_init_mask_tokens": predictor.zero_init_mask_tokens,
        "pred_mlp_ratio": predictor.mlp_ratio,
    }
