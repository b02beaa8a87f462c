"""worldjepa: JEPA world models — I-JEPA / V-JEPA 2 pretraining, probes, and (next) planning.

import worldjepa
encoder = worldjepa.create_model("vit_large", num_frames=16)
model = worldjepa.load("vjepa2-vitl-fpc64-256")   # released weights: encoder, predictor, preprocess
"""

from worldjepa.errors import WorldJepaError
from worldjepa.hub.load import load
from worldjepa.models import create_model, list_models

__version__ = "0.1.0"

__all__ = ["WorldJepaError", "__version__", "create_model", "list_models", "load"]
