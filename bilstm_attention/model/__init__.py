"""The BiLSTM-attention classifier and its configuration."""

from bilstm_attention.model.classifier import (
    ATTENTION_LAYER_NAME,
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
from bilstm_attention.model.query import LearnedQuery

__all__ = [
    "ATTENTION_CHOICES",
    "ATTENTION_LAYER_NAME",
    "QUERY_CHOICES",
    "ClassifierConfig",
    "LearnedQuery",
    "attention_model",
    "build_classifier",
    "compile_classifier",
    "parse_attention",
]
