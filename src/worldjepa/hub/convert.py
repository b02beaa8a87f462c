"""Convert a V-JEPA 2 model between the official `.pt`, Hugging Face and worldjepa formats."""

from __future__ import annotations

from pathlib import Path

from worldjepa.errors import CheckpointError, ConfigError, suggest
from worldjepa.hub.hf_format import save_hf
from worldjepa.hub.load import load
from worldjepa.hub.model_files import save_model_files
from worldjepa.hub.official import save_official
from worldjepa.hub.pretrained import Pretrained

FORMATS = ("worldjepa", "hf", "official")


def save_as(model: Pretrained, dst: str | Path, to: str) -> Path:
    """Write `model` to `dst` in format `to`: a worldjepa or Hugging Face folder, or an official file."""
    if to not in FORMATS:
        raise ConfigError(f"Unknown format '{to}'.{suggest(to, FORMATS)} Choose one of {FORMATS}.")
    dst = Path(dst)
    if to == "official":
        if dst.is_dir():
            raise CheckpointError(
                f"'{dst}' is a folder; an official checkpoint is one file (for example model.pt)."
            )
        return save_official(dst, model)
    if dst.is_file():
        raise CheckpointError(f"'{dst}' is a file; the {to} format is a folder. Choose a folder path.")
    if to == "hf":
        return save_hf(dst, model)
    meta = {"source": model.source, "crop_size": model.crop_size, "frames_per_clip": model.frames_per_clip}
    return save_model_files(dst, model.modules(), meta=meta)


def default_format(dst: str | Path) -> str:
    """official for a `.pt`/`.pth` destination, else worldjepa."""
    return "official" if Path(dst).suffix in (".pt", ".pth") else "worldjepa"


def convert(
    src: str | Path,
    dst: str | Path,
    to: str | None = None,
    which: str = "encoder",
    preset: str | None = None,
    **download,
) -> tuple[Pretrained, Path]:
    """Load `src` (anything `worldjepa.load` takes) and write it to `dst` in format `to`.

    `to` defaults to official for a `.pt` destination, worldjepa otherwise. Returns the model and
    the written path. `download` goes to `load` (revision, cache_dir, local_files_only).
    """
    to = to or default_format(dst)
    if Path(src).resolve() == Path(dst).resolve():
        raise CheckpointError(
            f"Source and destination are the same path '{src}'; choose another destination."
        )
    model = load(src, which=which, preset=preset, **download)
    return model, save_as(model, dst, to)
