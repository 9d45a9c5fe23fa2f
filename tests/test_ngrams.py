"""The n-gram vocabulary of the wide branch, and a wide-and-deep model end to end."""

from __future__ import annotations

import numpy as np
import pytest

from bilstm_attention.errors import ConfigError, DataError
from bilstm_attention.features import FeatureSpec
from bilstm_attention.features.ngrams import (
    CharNgramVocabulary,
    NgramVocabulary,
    load_ngram_vocabulary,
    ngram_keys,
    squeeze_text,
)
from bilstm_attention.training.config import NgramConfig


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


# --- character n-grams --------------------------------------------------------------------


def test_character_ngrams_ignore_spacing_and_count_reviews() -> None:
    assert squeeze_text(" 재밌 다\t정말\n") == "재밌다정말"
    # NFD jamo compose to the same syllables as NFC text
    assert squeeze_text("\u1100\u1161") == "가"
    # a lone surrogate becomes U+FFFD as for the tokenizers (an escaped emoji pair is joined)
    assert squeeze_text("좋 \udc80 \ud83d\ude00") == "좋\ufffd\U0001f600"
    texts = ["재밌 다", "재밌다 정말", "별로", "재 밌다"]
    vocab = CharNgramVocabulary.build(texts, order=3, max_size=100, min_count=2)
    # in >= 2 reviews: every n-gram of 재밌다 (three reviews); 정말 and 별로 in one review each
    assert vocab.ngrams == ["다", "밌", "밌다", "재", "재밌", "재밌다"] and len(vocab) == 7
    spaced, squeezed, unknown, empty = vocab.encode_batch(["재 밌 다", "재밌다", "별로", ""])
    assert spaced.tolist() == squeezed.tolist() == [1, 2, 3, 4, 5, 6]
    assert unknown.tolist() == empty.tolist() == [] and unknown.dtype == np.int32
    assert vocab.encode_batch(["다재"])[0].tolist() == [1, 4]  # 다 and 재, not the unseen 다재
    # the most frequent n-grams (by reviews) are kept when the size is capped
    top = CharNgramVocabulary.build(["ab", "ab", "a"], order=2, max_size=1, min_count=1)
    assert top.ngrams == ["a"]
    with pytest.raises(ConfigError, match="list of texts, not one string"):
        vocab.encode_batch("재밌다")


def test_building_the_character_table_encodes_its_texts_as_encode_batch_does() -> None:
    rng = np.random.default_rng(3)
    syllables = list("재밌다정말별로최고영화 ")
    texts = ["".join(rng.choice(syllables, size=int(rng.integers(0, 15)))) for _ in range(200)]
    vocab, ids = CharNgramVocabulary.build_and_encode(texts, order=4, max_size=300, min_count=3)
    assert (
        1 < len(vocab) <= 301
        and vocab.ngrams == CharNgramVocabulary.build(texts, order=4, max_size=300, min_count=3).ngrams
    )
    assert [row.tolist() for row in ids] == [row.tolist() for row in vocab.encode_batch(texts)]
    assert all(row.dtype == np.int32 for row in ids)
    empty, none = CharNgramVocabulary.build_and_encode(["ab", "cd"], order=2, max_size=10, min_count=2)
    assert len(empty) == 1 and [row.tolist() for row in none] == [[], []]


def test_character_ngrams_save_load_and_an_empty_vocabulary(tmp_path) -> None:
    vocab = CharNgramVocabulary.build(["좋아요 최고", "최고 좋아"], order=4, max_size=50, min_count=2)
    path = tmp_path / "ngrams.npz"
    vocab.save(path)
    loaded = load_ngram_vocabulary(path)
    assert isinstance(loaded, CharNgramVocabulary) and loaded.ngrams == vocab.ngrams and loaded.order == 4
    assert [ids.tolist() for ids in loaded.encode_batch(["최고!"])] == [
        ids.tolist() for ids in vocab.encode_batch(["최고!"])
    ]
    # token n-gram files (written before there were units) still load as token n-grams
    tokens = NgramVocabulary.build([np.array([2, 3])] * 2, order=2, base=10, max_size=10, min_count=1)
    tokens.save(tmp_path / "tokens.npz")
    assert isinstance(load_ngram_vocabulary(tmp_path / "tokens.npz"), NgramVocabulary)
    nothing = CharNgramVocabulary.build(["ab", "cd"], order=2, max_size=10, min_count=2)
    assert len(nothing) == 1 and [ids.tolist() for ids in nothing.encode_batch(["ab"])] == [[]]
    nothing.save(tmp_path / "empty.npz")
    assert load_ngram_vocabulary(tmp_path / "empty.npz").ngrams == []
    np.savez(tmp_path / "future.npz", unit="syllable", order=2)
    with pytest.raises(DataError, match=r"future.npz: unknown n-gram unit 'syllable'"):
        load_ngram_vocabulary(tmp_path / "future.npz")
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="bad.npz: not a valid n-gram vocabulary"):
        load_ngram_vocabulary(tmp_path / "bad.npz")
    with pytest.raises(ConfigError, match="between 1 and 6"):
        CharNgramVocabulary.build(["ab"], order=7, max_size=10)
    with pytest.raises(ConfigError, match="between 1 and 6"):
        CharNgramVocabulary(["a"], order=0)
    with pytest.raises(ConfigError, match="size must be positive"):
        CharNgramVocabulary.build(["ab"], order=2, max_size=0)
    with pytest.raises(ConfigError, match="min_count must be positive"):
        CharNgramVocabulary.build(["ab"], order=2, max_size=5, min_count=0)


def test_feature_spec_reads_texts_for_character_ngrams() -> None:
    vocab = CharNgramVocabulary.build(["좋다", "좋네"], order=2, max_size=10, min_count=2)
    spec = FeatureSpec(max_length=2, truncation="head", deep_vocab_size=10, ngrams=vocab)
    inputs = spec.inputs([np.array([4, 5, 6])], ["좋 아"])
    assert inputs.tokens[0].tolist() == [4, 5] and inputs.ngrams[0].tolist() == [1]
    with pytest.raises(ConfigError, match="character n-grams need the reviews' texts"):
        spec.inputs([np.array([4, 5, 6])])


def test_ngram_config_orders_depend_on_the_unit() -> None:
    assert NgramConfig(order=5, unit="char", model="nblr").order == 5
    with pytest.raises(ConfigError, match="from 0 .off. to 3 with ngram_unit token, got 5"):
        NgramConfig(order=5)
    with pytest.raises(ConfigError, match="from 0 .off. to 6 with ngram_unit char, got 7"):
        NgramConfig(order=7, unit="char")
    with pytest.raises(ConfigError, match="unknown ngram_unit 'word'"):
        NgramConfig(order=2, unit="word")


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
