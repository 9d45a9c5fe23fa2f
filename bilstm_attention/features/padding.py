"""The padded lengths of batches, one rule for training and prediction (NumPy only).

Reviews differ a lot in length, and a compiled forward pass (JAX, or XLA on TensorFlow) is
compiled once per input shape. So wherever a batch's time dimension must take few values, it
is padded up to the next of :data:`FIXED_LENGTHS`: 16, 24, 32, 40, 50, 62, 78, 98, ... (each
about 25 % or at least 8 tokens above the one before), the same for every dataset and call.
Padding is id 0, which the embedding's mask hides: it changes time, not results.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FIXED_LENGTHS", "bucket_boundaries", "fixed_length"]


def bucket_boundaries(max_length: int, smallest: int = 16, growth: float = 1.25) -> list[int]:
    """Geometric bucket edges ``smallest, ~smallest*growth, ... < max_length``.

    Consecutive edges differ by ``growth`` (rounded) or by 8, whichever is more, so a bucket's
    padding is at most ``growth - 1`` (25 %) of its longest review or 8 tokens.
    """
    edges: list[int] = []
    edge = float(smallest)
    while edge < max_length:
        edges.append(int(round(edge)))
        edge = max(edge * growth, edges[-1] + 8)
    return edges


#: The lengths batches are padded up to where shapes must be few (see the module docstring).
FIXED_LENGTHS: tuple[int, ...] = tuple(bucket_boundaries(2**20))


def fixed_length(length: int) -> int:
    """The smallest of :data:`FIXED_LENGTHS` that holds ``length`` tokens."""
    index = int(np.searchsorted(FIXED_LENGTHS, length))
    return FIXED_LENGTHS[index] if index < len(FIXED_LENGTHS) else length
