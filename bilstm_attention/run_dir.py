"""The layout of a run directory, shared by training (writer) and inference (reader).

::

    run/
      run.json          format version, package version, training + classifier config,
                        dataset facts (name, fingerprint, class names, language)
      tokenizer.json    the tokenizer's config (Korean analyser settings included)
      vocabulary.json   token <-> id
      ngrams.npz        the n-gram vocabulary (only for models with the n-gram branch)
      model.keras       the final (best-epoch) model
      history.json      per-epoch metrics
      metrics.json      test metrics and timings
      manifest.json     size and sha256 of each file above, written last: a run without it
                        did not finish (or is from a version before 0.2); loading checks it
      .lock             claims the directory for one training process (created atomically),
                        locked (flock) while that process trains
      checkpoints/      best.keras (best validation accuracy so far), backup/ (resume state)
      logs/             TensorBoard
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bilstm_attention.errors import (
    ModelLoadError,
    RunDirectoryExistsError,
    RunFinishedError,
    RunInUseError,
)
from bilstm_attention.fileio import file_mode, write_json

try:  # POSIX; elsewhere the atomic claim (O_EXCL) still keeps two new runs apart
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Bumped when the run directory layout or the meaning of its files changes.
RUN_FORMAT_VERSION = 1

MANIFEST_FORMAT = "bilstm-attention-run-manifest"
MANIFEST_VERSION = 1
#: Files recorded in ``manifest.json`` (those present at the end of training).
MANIFEST_FILES: tuple[str, ...] = (
    "run.json",
    "tokenizer.json",
    "vocabulary.json",
    "ngrams.npz",
    "model.keras",
    "history.json",
    "metrics.json",
)
#: The files loading a run reads, checked against the manifest.
LOADED_FILES: tuple[str, ...] = ("run.json", "tokenizer.json", "vocabulary.json", "ngrams.npz", "model.keras")

# run directory (resolved) -> descriptor of its .lock held by this process
_HELD: dict[Path, int] = {}


def file_digest(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class RunDirectory:
    """Paths inside one run directory."""

    root: Path

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def tokenizer_json(self) -> Path:
        return self.root / "tokenizer.json"

    @property
    def vocabulary_json(self) -> Path:
        return self.root / "vocabulary.json"

    @property
    def ngrams_file(self) -> Path:
        return self.root / "ngrams.npz"

    @property
    def model_file(self) -> Path:
        return self.root / "model.keras"

    @property
    def history_json(self) -> Path:
        return self.root / "history.json"

    @property
    def history_csv(self) -> Path:
        return self.root / "history.csv"

    @property
    def metrics_json(self) -> Path:
        return self.root / "metrics.json"

    @property
    def best_checkpoint(self) -> Path:
        return self.root / "checkpoints" / "best.keras"

    @property
    def backup_dir(self) -> Path:
        return self.root / "checkpoints" / "backup"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def manifest_json(self) -> Path:
        return self.root / "manifest.json"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    def is_finished(self) -> bool:
        """Whether training wrote its last files (``metrics.json``, then ``manifest.json``)."""
        return self.manifest_json.is_file() or self.metrics_json.is_file()

    def create(self, *, resume: bool) -> None:
        """Claim the directory for a new run, or lock the run to resume, for this process.

        A new run claims the directory by creating ``.lock`` atomically (``O_EXCL``), so of
        two ``train`` commands started at the same moment with the same directory one is
        refused; the claim is also locked (``flock``) until :meth:`write_manifest` or the
        end of the process, so a ``--resume`` cannot run beside it.

        Raises:
            RunDirectoryExistsError: a new run would write into an existing, non-empty
                directory, or another process claimed it first (nothing is overwritten;
                pass ``resume`` or another directory).
            RunInUseError: another process is training in this directory.
            RunFinishedError: ``resume`` of a run that finished.
            ModelLoadError: ``resume`` but there is no run to resume here.
        """
        if resume:
            if not self.run_json.is_file():
                raise ModelLoadError(
                    f"cannot resume: {self.root} holds no run (missing {self.run_json.name}); "
                    "start a new run without --resume"
                )
            self._refuse_finished()
            self._lock(claim=False)
            try:
                self._refuse_finished()  # it may have finished while we waited for the lock
            except RunFinishedError:
                self.release()
                raise
            return
        self._check_new()
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock(claim=True)
        try:
            self._check_new()  # a claim taken over from a failed start: still nothing else here
        except RunDirectoryExistsError:
            self.release()
            raise

    def _refuse_finished(self) -> None:
        if self.is_finished():
            raise RunFinishedError(
                f"cannot resume: the run in {self.root} finished already ({self.metrics_json.name} "
                "is written); nothing was trained again. Evaluate it with `bilstm-attention evaluate "
                f"--model {self.root}`, or train more in a new run with another --output"
            )

    def _check_new(self) -> None:
        """Only an empty directory (or one holding just the claim of a start that failed
        before writing anything) can take a new run."""
        if self.root.exists() and any(p.name != self.lock_file.name for p in self.root.iterdir()):
            raise RunDirectoryExistsError(
                f"run directory {self.root} exists and is not empty; choose another --output "
                "or pass --resume to continue that run"
            )

    def _holder(self) -> str:
        try:
            text = self.lock_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            text = ""
        return text or "another process"

    def _lock(self, *, claim: bool) -> None:
        key = self.root.resolve()
        if key in _HELD:  # this process holds it already (resume after an error in a notebook)
            return
        claimed_by_other = RunDirectoryExistsError(
            f"run directory {self.root} was just claimed by another training process "
            f"({self._holder()}); choose another --output"
        )
        flags = os.O_RDWR | os.O_CREAT | (os.O_EXCL if claim else 0)
        try:
            fd = os.open(self.lock_file, flags, file_mode())
        except FileExistsError:
            if fcntl is None:
                raise claimed_by_other from None
            # the claim of a start that failed before writing anything, or of a live process:
            # the lock (below) tells them apart
            fd = os.open(self.lock_file, os.O_RDWR, file_mode())
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                if claim:
                    raise claimed_by_other from None
                raise RunInUseError(
                    f"another process is training in {self.root} ({self._holder()}); wait for it to "
                    "finish or stop it, then resume"
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        _HELD[key] = fd

    def release(self) -> None:
        """Give up this process's lock on the directory (if it holds it)."""
        fd = _HELD.pop(self.root.resolve(), None)
        if fd is not None:
            os.close(fd)

    def write_manifest(self) -> dict[str, Any]:
        """Record the size and sha256 of the run's files in ``manifest.json`` (atomically),
        then release the directory's lock. Called once training wrote everything else."""
        files = {
            name: {"size": (self.root / name).stat().st_size, "sha256": file_digest(self.root / name)}
            for name in MANIFEST_FILES
            if (self.root / name).is_file()
        }
        manifest = {"format": MANIFEST_FORMAT, "format_version": MANIFEST_VERSION, "files": files}
        write_json(self.manifest_json, manifest)
        self.release()
        return manifest

    def verify_manifest(self, names: Iterable[str] = LOADED_FILES) -> bool:
        """Check ``names`` against ``manifest.json``; ``False`` when there is no manifest (a run
        written before manifests existed), ``True`` when every recorded file matches.

        Raises:
            ModelLoadError: the manifest is unreadable, or a file is missing or differs from
                what training wrote (size or sha256): it was changed, damaged or copied from
                another run.
        """
        if not self.manifest_json.is_file():
            return False
        try:
            manifest = json.loads(self.manifest_json.read_text(encoding="utf-8"))
            files = manifest["files"]
            if manifest.get("format") != MANIFEST_FORMAT or not isinstance(files, dict):
                raise ValueError("not a run manifest")
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ModelLoadError(f"{self.manifest_json} is corrupted ({exc})") from exc
        for name in names:
            recorded = files.get(name)
            if recorded is None:
                continue
            path = self.root / name
            if not path.is_file():
                raise ModelLoadError(f"{self.root} is incomplete: {name} is missing (the manifest lists it)")
            size = path.stat().st_size
            if size != recorded.get("size") or file_digest(path) != recorded.get("sha256"):
                raise ModelLoadError(
                    f"{path} is not the file training wrote (its size or sha256 differs from "
                    f"{self.manifest_json.name}): it was changed, damaged or copied from another run; "
                    "restore it or train again"
                )
        return True

    def read_run_json(self) -> dict[str, Any]:
        """Read and check ``run.json``.

        Raises:
            ModelLoadError: the directory or file is missing, not JSON, or from an
                incompatible format version.
        """
        if not self.root.is_dir():
            raise ModelLoadError(f"run directory {self.root} does not exist")
        if not self.run_json.is_file():
            raise ModelLoadError(
                f"{self.root} is not a run directory: {self.run_json.name} is missing "
                "(give the directory that `bilstm-attention train` wrote)"
            )
        try:
            data = json.loads(self.run_json.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelLoadError(f"{self.run_json} is corrupted: {exc}") from exc
        version = data.get("format_version") if isinstance(data, dict) else None
        if version != RUN_FORMAT_VERSION:
            raise ModelLoadError(
                f"{self.run_json} has run format version {version!r}; this version of "
                f"bilstm-attention reads version {RUN_FORMAT_VERSION} (it was written by "
                f"bilstm-attention {data.get('package_version', 'unknown') if isinstance(data, dict) else 'unknown'})"
            )
        return data
