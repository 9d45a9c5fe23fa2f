"""Masked softmax shared by the attention layers.

Attention weights are a softmax over the time steps of the ``values``. Padded steps must get
weight exactly 0, the weights over the real steps must sum to 1, and a row in which *every*
step is masked (an empty sequence) must give all-zero weights, without a NaN or an Inf in the
forward pass or in the gradients.

:func:`masked_softmax` does this in three steps, with ``keras.ops`` only (so it runs on every
Keras 3 backend):

1. masked scores are *replaced* (not shifted) by a large finite negative number suited to the
   dtype (:func:`large_negative_number`), so nothing overflows, even in ``float16``;
2. the (unnormalised, max-shifted) softmax numerators ``exp(s - max(s))`` are multiplied by
   the mask, so masked steps are exactly 0 even if every score of the row was masked (where
   the softmax alone would be uniform);
3. each row is divided by its sum, replaced by 1 where the sum is 0, so the unmasked weights
   sum to 1 and a fully masked row stays 0 with finite gradients.

Steps 2 and 3 are "softmax, multiply by the mask, renormalise" with the two normalisations
fused into one (the result is the same).
"""

from __future__ import annotations

from typing import Any

from keras import ops

__all__ = ["large_negative_number", "masked_softmax"]

Tensor = Any


def large_negative_number(dtype: Any) -> float:
    """A large finite negative number that ``dtype`` can represent.

    Args:
        dtype: A Keras/NumPy dtype or dtype name.

    Returns:
        ``-65504.0`` (the ``float16`` minimum) for ``float16``, ``-1e9`` for any other float
        dtype (``bfloat16``, ``float32``, ``float64``).
    """
    name = str(getattr(dtype, "name", dtype))
    if "float16" in name and "bfloat16" not in name:
        return -65504.0
    return -1.0e9


def masked_softmax(scores: Tensor, mask: Tensor | None = None, axis: int = -1) -> Tensor:
    """Softmax of ``scores`` along ``axis`` that ignores masked positions.

    Args:
        scores: Float tensor of attention scores, e.g. ``(batch, T_q, T)``.
        mask: Optional mask broadcastable to ``scores`` (boolean, or 0/1 numbers); ``True``
            (non-zero) marks a position that may be attended to. ``None`` means a plain softmax.
        axis: Axis to normalise over. Defaults to the last one.

    Returns:
        A tensor shaped and typed like ``scores``: 0 at every masked position, summing to 1
        along ``axis`` over the unmasked positions, and all 0 along a slice whose positions are
        all masked.

    Example:

    >>> import numpy as np
    >>> w = masked_softmax(np.zeros((1, 3), "float32"), np.array([[True, True, False]]))
    >>> np.asarray(w).round(2).tolist()
    [[0.5, 0.5, 0.0]]
    """
    scores = ops.convert_to_tensor(scores)
    if mask is not None:
        mask = ops.cast(mask, "bool")
        filler = ops.full_like(scores, large_negative_number(scores.dtype))
        scores = ops.where(mask, scores, filler)
    # softmax = exp(s - max) / sum(exp(s - max)); written out (rather than ops.softmax) so
    # that the masked numerator can be normalised once, and so that a single time step
    # (T == 1) does not trigger Keras's "softmax over an axis of size 1" warning.
    shifted = scores - ops.stop_gradient(ops.max(scores, axis=axis, keepdims=True))
    numerator = ops.exp(shifted)
    if mask is None:
        return numerator / ops.sum(numerator, axis=axis, keepdims=True)
    numerator = numerator * ops.cast(mask, numerator.dtype)
    total = ops.sum(numerator, axis=axis, keepdims=True)
    return numerator / ops.where(total > 0, total, ops.ones_like(total))
