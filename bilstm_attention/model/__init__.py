"""The BiLSTM-attention classifier and its configuration."""

from bilstm_attention.model.classifier import (
    ATTENTION_LAYER_NAME,
    NGRAM_INPUT_NAME,
    OUTPUT_LAYER_NAME,
    TOKEN_INPUT_NAME,
    attention_model,
    build_classifier,
    compile_classifier,
)
from bilstm_attention.model.config import (
    ATTENTION_CHOICES,
    QUERY_CHOICES,
    ClassifierConfig,
    parse_attention,
)
from bilstm_attention.model.ensemble import ENSEMBLE_LAYER_NAME, ensemble_classifier, ensemble_parts
from bilstm_attention.model.layers import LearnedQuery, MaskedSum, WeightedAverage

__all__ = [
    "ATTENTION_CHOICES",
    "ATTENTION_LAYER_NAME",
    "ENSEMBLE_LAYER_NAME",
    "OUTPUT_LAYER_NAME",
    "MaskedSum",
    "NGRAM_INPUT_NAME",
    "TOKEN_INPUT_NAME",
    "QUERY_CHOICES",
    "ClassifierConfig",
    "LearnedQuery",
    "WeightedAverage",
    "attention_model",
    "build_classifier",
    "compile_classifier",
    "ensemble_classifier",
    "ensemble_parts",
    "parse_attention",
]
