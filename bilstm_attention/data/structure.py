"""Structure checks: does a local copy contain what the complete upstream dataset contains?

They decide whether a file whose checksum differs from upstream (the rebuilt IMDB tarball)
is accepted, and they are what ``datasets verify`` reports besides the checksums.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bilstm_attention.data.registry import DatasetSpec
from bilstm_attention.errors import BilstmAttentionError, ChecksumError, DataError


def observed_counts(spec: DatasetSpec, parts: Mapping[str, Any]) -> dict[str, Any]:
    """Counts in the shape of ``spec.structure`` from :class:`~.readers.Records` per part.

    Everything is counted as read, before empty texts or excluded labels are dropped:
    ``rows`` data rows, ``classes`` rows per class (by the label rule), ``raw_labels`` rows
    per raw label value.
    """
    rows = {part: records.raw_rows for part, records in parts.items()}
    mapping = spec.label_rule.value_to_class(spec.class_names)
    classes: dict[str, dict[str, int]] = {}
    for part, records in parts.items():
        counts = dict.fromkeys(spec.class_names, 0)
        for raw, count in records.raw_labels.items():
            if raw in mapping:
                counts[spec.class_names[mapping[raw]]] += count
        classes[part] = counts
    return {
        "rows": rows,
        "classes": classes,
        "raw_labels": {part: dict(records.raw_labels) for part, records in parts.items()},
    }


def structure_problems(spec: DatasetSpec, observed: Mapping[str, Any]) -> list[str]:
    """Differences between ``observed`` counts and the registry's ``structure`` (empty: ok)."""
    problems: list[str] = []
    for kind, expected_parts in spec.structure.items():
        seen_parts = observed.get(kind, {})
        for part, expected in expected_parts.items():
            if part not in seen_parts:
                continue
            seen = seen_parts[part]
            if isinstance(expected, Mapping):
                for label, count in expected.items():
                    got = seen.get(label, 0)
                    if got != count:
                        what = "reviews of class" if kind == "classes" else "rows with label"
                        problems.append(f"{part}: {got:,} {what} {label!r}, expected {count:,}")
                extra = sorted(set(seen) - set(expected))
                if kind == "raw_labels" and extra:
                    problems.append(f"{part}: unexpected label values {', '.join(map(repr, extra))}")
            elif seen != expected:
                problems.append(f"{part}: {seen:,} rows, expected {expected:,}")
    return problems


def problems_by_role(spec: DatasetSpec, observed: Mapping[str, Any], roles) -> dict[str, list[str]]:
    """:func:`structure_problems` grouped by the file role they name."""
    problems = structure_problems(spec, observed)
    return {role: [p for p in problems if p.startswith(f"{role}:")] for role in roles}


def describe_counts(observed: Mapping[str, Any]) -> str:
    """One line, e.g. ``train 25,000 rows, test 25,000 rows``."""
    rows = observed.get("rows", {})
    return ", ".join(f"{part} {count:,} rows" for part, count in rows.items())


@dataclass(frozen=True)
class Verdict:
    """The one decision on a local registry file, shared by ``load_dataset`` (which raises
    ``error`` for ``failed`` and warns when ``warn``) and ``datasets verify`` (which prints
    ``status`` and ``message``). ``status`` is ``ok``, ``accepted`` or ``failed``."""

    status: str
    message: str
    warn: bool = False
    error: type[BilstmAttentionError] | None = None


def file_verdict(
    spec: DatasetSpec, source: Any, problems: list[str], observed: Mapping[str, Any], *, complete: bool = True
) -> Verdict:
    """Checksum and structure checks of one :class:`SourceFile` of ``spec`` (a folder has no
    checksum: the structure decides; a file that differs from upstream is accepted only when
    the structure checks pass, with a warning)."""
    name, found = source.path, "; ".join(problems)
    if source.algorithm == FOLDER_DIGEST:
        if problems:
            return Verdict("failed", f"{name}: structure checks failed: {found}", error=DataError)
        return Verdict("accepted", "extracted folder: no checksum; structure checks pass")
    if source.matches_upstream:
        if problems:
            return Verdict(
                "failed",
                f"{name} matches the upstream checksum but not the registry's structure "
                f"({found}); the registry entry of {spec.name} needs fixing",
                error=DataError,
            )
        return Verdict("ok", f"{source.algorithm} {source.digest[:16]}... matches upstream")
    if source.matches_upstream is None:
        return Verdict("ok", "")
    differs = f"{name}: {source.algorithm} {source.digest} differs from upstream"
    if problems:
        return Verdict(
            "failed",
            f"{differs} ({source.expected}) and its structure checks fail: {found}. Delete the "
            "file (it will be downloaded again) or replace it with the upstream one.",
            error=ChecksumError,
        )
    if not complete:  # a limit read of a file whose full structure checks passed before
        return Verdict(
            "accepted",
            f"{differs}'s {source.expected}; accepted because its structure checks passed when it was read in full",
            warn=True,
        )
    return Verdict(
        "accepted",
        f"{differs}'s {source.expected}; accepted because its structure checks pass ({describe_counts(observed)})",
        warn=True,
    )


#: The digest "algorithm" of an extracted folder: sha256 over its members' paths and bytes.
FOLDER_DIGEST = "content-sha256"
