"""``load_dataset``: registry entry -> files -> checks -> train / validation / test.

Checks on the files (see ``datasets.yaml``):

* a file whose checksum matches upstream is read with format checks (every row);
* a registry file whose checksum differs is accepted only if the structure checks pass
  (rows per file, per-class counts, raw label counts, expected archive members), with a
  :class:`~bilstm_attention.errors.DataWarning` naming the file and both digests; otherwise
  :class:`~bilstm_attention.errors.ChecksumError`;
* a file given explicitly (``path=``) is "a file in the upstream format": format checks only,
  and a warning when it is not byte-identical to upstream.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bilstm_attention.data import store
from bilstm_attention.data.digests import check_file, file_digest
from bilstm_attention.data.fetch import ensure_file
from bilstm_attention.data.formats import READER_VERSION
from bilstm_attention.data.formats.delimited import read_registry_table
from bilstm_attention.data.formats.imdb import (
    locate_imdb,
    read_imdb_files,
    read_tfds,
    tfds_available,
)
from bilstm_attention.data.registry import DatasetSpec, FileSpec, get_spec
from bilstm_attention.data.splits import (
    DatasetSplits,
    LoadReport,
    RawData,
    Records,
    SourceFile,
    TextSplit,
    balanced_subset,
    count_by_class,
    grouped_stratified_holdout,
    limit_sizes,
    stratified_holdout,
    take,
)
from bilstm_attention.data.store import content_key
from bilstm_attention.data.structure import (
    FOLDER_DIGEST,
    describe_counts,
    file_verdict,
    observed_counts,
    problems_by_role,
)
from bilstm_attention.errors import (
    ConfigError,
    DataError,
    DatasetNotFoundError,
    DataWarning,
)

SOURCES = ("auto", "files", "tfds")


# --------------------------------------------------------------------------- arguments


def is_count(value: Any, minimum: int) -> bool:
    """Whether ``value`` is an integer (not a bool) of at least ``minimum``."""
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= minimum


def check_seed(name: str, value: Any) -> int:
    if not is_count(value, 0):
        raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def split_settings(spec: DatasetSpec, *, validation_fraction: Any, seed: Any, limit: Any) -> dict[str, Any]:
    """The checked split settings of a load (``None`` = the spec's); part of every cache key."""
    fraction = validation_fraction
    if fraction is None:
        fraction = spec.validation_fraction
    elif isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction < 1:
        raise ConfigError(f"validation_fraction must be a number in [0, 1), got {fraction!r}")
    else:
        fraction = float(fraction)
    validation_seed = spec.validation_seed if seed is None else check_seed("seed", seed)
    if limit is not None and not is_count(limit, spec.num_classes):
        raise ConfigError(f"limit must be an integer >= {spec.num_classes} (one review per class), got {limit!r}")
    return {
        "source": "files",
        "split": spec.split.describe(),
        "validation_fraction": fraction,
        "validation_seed": validation_seed,
        "limit": int(limit) if limit is not None else None,
        "limit_seed": (spec.limit_seed if seed is None else validation_seed) if limit is not None else None,
        "limit_test_fraction": spec.limit_test_fraction if limit is not None else None,
    }


# ------------------------------------------------------------------------- resolution


@dataclass
class ResolvedFiles:
    """Where each file role of a dataset was found."""

    paths: dict[str, Path]
    explicit: bool


def resolve_files(
    spec: DatasetSpec, data_dir=None, path=None, *, download: bool = True, progress: bool = True
) -> ResolvedFiles:
    """Find (or download) every file of ``spec``; ``path`` overrides the search."""
    if path is not None:
        return ResolvedFiles(_explicit_paths(spec, path), True)
    paths = {
        file.role: ensure_file(spec, file, data_dir, download_missing=download, progress=progress)
        for file in spec.files
    }
    return ResolvedFiles(paths, False)


def _explicit_paths(spec: DatasetSpec, path: Any) -> dict[str, Path]:
    roles = [f.role for f in spec.files]
    if isinstance(path, Mapping):
        unknown = sorted(set(map(str, path)) - set(roles))
        missing = sorted(set(roles) - set(map(str, path)))
        if unknown or missing:
            raise ConfigError(
                f"path for {spec.name} must map exactly the roles {', '.join(roles)}; "
                f"got {', '.join(map(str, path)) or 'nothing'}"
            )
        out = {str(role): Path(p).expanduser() for role, p in path.items()}
    else:
        p = Path(path).expanduser()
        if not p.exists():
            raise DatasetNotFoundError(f"path {p} does not exist (dataset {spec.name!r})")
        if spec.format.type == "imdb_archive":
            return {spec.files[0].role: locate_imdb(spec, p)}
        if p.is_dir():
            out = {f.role: p / f.filename for f in spec.files}
        elif len(spec.files) == 1:
            out = {spec.files[0].role: p}
        else:
            names = " and ".join(f.filename for f in spec.files)
            raise ConfigError(
                f"{spec.name} has {len(spec.files)} files ({', '.join(roles)}); pass a folder holding {names}, "
                f"or a mapping {{{', '.join(repr(r) + ': ...' for r in roles)}}}"
            )
    for role, p in out.items():
        if not p.is_file():
            raise DatasetNotFoundError(f"{p} does not exist ({spec.name} file {role!r})")
    return out


# ------------------------------------------------------------------------------ reading


def _digest_of(path: Path, file: FileSpec) -> SourceFile:
    if path.is_dir():
        return SourceFile(file.role, path, FOLDER_DIGEST, "", None, None, None)
    size = path.stat().st_size
    if file.checksum is None:
        return SourceFile(file.role, path, "sha256", file_digest(path), None, None, size)
    matches, actual = check_file(path, file.checksum)
    return SourceFile(file.role, path, file.checksum.algorithm, actual, file.checksum.value, matches, size)


def read_files(
    spec: DatasetSpec,
    resolved: ResolvedFiles,
    *,
    progress: bool = True,
    unlabeled: bool = False,
    limit: int | None = None,
    limit_seed: int = 0,
) -> RawData:
    """Read every resolved file with format checks; count what structure checks need."""
    files = {f.role: f for f in spec.files}
    sources = {role: _digest_of(path, files[role]) for role, path in resolved.paths.items()}
    if spec.format.type == "imdb_archive":
        return read_imdb_files(spec, resolved, sources, progress, unlabeled, limit, limit_seed)
    parts: dict[str, Records] = {}
    for role, path in resolved.paths.items():
        source = sources[role]
        # known upstream defects are skipped only in the byte-exact upstream file
        defects = spec.known_defects.get(role, ()) if source.matches_upstream else ()
        parts[role] = read_registry_table(path, spec, role, known_defects=defects)
    observed = observed_counts(spec, parts)
    return RawData(parts, None, list(sources.values()), observed, problems_by_role(spec, observed, parts))


def judge(spec: DatasetSpec, raw: RawData, explicit: bool) -> list[str]:
    """Apply the checksum/structure policy: raise for unacceptable files, warn (and return the
    warnings) for accepted ones."""
    messages: list[str] = []
    for source in raw.source_files:
        problems = raw.problems.get(source.role, [])
        name = source.path
        if explicit:
            if source.matches_upstream is False:
                messages.append(
                    f"{name} is not the upstream {spec.file(source.role).filename} ({source.algorithm} "
                    f"{source.digest}, upstream {source.expected}); loaded as a file in the {spec.name} format "
                    f"given through path=, with format checks only ({describe_counts(raw.observed)})"
                )
            continue
        verdict = file_verdict(spec, source, problems, raw.observed, complete=raw.complete)
        if verdict.error is not None:
            raise verdict.error(verdict.message)
        if not verdict.warn:
            continue
        messages.append(verdict.message)
        if raw.complete:
            store.remember_verified(
                spec.name, spec.file(source.role).filename, spec.content_hash, source.algorithm, source.digest
            )
    for message in messages:
        warnings.warn(message, DataWarning, stacklevel=3)
    return messages


# ------------------------------------------------------------------------------- source


def _read_source(
    spec: DatasetSpec,
    source: str,
    data_dir: str | os.PathLike[str] | None,
    path: Any,
    *,
    download: bool,
    progress: bool,
    unlabeled: bool,
    settings: dict[str, Any],
) -> tuple[RawData, str]:
    """Read the upstream files, or tensorflow-datasets (``source="tfds"``, or ``"auto"`` when
    the files are unavailable and tensorflow-datasets is installed). Returns the raw data and
    the source used (``"files"`` or ``"tfds"``)."""
    if source != "tfds":
        try:
            resolved = resolve_files(spec, data_dir, path, download=download, progress=progress)
        except DatasetNotFoundError as exc:
            if not (source == "auto" and path is None and spec.tfds_name and tfds_available()):
                raise
            files_error: DatasetNotFoundError | None = exc
        else:
            limit, limit_seed = settings["limit"], settings["limit_seed"]
            raw = read_files(spec, resolved, progress=progress, unlabeled=unlabeled, limit=limit, limit_seed=limit_seed)
            return raw, "files"
    else:
        files_error = None
    try:
        raw = read_tfds(spec, download=download, progress=progress, unlabeled=unlabeled)
    except DatasetNotFoundError as tfds_exc:
        if files_error is None:
            raise
        raise DatasetNotFoundError(f"{files_error}\nThe tensorflow-datasets fallback failed too: {tfds_exc}") from None
    problems = [p for ps in raw.problems.values() for p in ps]
    if problems:
        raise DataError(f"tensorflow-datasets {spec.tfds_name}: structure checks failed: {'; '.join(problems)}")
    return raw, "tfds"


# ------------------------------------------------------------------------------ assembly


def _duplicates(texts: list[str]) -> int:
    return len(texts) - len(set(texts))


def assemble(
    spec: DatasetSpec, raw: RawData, *, settings: dict[str, Any], fingerprint: str, notes: list[str]
) -> DatasetSplits:
    """Form train / test (upstream or the deterministic split), apply ``limit``, cut the
    validation slice (all from :func:`split_settings`), and count everything into the report."""
    limit, limit_seed = settings["limit"], settings["limit_seed"]
    validation_fraction, validation_seed = settings["validation_fraction"], settings["validation_seed"]
    report = LoadReport()
    for role, records in raw.parts.items():
        report.rows[role] = records.raw_rows
        if records.dropped:
            report.dropped[role] = dict(records.dropped)
        if records.skipped_lines:
            report.skipped_lines[role] = list(records.skipped_lines)
    if raw.unlabeled is not None:
        report.rows["unlabeled"] = len(raw.unlabeled)

    if spec.split.method == "upstream":
        train_r, test_r = raw.parts[spec.split.train], raw.parts[spec.split.test]
        train = (train_r.texts, train_r.label_array(), train_r.keys)
        test = (test_r.texts, test_r.label_array(), test_r.keys)
        train_groups = list(train_r.groups) or None
    else:
        (records,) = raw.parts.values()
        labels = records.label_array()
        mask = stratified_holdout(labels, records.keys, spec.split.test_fraction, spec.split.seed)
        train = take(records.texts, labels, records.keys, np.flatnonzero(~mask))
        test = take(records.texts, labels, records.keys, np.flatnonzero(mask))
        train_groups = [records.groups[i] for i in np.flatnonzero(~mask)] if records.groups else None
        report.notes.append(f"test = {spec.split.describe()} of {len(labels):,} reviews")

    train_classes = np.unique(train[1])
    if len(train_classes) < 2:
        source = raw.parts[spec.split.train if spec.split.method == "upstream" else next(iter(raw.parts))].source
        found = (
            f"only the class {spec.class_names[int(train_classes[0])]!r} ({len(train[1]):,} reviews)"
            if len(train_classes)
            else "no reviews"
        )
        raise DataError(
            f"{source}: the training data has {found}; a classifier needs at least two classes "
            "(check the label column and the label map)"
        )

    if limit is not None:
        n_train, n_test = limit_sizes(limit, spec.limit_test_fraction, spec.num_classes)
        subset = balanced_subset(train[1], train[2], n_train, spec.num_classes, limit_seed)
        train = take(*train, subset)
        train_groups = [train_groups[i] for i in subset] if train_groups else None
        test = take(*test, balanced_subset(test[1], test[2], n_test, spec.num_classes, limit_seed))
        report.notes.append(
            f"limit={limit}: class-balanced subsets of {len(train[0]):,} train and "
            f"{len(test[0]):,} test reviews (seed {limit_seed})"
        )

    report.before_validation = {
        "train": count_by_class(train[1], spec.class_names),
        "test": count_by_class(test[1], spec.class_names),
    }
    mask = _validation_mask(spec, train, train_groups, validation_fraction, validation_seed, report)
    validation = take(*train, np.flatnonzero(mask))
    train = take(*train, np.flatnonzero(~mask))
    report.final = {
        "train": count_by_class(train[1], spec.class_names),
        "validation": count_by_class(validation[1], spec.class_names),
        "test": count_by_class(test[1], spec.class_names),
    }
    train_set = set(train[0]) | set(validation[0])
    report.duplicates = {
        "train": _duplicates(train[0] + validation[0]),
        "test": _duplicates(test[0]),
        "test texts also in train": sum(1 for t in set(test[0]) if t in train_set),
    }
    report.checks.extend(notes)
    return DatasetSplits(
        name=spec.name,
        spec=spec,
        train=TextSplit(train[0], train[1]),
        validation=TextSplit(validation[0], validation[1]),
        test=TextSplit(test[0], test[1]),
        fingerprint=fingerprint,
        source_files=tuple(raw.source_files),
        settings=settings,
        report=report,
        unlabeled=raw.unlabeled,
    )


def _validation_mask(
    spec: DatasetSpec,
    train: tuple[list[str], np.ndarray, list[str]],
    groups: list[str] | None,
    fraction: float,
    seed: int,
    report: LoadReport,
) -> np.ndarray:
    """The validation slice of train: whole groups (``split.validation_groups``) when the files
    give each review's group, otherwise single reviews; the report says which."""
    kind = spec.split.validation_groups
    if kind is None:
        return stratified_holdout(train[1], train[2], fraction, seed)
    if not groups:
        report.notes.append(
            f"validation: single reviews, not whole {kind}s: the files read have no {kind} of each "
            "training review (aclImdb's train/urls_*.txt, or a limit= read that stopped before them)"
        )
        return stratified_holdout(train[1], train[2], fraction, seed)
    mask = grouped_stratified_holdout(train[1], groups, fraction, seed)
    held = {groups[i] for i in np.flatnonzero(mask)}
    report.notes.append(
        f"validation: whole {kind}s, {len(held):,} of {len(set(groups)):,}, none of them in train "
        f"(train and test share no {kind})"
    )
    return mask


def make_fingerprint(spec: DatasetSpec, sources: list[SourceFile], explicit: bool, extra: Any = None) -> str:
    """sha256 of the reader version, the registry entry and the digests of the files read."""
    payload = {
        "reader_version": READER_VERSION,
        "dataset": spec.name,
        "entry": spec.content_hash,
        "files": [[s.role, s.algorithm, s.digest] for s in sources],
        "explicit": explicit,
        "extra": extra,
    }
    return content_key(payload)


# ---------------------------------------------------------------------------- public API


def load_dataset(
    name: str | DatasetSpec,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    path: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    source: str = "auto",
    validation_fraction: float | None = None,
    seed: int | None = None,
    limit: int | None = None,
    download: bool = True,
    progress: bool = True,
    unlabeled: bool = False,
) -> DatasetSplits:
    """Load a registered dataset as train / validation / test texts and int64 labels.

    Args:
        name: a name from :func:`list_datasets` (or an alias, or a :class:`DatasetSpec`).
        data_dir: folder searched first for ``<name>/<file>`` (then ``$BILSTM_ATTENTION_DATA``,
            then the user cache); downloads go to the first of these.
        path: read this file (or folder, or ``{role: file}`` mapping) in the dataset's upstream
            format instead of searching, e.g. a partial copy; format checks only.
        source: ``"files"`` (upstream files), ``"tfds"`` (tensorflow-datasets, IMDB only,
            optional dependency) or ``"auto"`` (files, falling back to tfds when the files are
            unavailable and tensorflow-datasets is installed).
        validation_fraction: overrides the registry's validation fraction (0 disables it).
        seed: overrides the validation and ``limit`` seeds (not the test split's).
        limit: take a deterministic class-balanced subset of ``limit`` train and
            ``ceil(limit * 0.25)`` test reviews (smoke tests, notebooks).
        download: download missing files (with a progress bar; checksum verified).
        progress: show progress bars.
        unlabeled: also return the unlabeled reviews (IMDB's 50,000 ``train/unsup``) as
            ``DatasetSplits.unlabeled``.

    Raises:
        ConfigError: bad arguments. DatasetNotFoundError: files missing and not downloadable
        (the message lists where it looked and how to provide them). DataError: malformed
        data (file and line named). ChecksumError: a wrong download, or a local file that is
        not upstream and fails the structure checks.
    """
    spec = get_spec(name)
    if source not in SOURCES:
        raise ConfigError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if path is not None and source == "tfds":
        raise ConfigError("path= reads files; it cannot be combined with source='tfds'")
    settings = split_settings(spec, validation_fraction=validation_fraction, seed=seed, limit=limit)
    if unlabeled and not spec.label_rule.unlabeled:
        raise ConfigError(f"dataset {spec.name!r} has no unlabeled reviews")

    explicit = path is not None
    raw, used_source = _read_source(
        spec, source, data_dir, path, download=download, progress=progress, unlabeled=unlabeled, settings=settings
    )
    notes = judge(spec, raw, explicit) if used_source == "files" else []
    fingerprint = make_fingerprint(spec, raw.source_files, explicit)
    return assemble(spec, raw, settings={**settings, "source": used_source}, fingerprint=fingerprint, notes=notes)


def load_unlabeled(
    name: str | DatasetSpec = "imdb",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    seed: int | None = None,
    download: bool = True,
    progress: bool = True,
) -> list[str]:
    """The unlabeled reviews of a dataset (IMDB: the 50,000 ``train/unsup`` reviews, in id
    order), e.g. to pretrain embeddings. ``limit`` takes a deterministic subset."""
    spec = get_spec(name)
    if not spec.label_rule.unlabeled or spec.format.type != "imdb_archive":
        raise ConfigError(f"dataset {spec.name!r} has no unlabeled reviews")
    if limit is not None and not is_count(limit, 1):
        raise ConfigError(f"limit must be a positive integer, got {limit!r}")
    resolved = resolve_files(spec, data_dir, path, download=download, progress=progress)
    raw = read_files(spec, resolved, progress=progress, unlabeled=True)
    judge(spec, raw, resolved.explicit)
    texts = raw.unlabeled or []
    if limit is not None and limit < len(texts):
        keys = [str(i) for i in range(len(texts))]
        index = balanced_subset(
            np.zeros(len(texts), dtype=np.int64),
            keys,
            limit,
            1,
            spec.limit_seed if seed is None else check_seed("seed", seed),
        )
        texts = [texts[i] for i in index]
    return texts
