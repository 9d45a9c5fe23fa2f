"""The BiLSTM-attention classifier and its configuration.

:class:`ClassifierConfig` imports without Keras; the builders are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bilstm_attention._lazy import lazy_exports
from bilstm_attention.model.config import (
    ATTENTION_CHOICES,
    QUERY_CHOICES,
    ClassifierConfig,
    parse_attention,
)

# public name -> module that defines it (imported on first use: they need Keras)
_LAZY: dict[str, str] = {
    "ATTENTION_LAYER_NAME": "bilstm_attention.model.classifier",
    "EMBEDDING_LAYER_NAME": "bilstm_attention.model.classifier",
    "NGRAM_INPUT_NAME": "bilstm_attention.model.classifier",
    "OUTPUT_LAYER_NAME": "bilstm_attention.model.classifier",
    "TOKEN_INPUT_NAME": "bilstm_attention.model.classifier",
    "attention_model": "bilstm_attention.model.classifier",
    "build_classifier": "bilstm_attention.model.classifier",
    "compile_classifier": "bilstm_attention.model.classifier",
    "ENSEMBLE_LAYER_NAME": "bilstm_attention.model.ensemble",
    "ensemble_classifier": "bilstm_attention.model.ensemble",
    "ensemble_parts": "bilstm_attention.model.ensemble",
    "LearnedQuery": "bilstm_attention.model.blocks",
    "MaskedSum": "bilstm_attention.model.blocks",
    "NormalizedEmbedding": "bilstm_attention.model.blocks",
    "WeightedAverage": "bilstm_attention.model.blocks",
}

__all__ = [
    "ATTENTION_CHOICES",
    "ATTENTION_LAYER_NAME",
    "EMBEDDING_LAYER_NAME",
    "ENSEMBLE_LAYER_NAME",
    "NGRAM_INPUT_NAME",
    "OUTPUT_LAYER_NAME",
    "QUERY_CHOICES",
    "TOKEN_INPUT_NAME",
    "ClassifierConfig",
    "LearnedQuery",
    "MaskedSum",
    "NormalizedEmbedding",
    "WeightedAverage",
    "attention_model",
    "build_classifier",
    "compile_classifier",
    "ensemble_classifier",
    "ensemble_parts",
    "parse_attention",
]

if TYPE_CHECKING:  # pragma: no cover
    from bilstm_attention.model.blocks import LearnedQuery, MaskedSum, NormalizedEmbedding, WeightedAverage
    from bilstm_attention.model.classifier import (
        ATTENTION_LAYER_NAME,
        EMBEDDING_LAYER_NAME,
        NGRAM_INPUT_NAME,
        OUTPUT_LAYER_NAME,
        TOKEN_INPUT_NAME,
        attention_model,
        build_classifier,
        compile_classifier,
    )
    from bilstm_attention.model.ensemble import (
        ENSEMBLE_LAYER_NAME,
        ensemble_classifier,
        ensemble_parts,
    )


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
