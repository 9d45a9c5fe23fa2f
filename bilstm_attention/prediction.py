"""Batched prediction over token-id sequences, in length order, results in input order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from bilstm_attention.pipeline import inference_dataset


def predict_probabilities(
    model: keras.Model,
    ids: Sequence[np.ndarray],
    *,
    batch_size: int = 256,
    pad_to: int | None = None,
    ngram_ids: Sequence[np.ndarray] | None = None,
    verbose: int | str = 0,
) -> Any:
    """Probabilities for every sequence, shape ``(n,)`` for two classes, else ``(n, classes)``.

    Sequences are batched in order of length so that batches carry little padding; the
    output is in the order of ``ids``. ``ngram_ids`` feeds a model with the n-gram branch.
    A model with several outputs gives a tuple of such arrays.
    """
    if len(ids) == 0:
        empty = np.zeros((0,), dtype=np.float32)
        return tuple(empty for _ in model.outputs) if len(model.outputs) > 1 else empty
    dataset, order = inference_dataset(ids, batch_size=batch_size, pad_to=pad_to, ngram_ids=ngram_ids)
    predictions = model.predict(dataset, verbose=verbose)
    if isinstance(predictions, (list, tuple)):
        return tuple(_in_input_order(np.asarray(p), order) for p in predictions)
    return _in_input_order(np.asarray(predictions), order)


def _in_input_order(predictions: np.ndarray, order: np.ndarray) -> np.ndarray:
    if predictions.shape[-1] == 1:
        predictions = predictions[:, 0]
    out = np.empty_like(predictions)
    out[order] = predictions
    return out
