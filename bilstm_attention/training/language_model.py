"""Pretraining the BiLSTM encoder as two language models on the dataset's own text.

ELMo (Peters et al. 2018) and ULMFiT (Howard & Ruder 2018) start a recurrent classifier from
language models trained on text of the same kind; Dai & Le (2015) showed the gain on IMDB with
IMDB's own reviews. Here the classifier's first ``Bidirectional`` LSTM is such a pair of
language models before it becomes a classifier:

* its forward LSTM reads a review left to right and predicts, at each token, the next one;
* its backward LSTM reads it right to left and predicts the previous one;

both over the classifier's own (word2vec-initialised) embedding. Each direction gets a softmax
over the ``output_vocab_size`` most frequent ids (rarer tokens are predicted as the
out-of-vocabulary id), dropped after pretraining; the embedding and the BiLSTM keep what they
learned and the classifier is then trained as usual (fine-tuning every layer). Only the first
BiLSTM layer is pretrained: a second layer reads both directions of the first, so it would
see the token it has to predict.

The text is the training split's reviews (and the dataset's unlabeled ones): never validation
or test text. Pretraining is paid once per data and settings: the learned weights are stored
in the cache (:mod:`bilstm_attention.data.store`) under a key made of the token ids it learns
from, the starting weights and the settings, and an interrupted pretraining resumes from its
last finished epoch (``keras.callbacks.BackupAndRestore``).
"""

from __future__ import annotations

import hashlib
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from bilstm_attention.data import store
from bilstm_attention.errors import ConfigError
from bilstm_attention.model.names import EMBEDDING_LAYER_NAME
from bilstm_attention.tokenizers.vocabulary import OOV_ID
from bilstm_attention.training.config import LanguageModelConfig

#: The classifier layer that is pretrained (its first BiLSTM).
ENCODER_LAYER_NAME = "bilstm_1"

#: Version of the cached weights' layout; a change makes old entries be recomputed.
_CACHE_FORMAT = 1


def _sequences(outputs: Any) -> Any:
    """The sequence output of an LSTM that may also return its states."""
    return outputs[0] if isinstance(outputs, (list, tuple)) else outputs


