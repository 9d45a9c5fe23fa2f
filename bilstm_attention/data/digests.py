"""File digests (sha256, git blob sha1), computed once per file version.

A digest is memoised by (real path, size, modification time in ns, algorithm), so loading
the same 56-85 MB archive twice in one process hashes it once; a file that changes gets a
new size or mtime and is hashed again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from bilstm_attention.data.registry import Checksum

_CHUNK = 1 << 20
_MEMO: dict[tuple[str, int, int, str], str] = {}


def _hash_file(path: Path, algorithm: str) -> str:
    size = path.stat().st_size
    if algorithm == "sha256":
        digest = hashlib.sha256()
    elif algorithm == "git_blob":
        digest = hashlib.sha1(usedforsecurity=False)
        digest.update(b"blob %d\0" % size)
    else:
        raise ValueError(f"unknown digest algorithm {algorithm!r}")
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """Hex digest of a file: ``sha256`` or ``git_blob`` (what ``git hash-object`` prints)."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, algorithm)
    cached = _MEMO.get(key)
    if cached is None:
        cached = _hash_file(path, algorithm)
        _MEMO[key] = cached
    return cached


def remember_digest(path: str | os.PathLike[str], algorithm: str, value: str) -> None:
    """Record a digest computed elsewhere (e.g. while downloading)."""
    path = Path(path)
    stat = path.stat()
    _MEMO[(str(path.resolve()), stat.st_size, stat.st_mtime_ns, algorithm)] = value


def check_file(path: str | os.PathLike[str], expected: Checksum) -> tuple[bool, str]:
    """``(matches, actual digest)`` of ``path`` against ``expected``."""
    actual = file_digest(path, expected.algorithm)
    return actual == expected.value, actual
