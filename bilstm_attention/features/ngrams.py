"""Bags of n-grams for the classifier's optional linear ("wide") branch or its NB-LR part.

Two kinds, one interface (``unit``, ``len``, ``encode_batch``, ``save``; read either back with
:func:`load_ngram_vocabulary`):

- :class:`NgramVocabulary`: n-grams of the tokenizer's token ids (``unit = "token"``);
- :class:`CharNgramVocabulary`: character n-grams of the review text with its whitespace
  removed (``unit = "char"``), for text whose spacing is unreliable (Korean reviews) and
  which need no tokenizer.

A token n-gram is a run of 1..``order`` consecutive token ids of a review. Each is packed into one
int64 key (``a``, ``a + base*b``, ``a + base*b + base**2*c`` with ``base`` larger than every
token id, so n-grams of different lengths never collide); the vocabulary keeps the keys seen
in at least ``min_count`` training reviews, the most frequent first, and maps them to ids
``1..len`` (0 is padding). A review becomes the sorted ids of the distinct known n-grams it
contains (binary features, as in NBSVM / fastText bigram models).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bilstm_attention._optional import require
from bilstm_attention.errors import ConfigError, DataError
from bilstm_attention.fileio import atomic_path
from bilstm_attention.tokenizers.base import clean_text

MAX_ORDER = 3
#: The longest character n-gram (:class:`CharNgramVocabulary`).
MAX_CHAR_ORDER = 6
NGRAM_UNITS: tuple[str, ...] = ("token", "char")
_MAX_BASE = 2**21  # base**3 must fit in int64


def ngram_keys(ids: np.ndarray, order: int, base: int) -> np.ndarray:
    """The distinct n-gram keys (n = 1..order) of one id sequence, sorted."""
    ids = np.asarray(ids, dtype=np.int64)
    ids = ids[ids > 0]  # padding is not a token
    parts = [ids]
    for n in range(2, order + 1):
        if len(ids) < n:
            break
        key = ids[: len(ids) - n + 1].copy()
        scale = 1
        for offset in range(1, n):
            scale *= base
            key += ids[offset : len(ids) - n + 1 + offset] * scale
        parts.append(key)
    return np.unique(np.concatenate(parts))


class NgramVocabulary:
    """Maps n-grams of token ids to feature ids (see the module docstring); ``unit = "token"``.

    Args:
        keys: the known n-gram keys; feature id ``i + 1`` belongs to ``keys[i]``.
        order: the longest n-gram.
        base: the key base (larger than every token id).
    """

    unit = "token"

    def __init__(self, keys: np.ndarray, order: int, base: int) -> None:
        if not 1 <= order <= MAX_ORDER:
            raise ConfigError(f"ngram order must be between 1 and {MAX_ORDER}, got {order}")
        if not 2 <= base <= _MAX_BASE:
            raise ConfigError(f"ngram base must be between 2 and {_MAX_BASE} (token vocabulary too large), got {base}")
        self.keys = np.asarray(keys, dtype=np.int64)
        self.order = int(order)
        self.base = int(base)
        self._sorter = np.argsort(self.keys, kind="stable")
        self._sorted = self.keys[self._sorter]

    def __len__(self) -> int:
        """Number of feature ids including padding (the wide embedding's input size)."""
        return len(self.keys) + 1

    @classmethod
    def build(
        cls,
        id_lists: Sequence[np.ndarray],
        *,
        order: int,
        base: int,
        max_size: int,
        min_count: int = 2,
    ) -> NgramVocabulary:
        """Keep the n-grams found in at least ``min_count`` reviews, at most ``max_size`` of
        them, by document frequency (ties by key: deterministic)."""
        if max_size < 1:
            raise ConfigError(f"ngram vocabulary size must be positive, got {max_size}")
        if min_count < 1:
            raise ConfigError(f"ngram min_count must be positive, got {min_count}")
        per_review = [ngram_keys(ids, order, base) for ids in id_lists]
        all_keys = np.concatenate(per_review) if per_review else np.zeros(0, dtype=np.int64)
        keys, counts = np.unique(all_keys, return_counts=True)
        keep = counts >= min_count
        keys, counts = keys[keep], counts[keep]
        ranking = np.lexsort((keys, -counts))[:max_size]
        return cls(keys[ranking], order, base)

    def encode(self, ids: np.ndarray) -> np.ndarray:
        """Sorted feature ids of the known n-grams in ``ids`` (int32; may be empty)."""
        keys = ngram_keys(ids, self.order, self.base)
        if len(self._sorted) == 0 or len(keys) == 0:
            return np.zeros(0, dtype=np.int32)
        positions = np.searchsorted(self._sorted, keys)
        positions = np.minimum(positions, len(self._sorted) - 1)
        found = self._sorted[positions] == keys
        return np.sort(self._sorter[positions[found]] + 1).astype(np.int32)

    def encode_batch(self, id_lists: Sequence[np.ndarray]) -> list[np.ndarray]:
        """:meth:`encode` for every sequence."""
        return [self.encode(ids) for ids in id_lists]

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write to an ``.npz`` file, atomically."""
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, keys=self.keys, order=self.order, base=self.base)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> NgramVocabulary:
        """Read a file written by :meth:`save`; a bad file raises :class:`DataError` naming it."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(data["keys"], int(data["order"]), int(data["base"]))
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"{path}: not a valid n-gram vocabulary ({exc})") from exc


