"""The n-gram vocabulary of the wide branch, and a wide-and-deep model end to end."""

from __future__ import annotations

import numpy as np
import pytest

from bilstm_attention.errors import ConfigError, DataError
from bilstm_attention.features.ngrams import NgramVocabulary, ngram_keys


def test_keys_distinguish_orders_and_ignore_padding() -> None:
    keys = ngram_keys(np.array([2, 3, 2, 0]), order=3, base=10)
    # unigrams 2, 3; bigrams (2,3)=32, (3,2)=23; trigram (2,3,2)=2+30+200=232
    assert keys.tolist() == [2, 3, 23, 32, 232]
    assert ngram_keys(np.array([0]), order=2, base=10).tolist() == []


def test_build_keeps_frequent_ngrams_deterministically() -> None:
    reviews = [np.array([2, 3, 4]), np.array([2, 3]), np.array([5, 2, 3]), np.array([6])]
    vocab = NgramVocabulary.build(reviews, order=2, base=10, max_size=100, min_count=2)
    # in >= 2 reviews: 2, 3 and the bigram (2,3); all three in 3 reviews, ties by key
    assert vocab.keys.tolist() == [2, 3, 32]
    assert len(vocab) == 4
    assert vocab.encode(np.array([3, 2, 3, 9])).tolist() == [1, 2, 3]
    assert vocab.encode(np.array([9, 9])).tolist() == []
    top1 = NgramVocabulary.build(reviews, order=2, base=10, max_size=1, min_count=1)
    assert top1.keys.tolist() == [2]
    assert vocab.encode_batch(reviews)[1].tolist() == [1, 2, 3]


def test_save_load_round_trip_and_bad_file(tmp_path) -> None:
    vocab = NgramVocabulary.build([np.array([2, 3, 4])] * 2, order=3, base=10, max_size=10, min_count=1)
    path = tmp_path / "ngrams.npz"
    vocab.save(path)
    loaded = NgramVocabulary.load(path)
    assert loaded.keys.tolist() == vocab.keys.tolist() and loaded.order == 3 and loaded.base == 10
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="bad.npz: not a valid n-gram vocabulary"):
        NgramVocabulary.load(tmp_path / "bad.npz")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"order": 4}, "order must be between 1 and 3"),
        ({"base": 2**22}, "token vocabulary too large"),
        ({"max_size": 0}, "size must be positive"),
        ({"min_count": 0}, "min_count must be positive"),
    ],
)
def test_bad_arguments(kwargs, message) -> None:
    args = {"order": 2, "base": 10, "max_size": 5, "min_count": 1, **kwargs}
    with pytest.raises(ConfigError, match=message):
        NgramVocabulary.build([np.array([2, 3])], **args)
