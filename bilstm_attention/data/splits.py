"""Split containers and the deterministic split / subset rules.

Every rule ranks the reviews of each class by ``blake2b(f"{seed}\\x1f{key}")`` (ties by
position), so results depend only on the reviews, their keys and the seed, not on file order
or on the platform; see the header of ``datasets.yaml``.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from bilstm_attention.data.registry import DatasetSpec


@dataclass(frozen=True)
class TextSplit:
    """Texts and integer labels (``int64``, class index into ``class_names``) of one split."""

    texts: list[str]
    labels: np.ndarray

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.texts)

    def class_counts(self, num_classes: int = 2) -> list[int]:
        return np.bincount(self.labels, minlength=num_classes).astype(int).tolist()


@dataclass
class Records:
    """Reviews read from one file (or one part of an archive), in file order."""

    source: str
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    #: what each review belongs to (IMDB: its movie), parallel to ``keys``; empty when the
    #: files say nothing about groups
    groups: list[str] = field(default_factory=list)
    raw_rows: int = 0
    raw_labels: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)
    skipped_lines: list[int] = field(default_factory=list)

    def label_array(self) -> np.ndarray:
        return np.asarray(self.labels, dtype=np.int64)


@dataclass(frozen=True)
class SourceFile:
    """A file (or folder) a dataset was read from, and how its digest compared to upstream."""

    role: str
    path: Path
    algorithm: str
    digest: str
    expected: str | None = None
    matches_upstream: bool | None = None
    size: int | None = None


@dataclass
class RawData:
    """What was read from the files, before any split."""

    parts: dict[str, Records]
    unlabeled: list[str] | None
    source_files: list[SourceFile]
    observed: dict[str, Any]
    problems: dict[str, list[str]] = field(default_factory=dict)
    complete: bool = True


@dataclass
class LoadReport:
    """What happened while loading: counts before and after every step.

    ``rows`` data rows read per file/part; ``dropped`` reviews removed per part and reason
    (``"empty text"``, ``"rating 3"``...); ``skipped_lines`` known-defect lines skipped;
    ``before_validation`` train/test sizes and class counts before the validation slice;
    ``final`` the sizes handed out; ``duplicates`` texts occurring more than once per part.
    """

    rows: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped_lines: dict[str, list[int]] = field(default_factory=dict)
    before_validation: dict[str, dict[str, int]] = field(default_factory=dict)
    final: dict[str, dict[str, int]] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class DatasetSplits:
    """train / validation / test of one dataset, with where they came from.

    ``fingerprint`` identifies the data read (the digests of the source files, the registry
    entry and the reader version); ``settings`` are the split settings (validation fraction
    and seed, limit); both go into the encoded-array cache key.
    """

    name: str
    spec: DatasetSpec
    train: TextSplit
    validation: TextSplit
    test: TextSplit
    fingerprint: str
    source_files: tuple[SourceFile, ...]
    settings: Mapping[str, Any]
    report: LoadReport
    unlabeled: list[str] | None = None

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.spec.class_names

    @property
    def num_classes(self) -> int:
        return self.spec.num_classes

    def summary(self) -> str:
        """A few human-readable lines: sizes and class counts before and after validation."""
        names = self.class_names

        def fmt(counts: Mapping[str, int]) -> str:
            total = counts.get("total", sum(v for k, v in counts.items() if k != "total"))
            classes = ", ".join(f"{counts.get(n, 0):,} {n}" for n in names)
            return f"{total:,} ({classes})"

        lines = [f"{self.name}: fingerprint {self.fingerprint[:16]}"]
        for part, counts in self.report.before_validation.items():
            lines.append(f"  {part} before the validation slice: {fmt(counts)}")
        for part, counts in self.report.final.items():
            lines.append(f"  {part}: {fmt(counts)}")
        for part, reasons in self.report.dropped.items():
            for reason, count in reasons.items():
                lines.append(f"  dropped from {part}: {count:,} ({reason})")
        for part, skipped in self.report.skipped_lines.items():
            if skipped:
                lines.append(f"  skipped known-defect lines in {part}: {skipped}")
        return "\n".join(lines)


def count_by_class(labels: np.ndarray, class_names: Sequence[str]) -> dict[str, int]:
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(class_names))
    out = {name: int(counts[i]) for i, name in enumerate(class_names)}
    out["total"] = len(labels)
    return out


# -------------------------------------------------------------------------------- rules


def hash_ranks(keys: Sequence[str], seed: int) -> np.ndarray:
    """A 64-bit pseudo-random value per key, determined by ``(seed, key)`` only."""
    prefix = f"{seed}\x1f".encode()
    values = np.empty(len(keys), dtype=np.uint64)
    for i, key in enumerate(keys):
        values[i] = int.from_bytes(
            hashlib.blake2b(prefix + key.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big"
        )
    return values


def _class_order(labels: np.ndarray, ranks: np.ndarray, cls: int) -> np.ndarray:
    index = np.flatnonzero(labels == cls)
    return index[np.lexsort((index, ranks[index]))]


def holdout_size(n: int, fraction: float) -> int:
    """round(fraction * n), at least 1 when ``n >= 2`` and ``fraction > 0``, never all of ``n``."""
    if fraction <= 0 or n < 2:
        return 0
    return min(max(int(math.floor(fraction * n + 0.5)), 1), n - 1)


def stratified_holdout(labels: np.ndarray, keys: Sequence[str], fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the held-out reviews: per class, the lowest-ranked ``holdout_size``.

    Reviews with the same key (the same text, when the text is the key) rank equally and are
    kept together: the cut never separates them, so the held-out count of a class can exceed
    ``holdout_size`` by less than the size of one such group (and a class made of a single
    group is not split at all).
    """
    labels = np.asarray(labels, dtype=np.int64)
    mask = np.zeros(len(labels), dtype=bool)
    if fraction <= 0 or len(labels) == 0:
        return mask
    ranks = hash_ranks(keys, seed)
    for cls in np.unique(labels):
        order = _class_order(labels, ranks, int(cls))
        target = holdout_size(len(order), fraction)
        if target == 0:
            continue
        cut = target
        # extend the cut over reviews identical (same rank and key) to the last one taken
        last = order[cut - 1]
        while cut < len(order) and ranks[order[cut]] == ranks[last] and keys[order[cut]] == keys[last]:
            cut += 1
        if cut == len(order):  # never hold out a whole class: step back before the group
            cut = target
            while cut > 0 and ranks[order[cut - 1]] == ranks[last] and keys[order[cut - 1]] == keys[last]:
                cut -= 1
        mask[order[:cut]] = True
    return mask


