"""Encoded-array cache: tokenize a dataset once, reuse the token ids afterwards.

:func:`encode_dataset` tokenizes train / validation / test, builds the vocabulary on the
training split only and maps every review to int32 ids. The result is stored as one
``.npz`` file per key under ``<cache>/encoded/``; the key is the sha256 of a canonical JSON
of everything that determines the ids: the cache format version, the dataset name and
fingerprint (digests of its files), the split settings (validation fraction and seed,
``limit``), the tokenizer's ``get_config()`` (name, options, analyser versions) and the
vocabulary settings.

Writes are atomic: the arrays go to a temporary file in the same folder, which is flushed,
fsynced and renamed over the final name. A killed run leaves at most a ``*.tmp`` file,
which is never read (and is removed once it is a day old). A cache file that cannot be read
or does not hold what its key says is ignored with a warning and rewritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bilstm_attention.data.sources import default_cache_dir, file_mode
from bilstm_attention.data.splits import DatasetSplits
from bilstm_attention.errors import ConfigError, DataWarning

#: Bump when the layout of the cache files or the meaning of their content changes.
CACHE_FORMAT_VERSION = 1
SPLIT_NAMES = ("train", "validation", "test")
_STALE_TMP_SECONDS = 24 * 3600


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
    """The encoded dataset; ``from_cache`` says whether tokenization was skipped."""

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


def _tokenizers_module():
    from bilstm_attention import tokenizers

    return tokenizers


def _resolve_tokenizer(tokenizer: Any) -> Any:
    """A tokenizer object from an object, a name or a ``get_config()`` dict."""
    if isinstance(tokenizer, str):
        return _tokenizers_module().get_tokenizer(tokenizer)
    if isinstance(tokenizer, dict):
        return _tokenizers_module().tokenizer_from_config(tokenizer)
    for method in ("tokenize_batch", "get_config"):
        if not callable(getattr(tokenizer, method, None)):
            raise ConfigError(f"tokenizer must be a Tokenizer, a tokenizer name or a config dict; "
                              f"{type(tokenizer).__name__} has no {method}()")
    return tokenizer


def _vocabulary_class() -> Any:
    return _tokenizers_module().Vocabulary


def cache_key(splits: DatasetSplits, tokenizer_config: dict[str, Any], vocab_size: int, min_count: int) -> str:
    """The sha256 key of an encoded dataset (see the module docstring)."""
    payload = {
        "cache_format": CACHE_FORMAT_VERSION,
        "dataset": splits.name,
        "fingerprint": splits.fingerprint,
        "settings": dict(splits.settings),
        "sizes": {name: len(getattr(splits, name)) for name in SPLIT_NAMES},
        "tokenizer": tokenizer_config,
        "vocabulary": {"max_size": vocab_size, "min_count": min_count},
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _flatten(ids: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.concatenate(ids).astype(np.int32, copy=False) if ids else np.zeros(0, dtype=np.int32)
    return flat, offsets


def _unflatten(flat: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    return [flat[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def _write_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, file_mode())
        with os.fdopen(fd, "wb") as handle:
            _save_arrays(handle, arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _save_arrays(handle: Any, arrays: dict[str, np.ndarray]) -> None:
    """Write the arrays (a seam for tests that simulate a killed writer)."""
    np.savez(handle, **arrays)


def _remove_stale_tmp(directory: Path) -> None:
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in directory.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > _STALE_TMP_SECONDS:
                    entry.unlink()


def _load(path: Path, key: str, vocabulary_cls: Any) -> tuple[dict[str, tuple[list[np.ndarray], np.ndarray]], Any]:
    """Read a cache file; raise ``ValueError`` (or an I/O error) if it is not a complete,
    matching entry."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(bytes(data["meta"]).decode("utf-8"))
        if meta.get("key") != key or meta.get("cache_format") != CACHE_FORMAT_VERSION:
            raise ValueError("its key or format version does not match")
        splits = {}
        for name in SPLIT_NAMES:
            flat, offsets, labels = data[f"{name}_ids"], data[f"{name}_offsets"], data[f"{name}_labels"]
            if len(offsets) != len(labels) + 1 or (len(offsets) and offsets[-1] != len(flat)):
                raise ValueError(f"its {name} arrays are inconsistent")
            splits[name] = (_unflatten(flat, offsets), labels.astype(np.int64, copy=False))
        vocabulary_json = bytes(data["vocabulary"])
    with tempfile.TemporaryDirectory(prefix="bilstm-attention-vocab-") as scratch:
        vocab_path = Path(scratch) / "vocabulary.json"
        vocab_path.write_bytes(vocabulary_json)
        vocabulary = vocabulary_cls.load(vocab_path)
    return splits, vocabulary


