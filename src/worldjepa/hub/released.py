"""The released V-JEPA 2 models: exact architectures, crop sizes, and where their weights live.

Each release pairs an encoder with a predictor: the mask-token predictor of pretraining (ViT-L/H/g at
256 px, ViT-g at 384 px) or, for V-JEPA 2-AC, the action-conditioned predictor. Hyper-parameters
are those of facebookresearch/vjepa2 `src/hub/backbones.py` and transformers' conversion script.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from worldjepa.errors import ConfigError, suggest
from worldjepa.models.config import ActionPredictorConfig, EncoderConfig, PredictorConfig

OFFICIAL_URL = "https://dl.fbaipublicfiles.com/vjepa2/"

# ViT sizes of V-JEPA 2 (vit_giant is the official "vit_giant_xformers": 22 heads, MLP ratio 48/11).
VITS: dict[str, dict[str, Any]] = {
    "vitl": dict(embed_dim=1024, depth=24, num_heads=16, mlp_ratio=4.0),
    "vith": dict(embed_dim=1280, depth=32, num_heads=16, mlp_ratio=4.0),
    "vitg": dict(embed_dim=1408, depth=40, num_heads=22, mlp_ratio=48 / 11),
}


@dataclass(frozen=True)
class Release:
    """One released model. `hf_repo` is its Hugging Face (transformers) repo, None where only the
    official `.pt` file exists; `official_file` is its name under OFFICIAL_URL."""

    name: str
    vit: str
    crop_size: int
    official_file: str
    hf_repo: str | None = None
    action_conditioned: bool = False
    frames_per_clip: int = 64
    patch_size: int = 16
    tubelet_size: int = 2

    @property
    def official_url(self) -> str:
        return OFFICIAL_URL + self.official_file

    def encoder_config(self) -> EncoderConfig:
        return EncoderConfig(
            **VITS[self.vit],
            img_size=self.crop_size,
            patch_size=self.patch_size,
            num_frames=self.frames_per_clip,
            tubelet_size=self.tubelet_size,
        )

    def predictor_config(self, num_mask_tokens: int = 10) -> PredictorConfig | ActionPredictorConfig:
        """The predictor's config; `num_mask_tokens` as counted in a file (released files hold 10)."""
        width = VITS[self.vit]["embed_dim"]
        if self.action_conditioned:
            return ActionPredictorConfig(
                embed_dim=width,
                predictor_embed_dim=1024,
                depth=24,
                num_heads=16,
                grid_size=self.crop_size // self.patch_size,
                action_dim=7,
                state_dim=7,
                extrinsics_dim=6,
                max_frames=self.frames_per_clip,
            )
        return PredictorConfig(
            embed_dim=width,
            predictor_embed_dim=384,
            depth=12,
            num_heads=12,
            img_size=self.crop_size,
            patch_size=self.patch_size,
            num_frames=self.frames_per_clip,
            tubelet_size=self.tubelet_size,
            num_mask_tokens=num_mask_tokens,
        )


RELEASES: dict[str, Release] = {
    r.name: r
    for r in (
        Release("vjepa2-vitl-fpc64-256", "vitl", 256, "vitl.pt", "facebook/vjepa2-vitl-fpc64-256"),
        Release("vjepa2-vith-fpc64-256", "vith", 256, "vith.pt", "facebook/vjepa2-vith-fpc64-256"),
        Release("vjepa2-vitg-fpc64-256", "vitg", 256, "vitg.pt", "facebook/vjepa2-vitg-fpc64-256"),
        Release("vjepa2-vitg-fpc64-384", "vitg", 384, "vitg-384.pt", "facebook/vjepa2-vitg-fpc64-384"),
        Release("vjepa2-ac-vitg", "vitg", 256, "vjepa2-ac-vitg.pt", action_conditioned=True),
    )
}


def get_release(name: str) -> Release:
    """The release called `name` (or whose Hugging Face repo id is `name`)."""
    if name in RELEASES:
        return RELEASES[name]
    for release in RELEASES.values():
        if release.hf_repo == name:
            return release
    raise ConfigError(
        f"Unknown V-JEPA 2 model '{name}'.{suggest(name, RELEASES)} Released models: {', '.join(RELEASES)}; "
        "or give a path to an official .pt file, a Hugging Face folder or a worldjepa model folder."
    )


def match_release(width: int, depth: int, action_conditioned: bool, file_name: str) -> Release:
    """The release whose encoder has this width and depth, for an official file given by path.

    ViT-g comes at 256 and 384 px with the same weights' shapes: a file name with "384" picks 384.
    """
    found = [
        r
        for r in RELEASES.values()
        if VITS[r.vit]["embed_dim"] == width
        and VITS[r.vit]["depth"] == depth
        and r.action_conditioned == action_conditioned
    ]
    if not found:
        raise ConfigError(
            f"No released V-JEPA 2 model has an encoder of width {width} and depth {depth}"
            f"{' with an action-conditioned predictor' if action_conditioned else ''}. Pass preset=<name> "
            "to check the file against a release, or build the configs yourself and call "
            "worldjepa.hub.official.load_official(path, encoder_config, predictor_config)."
        )
    crop = 384 if "384" in file_name else 256
    return next((r for r in found if r.crop_size == crop), found[0])


def with_mask_tokens(config: PredictorConfig | ActionPredictorConfig, count: int):
    """`config` with the number of mask tokens a file holds (action predictors have none)."""
    return replace(config, num_mask_tokens=count) if isinstance(config, PredictorConfig) else config
