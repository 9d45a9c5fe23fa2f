"""Bags of token n-grams for the classifier's optional linear ("wide") branch.

An n-gram is a run of 1..``order`` consecutive token ids of a review. Each is packed into one
int64 key (``a``, ``a + base*b``, ``a + base*b + base**2*c`` with ``base`` larger than every
token id, so n-grams of different lengths never collide); the vocabulary keeps the keys seen
in at least ``min_count`` training reviews, the most frequent first, and maps them to ids
``1..len`` (0 is padding). A review becomes the sorted ids of the distinct known n-grams it
contains (binary features, as in NBSVM / fastText bigram models).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bilstm_attention.errors import ConfigError, DataError
from bilstm_attention.fileio import atomic_path

MAX_ORDER = 3
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
    """Maps n-grams of token ids to feature ids (see the module docstring).

    Args:
        keys: the known n-gram keys; feature id ``i + 1`` belongs to ``keys[i]``.
        order: the longest n-gram.
        base: the key base (larger than every token id).
    """

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
