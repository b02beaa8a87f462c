"""The model file format: a folder with config.json + model.safetensors, loadable from itself alone."""

from worldjepa.hub.model_files import load_encoder, load_model_files, read_model_config, save_model_files
from worldjepa.hub.strict_load import load_state_strict

__all__ = ["load_encoder", "load_model_files", "load_state_strict", "read_model_config", "save_model_files"]
