"""The training loop, its configuration and input pipeline.

The configuration classes import without TensorFlow (the command line builds its flags from
them); the loop itself is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bilstm_attention._lazy import lazy_exports
from bilstm_attention.training.config import (
    STRATEGY_CHOICES,
    DataConfig,
    FitConfig,
    LanguageModelConfig,
    NgramConfig,
    RuntimeConfig,
    TextConfig,
    TrainConfig,
)

# public name -> module that defines it (imported on first use: they need TensorFlow)
_LAZY: dict[str, str] = {
    "AdversarialTraining": "bilstm_attention.training.adversarial",
    "EncoderLanguageModel": "bilstm_attention.training.language_model",
    "pretrain_encoder": "bilstm_attention.training.language_model",
    "EpochTimer": "bilstm_attention.training.trainer",
    "RunResult": "bilstm_attention.training.trainer",
    "resume": "bilstm_attention.training.trainer",
    "train": "bilstm_attention.training.trainer",
    "make_strategy": "bilstm_attention.training.devices",
    "bucket_boundaries": "bilstm_attention.features.padding",
    "inference_dataset": "bilstm_attention.features.pipeline",
    "training_dataset": "bilstm_attention.features.pipeline",
}

__all__ = [
    "STRATEGY_CHOICES",
    "AdversarialTraining",
    "DataConfig",
    "EncoderLanguageModel",
    "EpochTimer",
    "FitConfig",
    "LanguageModelConfig",
    "NgramConfig",
    "RunResult",
    "RuntimeConfig",
    "TextConfig",
    "TrainConfig",
    "bucket_boundaries",
    "inference_dataset",
    "make_strategy",
    "pretrain_encoder",
    "resume",
    "train",
    "training_dataset",
]

if TYPE_CHECKING:  # pragma: no cover
    from bilstm_attention.features.pipeline import (
        bucket_boundaries,
        inference_dataset,
        training_dataset,
    )
    from bilstm_attention.training.adversarial import AdversarialTraining
    from bilstm_attention.training.devices import make_strategy
    from bilstm_attention.training.language_model import EncoderLanguageModel, pretrain_encoder
    from bilstm_attention.training.trainer import EpochTimer, RunResult, resume, train


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