class EncoderLanguageModel(keras.Model):
    """The classifier's embedding and first BiLSTM as a forward and a backward language model.

    Shares those layers' weights with ``classifier`` (training this model changes them). Maps
    token ids ``(batch, T)`` (0 = padding) to ``(forward_logits, backward_logits)``, each
    ``(batch, T, output_vocab_size)``: position ``t`` of the first scores token ``t + 1``, of
    the second token ``t - 1``. :func:`language_model_targets` makes the matching targets.

    Args:
        classifier: a model from :func:`~bilstm_attention.model.build_classifier`.
        output_vocab_size: size of each softmax.
        dropout: dropout on the embedded tokens.

    Raises:
        ValueError: ``classifier`` has no ``embedding`` and ``bilstm_1`` layers.
    """

    def __init__(self, classifier: keras.Model, output_vocab_size: int, dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            self.embedding = classifier.get_layer(EMBEDDING_LAYER_NAME)
            encoder = classifier.get_layer(ENCODER_LAYER_NAME)
        except ValueError as exc:
            raise ValueError(
                f"model {classifier.name!r} has no {EMBEDDING_LAYER_NAME!r} and {ENCODER_LAYER_NAME!r} layers; "
                "it was not built by build_classifier"
            ) from exc
        self.forward_lstm = encoder.forward_layer
        self.backward_lstm = encoder.backward_layer
        self.output_vocab_size = int(output_vocab_size)
        self.token_dropout = keras.layers.Dropout(dropout)
        self.forward_head = keras.layers.Dense(self.output_vocab_size, name="forward_lm_head")
        self.backward_head = keras.layers.Dense(self.output_vocab_size, name="backward_lm_head")

    def call(self, token_ids: Any, training: bool = False) -> tuple[Any, Any]:
        mask = ops.not_equal(token_ids, 0)
        x = self.token_dropout(self.embedding(token_ids, training=training), training=training)
        forward = _sequences(self.forward_lstm(x, mask=mask, training=training))
        # the backward LSTM returns its outputs in the order it read them: last token first
        backward = ops.flip(_sequences(self.backward_lstm(x, mask=mask, training=training)), axis=1)
        return self.forward_head(forward), self.backward_head(backward)


def language_model_targets(token_ids: Any, output_vocab_size: int) -> tuple[Any, Any]:
    """``(next_token, previous_token)`` targets of :class:`EncoderLanguageModel` for a batch of
    token ids ``(batch, T)``: ids from ``output_vocab_size`` up become the out-of-vocabulary
    id, and 0 (no target: padding, or the end of the review) is ignored by the loss."""
    ids = ops.where(ops.greater_equal(token_ids, output_vocab_size), OOV_ID, token_ids)
    zeros = ops.zeros_like(ids[:, :1])
    real = ops.not_equal(ids, 0)  # a padded position predicts nothing
    next_token = ops.where(real, ops.concatenate([ids[:, 1:], zeros], axis=1), 0)
    previous_token = ops.where(real, ops.concatenate([zeros, ids[:, :-1]], axis=1), 0)
    return next_token, previous_token


@dataclass(frozen=True)
class PretrainingReport:
    """What :func:`pretrain_encoder` did.

    Attributes:
        from_cache: the weights came from the cache (nothing was trained).
        loss: the language models' mean loss (nats per token) of each epoch trained.
        tokens: how many tokens the language models read per epoch.
        key: the cache key of the weights.
    """

    from_cache: bool
    loss: list[float]
    tokens: int
    key: str


def _digest_arrays(arrays: Sequence[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _layers(classifier: keras.Model) -> list[keras.layers.Layer]:
    return [classifier.get_layer(EMBEDDING_LAYER_NAME), classifier.get_layer(ENCODER_LAYER_NAME)]


def _settings(layer: keras.layers.Layer) -> dict[str, Any]:
    """A layer's configuration without its (counter-numbered) name."""
    config = dict(layer.get_config())
    config.pop("name", None)
    return config


def pretraining_key(
    classifier: keras.Model, id_lists: Sequence[np.ndarray], config: LanguageModelConfig, seed: int
) -> str:
    """The cache key of a pretraining: the token ids it reads (data, tokenizer, vocabulary,
    truncation), the starting weights of the layers it trains (model sizes, initialisation,
    word2vec), its settings, the seed and the Keras backend."""
    starting = [w for layer in _layers(classifier) for w in layer.get_weights()]
    return store.content_key(
        {
            "what": "encoder language model",
            "ids": _digest_arrays([np.asarray(ids, dtype=np.int32) for ids in id_lists]),
            "count": len(id_lists),
            "weights": _digest_arrays(starting),
            "config": config.to_dict(),
            "lstm": _settings(classifier.get_layer(ENCODER_LAYER_NAME).forward_layer),
            "seed": seed,
            "backend": keras.backend.backend(),
        }
    )


def _set_layer_weights(classifier: keras.Model, weights: list[np.ndarray]) -> None:
    for layer in _layers(classifier):
        count = len(layer.get_weights())
        layer.set_weights(weights[:count])
        weights = weights[count:]


def pretrain_encoder(
    classifier: keras.Model,
    id_lists: Sequence[np.ndarray],
    config: LanguageModelConfig,
    *,
    cache_dir: str | Path,
    seed: int = 1337,
    verbose: int = 2,
) -> PretrainingReport:
    """Train ``classifier``'s embedding and first BiLSTM as language models on ``id_lists``.

    Args:
        classifier: a model from :func:`~bilstm_attention.model.build_classifier`; its
            ``embedding`` and ``bilstm_1`` weights are replaced by the pretrained ones.
        id_lists: token ids of the reviews to learn from, as the classifier sees them
            (truncated, rare ids already out of vocabulary). Never validation or test text.
        config: the pretraining settings.
        cache_dir: where the pretrained weights (``language-models/<key>.npz``) and the
            resume state of an unfinished pretraining are kept.
        seed: seeds the batch order (the caller seeds the weights' initialisation).
        verbose: Keras progress: 0 silent, 1 bar, 2 one line per epoch.

    Returns:
        A :class:`PretrainingReport`.

    Raises:
        ConfigError: no review has two tokens to learn from.
    """
    from bilstm_attention.features.pipeline import tf, training_dataset

    reviews = [np.asarray(ids, dtype=np.int32) for ids in id_lists if len(ids) >= 2]
    if not reviews:
        raise ConfigError("language-model pretraining got no review with two tokens or more to learn from")
    key = pretraining_key(classifier, reviews, config, seed)
    folder = Path(cache_dir) / "language-models"
    path = folder / f"{key}.npz"
    tokens = int(sum(len(ids) for ids in reviews))

    def parse(data: Any, meta: dict[str, Any]) -> tuple[list[np.ndarray], list[float]]:
        return [data[f"w{i}"] for i in range(int(meta["weights"]))], [float(x) for x in meta["loss"]]

    cached = store.read_arrays(path, key, _CACHE_FORMAT, parse)
    if cached is not None:
        weights, loss = cached
        _set_layer_weights(classifier, weights)
        _refresh_embedding(classifier)
        return PretrainingReport(True, loss, tokens, key)

    vocab = min(config.output_vocab_size, classifier.get_layer(EMBEDDING_LAYER_NAME).input_dim)
    dataset = training_dataset(
        reviews, np.zeros(len(reviews), dtype=np.int32), batch_size=config.batch_size, seed=seed
    ).map(lambda x, _y: (x, language_model_targets(tf.cast(x, "int32"), vocab)))
    language_model = EncoderLanguageModel(classifier, vocab, config.dropout, name="encoder_language_model")
    language_model(np.ones((1, 2), dtype=np.int32))  # built before BackupAndRestore restores into it
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    language_model.compile(optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0), loss=[loss, loss])

    folder.mkdir(parents=True, exist_ok=True)
    backup = folder / f"{key}.resume"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = language_model.fit(
            dataset,
            epochs=config.epochs,
            callbacks=[keras.callbacks.BackupAndRestore(str(backup))],
            verbose=verbose,
            shuffle=False,
        )
    # the two losses are means per target token; report their mean
    losses = [float(value) / 2 for value in history.history.get("loss", [])]
    _refresh_embedding(classifier)
    weights = [w for layer in _layers(classifier) for w in layer.get_weights()]
    store.write_arrays(
        path,
        key,
        _CACHE_FORMAT,
        {f"w{i}": w for i, w in enumerate(weights)},
        {"weights": len(weights), "loss": losses, "tokens": tokens, "config": config.to_dict()},
    )
    shutil.rmtree(backup, ignore_errors=True)
    return PretrainingReport(False, losses, tokens, key)


def _refresh_embedding(classifier: keras.Model) -> None:
    layer = classifier.get_layer(EMBEDDING_LAYER_NAME)
    if hasattr(layer, "update_statistics"):
        layer.update_statistics()
