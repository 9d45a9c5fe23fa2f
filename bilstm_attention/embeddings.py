"""Deprecated alias of :mod:`bilstm_attention.features.word2vec` (renamed in 0.2; removed in 0.3)."""

from __future__ import annotations

import warnings

from bilstm_attention.features.word2vec import Word2VecConfig, pretrain_embeddings

warnings.warn(
    "bilstm_attention.embeddings was renamed bilstm_attention.features.word2vec; import from there",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["Word2VecConfig", "pretrain_embeddings"]
