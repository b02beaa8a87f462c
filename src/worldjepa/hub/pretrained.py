"""A loaded V-JEPA 2 model: the encoder, its predictor, and the preprocessing its weights expect."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor, nn

from worldjepa.data.transforms import ProcessorTransform
from worldjepa.models.action_predictor import ActionPredictor
from worldjepa.models.encoder import Encoder
from worldjepa.models.predictor import Predictor


@dataclass
class Pretrained:
    """`encoder` (video ViT), `predictor` (mask-token Predictor, V-JEPA 2-AC ActionPredictor, or None).

    `source` says where the weights came from (a release name or a path).
    """

    encoder: Encoder
    predictor: Predictor | ActionPredictor | None = None
    source: str = ""

    @property
    def crop_size(self) -> int:
        return self.encoder.config.img_size

    @property
    def frames_per_clip(self) -> int:
        return self.encoder.config.num_frames

    @property
    def action_conditioned(self) -> bool:
        return isinstance(self.predictor, ActionPredictor)

    def transform(self) -> ProcessorTransform:
        """transformers' VJEPA2VideoProcessor for this crop size: uint8 [T, H, W, 3] -> [C, T, crop, crop]."""
        return ProcessorTransform(self.crop_size)

    def preprocess(self, frames: np.ndarray | Tensor) -> Tensor:
        """uint8 frames [T, H, W, 3] -> a batch of one clip [1, C, T, crop, crop] for `encoder`."""
        return self.transform()(frames).unsqueeze(0)

    def modules(self) -> dict[str, nn.Module]:
        """The named modules, as worldjepa model folders store them."""
        out: dict[str, nn.Module] = {"encoder": self.encoder}
        if self.predictor is not None:
            out["action_predictor" if self.action_conditioned else "predictor"] = self.predictor
        return out

    def to(self, device) -> Pretrained:
        self.encoder.to(device)
        if self.predictor is not None:
            self.predictor.to(device)
        return self