def grouped_stratified_holdout(labels: np.ndarray, groups: Sequence[str], fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the held-out reviews, taking whole groups (e.g. all reviews of a movie).

    Groups are visited in the order of ``hash_ranks`` of their names (ties by name), and a
    group is held out when it fits in what every class of its reviews still has of its quota
    (``holdout_size`` of the class); the visit ends when every quota is met. So no group is
    split, each class gets at most its quota (less only when no group left fits), a group that
    holds a whole class is never taken, and the result depends on ``(seed, group names)`` only,
    not on the order of the reviews.
    """
    labels = np.asarray(labels, dtype=np.int64)
    mask = np.zeros(len(labels), dtype=bool)
    if fraction <= 0 or len(labels) == 0:
        return mask
    names, group_of = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    classes = np.unique(labels)
    counts = np.zeros((len(names), len(classes)), dtype=np.int64)
    np.add.at(counts, (group_of, np.searchsorted(classes, labels)), 1)
    left = np.array([holdout_size(int(n), fraction) for n in counts.sum(axis=0)], dtype=np.int64)
    ranks = hash_ranks(list(names), seed)
    taken = np.zeros(len(names), dtype=bool)
    for g in np.lexsort((names, ranks)):
        if not left.any():
            break
        if np.all(counts[g] <= left):
            taken[g] = True
            left -= counts[g]
    return taken[group_of]


def balanced_quota(total: int, num_classes: int) -> list[int]:
    """``total`` spread over the classes as evenly as possible (the first classes get the rest)."""
    base, rest = divmod(total, num_classes)
    return [base + (1 if c < rest else 0) for c in range(num_classes)]


def balanced_subset(labels: np.ndarray, keys: Sequence[str], total: int, num_classes: int, seed: int) -> np.ndarray:
    """Sorted indices of a class-balanced subset of ``total`` reviews (per class the
    lowest-ranked; a class with fewer reviews contributes all it has)."""
    labels = np.asarray(labels, dtype=np.int64)
    ranks = hash_ranks(keys, seed)
    chosen = []
    for cls, quota in enumerate(balanced_quota(total, num_classes)):
        order = _class_order(labels, ranks, cls)
        chosen.append(order[:quota])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def limit_sizes(limit: int, test_fraction: float, num_classes: int) -> tuple[int, int]:
    """(train, test) review counts for ``limit=N``: N and ceil(N * test_fraction), the test
    count at least one per class."""
    return limit, max(num_classes, math.ceil(limit * test_fraction))


def take(texts: Sequence[str], labels: np.ndarray, keys: Sequence[str], index: np.ndarray):
    index = np.asarray(index, dtype=np.int64)
    return [texts[i] for i in index], np.asarray(labels, dtype=np.int64)[index], [keys[i] for i in index]
