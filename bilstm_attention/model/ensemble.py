"""The BiLSTM-attention classifier averaged with a linear NB-LR n-gram model, as one Keras model."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from bilstm_attention.model.blocks import MaskedSum, WeightedAverage
from bilstm_attention.model.classifier import NGRAM_INPUT_NAME, OUTPUT_LAYER_NAME, TOKEN_INPUT_NAME

#: The layer that averages the two probabilities (its ``weight`` is the BiLSTM's share).
ENSEMBLE_LAYER_NAME = "ensemble_probability"


def ensemble_classifier(
    deep_model: keras.Model, ngram_weights: np.ndarray, bias: float, deep_weight: float
) -> keras.Model:
    """Wrap a trained two-class classifier and an NB-LR model into one functional model.

    ::

        token ids -> deep_model ------------------------------------> p_deep --+
        ngram ids -> Embedding(ngram_weights) -> masked sum + bias -> sigmoid -> p_linear
        probability = deep_weight * p_deep + (1 - deep_weight) * p_linear

    The deep model's layers are reused (not copied), so :func:`attention_model` still
    finds its attention layer. Nothing here is trainable.

    Args:
        deep_model: a model from :func:`build_classifier` without the n-gram branch,
            with one sigmoid output (two classes).
        ngram_weights: one weight per n-gram id, shape ``(n,)``; id 0 is padding.
        bias: the linear model's intercept.
        deep_weight: the deep model's share of the averaged probability, in ``[0, 1]``.

    Returns:
        A model taking ``{"token_ids": (batch, T), "ngram_ids": (batch, N)}`` and returning
        probabilities ``(batch, 1)``.

    Raises:
        ValueError: the deep model has several outputs or classes, or the weights are not 1-D.
    """
    if len(deep_model.outputs) != 1 or deep_model.outputs[0].shape[-1] != 1:
        raise ValueError("the ensemble needs a two-class classifier (one sigmoid output)")
    ngram_weights = np.asarray(ngram_weights, dtype="float32")
    if ngram_weights.ndim != 1 or len(ngram_weights) < 1:
        raise ValueError(f"ngram_weights must be a non-empty 1-D array, got shape {ngram_weights.shape}")
    tokens = deep_model.inputs[0]
    ngrams = keras.Input(shape=(None,), dtype="int32", name=NGRAM_INPUT_NAME)
    table = keras.layers.Embedding(len(ngram_weights), 1, mask_zero=True, trainable=False, name="nblr_weights")
    scores = MaskedSum(name="nblr_score")(table(ngrams))
    squash = keras.layers.Dense(1, activation="sigmoid", trainable=False, name="nblr_probability")
    linear = squash(scores)
    table.set_weights([ngram_weights[:, None]])
    squash.set_weights([np.ones((1, 1), dtype="float32"), np.asarray([bias], dtype="float32")])
    mixed = WeightedAverage(deep_weight, name=ENSEMBLE_LAYER_NAME)([deep_model.outputs[0], linear])
    return keras.Model(
        {TOKEN_INPUT_NAME: tokens, NGRAM_INPUT_NAME: ngrams}, mixed, name="bilstm_attention_nblr_ensemble"
    )


def ensemble_parts(model: keras.Model) -> tuple[float, Any] | None:
    """For a model from :func:`ensemble_classifier`: ``(the BiLSTM's weight, the BiLSTM's own
    probability tensor)``, e.g. to add it as an output; ``None`` for any other model."""
    try:
        mix = model.get_layer(ENSEMBLE_LAYER_NAME)
    except ValueError:
        return None
    return float(mix.weight), model.get_layer(OUTPUT_LAYER_NAME).output