def squeeze_text(text: str) -> str:
    """``text`` as the tokenizers see it (:func:`~bilstm_attention.tokenizers.base.clean_text`),
    in Unicode NFC, with every whitespace character removed: what character n-grams read."""
    return "".join(unicodedata.normalize("NFC", clean_text(text)).split())


def _character_counter(order: int, **options: Any) -> Any:
    """scikit-learn's ``CountVectorizer`` over the character 1..``order``-grams of :func:`squeeze_text`."""
    require("sklearn", "train")
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        analyzer="char",
        ngram_range=(1, order),
        preprocessor=squeeze_text,
        lowercase=False,
        binary=True,
        dtype=np.float32,
        **options,
    )


def _row_ids(matrix: Any) -> list[np.ndarray]:
    """Per row of a document x n-gram count matrix, the sorted feature ids (column + 1, int32)
    of its non-zero columns."""
    matrix = matrix.tocsr()
    matrix.sort_indices()
    ids = (matrix.indices + 1).astype(np.int32)
    return [ids[start:end] for start, end in zip(matrix.indptr[:-1], matrix.indptr[1:])]


class CharNgramVocabulary:
    """Maps character n-grams (n = 1..``order``) of a review's text, whitespace removed, to feature ids.

    Korean reviews are spaced loosely (``재밌다`` / ``재 밌다`` / ``재밌 다``), and a tokenizer's
    mistakes on slang and typos are shared by every part that reads its tokens; the characters
    of the squeezed text see neither. Counting is scikit-learn's ``CountVectorizer``; feature id
    ``i + 1`` belongs to ``ngrams[i]`` (0 is padding), and a review becomes the sorted ids of the
    distinct known n-grams it contains, as with :class:`NgramVocabulary`.

    Args:
        ngrams: the known n-grams, in feature-id order.
        order: the longest n-gram.
    """

    unit = "char"

    def __init__(self, ngrams: Sequence[str], order: int) -> None:
        if not 1 <= order <= MAX_CHAR_ORDER:
            raise ConfigError(f"character ngram order must be between 1 and {MAX_CHAR_ORDER}, got {order}")
        self.ngrams = [str(ngram) for ngram in ngrams]
        self.order = int(order)
        self._counter = _character_counter(self.order, vocabulary={ngram: i for i, ngram in enumerate(self.ngrams)})

    def __len__(self) -> int:
        """Number of feature ids including padding (the wide embedding's input size)."""
        return len(self.ngrams) + 1

    @classmethod
    def build(cls, texts: Sequence[str], *, order: int, max_size: int, min_count: int = 2) -> CharNgramVocabulary:
        """Keep the n-grams found in at least ``min_count`` reviews, at most ``max_size`` of them
        (the most frequent by document frequency)."""
        return cls.build_and_encode(texts, order=order, max_size=max_size, min_count=min_count)[0]

    @classmethod
    def build_and_encode(
        cls, texts: Sequence[str], *, order: int, max_size: int, min_count: int = 2
    ) -> tuple[CharNgramVocabulary, list[np.ndarray]]:
        """:meth:`build`, and the texts it was built on encoded as :meth:`encode_batch` would,
        from the same pass over them (scikit-learn's ``fit_transform``)."""
        if max_size < 1:
            raise ConfigError(f"ngram vocabulary size must be positive, got {max_size}")
        if min_count < 1:
            raise ConfigError(f"ngram min_count must be positive, got {min_count}")
        if not 1 <= order <= MAX_CHAR_ORDER:
            raise ConfigError(f"character ngram order must be between 1 and {MAX_CHAR_ORDER}, got {order}")
        counter = _character_counter(order, min_df=min_count, max_features=max_size)
        texts = list(texts)
        try:
            matrix = counter.fit_transform(texts)
        except ValueError:  # no n-gram in min_count reviews (scikit-learn: "empty vocabulary")
            return cls([], order), [np.zeros(0, dtype=np.int32) for _ in texts]
        # column i of the matrix is the n-gram whose vocabulary_ index is i: feature id i + 1
        ngrams = sorted(counter.vocabulary_, key=counter.vocabulary_.__getitem__)
        return cls(ngrams, order), _row_ids(matrix)

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Per text, the sorted feature ids (int32) of its known n-grams (may be empty)."""
        if isinstance(texts, str):
            raise ConfigError("encode_batch takes a list of texts, not one string")
        if not self.ngrams:
            return [np.zeros(0, dtype=np.int32) for _ in texts]
        return _row_ids(self._counter.transform(list(texts)))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write to an ``.npz`` file, atomically."""
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, unit=self.unit, ngrams=np.asarray(self.ngrams, dtype=str), order=self.order)


def load_ngram_vocabulary(path: str | os.PathLike[str]) -> NgramVocabulary | CharNgramVocabulary:
    """Read an n-gram vocabulary of either unit (files without ``unit`` are token n-grams);
    a bad file raises :class:`DataError` naming it."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            unit = str(data["unit"]) if "unit" in data.files else "token"
            if unit == "char":
                return CharNgramVocabulary(data["ngrams"].tolist(), int(data["order"]))
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: not a valid n-gram vocabulary ({exc})") from exc
    if unit != "token":
        raise DataError(f"{path}: unknown n-gram unit {unit!r} (from a newer version?)")
    return NgramVocabulary.load(path)
