"""The training loop, its configuration and input pipeline."""

from bilstm_attention.training.config import TrainConfig
from bilstm_attention.training.devices import STRATEGY_CHOICES, make_strategy
from bilstm_attention.pipeline import bucket_boundaries, inference_dataset, training_dataset
from bilstm_attention.training.trainer import EpochTimer, RunResult, resume, train

__all__ = [
    "STRATEGY_CHOICES",
    "EpochTimer",
    "RunResult",
    "TrainConfig",
    "bucket_boundaries",
    "inference_dataset",
    "make_strategy",
    "resume",
    "train",
    "training_dataset",
]
