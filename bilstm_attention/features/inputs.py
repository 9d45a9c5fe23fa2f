"""From token ids to the classifier's inputs, the same way in training and at inference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bilstm_attention.errors import ConfigError
from bilstm_attention.features.ngrams import CharNgramVocabulary, NgramVocabulary

TRUNCATION_CHOICES: tuple[str, ...] = ("head", "tail", "head_tail")


def kept_slices(length: int, max_length: int | None, side: str = "head") -> tuple[slice, ...]:
    """The parts of a sequence of ``length`` items that :func:`truncate` keeps.

    ``head`` keeps the first ``max_length`` items, ``tail`` the last ones (Keras
    ``pad_sequences``' default ``truncating="pre"``), ``head_tail`` the first third and the
    last two thirds of the budget (the end of a review often holds its verdict).
    """
    if side not in TRUNCATION_CHOICES:
        raise ConfigError(f"unknown truncation {side!r}; choose one of: {', '.join(TRUNCATION_CHOICES)}")
    if max_length is not None and max_length < 1:
        raise ConfigError(f"max_length must be positive, got {max_length}")
    if max_length is None or length <= max_length:
        return (slice(0, length),)
    if side == "head":
        return (slice(0, max_length),)
    if side == "tail":
        return (slice(length - max_length, length),)
    head = max_length // 3
    return (slice(0, head), slice(length - (max_length - head), length))


def truncate(ids: Sequence[np.ndarray], max_length: int | None, side: str = "head") -> list[np.ndarray]:
    """Cut every sequence to at most ``max_length`` ids (see :func:`kept_slices`).

    Empty sequences become a single padding id (0), which the mask hides, so that no batch
    has zero time steps.
    """
    kept_slices(0, max_length, side)  # checks the arguments once
    out: list[np.ndarray] = []
    for seq in ids:
        seq = np.asarray(seq, dtype=np.int32)
        parts = kept_slices(len(seq), max_length, side)
        seq = seq[parts[0]] if len(parts) == 1 else np.concatenate([seq[part] for part in parts])
        if len(seq) == 0:
            seq = np.zeros(1, dtype=np.int32)
        out.append(seq)
    return out


def clip_vocabulary(ids: Sequence[np.ndarray], vocab_size: int) -> list[np.ndarray]:
    """Map ids ``>= vocab_size`` to the out-of-vocabulary id 1.

    Vocabularies are ordered by frequency, so this equals encoding with only the
    ``vocab_size`` most frequent tokens.
    """
    return [np.where(seq >= vocab_size, 1, seq).astype(np.int32) for seq in ids]


@dataclass(frozen=True)
class ModelInputs:
    """Per review: the BiLSTM's token ids and, with the n-gram branch, the n-gram ids."""

    tokens: list[np.ndarray]
    ngrams: list[np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True)
class FeatureSpec:
    """How a review's token ids become model inputs.

    Attributes:
        max_length: the BiLSTM sees at most this many tokens (``truncation`` says which).
        truncation: ``head``, ``tail`` or ``head_tail``.
        deep_vocab_size: ids from this one up are out of vocabulary for the BiLSTM.
        pad_to: fixed padded length (the seed recipe), or ``None`` for per-batch padding.
        ngrams: the n-gram vocabulary of the wide branch (it sees the whole review): of token
            ids, or of the text's characters.
    """

    max_length: int | None
    truncation: str
    deep_vocab_size: int
    pad_to: int | None = None
    ngrams: NgramVocabulary | CharNgramVocabulary | None = None

    def tokens(self, ids: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The BiLSTM's input for the full (untruncated) token ids of some reviews."""
        return truncate(clip_vocabulary(ids, self.deep_vocab_size), self.max_length, self.truncation)

    def ngram_ids(self, ids: Sequence[np.ndarray], texts: Sequence[str] | None = None) -> list[np.ndarray] | None:
        """The n-gram ids of some reviews (``None`` without n-grams), from their full token ids
        or, when the n-grams are characters, their texts (in the same order)."""
        if isinstance(self.ngrams, CharNgramVocabulary):
            if texts is None or len(texts) != len(ids):
                raise ConfigError("character n-grams need the reviews' texts next to their token ids")
            return self.ngrams.encode_batch(texts)
        if self.ngrams is not None:
            return self.ngrams.encode_batch(ids)
        return None

    def inputs(self, ids: Sequence[np.ndarray], texts: Sequence[str] | None = None) -> ModelInputs:
        """Model inputs for the full (untruncated) token ids of some reviews and, when the
        n-grams are characters, their texts (in the same order)."""
        return ModelInputs(self.tokens(ids), self.ngram_ids(ids, texts))

    def to_json(self) -> dict[str, Any]:
        """The settings (without the n-gram table, which is saved on its own)."""
        return {
            "max_length": self.max_length,
            "truncation": self.truncation,
            "deep_vocab_size": self.deep_vocab_size,
            "pad_to": self.pad_to,
            "ngrams": self.ngrams is not None,
        }
