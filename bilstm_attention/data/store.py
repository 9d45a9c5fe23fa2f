"""The one store for on-disk artifacts of the data layer (token cache, parsed archives).

* :func:`content_key`: the sha256 of the canonical JSON of a payload; every key, fingerprint
  and registry-entry hash of the data layer is computed with it.
* :func:`write_arrays` / :func:`read_arrays`: one ``.npz`` file per key, written atomically
  (:func:`bilstm_attention.fileio.atomic_path`: temporary file in the same folder, fsynced,
  renamed over the final name). A killed run leaves at most a ``.*.tmp`` file, which is never
  read and is removed once it is a day old. A file that cannot be read, or whose stored key
  or format version differs from the expected one, is ignored with a
  :class:`~bilstm_attention.errors.DataWarning`, removed, and recomputed by the caller.
* :func:`remember_verified` / :func:`is_verified`: the memo of non-upstream files whose full
  structure checks passed (``<cache>/verified-files.json``), so that a later ``limit`` load may
  read only part of them.
* :func:`pack_strings` / :func:`unpack_strings`, :func:`flatten` / :func:`unflatten`:
  lists of strings and of int arrays as two flat arrays.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from bilstm_attention.errors import DataWarning
from bilstm_attention.fileio import atomic_path, write_json

_STALE_TMP_SECONDS = 24 * 3600
T = TypeVar("T")


def content_key(payload: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``payload`` (sorted keys, UTF-8, compact;
    values JSON cannot hold are written with ``str``)."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pack_strings(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(utf-8 bytes as uint8, int64 offsets)`` of a list of strings."""
    encoded = [s.encode("utf-8", "surrogatepass") for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def unpack_strings(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    data = blob.tobytes()
    bounds = offsets.tolist()
    return [data[bounds[i] : bounds[i + 1]].decode("utf-8", "surrogatepass") for i in range(len(bounds) - 1)]


def flatten(ids: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(concatenated int32 ids, int64 offsets)``."""
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids)), out=offsets[1:])
    flat = np.concatenate(ids).astype(np.int32, copy=False) if ids else np.zeros(0, dtype=np.int32)
    return flat, offsets


def unflatten(flat: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    if len(offsets) and offsets[-1] != len(flat):
        raise ValueError("its arrays are inconsistent")
    return [flat[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]


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


def write_arrays(path: Path, key: str, version: int, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Store ``arrays`` and ``meta`` (JSON) under ``key``, atomically. A failure to write only
    costs a recomputation next time: it is reported as a :class:`DataWarning`."""
    meta = {**meta, "key": key, "format": version, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    arrays = {**arrays, "meta": np.frombuffer(json.dumps(meta, ensure_ascii=False, default=str).encode(), np.uint8)}
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            _save_arrays(handle, arrays)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        warnings.warn(f"could not write the cache file {path}: {exc}", DataWarning, stacklevel=3)
    _remove_stale_tmp(path.parent)


def read_arrays(path: Path, key: str, version: int, parse: Callable[[Any, dict[str, Any]], T]) -> T | None:
    """``parse(npz, meta)`` of the file stored under ``key``; ``None`` when there is none, or
    when it is unreadable or inconsistent (``parse`` raises): then it is removed, with a
    warning."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            if meta.get("key") != key or meta.get("format") != version:
                raise ValueError("its key or format version does not match")
            return parse(data, meta)
    except Exception as exc:
        warnings.warn(
            f"ignoring the unreadable cache file {path} ({type(exc).__name__}: {exc}); it will be rewritten",
            DataWarning,
            stacklevel=3,
        )
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def _verified_memo() -> Path:
    from bilstm_attention.data.fetch import default_cache_dir

    return default_cache_dir() / "verified-files.json"


def _read_verified() -> dict[str, Any]:
    try:
        data = json.loads(_verified_memo().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def remember_verified(dataset: str, filename: str, entry: str, algorithm: str, digest: str) -> None:
    """Remember that a file (``algorithm:digest``) passed the full structure checks of the
    registry entry whose hash is ``entry``."""
    data = _read_verified()
    data[f"{algorithm}:{digest}"] = {
        "dataset": dataset,
        "file": filename,
        "entry": entry,
        "verified": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    with contextlib.suppress(OSError):  # an unwritable cache only costs a re-check next time
        write_json(_verified_memo(), data)


def is_verified(entry: str, algorithm: str, digest: str) -> bool:
    record = _read_verified().get(f"{algorithm}:{digest}")
    return isinstance(record, dict) and record.get("entry") == entry
