"""Tiny transformers V-JEPA 2 models and official-format checkpoints built from them, for tests."""

import torch

TINY = dict(
    hidden_size=48,
    num_attention_heads=4,
    num_hidden_layers=2,
    pred_hidden_size=36,
    pred_num_attention_heads=3,
    pred_num_hidden_layers=2,
    pred_num_mask_tokens=4,
    pred_zero_init_mask_tokens=False,
    crop_size=32,
    patch_size=8,
    frames_per_clip=4,
)


def tiny_hf_model(seed=0, **changes):
    """A random-init transformers VJEPA2Model (head widths 12 and 12: rotated 4+4+4, none left over)."""
    from transformers import VJEPA2Config, VJEPA2Model

    torch.manual_seed(seed)
    config = VJEPA2Config(**{**TINY, **changes}, attn_implementation="sdpa")
    return VJEPA2Model(config).eval()


def official_from_hf(hf_state, prefix="module.backbone."):
    """The official layout of a VJEPA2Model state dict, by the inverse of transformers' conversion rules
    (convert_vjepa2_to_hf.py): concatenate query/key/value into qkv, unstack the mask tokens, rename."""
    encoder, predictor = {}, {}
    renames = [
        ("encoder.embeddings.patch_embeddings.", "patch_embed.", encoder),
        ("encoder.layer.", "blocks.", encoder),
        ("encoder.layernorm.", "norm.", encoder),
        ("predictor.embeddings.predictor_embeddings.", "predictor_embed.", predictor),
        ("predictor.layer.", "predictor_blocks.", predictor),
        ("predictor.layernorm.", "predictor_norm.", predictor),
        ("predictor.proj.", "predictor_proj.", predictor),
    ]
    for key, value in hf_state.items():
        if key == "predictor.embeddings.mask_tokens":
            for i, token in enumerate(value):
                predictor[f"{prefix}mask_tokens.{i}"] = token.clone()
            continue
        if ".attention.key." in key or ".attention.value." in key:
            continue
        old, new, target = next(r for r in renames if key.startswith(r[0]))
        name = new + key[len(old) :].replace(".attention.", ".attn.")
        if ".attn.query." in name:
            parts = [hf_state[key.replace(".query.", f".{p}.")] for p in ("query", "key", "value")]
            name, value = name.replace(".query.", ".qkv."), torch.cat(parts)
        target[prefix + name] = value.clone()
    return {"encoder": encoder, "target_encoder": dict(encoder), "predictor": predictor, "epoch": 3}
