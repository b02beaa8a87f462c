"""Build a module from its config and a state dict, without paying for a random initialisation."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from worldjepa.hub.strict_load import check_state, load_state_strict
from worldjepa.models.presets import ModelConfig, build_model


def build_with_state(config: ModelConfig, state: Mapping[str, Tensor], where: str) -> nn.Module:
    """The module of `config` holding `state` exactly (strict keys and shapes), in eval mode.

    It is built and checked on the meta device, then given uninitialised CPU storage, which the strict
    load fills completely: a ViT-g is ready in seconds instead of after a billion-parameter init, and
    a file of another size fails before any memory is taken.
    """
    with torch.device("meta"):
        module = build_model(config)
    check_state(module, state, where)
    module.to_empty(device="cpu")
    load_state_strict(module, state, where=where)
    return module.eval()
