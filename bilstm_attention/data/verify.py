"""``verify_dataset``: check local copies of a dataset's files (checksums and structure).

Nothing is downloaded. Every file gets a status:

``ok``        the checksum matches upstream (and the structure checks pass);
``accepted``  the checksum differs but the structure checks pass (e.g. the rebuilt IMDB
              tarball), or an extracted folder (no checksum) passes them;
``failed``    the checksum differs and the structure checks fail, or the file is malformed
              (the message names the file and the line or member);
``missing``   the file is not in any data directory (the message lists where it looked).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bilstm_attention.data.fetch import find_file
from bilstm_attention.data.loading import ResolvedFiles, read_files
from bilstm_attention.data.registry import DatasetSpec, get_spec
from bilstm_attention.data.structure import describe_counts, file_verdict
from bilstm_attention.errors import BilstmAttentionError


@dataclass
class FileCheck:
    """The verdict on one file of a dataset."""

    role: str
    filename: str
    path: Path | None
    status: str
    algorithm: str | None = None
    expected: str | None = None
    actual: str | None = None
    message: str = ""


@dataclass
class VerificationReport:
    """Per-file verdicts and the counts the structure checks saw."""

    name: str
    files: list[FileCheck] = field(default_factory=list)
    observed: dict[str, Any] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.files) and all(f.status in ("ok", "accepted") for f in self.files)

    @property
    def problems(self) -> list[str]:
        return [f.message for f in self.files if f.status in ("failed", "missing")]

    def format(self) -> str:
        """Human-readable lines (what ``bilstm-attention datasets verify`` prints)."""
        verdict = "OK" if self.ok else "FAILED"
        lines = [f"{self.name}: {verdict}"]
        for check in self.files:
            where = str(check.path) if check.path else check.filename
            lines.append(f"  [{check.status}] {where}")
            if check.message:
                lines.extend(f"      {line}" for line in check.message.splitlines())
        if self.observed:
            lines.append(f"  structure: {describe_counts(self.observed)}")
        lines.extend(f"  {detail}" for detail in self.details)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "files": [
                {**{k: v for k, v in vars(f).items() if k != "path"}, "path": str(f.path) if f.path else None}
                for f in self.files
            ],
            "observed": self.observed,
            "details": self.details,
        }


def verify_dataset(
    name: str | DatasetSpec, data_dir: str | os.PathLike[str] | None = None, *, progress: bool = False
) -> VerificationReport:
    """Verify the local copy of a registry dataset (see the module docstring)."""
    spec = get_spec(name)
    report = VerificationReport(spec.name)
    paths: dict[str, Path] = {}
    for file in spec.files:
        path, looked = find_file(spec, file, data_dir)
        if path is None:
            places = ", ".join(str(p) for p in looked)
            report.files.append(
                FileCheck(
                    file.role, file.filename, None, "missing", message=f"{file.filename} is missing; looked in {places}"
                )
            )
        else:
            paths[file.role] = path
    if not paths:
        return report
    try:
        raw = read_files(spec, ResolvedFiles(paths, False), progress=progress)
    except BilstmAttentionError as exc:
        message = str(exc)
        named = [role for role, p in paths.items() if str(p) in message]
        for role, path in paths.items():
            file = spec.file(role)
            status = "failed" if (role in named or not named) else "ok"
            report.files.append(
                FileCheck(
                    role, file.filename, path, status, message=message if status == "failed" else "not checked further"
                )
            )
        return report
    sources = {s.role: s for s in raw.source_files}
    report.observed = raw.observed
    for role, path in paths.items():
        file = spec.file(role)
        source = sources[role]
        problems = raw.problems.get(role, [])
        check = FileCheck(role, file.filename, path, "ok", source.algorithm, source.expected, source.digest)
        verdict = file_verdict(spec, source, problems, raw.observed)
        check.status, check.message = verdict.status, verdict.message
        report.files.append(check)
        records = raw.parts.get(role)
        if records is not None:
            if records.dropped:
                report.details.append(f"{role}: dropped {dict(records.dropped)}")
            if records.skipped_lines:
                report.details.append(f"{role}: skipped known-defect lines {records.skipped_lines}")
    return report
