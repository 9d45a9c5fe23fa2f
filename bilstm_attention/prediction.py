"""Batched prediction over token-id sequences, in length order, results in input order."""

from __future__ import annotations

from collections.abc import Sequence

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
) -> np.ndarray:
    """Probabilities for every sequence, shape ``(n,)`` for two classes, else ``(n, classes)``.

    Sequences are batched in order of length so that batches carry little padding; the
    output is in the order of ``ids``. ``ngram_ids`` feeds a model with the n-gram branch.
    """
    if len(ids) == 0:
        return np.zeros((0,), dtype=np.float32)
    dataset, order = inference_dataset(ids, batch_size=batch_size, pad_to=pad_to, ngram_ids=ngram_ids)
    predictions = np.asarray(model.predict(dataset, verbose=verbose))
    if predictions.shape[-1] == 1:
        predictions = predictions[:, 0]
    out = np.empty_like(predictions)
    out[order] = predictions
    return out
