"""Fetch released weights: Hugging Face repos with huggingface_hub, official `.pt` files by URL.

Both keep a local cache (huggingface_hub's, and torch.hub's `checkpoints/` folder), so a second
load reads from disk; `local_files_only=True` never touches the network.
"""

from __future__ import annotations

from pathlib import Path

import torch
from huggingface_hub import snapshot_download
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from worldjepa.errors import CheckpointError
from worldjepa.hub.released import Release

HF_PATTERNS = ["config.json", "model.safetensors", "model.safetensors.index.json", "model-*.safetensors"]


def download_hf(
    repo_id: str,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool = False,
) -> Path:
    """The local folder of a Hugging Face model repo (config.json + safetensors), downloaded if needed."""
    try:
        folder = snapshot_download(
            repo_id,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            allow_patterns=HF_PATTERNS,
        )
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError) as e:
        offline = (
            "it is not in the local cache" if local_files_only else "check the repo id and your connection"
        )
        raise CheckpointError(
            f"Cannot get Hugging Face repo '{repo_id}' ({offline}): {e}. You can also download it yourself "
            "and load the folder by path."
        ) from None
    return Path(folder)


def download_official(
    release: Release, cache_dir: str | Path | None = None, local_files_only: bool = False
) -> Path:
    """The local path of a release's official `.pt` file, under `<cache_dir or torch.hub dir>/checkpoints`."""
    path = Path(cache_dir or torch.hub.get_dir()) / "checkpoints" / release.official_file
    if path.is_file():
        return path
    if local_files_only:
        raise CheckpointError(
            f"{release.official_file} is not in the cache ({path}); load once with network access, or "
            f"download {release.official_url} yourself and load the file by path."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(release.official_url, str(path))
    except OSError as e:
        raise CheckpointError(
            f"Cannot download {release.official_url}: {e}. Check your connection, or download the file "
            "yourself and load it by path."
        ) from None
    return path
