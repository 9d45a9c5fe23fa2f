"""``tf.data`` input pipelines that keep padding low.

Reviews differ a lot in length (IMDB: 10 to 2,500 tokens). Padding every review to one
global length makes the LSTMs run over padding; here training batches are formed from
reviews of similar length (``Dataset.bucket_by_sequence_length``), and evaluation batches
from reviews sorted by length. Padding is always at the end (``post``), which is what
Keras's cuDNN LSTM path needs on a GPU; the embedding's mask keeps it out of the attention.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from bilstm_attention.errors import ConfigError

TRUNCATION_CHOICES: tuple[str, ...] = ("head", "tail", "head_tail")


def truncate(ids: Sequence[np.ndarray], max_length: int | None, side: str = "head") -> list[np.ndarray]:
    """Cut every sequence to at most ``max_length`` ids.

    Args:
        ids: one int array per review.
        max_length: the cap; ``None`` keeps every sequence whole.
        side: ``"head"`` keeps the first ids, ``"tail"`` the last ones (Keras
            ``pad_sequences``' default ``truncating="pre"``), ``"head_tail"`` the first third
            and the last two thirds of the budget (the end of a review often holds its verdict).

    Empty sequences become a single padding id (0), which the mask hides, so that no batch
    has zero time steps.
    """
    if side not in TRUNCATION_CHOICES:
        raise ConfigError(f"unknown truncation {side!r}; choose one of: {', '.join(TRUNCATION_CHOICES)}")
    if max_length is not None and max_length < 1:
        raise ConfigError(f"max_length must be positive, got {max_length}")
    head_budget = (max_length or 0) // 3
    out: list[np.ndarray] = []
    for seq in ids:
        seq = np.asarray(seq, dtype=np.int32)
        if max_length is not None and len(seq) > max_length:
            if side == "head":
                seq = seq[:max_length]
            elif side == "tail":
                seq = seq[-max_length:]
            else:
                seq = np.concatenate([seq[:head_budget], seq[len(seq) - (max_length - head_budget):]])
        if len(seq) == 0:
            seq = np.zeros(1, dtype=np.int32)
        out.append(seq)
    return out


def bucket_boundaries(max_length: int, smallest: int = 16, growth: float = 1.25) -> list[int]:
    """Geometric bucket edges ``smallest, ~smallest*growth, ... < max_length``.

    Each bucket's padding is at most ``growth - 1`` (25 %) of its longest review.
    """
    edges: list[int] = []
    edge = float(smallest)
    while edge < max_length:
        edges.append(int(round(edge)))
        edge = max(edge * growth, edges[-1] + 8)
    return edges


def _examples(ids: Sequence[np.ndarray], labels: np.ndarray | None = None) -> tf.data.Dataset:
    """One element per sequence (a 1-D int32 tensor), with its label if given.

    The sequences are stored once as a ragged tensor; slicing it yields ragged elements of
    ragged rank 0, which the identity ``map`` turns into the plain tensors that
    ``padded_batch`` and ``bucket_by_sequence_length`` need.
    """
    lengths = np.fromiter((len(seq) for seq in ids), dtype=np.int64, count=len(ids))
    flat = np.concatenate(ids).astype(np.int32) if len(ids) else np.zeros(0, dtype=np.int32)
    ragged = tf.RaggedTensor.from_row_lengths(flat, lengths)
    if labels is None:
        return tf.data.Dataset.from_tensor_slices(ragged).map(lambda tokens: tokens)
    return tf.data.Dataset.from_tensor_slices((ragged, np.asarray(labels))).map(lambda tokens, label: (tokens, label))


def training_dataset(
    ids: Sequence[np.ndarray],
    labels: np.ndarray,
    *,
    batch_size: int,
    seed: int,
    bucketing: bool = True,
    pad_to: int | None = None,
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
    """
    _check_lengths(ids, labels)
    dataset = _examples(ids, labels).shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
    if pad_to is not None:
        dataset = dataset.padded_batch(batch_size, padded_shapes=([pad_to], []))
    elif bucketing:
        longest = max(len(seq) for seq in ids)
        edges = bucket_boundaries(longest)
        dataset = dataset.bucket_by_sequence_length(
            element_length_func=lambda tokens, _label: tf.shape(tokens)[0],
            bucket_boundaries=edges,
            bucket_batch_sizes=[batch_size] * (len(edges) + 1),
        )
    else:
        dataset = dataset.padded_batch(batch_size)
    return dataset.prefetch(tf.data.AUTOTUNE)


def inference_dataset(
    ids: Sequence[np.ndarray],
    labels: np.ndarray | None = None,
    *,
    batch_size: int,
    pad_to: int | None = None,
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
    dataset = _examples([ids[i] for i in order], None if labels is None else np.asarray(labels)[order])
    if pad_to is not None:
        shapes = [pad_to] if labels is None else ([pad_to], [])
        dataset = dataset.padded_batch(batch_size, padded_shapes=shapes)
    else:
        dataset = dataset.padded_batch(batch_size)
    return dataset.prefetch(tf.data.AUTOTUNE), order


def _check_lengths(ids: Sequence[np.ndarray], labels: np.ndarray) -> None:
    if len(ids) != len(labels):
        raise ConfigError(f"got {len(ids)} sequences but {len(labels)} labels")
    if len(ids) == 0:
        raise ConfigError("no examples to batch (the split is empty)")
