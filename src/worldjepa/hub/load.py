"""`worldjepa.load(name_or_path)`: a released V-JEPA 2 model or a checkpoint on disk, in one call.

Accepted: a release name (`vjepa2-vitl-fpc64-256`, ..., `vjepa2-ac-vitg`) or Hugging Face repo id
(`facebook/vjepa2-vitl-fpc64-256`), downloaded and cached; an official `.pt` file; a Hugging Face
VJEPA2Model folder; a worldjepa model folder (config.json + model.safetensors).
"""

from __future__ import annotations

from pathlib import Path

from worldjepa.errors import CheckpointError, ConfigError
from worldjepa.hub.download import download_hf, download_official
from worldjepa.hub.hf_format import is_hf_folder, load_hf
from worldjepa.hub.model_files import load_model_files, read_model_config
from worldjepa.hub.official import ENCODER_KEYS, load_official
from worldjepa.hub.pretrained import Pretrained
from worldjepa.hub.released import RELEASES, get_release


def load(
    name_or_path: str | Path,
    which: str = "encoder",
    preset: str | None = None,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool = False,
) -> Pretrained:
    """A V-JEPA 2 encoder with its predictor (in eval mode) and its preprocessing.

    which: the encoder entry of an official file or worldjepa folder, "encoder" (as torch.hub and
    transformers load) or "target_encoder" (the EMA weights the official probes use). A release
    asked for its target_encoder comes from the official file, since Hugging Face holds one encoder.
    preset: the release an official file must match (default: told by its shapes and name).
    revision, cache_dir, local_files_only: for downloads (huggingface_hub's meanings).

        model = worldjepa.load("vjepa2-vitl-fpc64-256")
        tokens = model.encoder(model.preprocess(frames))   # uint8 [T, H, W, 3] -> [1, N, 1024]
    """
    if which not in ENCODER_KEYS:
        raise ConfigError(f"which must be one of {ENCODER_KEYS}, got '{which}'.")
    path = Path(name_or_path)
    if path.exists():
        return load_path(path, which, preset)
    name = str(name_or_path)
    known = name in RELEASES or any(r.hf_repo == name for r in RELEASES.values())
    looks_like_path = path.suffix in (".pt", ".pth", ".tar") or name.startswith((".", "/", "~"))
    if not known and (looks_like_path or name.count("/") > 1):  # a repo id is owner/name
        raise CheckpointError(f"Checkpoint '{name}' does not exist.")
    if not known and name.count("/") == 1:
        try:
            return load_hf_repo(name, which, revision, cache_dir, local_files_only)
        except CheckpointError as e:
            raise CheckpointError(f"No file or folder '{name}' exists. As a Hugging Face repo: {e}") from None
    release = get_release(name)
    if release.hf_repo is None or which == "target_encoder":
        file = download_official(release, cache_dir, local_files_only)
        model = load_official(file, which=which, preset=release.name)
    else:
        model = load_hf_repo(release.hf_repo, which, revision, cache_dir, local_files_only)
    model.source = release.name
    return model


def load_hf_repo(
    repo_id: str, which: str, revision: str | None, cache_dir: str | Path | None, local_files_only: bool
) -> Pretrained:
    folder = download_hf(repo_id, revision, cache_dir, local_files_only)
    if not is_hf_folder(folder):
        raise CheckpointError(
            f"Hugging Face repo '{repo_id}' is not a transformers V-JEPA 2 model (model_type vjepa2)."
        )
    return load_path(folder, which, None)


def load_path(path: Path, which: str, preset: str | None) -> Pretrained:
    """An official file, a Hugging Face folder or a worldjepa folder, told apart by their contents."""
    if path.is_file():
        return load_official(path, which=which, preset=preset)
    if is_hf_folder(path):
        if which != "encoder":
            raise ConfigError(
                f"'{path}' is a Hugging Face folder, which holds one encoder (the official 'encoder'); "
                "for target_encoder load the official .pt file."
            )
        return load_hf(path)
    if (path / "config.json").is_file():
        return load_worldjepa(path, which)
    raise CheckpointError(
        f"'{path}' is neither an official .pt file, a Hugging Face V-JEPA 2 folder nor a worldjepa model "
        "folder (it has no config.json)."
    )


def load_worldjepa(folder: Path, which: str) -> Pretrained:
    """The `which` encoder (or the folder's only one) and the first predictor of a worldjepa folder."""
    entries = read_model_config(folder)["models"]
    encoders = [n for n, e in entries.items() if e["kind"] == "encoder"]
    predictors = [n for n, e in entries.items() if e["kind"] in ("predictor", "action_predictor")]
    if which in encoders:
        encoder = which
    elif len(encoders) == 1:
        encoder = encoders[0]
    else:
        held = ", ".join(f"{n} ({e['kind']})" for n, e in entries.items())
        raise CheckpointError(f"'{folder}' has no encoder named '{which}'; it holds: {held}.")
    models = load_model_files(folder, [encoder, *predictors[:1]])
    return Pretrained(models[encoder], models[predictors[0]] if predictors else None, source=str(folder))