def _vocabulary_bytes(vocabulary: Any) -> bytes:
    with tempfile.TemporaryDirectory(prefix="bilstm-attention-vocab-") as scratch:
        vocab_path = Path(scratch) / "vocabulary.json"
        vocabulary.save(vocab_path)
        return vocab_path.read_bytes()


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
    """Tokenize and encode ``splits``, or load the result of an identical earlier run.

    Args:
        splits: from :func:`load_dataset` or :func:`load_file`.
        tokenizer: a :class:`~bilstm_attention.tokenizers.Tokenizer`, a tokenizer name, or a
            ``get_config()`` dict.
        vocab_size: the vocabulary's size, counting padding (0) and OOV (1).
        min_count: tokens seen fewer times in train are out of vocabulary.
        cache_dir: where the ``.npz`` files go (default ``default_cache_dir() / "encoded"``).
        progress: progress bars while tokenizing.
        use_cache: ``False`` neither reads nor writes the cache.
    """
    tokenizer = _resolve_tokenizer(tokenizer)
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size < 3:
        raise ConfigError(f"vocab_size must be an integer >= 3 (it counts padding and OOV), got {vocab_size!r}")
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise ConfigError(f"min_count must be a positive integer, got {min_count!r}")
    vocab_size, min_count = int(vocab_size), int(min_count)
    vocabulary_cls = _vocabulary_class()
    key = cache_key(splits, tokenizer.get_config(), vocab_size, min_count)
    directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir() / "encoded"
    path = directory / f"{splits.name.replace(':', '_').replace('/', '_')}-{key[:24]}.npz"

    def result(parts, vocabulary, from_cache: bool) -> EncodedSplits:
        encoded = {name: EncodedSplit(ids, labels) for name, (ids, labels) in parts.items()}
        return EncodedSplits(splits.name, encoded["train"], encoded["validation"], encoded["test"], vocabulary,
                             tokenizer, from_cache, key, path if use_cache else None, splits.class_names)

    if use_cache and path.is_file():
        try:
            parts, vocabulary = _load(path, key, vocabulary_cls)
        except Exception as exc:  # noqa: BLE001 - any unreadable cache file is recomputed
            warnings.warn(f"ignoring the unreadable cache file {path} ({type(exc).__name__}: {exc}); "
                          "it will be rewritten", DataWarning, stacklevel=2)
            with contextlib.suppress(OSError):
                path.unlink()
        else:
            sizes_ok = all(len(parts[n][0]) == len(getattr(splits, n)) for n in SPLIT_NAMES)
            if sizes_ok:
                return result(parts, vocabulary, True)
            warnings.warn(f"ignoring the cache file {path}: its sizes do not match the data; it will be rewritten",
                          DataWarning, stacklevel=2)

    tokens = {name: tokenizer.tokenize_batch(getattr(splits, name).texts, progress=progress) for name in SPLIT_NAMES}
    vocabulary = vocabulary_cls.build(tokens["train"], vocab_size, min_count=min_count)
    parts = {
        name: ([np.asarray(ids, dtype=np.int32) for ids in vocabulary.encode_batch(tokens[name])],
               np.asarray(getattr(splits, name).labels, dtype=np.int64))
        for name in SPLIT_NAMES
    }
    if use_cache:
        arrays: dict[str, np.ndarray] = {}
        for name, (ids, labels) in parts.items():
            arrays[f"{name}_ids"], arrays[f"{name}_offsets"] = _flatten(ids)
            arrays[f"{name}_labels"] = labels
        meta = {"key": key, "cache_format": CACHE_FORMAT_VERSION, "dataset": splits.name,
                "fingerprint": splits.fingerprint, "tokenizer": tokenizer.get_config(),
                "vocab_size": vocab_size, "min_count": min_count, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False, default=str).encode("utf-8"), dtype=np.uint8)
        arrays["vocabulary"] = np.frombuffer(_vocabulary_bytes(vocabulary), dtype=np.uint8)
        try:
            _write_atomic(path, arrays)
        except OSError as exc:
            warnings.warn(f"could not write the cache file {path}: {exc}", DataWarning, stacklevel=2)
        _remove_stale_tmp(directory)
    return result(parts, vocabulary, False)


__all__ = ["CACHE_FORMAT_VERSION", "EncodedSplit", "EncodedSplits", "cache_key", "encode_dataset"]
