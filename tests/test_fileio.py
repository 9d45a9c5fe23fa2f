"""Atomic writes: the file appears whole or not at all, with the user's usual permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bilstm_attention.fileio import atomic_path, file_mode, write_json


def test_written_files_follow_the_umask_not_mkstemps_private_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "a.json", {"a": 1})
        assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644 == file_mode()
        assert file_mode(directory=True) == 0o755
    finally:
        os.umask(old)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]
