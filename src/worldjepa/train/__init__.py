"""Training: the pretraining recipe, the Trainer loop, schedules, checkpoints, distributed set-up."""

from worldjepa.train.config import PretrainConfig, load_pretrain_config
from worldjepa.train.run import TrainResult
from worldjepa.train.trainer import Trainer, pretrain

__all__ = ["PretrainConfig", "TrainResult", "Trainer", "load_pretrain_config", "pretrain"]
