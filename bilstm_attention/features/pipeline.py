"""``tf.data`` input pipelines that keep padding low.

Reviews differ a lot in length (IMDB: 10 to 2,500 tokens). Padding every review to one
global length makes the LSTMs run over padding; here training batches are formed from
reviews of similar length (``Dataset.bucket_by_sequence_length``), and evaluation batches
from reviews sorted by length. Padding is always at the end (``post``), which is what
Keras's cuDNN LSTM path needs on a GPU; the embedding's mask keeps it out of the attention.

On the JAX backend every new input shape compiles the model again, so there batches are
padded further, up to the next of a few fixed lengths
(:data:`~bilstm_attention.features.padding.FIXED_LENGTHS`, the same rule as prediction's): about
a dozen shapes instead of one per review length. The mask makes the extra padding change
nothing but time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bilstm_attention._optional import require
from bilstm_attention.errors import ConfigError
from bilstm_attention.features.padding import FIXED_LENGTHS, bucket_boundaries
from bilstm_attention.model.classifier import NGRAM_INPUT_NAME, TOKEN_INPUT_NAME

tf = require("tensorflow", "train")


def fixed_shapes() -> bool:
    """Whether batches are padded to a few fixed lengths: on the JAX backend, which compiles
    the model once per input shape (TensorFlow's ``tf.function`` relaxes to unknown shapes)."""
    import keras

    return keras.backend.backend() == "jax"


def _pad_to_fixed_lengths(dataset: tf.data.Dataset, pad_to: int | None) -> tf.data.Dataset:
    """Pad each batch's sequences (time axis) up to
    :func:`~bilstm_attention.features.padding.fixed_length` (the tokens: to ``pad_to`` when it
    is given; they already have that length)."""
    table = tf.constant(FIXED_LENGTHS, tf.int32)

    def pad(sequences: tf.Tensor) -> tf.Tensor:
        length = tf.shape(sequences)[1]
        index = tf.searchsorted(table, tf.reshape(length, [1]))[0]
        target = tf.where(
            index < len(FIXED_LENGTHS), tf.gather(table, tf.minimum(index, len(FIXED_LENGTHS) - 1)), length
        )
        return tf.pad(sequences, [[0, 0], [0, target - length]])

    def features_of(features: Any) -> Any:
        if isinstance(features, dict):
            padded = dict(features)
            if pad_to is None:
                padded[TOKEN_INPUT_NAME] = pad(features[TOKEN_INPUT_NAME])
            if NGRAM_INPUT_NAME in features:
                padded[NGRAM_INPUT_NAME] = pad(features[NGRAM_INPUT_NAME])
            return padded
        return features if pad_to is not None else pad(features)

    def map_fn(features: Any, *label: Any) -> Any:
        return (features_of(features), *label) if label else features_of(features)

    return dataset.map(map_fn)


def _ragged(ids: Sequence[np.ndarray]) -> tf.RaggedTensor:
    lengths = np.fromiter((len(seq) for seq in ids), dtype=np.int64, count=len(ids))
    flat = np.concatenate(ids).astype(np.int32) if len(ids) else np.zeros(0, dtype=np.int32)
    return tf.RaggedTensor.from_row_lengths(flat, lengths)


def _examples(
    ids: Sequence[np.ndarray], labels: np.ndarray | None = None, ngram_ids: Sequence[np.ndarray] | None = None
) -> tf.data.Dataset:
    """One element per review: its token ids (a 1-D int32 tensor), or with ``ngram_ids`` the
    dict ``{"token_ids", "ngram_ids"}`` the wide-and-deep model takes; paired with the
    label when ``labels`` is given.

    The sequences are stored once as ragged tensors; slicing them yields ragged elements of
    ragged rank 0, which the identity ``map`` turns into the plain tensors that
    ``padded_batch`` and ``bucket_by_sequence_length`` need.
    """
    features: Any = _ragged(ids)
    if ngram_ids is not None:
        if len(ngram_ids) != len(ids):
            raise ConfigError(f"got {len(ids)} token sequences but {len(ngram_ids)} n-gram sequences")
        features = {TOKEN_INPUT_NAME: features, NGRAM_INPUT_NAME: _ragged(ngram_ids)}
    if labels is None:
        return tf.data.Dataset.from_tensor_slices(features).map(lambda x: x)
    return tf.data.Dataset.from_tensor_slices((features, np.asarray(labels))).map(lambda x, y: (x, y))


def _token_length(features: Any, *_label: Any) -> tf.Tensor:
    tokens = features[TOKEN_INPUT_NAME] if isinstance(features, dict) else features
    return tf.shape(tokens)[0]


def training_dataset(
    ids: Sequence[np.ndarray],
    labels: np.ndarray,
    *,
    batch_size: int,
    seed: int,
    bucketing: bool = True,
    pad_to: int | None = None,
    ngram_ids: Sequence[np.ndarray] | None = None,
    shard: tuple[int, int] | None = None,
) -> tf.data.Dataset:
    """Shuffled batches ``(token_ids, labels)`` for ``Model.fit``.

    Args:
        ids: truncated token-id sequences (see :func:`truncate`).
        labels: integer labels, one per sequence.
        batch_size: reviews per batch.
        seed: shuffling seed; the order differs between epochs but is the same between runs.
        bucketing: group reviews of similar length into batches. Off, every batch is padded
            to its longest review (or to ``pad_to``).
        pad_to: pad every batch to this fixed length (the seed recipe's ``maxlen=500``).
        ngram_ids: n-gram feature ids per review, for a model with the n-gram branch.
        shard: ``(index, count)``: keep rows ``index, index + count, ...`` of every batch (one
            process's part in data-parallel training over ``count`` processes; every process
            builds the same batches, so all agree on each batch's padded length). A batch's
            last ``len % count`` rows are dropped, so that every process gets as many rows.
    """
    _check_lengths(ids, labels)
    dataset = _examples(ids, labels, ngram_ids).shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
    if pad_to is not None:
        dataset = dataset.padded_batch(batch_size, padded_shapes=_padded_shapes(pad_to, ngram_ids is not None, True))
    elif bucketing:
        longest = max(len(seq) for seq in ids)
        edges = bucket_boundaries(longest)
        dataset = dataset.bucket_by_sequence_length(
            element_length_func=_token_length,
            bucket_boundaries=edges,
            bucket_batch_sizes=[batch_size] * (len(edges) + 1),
        )
    else:
        dataset = dataset.padded_batch(batch_size)
    if fixed_shapes():
        dataset = _pad_to_fixed_lengths(dataset, pad_to)
    if shard is not None:
        dataset = _keep_shard(dataset, *shard)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _keep_shard(dataset: tf.data.Dataset, index: int, count: int) -> tf.data.Dataset:
    """Rows ``index::count`` of the first ``count * (len // count)`` rows of every batch;
    batches of fewer than ``count`` rows are left out."""
    if not 0 <= index < count:
        raise ConfigError(f"shard index must be in [0, {count}), got {index}")

    def rows(batch: tf.Tensor) -> tf.Tensor:
        usable = (tf.shape(batch)[0] // count) * count
        return batch[index:usable:count]

    def keep(*batch: Any) -> Any:
        return tf.nest.map_structure(rows, batch if len(batch) > 1 else batch[0])

    def big_enough(*batch: Any) -> tf.Tensor:
        return tf.shape(tf.nest.flatten(batch)[0])[0] >= count

    return dataset.filter(big_enough).map(keep)


def inference_dataset(
    ids: Sequence[np.ndarray],
    labels: np.ndarray | None = None,
    *,
    batch_size: int,
    pad_to: int | None = None,
    ngram_ids: Sequence[np.ndarray] | None = None,
) -> tuple[tf.data.Dataset, np.ndarray]:
    """Batches in order of length for evaluation and prediction.

    Returns:
        ``(dataset, order)``: the dataset yields ``token_ids`` (or ``(token_ids, labels)``)
        for the sequences ``ids[order]``; scatter predictions back with
        ``out[order] = predictions``.
    """
    if labels is not None:
        _check_lengths(ids, labels)
    lengths = np.fromiter((len(seq) for seq in ids), dtype=np.int64, count=len(ids))
    order = np.argsort(lengths, kind="stable")
    dataset = _examples(
        [ids[i] for i in order],
        None if labels is None else np.asarray(labels)[order],
        None if ngram_ids is None else [ngram_ids[i] for i in order],
    )
    if pad_to is not None:
        dataset = dataset.padded_batch(
            batch_size, padded_shapes=_padded_shapes(pad_to, ngram_ids is not None, labels is not None)
        )
    else:
        dataset = dataset.padded_batch(batch_size)
    if fixed_shapes():
        dataset = _pad_to_fixed_lengths(dataset, pad_to)
    return dataset.prefetch(tf.data.AUTOTUNE), order


def _padded_shapes(pad_to: int, with_ngrams: bool, with_labels: bool) -> Any:
    """``padded_batch`` shapes: tokens padded to ``pad_to``, n-grams to the batch's longest."""
    features: Any = [pad_to]
    if with_ngrams:
        features = {TOKEN_INPUT_NAME: [pad_to], NGRAM_INPUT_NAME: [None]}
    return (features, []) if with_labels else features


def _check_lengths(ids: Sequence[np.ndarray], labels: np.ndarray) -> None:
    if len(ids) != len(labels):
        raise ConfigError(f"got {len(ids)} sequences but {len(labels)} labels")
    if len(ids) == 0:
        raise ConfigError("no examples to batch (the split is empty)")
