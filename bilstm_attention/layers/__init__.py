"""Keras 3 attention layers: :class:`BahdanauAttention` and :class:`LuongAttention`.

Both are called as ``context, weights = layer(values, query)`` and honour the Keras mask
carried by ``values``. They use ``keras.ops`` only, so they run on the TensorFlow, JAX and
PyTorch backends, and are registered for ``.keras`` saving under the package name
``"bilstm_attention"``: importing this module is all that loading a saved model needs.
"""

from __future__ import annotations

from .bahdanau import BahdanauAttention
from .luong import LUONG_SCORES, LuongAttention
from .masking import large_negative_number, masked_softmax

__all__ = [
    "LUONG_SCORES",
    "BahdanauAttention",
    "LuongAttention",
    "large_negative_number",
    "masked_softmax",
]
