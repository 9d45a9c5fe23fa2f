"""``encode_dataset``: tokenize a dataset once, derive vocabularies from the cached tokens.

Two steps with two different costs:

1. **Tokens** (slow: Korean morphological analysis takes minutes on NSMC). Every review of
   train / validation / test is tokenized and stored in the token cache, one ``.npz`` file
   per key under ``<cache>/encoded/``. The key (:func:`token_key`) covers only what
   determines the tokens: the cache format version, the dataset name and fingerprint, the
   split settings, the split sizes and the tokenizer's ``get_config()``. The file holds the
   table of distinct tokens and, per review, int32 indices into that table.
2. **Vocabulary and ids** (cheap, never cached): the vocabulary is built from the training
   split's token counts (``np.bincount`` over the cached indices, the ranking rule of
   :meth:`Vocabulary.build`) and every review is mapped to vocabulary ids with one lookup
   array. Another ``vocab_size`` or ``min_count`` therefore reuses the cached tokens.

Writing and reading go through :mod:`bilstm_attention.data.store` (atomic, versioned, an
unreadable file is ignored with a warning and rewritten).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bilstm_attention.data import store
from bilstm_attention.data.fetch import default_cache_dir
from bilstm_attention.data.splits import DatasetSplits
from bilstm_attention.errors import ConfigError

#: Bump when the layout of the cache files or the meaning of their content changes.
#: 1: encoded ids keyed with the vocabulary settings; 2: tokens only (vocabulary derived).
CACHE_FORMAT_VERSION = 2
SPLIT_NAMES = ("train", "validation", "test")


@dataclass(frozen=True)
class EncodedSplit:
    """Token ids (one int32 array per review, not padded) and int64 labels of one split."""

    ids: list[np.ndarray]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def lengths(self) -> np.ndarray:
        return np.fromiter((len(x) for x in self.ids), dtype=np.int64, count=len(self.ids))


@dataclass(frozen=True)
class EncodedSplits:
    """The encoded dataset; ``from_cache`` says whether tokenization was skipped.

    ``key`` identifies the encoding (tokens and vocabulary settings); ``cache_path`` is the
    token cache file it was derived from (``None`` with ``use_cache=False``)."""

    name: str
    train: EncodedSplit
    validation: EncodedSplit
    test: EncodedSplit
    vocabulary: Any
    tokenizer: Any
    from_cache: bool
    key: str
    cache_path: Path | None
    class_names: tuple[str, ...]


@dataclass(frozen=True)
class TokenizedSplits:
    """Every review as indices into ``table`` (the distinct tokens), per split."""

    table: list[str]
    ids: dict[str, tuple[np.ndarray, np.ndarray]]  # split -> (flat table indices, offsets)
    labels: dict[str, np.ndarray]


def _resolve_tokenizer(tokenizer: Any) -> Any:
    """A tokenizer object from an object, a name or a ``get_config()`` dict."""
    from bilstm_attention import tokenizers

    if isinstance(tokenizer, str):
        return tokenizers.get_tokenizer(tokenizer)
    if isinstance(tokenizer, dict):
        return tokenizers.tokenizer_from_config(tokenizer)
    for method in ("tokenize_batch", "get_config"):
        if not callable(getattr(tokenizer, method, None)):
            raise ConfigError(
                f"tokenizer must be a Tokenizer, a tokenizer name or a config dict; "
                f"{type(tokenizer).__name__} has no {method}()"
            )
    return tokenizer


def token_key(splits: DatasetSplits, tokenizer_config: dict[str, Any]) -> str:
    """The key of the cached tokens of ``splits`` (see the module docstring)."""
    return store.content_key(
        {
            "cache_format": CACHE_FORMAT_VERSION,
            "dataset": splits.name,
            "fingerprint": splits.fingerprint,
            "settings": dict(splits.settings),
            "sizes": {name: len(getattr(splits, name)) for name in SPLIT_NAMES},
            "tokenizer": tokenizer_config,
        }
    )


def cache_key(splits: DatasetSplits, tokenizer_config: dict[str, Any], vocab_size: int, min_count: int) -> str:
    """The key of an encoding: the token key plus the vocabulary settings."""
    return store.content_key(
        {"tokens": token_key(splits, tokenizer_config), "vocabulary": {"max_size": vocab_size, "min_count": min_count}}
    )


def _tokenize(splits: DatasetSplits, tokenizer: Any, progress: bool) -> TokenizedSplits:
    index: dict[str, int] = {}
    ids, labels = {}, {}
    for name in SPLIT_NAMES:
        token_lists = tokenizer.tokenize_batch(getattr(splits, name).texts, progress=progress)
        arrays = [
            np.fromiter((index.setdefault(t, len(index)) for t in tokens), dtype=np.int32, count=len(tokens))
            for tokens in token_lists
        ]
        ids[name] = store.flatten(arrays)
        labels[name] = np.asarray(getattr(splits, name).labels, dtype=np.int64)
    return TokenizedSplits(list(index), ids, labels)


def _parse_tokens(data: Any, meta: dict[str, Any]) -> TokenizedSplits:
    table = store.unpack_strings(data["table"], data["table_offsets"])
    ids, labels = {}, {}
    for name in SPLIT_NAMES:
        flat, offsets, labels[name] = data[f"{name}_ids"], data[f"{name}_offsets"], data[f"{name}_labels"]
        if (
            len(offsets) != len(labels[name]) + 1
            or (len(offsets) and offsets[-1] != len(flat))
            or (len(flat) and int(flat.max()) >= len(table))
        ):
            raise ValueError(f"its {name} arrays are inconsistent")
        ids[name] = (flat, offsets)
        labels[name] = labels[name].astype(np.int64, copy=False)
    return TokenizedSplits(table, ids, labels)


def _save_tokens(path: Path, key: str, tokens: TokenizedSplits, meta: dict[str, Any]) -> None:
    arrays: dict[str, np.ndarray] = {}
    arrays["table"], arrays["table_offsets"] = store.pack_strings(tokens.table)
    for name in SPLIT_NAMES:
        arrays[f"{name}_ids"], arrays[f"{name}_offsets"] = tokens.ids[name]
        arrays[f"{name}_labels"] = tokens.labels[name]
    store.write_arrays(path, key, CACHE_FORMAT_VERSION, arrays, meta)


def build_vocabulary(tokens: TokenizedSplits, vocab_size: int, min_count: int) -> tuple[Any, np.ndarray]:
    """``(Vocabulary, lookup)``: the vocabulary :meth:`Vocabulary.build` would make from the
    training tokens, and the table index -> vocabulary id array (OOV = 1)."""
    from bilstm_attention.tokenizers import OOV_ID, OOV_TOKEN, PAD_TOKEN, Vocabulary

    counts = np.bincount(tokens.ids["train"][0], minlength=len(tokens.table))
    reserved = [PAD_TOKEN, OOV_TOKEN]
    ranked = sorted(
        (
            (tokens.table[i], int(counts[i]))
            for i in np.flatnonzero(counts >= min_count)
            if tokens.table[i] not in reserved
        ),
        key=lambda item: (-item[1], item[0]),
    )[: vocab_size - 2]
    vocabulary = Vocabulary(
        [*reserved, *(t for t, _ in ranked)], [0, 0, *(n for _, n in ranked)], max_size=vocab_size, min_count=min_count
    )
    lookup = np.full(len(tokens.table), OOV_ID, dtype=np.int32)
    position = {token: i for i, token in enumerate(tokens.table)}
    for vocab_id, (token, _) in enumerate(ranked, start=len(reserved)):
        lookup[position[token]] = vocab_id
    return vocabulary, lookup


def encode_dataset(
    splits: DatasetSplits,
    tokenizer: Any,
    vocab_size: int,
    *,
    min_count: int = 1,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    use_cache: bool = True,
) -> EncodedSplits:
    """Tokenize and encode ``splits``, reusing the tokens of an earlier run on the same data
    with the same tokenizer (whatever its vocabulary settings were).

    Args:
        splits: from :func:`load_dataset` or :func:`load_file`.
        tokenizer: a :class:`~bilstm_attention.tokenizers.Tokenizer`, a tokenizer name, or a
            ``get_config()`` dict.
        vocab_size: the vocabulary's size, counting padding (0) and OOV (1).
        min_count: tokens seen fewer times in train are out of vocabulary.
        cache_dir: where the token cache files go (default ``default_cache_dir() / "encoded"``).
        progress: progress bars while tokenizing.
        use_cache: ``False`` neither reads nor writes the cache.
    """
    tokenizer = _resolve_tokenizer(tokenizer)
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size < 3:
        raise ConfigError(f"vocab_size must be an integer >= 3 (it counts padding and OOV), got {vocab_size!r}")
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise ConfigError(f"min_count must be a positive integer, got {min_count!r}")
    vocab_size, min_count = int(vocab_size), int(min_count)
    config = tokenizer.get_config()
    tokens_key = token_key(splits, config)
    directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir() / "encoded"
    path = directory / f"{splits.name.replace(':', '_').replace('/', '_')}-{tokens_key[:24]}.npz"

    tokens = store.read_arrays(path, tokens_key, CACHE_FORMAT_VERSION, _parse_tokens) if use_cache else None
    from_cache = tokens is not None
    if tokens is None:
        tokens = _tokenize(splits, tokenizer, progress)
        if use_cache:
            _save_tokens(
                path,
                tokens_key,
                tokens,
                {"dataset": splits.name, "fingerprint": splits.fingerprint, "tokenizer": config},
            )
    vocabulary, lookup = build_vocabulary(tokens, vocab_size, min_count)
    encoded = {}
    for name in SPLIT_NAMES:
        flat, offsets = tokens.ids[name]
        encoded[name] = EncodedSplit(store.unflatten(lookup[flat], offsets), tokens.labels[name])
    return EncodedSplits(
        splits.name,
        encoded["train"],
        encoded["validation"],
        encoded["test"],
        vocabulary,
        tokenizer,
        from_cache,
        cache_key(splits, config, vocab_size, min_count),
        path if use_cache else None,
        splits.class_names,
    )


__all__ = ["CACHE_FORMAT_VERSION", "EncodedSplit", "EncodedSplits", "encode_dataset"]
