"""The model file format (a folder with config.json + model.safetensors, loadable from itself alone)
and the released V-JEPA 2 models in their official and Hugging Face formats."""

from worldjepa.hub.convert import convert, save_as
from worldjepa.hub.hf_format import load_hf, save_hf
from worldjepa.hub.load import load
from worldjepa.hub.model_files import load_encoder, load_model_files, read_model_config, save_model_files
from worldjepa.hub.official import load_official, save_official
from worldjepa.hub.pretrained import Pretrained
from worldjepa.hub.released import RELEASES, Release
from worldjepa.hub.strict_load import load_state_strict

__all__ = [
    "RELEASES",
    "Pretrained",
    "Release",
    "convert",
    "load",
    "load_encoder",
    "load_hf",
    "load_model_files",
    "load_official",
    "load_state_strict",
    "read_model_config",
    "save_as",
    "save_hf",
    "save_model_files",
    "save_official",
]
