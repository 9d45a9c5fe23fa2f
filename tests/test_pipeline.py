"""The tf.data input pipeline: truncation, bucketing, order restoration."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import itertools

from bilstm_attention.errors import ConfigError
from bilstm_attention.features.inputs import truncate
from bilstm_attention.features.pipeline import bucket_boundaries, inference_dataset, training_dataset


def _sequences(lengths) -> list[np.ndarray]:
    return [np.arange(1, n + 1, dtype=np.int32) + 1 for n in lengths]


def test_truncate_sides_and_empty_sequences() -> None:
    seq = [np.arange(2, 12, dtype=np.int32)]  # 2..11
    assert truncate(seq, 4, "head")[0].tolist() == [2, 3, 4, 5]
    assert truncate(seq, 4, "tail")[0].tolist() == [8, 9, 10, 11]
    assert truncate(seq, 6, "head_tail")[0].tolist() == [2, 3, 8, 9, 10, 11]
    assert truncate(seq, None)[0].tolist() == list(range(2, 12))
    assert truncate([np.zeros(0, dtype=np.int32)], 5)[0].tolist() == [0]
    with pytest.raises(ConfigError, match="unknown truncation 'middle'"):
        truncate(seq, 4, "middle")
    with pytest.raises(ConfigError, match="max_length must be positive"):
        truncate(seq, 0)


def test_bucket_boundaries_grow_and_stay_below_the_longest() -> None:
    edges = bucket_boundaries(500)
    assert edges[0] == 16 and edges[-1] < 500
    assert all(b > a for a, b in itertools.pairwise(edges))


def test_bucketed_batches_carry_little_padding_and_cover_every_example() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 400, size=1000)
    ids = _sequences(lengths)
    labels = np.arange(1000) % 2
    dataset = training_dataset(ids, labels, batch_size=32, seed=7)
    seen, padded, real = 0, 0, 0
    for tokens, batch_labels in dataset:
        tokens = tokens.numpy()
        seen += len(tokens)
        real += int((tokens != 0).sum())
        padded += tokens.size
        assert len(batch_labels) == len(tokens)
    assert seen == 1000
    assert real == int(lengths.sum())
    assert real / padded > 0.8  # random batches padded to their longest would be ~0.5

    # same seed -> same order; a different seed -> a different order
    first = [t.numpy().tolist() for t, _ in training_dataset(ids, labels, batch_size=32, seed=7).take(3)]
    again = [t.numpy().tolist() for t, _ in training_dataset(ids, labels, batch_size=32, seed=7).take(3)]
    other = [t.numpy().tolist() for t, _ in training_dataset(ids, labels, batch_size=32, seed=8).take(3)]
    assert first == again and first != other


def test_fixed_padding_like_the_seed_recipe() -> None:
    ids = truncate(_sequences([3, 700, 20]), 500, "tail")
    dataset = training_dataset(ids, np.array([0, 1, 0]), batch_size=2, seed=0, pad_to=500)
    shapes = {tuple(t.shape) for t, _ in dataset}
    assert shapes == {(2, 500), (1, 500)}


def test_inference_dataset_order_restores_the_input_order() -> None:
    lengths = [5, 1, 9, 3]
    ids = _sequences(lengths)
    dataset, order = inference_dataset(ids, batch_size=2)
    rows = [row for batch in dataset for row in batch.numpy()]
    restored = [None] * len(ids)
    for position, row in zip(order, rows):
        restored[position] = row[row != 0].tolist()
    assert restored == [seq.tolist() for seq in ids]


def test_label_count_mismatch_and_empty_split_are_errors() -> None:
    with pytest.raises(ConfigError, match="3 sequences but 2 labels"):
        training_dataset(_sequences([1, 2, 3]), np.array([0, 1]), batch_size=2, seed=0)
    with pytest.raises(ConfigError, match="split is empty"):
        training_dataset([], np.array([]), batch_size=2, seed=0)
