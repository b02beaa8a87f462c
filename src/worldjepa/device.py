"""Device names to torch devices: "auto" picks CUDA when there is one."""

from __future__ import annotations

import torch

from worldjepa.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda if available else cpu; a CUDA device on a machine without CUDA is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"Device '{name}' was asked for but CUDA is not available; use 'cpu' or 'auto'.")
    try:
        return torch.device(name)
    except RuntimeError as e:
        raise ConfigError(f"Unknown device '{name}': {e}") from None
