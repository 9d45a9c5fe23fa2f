"""The BiLSTM-attention classifier: Embedding -> BiLSTM x N -> attention -> dense head."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from bilstm_attention.layers import BahdanauAttention, LuongAttention
from bilstm_attention.model.blocks import LearnedQuery, MaskedSum, NormalizedEmbedding
from bilstm_attention.model.config import ClassifierConfig, parse_attention
from bilstm_attention.model.names import (
    ATTENTION_LAYER_NAME,
    EMBEDDING_LAYER_NAME,
    NGRAM_INPUT_NAME,
    OUTPUT_LAYER_NAME,
    TOKEN_INPUT_NAME,
)

__all__ = [
    "ATTENTION_LAYER_NAME",
    "EMBEDDING_LAYER_NAME",
    "NGRAM_INPUT_NAME",
    "OUTPUT_LAYER_NAME",
    "TOKEN_INPUT_NAME",
    "attention_model",
    "build_classifier",
    "compile_classifier",
]


def _attention_layer(config: ClassifierConfig) -> keras.layers.Layer:
    kind, variant = parse_attention(config.attention)
    if kind == "bahdanau":
        return BahdanauAttention(
            config.attention_units,
            normalize=variant == "normalized",
            dropout=config.attention_dropout,
            name=ATTENTION_LAYER_NAME,
        )
    return LuongAttention(
        score=variant,
        units=config.attention_units if variant == "concat" else None,
        dropout=config.attention_dropout,
        name=ATTENTION_LAYER_NAME,
    )


def build_classifier(config: ClassifierConfig, *, compile: bool = True) -> keras.Model:
    """Build (and by default compile) the BiLSTM-attention sentiment classifier.

    Architecture::

        token ids (batch, T), 0 = padding
          -> Embedding(vocab_size, embedding_dim, mask_zero=True)
             (NormalizedEmbedding with ``normalize_embeddings``)
          -> [SpatialDropout1D]
          -> Bidirectional(LSTM(units_i, dropout, return_sequences=True))  for each layer
          -> attention(values=BiLSTM outputs, query=final fwd/bwd states | learned vector)
             (with ``attention_heads`` H > 1: H learned queries, the H contexts concatenated)
          -> Dense(units, relu) + Dropout  for each head layer
          -> Dense(1, sigmoid) (two classes) or Dense(num_classes, softmax)

    With ``config.ngram_vocab_size > 0`` the model also takes ``ngram_ids`` (batch, N), 0 =
    padding, and adds a linear term to the logits before the sigmoid/softmax::

        ngram ids -> Embedding(ngram_vocab_size, outputs, zeros) -> [Dropout] -> masked sum

    The inputs are then a dict ``{"token_ids": ..., "ngram_ids": ...}``.

    The padding mask travels from the embedding through the LSTMs into the attention layer,
    so padded steps get exactly zero attention weight and batches may be padded to any length.

    Args:
        config: the sizes and rates; see :class:`ClassifierConfig`.
        compile: compile with Adam and (binary or sparse categorical) cross-entropy.

    Returns:
        A functional ``keras.Model`` mapping int token ids ``(batch, T)`` to probabilities,
        ``(batch, 1)`` for two classes and ``(batch, num_classes)`` otherwise. Use
        :func:`attention_model` for the attention weights.
    """
    config.validate()
    tokens = keras.Input(shape=(config.max_length,), dtype="int32", name=TOKEN_INPUT_NAME)
    if config.normalize_embeddings:
        embedding: keras.layers.Layer = NormalizedEmbedding(
            config.vocab_size, config.embedding_dim, mask_zero=True, name=EMBEDDING_LAYER_NAME
        )
    else:
        embedding = keras.layers.Embedding(
            config.vocab_size, config.embedding_dim, mask_zero=True, name=EMBEDDING_LAYER_NAME
        )
    x = embedding(tokens)
    if config.embedding_dropout:
        x = keras.layers.SpatialDropout1D(config.embedding_dropout, name="embedding_dropout")(x)
    if config.token_dropout:
        # one draw per token, shared by its channels: the whole vector is dropped
        x = keras.layers.Dropout(config.token_dropout, noise_shape=(None, None, 1), name="token_dropout")(x)

    forward_h = backward_h = None
    last = len(config.lstm_units) - 1
    for index, units in enumerate(config.lstm_units):
        wants_state = index == last and config.query == "final_state"
        bilstm = keras.layers.Bidirectional(
            keras.layers.LSTM(
                units,
                dropout=config.lstm_dropout,
                return_sequences=True,
                return_state=wants_state,
            ),
            name=f"bilstm_{index + 1}",
        )
        if wants_state:
            x, forward_h, _, backward_h, _ = bilstm(x)
        else:
            x = bilstm(x)

    heads = config.attention_heads
    if config.query == "final_state":
        query = keras.layers.Concatenate(name="final_state")([forward_h, backward_h])
    else:
        query = LearnedQuery(2 * config.lstm_units[-1], heads=heads if heads > 1 else None, name="learned_query")(x)

    context, _weights = _attention_layer(config)(x, query)
    if heads > 1:  # (batch, heads, d) -> (batch, heads * d)
        context = keras.layers.Flatten(name="attention_heads")(context)
    h = context
    for index, units in enumerate(config.dense_units):
        h = keras.layers.Dense(units, activation="relu", name=f"head_dense_{index + 1}")(h)
        if config.dense_dropout:
            h = keras.layers.Dropout(config.dense_dropout, name=f"head_dropout_{index + 1}")(h)
    units, activation = (1, "sigmoid") if config.num_classes == 2 else (config.num_classes, "softmax")
    if not config.ngram_vocab_size:
        outputs = keras.layers.Dense(units, activation=activation, name=OUTPUT_LAYER_NAME)(h)
        model = keras.Model(tokens, outputs, name="bilstm_attention_classifier")
    else:
        ngrams = keras.Input(shape=(None,), dtype="int32", name=NGRAM_INPUT_NAME)
        weights = keras.layers.Embedding(
            config.ngram_vocab_size, units, embeddings_initializer="zeros", mask_zero=True, name="ngram_weights"
        )(ngrams)
        if config.ngram_dropout:
            weights = keras.layers.Dropout(config.ngram_dropout, name="ngram_dropout")(weights)
        wide = MaskedSum(name="ngram_logit")(weights)
        deep = keras.layers.Dense(units, name="deep_logit")(h)
        logits = keras.layers.Add(name="logit")([deep, wide])
        outputs = keras.layers.Activation(activation, name=OUTPUT_LAYER_NAME)(logits)
        model = keras.Model(
            {TOKEN_INPUT_NAME: tokens, NGRAM_INPUT_NAME: ngrams}, outputs, name="bilstm_attention_ngram_classifier"
        )
    if compile:
        compile_classifier(model, config)
    return model


@keras.saving.register_keras_serializable(package="bilstm_attention")
class LabelAccuracy(keras.metrics.BinaryAccuracy):
    """Binary accuracy against the label a soft target stands for (``target > 0.5``).

    With hard 0/1 labels it is :class:`keras.metrics.BinaryAccuracy`. A model fitted to soft
    targets (``(1 - W) * label + W * teacher``, ``W < 0.5``; see
    :func:`~bilstm_attention.training.trainer.teacher_targets`) still reports its accuracy
    on the labels, which Keras' own metric would compare with the soft values.
    """

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = ops.cast(ops.greater(ops.convert_to_tensor(y_true), 0.5), "float32")
        super().update_state(y_true, y_pred, sample_weight=sample_weight)


def compile_classifier(
    model: keras.Model, config: ClassifierConfig, *, optimizer: keras.optimizers.Optimizer | None = None
) -> None:
    """Compile ``model`` with Adam, AdamW with ``config.weight_decay`` (or the given
    ``optimizer``, e.g. one shared with a training wrapper) and the loss that fits
    ``config.num_classes``."""
    if optimizer is None:
        averaging = {} if config.ema_momentum is None else {"use_ema": True, "ema_momentum": config.ema_momentum}
        if config.weight_decay is None:
            optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate, clipnorm=config.clipnorm, **averaging)
        else:
            optimizer = keras.optimizers.AdamW(
                learning_rate=config.learning_rate,
                weight_decay=config.weight_decay,
                clipnorm=config.clipnorm,
                **averaging,
            )
            optimizer.exclude_from_weight_decay(var_names=["bias"])
    if config.num_classes == 2:
        loss: Any = "binary_crossentropy"
        metrics: list[Any] = [LabelAccuracy(name="accuracy")]
    else:
        loss = "sparse_categorical_crossentropy"
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)


def attention_model(model: keras.Model) -> keras.Model:
    """A model sharing ``model``'s weights that returns ``(probabilities, attention_weights)``.

    ``attention_weights`` has shape ``(batch, T)``: the weight of each token position
    (exactly 0 on padding). A model with several attention heads gives the mean of the
    heads' weights, which also sums to 1 over the tokens.
    """
    try:
        layer = model.get_layer(ATTENTION_LAYER_NAME)
    except ValueError as exc:
        raise ValueError(
            f"model {model.name!r} has no layer named {ATTENTION_LAYER_NAME!r}; it was not built by build_classifier"
        ) from exc
    weights = layer.output[1]
    if len(weights.shape) == 3:  # one row per head
        weights = ops.mean(weights, axis=1)
    return keras.Model(model.inputs, [model.output, weights], name=f"{model.name}_with_attention")
