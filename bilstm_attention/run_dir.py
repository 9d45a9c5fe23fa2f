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
      checkpoints/      best.keras (best validation accuracy so far), backup/ (resume state)
      logs/             TensorBoard
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bilstm_attention.errors import ModelLoadError, RunDirectoryExistsError

#: Bumped when the run directory layout or the meaning of its files changes.
RUN_FORMAT_VERSION = 1


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

    def create(self, *, resume: bool) -> None:
        """Make the directory for a new run, or check it holds a run to resume.

        Raises:
            RunDirectoryExistsError: a new run would write into an existing, non-empty
                directory (nothing is overwritten; pass ``resume`` or another directory).
            ModelLoadError: ``resume`` but there is no run to resume here.
        """
        if resume:
            if not self.run_json.is_file():
                raise ModelLoadError(
                    f"cannot resume: {self.root} holds no run (missing {self.run_json.name}); "
                    "start a new run without --resume"
                )
            return
        if self.root.exists() and any(self.root.iterdir()):
            raise RunDirectoryExistsError(
                f"run directory {self.root} exists and is not empty; choose another --output "
                "or pass --resume to continue that run"
            )
        self.root.mkdir(parents=True, exist_ok=True)

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
