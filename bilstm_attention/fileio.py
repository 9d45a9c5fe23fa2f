"""Atomic file writes: a killed process never leaves a half-written file in place.

Every writer goes to a temporary file in the destination's directory and then
``os.replace``\\ s it over the destination, which is atomic on POSIX and Windows.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def file_mode(directory: bool = False) -> int:
    """The permissions a new file (or folder) gets under the current umask (``mkstemp`` and
    ``mkdtemp`` make theirs private; downloads, extracted folders, cache files, run
    directories and pictures should be like any other file the user makes)."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


@contextlib.contextmanager
def atomic_path(destination: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``destination``; on success move it into place.

    On an exception the temporary file is removed and ``destination`` is untouched.
    ``suffix`` lets writers that insist on an extension (Keras wants ``.keras``) have it.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=f".tmp{suffix}", dir=destination.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.is_file():
            os.chmod(tmp, file_mode())
        os.replace(tmp, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_json(destination: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented UTF-8 JSON, atomically."""
    with atomic_path(destination) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def save_keras_model(model: Any, destination: str | os.PathLike[str]) -> None:
    """Save a Keras model to a ``.keras`` file, atomically."""
    with atomic_path(destination, suffix=".keras") as tmp:
        model.save(tmp)
