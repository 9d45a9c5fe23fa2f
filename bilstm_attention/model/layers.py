"""Deprecated alias of :mod:`bilstm_attention.model.blocks` (renamed in 0.2 so that it is not
confused with the attention layers in :mod:`bilstm_attention.layers`; removed in 0.3)."""

from __future__ import annotations

import warnings

from bilstm_attention.model.blocks import LearnedQuery, MaskedSum, WeightedAverage

warnings.warn(
    "bilstm_attention.model.layers was renamed bilstm_attention.model.blocks; import from there",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["LearnedQuery", "MaskedSum", "WeightedAverage"]
