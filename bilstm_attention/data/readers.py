"""Readers for the upstream file formats.

* delimited text (NSMC, Steam, Naver shopping, users' CSV/TSV): :func:`iter_rows` splits a
  file into rows with exact 1-based line numbers; :func:`read_registry_table` applies a
  registry entry's columns, header and label rule.
* the IMDB tarball or its extracted ``aclImdb/`` folder: :func:`read_imdb`.

Every problem raises :class:`~bilstm_attention.errors.DataError` naming the file and the
line (or archive member) and what was expected.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import os
import re
import sys
import tarfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bilstm_attention.data.registry import DatasetSpec
from bilstm_attention.data.sources import ARCHIVE_ERRORS, check_member, truncated_error
from bilstm_attention.errors import DataError

#: Bumped whenever a change to the readers changes what is read (part of every fingerprint).
READER_VERSION = 1

_SEPARATOR_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}
_HTML_BREAK = re.compile(r"<br\s*/?\s*>", re.IGNORECASE)


@dataclass
class Records:
    """Reviews read from one file (or one part of an archive), in file order."""

    source: str
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    raw_rows: int = 0
    raw_labels: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)
    skipped_lines: list[int] = field(default_factory=list)

    def label_array(self) -> np.ndarray:
        return np.asarray(self.labels, dtype=np.int64)

    def class_counts(self, class_names: tuple[str, ...]) -> dict[str, int]:
        counts = np.bincount(self.label_array(), minlength=len(class_names))
        return {name: int(counts[i]) for i, name in enumerate(class_names)}


def separator_name(separator: str) -> str:
    return _SEPARATOR_NAMES.get(separator, repr(separator))


def preview(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


# ------------------------------------------------------------------------- delimited text


def _decode_error(display: str, line: int, raw: bytes, exc: UnicodeDecodeError, encoding: str, advice: str) -> str:
    return (
        f"{display}, line {line}: not valid {encoding} (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
        f"save the file as {encoding.upper()} or {advice}"
    )


def iter_rows(
    path: str | os.PathLike[str],
    *,
    separator: str,
    quoting: str = "none",
    encoding: str = "utf-8",
    display: str | None = None,
    advice: str = "pass its encoding",
) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """Yield ``(line number, fields, problem)`` for every row of a delimited text file.

    ``quoting="none"`` splits every physical line on ``separator`` (quotes are ordinary
    characters, like pandas' ``quoting=3``); a line that cannot be decoded is yielded with
    ``fields=None`` and ``problem`` set, so that the caller can skip known-bad lines.
    ``quoting="minimal"`` uses the :mod:`csv` module (quoted fields may contain separators
    and newlines; the line number is that of the row's last line). A UTF-8 byte-order mark
    is ignored; ``\\r\\n`` line ends are accepted.
    """
    path = Path(path)
    display = display or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{display} does not exist") from None
    except IsADirectoryError:
        raise DataError(f"{display} is a directory, not a data file") from None
    except OSError as exc:
        raise DataError(f"cannot read {display}: {exc.strerror or exc}") from None
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig") and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
        encoding = "utf-8"
    if quoting == "none":
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        for number, raw in enumerate(lines, 1):
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                yield number, None, _decode_error(display, number, raw, exc, encoding, advice)
                continue
            yield number, text.split(separator), None
        return
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        raw = data[line_start : data.find(b"\n", exc.start) if b"\n" in data[exc.start :] else len(data)]
        exc.start -= line_start
        raise DataError(_decode_error(display, line, raw, exc, encoding, advice)) from None
    limit = csv.field_size_limit()
    if limit < 1 << 24:
        csv.field_size_limit(min(sys.maxsize, 1 << 24))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"', strict=True)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"{display}, line {reader.line_num}: malformed row ({exc}); check the quoting") from None
        yield reader.line_num, row if row else [""], None


def read_registry_table(path: str | os.PathLike[str], spec: DatasetSpec, role: str, *,
                        known_defects: tuple[int, ...] = (), display: str | None = None) -> Records:
    """Read one delimited upstream file of ``spec`` (columns, header and label rule from the
    registry). ``known_defects`` are physical line numbers that may be malformed; they are
    skipped and recorded in ``Records.skipped_lines``."""
    fmt = spec.format
    rule = spec.label_rule
    display = display or str(path)
    columns = fmt.columns
    ncols = len(columns)
    text_i = columns.index(fmt.text_column)
    label_i = columns.index(rule.column)
    key_i = columns.index(fmt.key_column) if fmt.key_column else None
    mapping = rule.value_to_class(spec.class_names)
    drop = set(rule.drop)
    defects = set(known_defects)
    sep_name = separator_name(fmt.separator)
    records = Records(display)
    expect_header = fmt.header is not None

    for number, fields, problem in iter_rows(path, separator=fmt.separator, quoting=fmt.quoting,
                                             encoding=fmt.encoding, display=display):
        if expect_header:
            expect_header = False
            if problem is not None:
                raise DataError(problem)
            if [f.strip() for f in fields] != list(fmt.header):
                raise DataError(
                    f"{display}, line 1: expected the header {sep_name}-separated "
                    f"{', '.join(fmt.header)}, found {preview(fmt.separator.join(fields))!r}"
                )
            continue
        if problem is None and len(fields) != ncols:
            if fields == [""]:
                problem = f"{display}, line {number}: empty line; expected {ncols} {sep_name}-separated fields ({', '.join(columns)})"
            else:
                problem = (
                    f"{display}, line {number}: expected {ncols} {sep_name}-separated fields "
                    f"({', '.join(columns)}), found {len(fields)}: {preview(fmt.separator.join(fields))!r}"
                )
        if problem is not None:
            if number in defects:
                records.skipped_lines.append(number)
                continue
            raise DataError(problem)
        records.raw_rows += 1
        raw_label = fields[label_i].strip()
        records.raw_labels[raw_label] += 1
        if raw_label in drop:
            records.dropped[f"{rule.column} {raw_label}"] += 1
            continue
        label = mapping.get(raw_label)
        if label is None:
            allowed = ", ".join(sorted(mapping))
            extra = f" ({', '.join(sorted(drop))} dropped)" if drop else ""
            raise DataError(
                f"{display}, line {number}: {rule.column} {preview(raw_label)!r} is outside the label rule of "
                f"{spec.name} (expected one of {allowed}{extra})"
            )
        text = fields[text_i]
        if not text.strip():
            if spec.empty_text == "drop":
                records.dropped["empty text"] += 1
                continue
            raise DataError(f"{display}, line {number}: empty review text in column {fmt.text_column!r}")
        records.texts.append(text)
        records.labels.append(label)
        records.keys.append(fields[key_i] if key_i is not None else text)
    if expect_header:
        raise DataError(f"{display} is empty; expected the header {', '.join(fmt.header)}")
    return records


# ------------------------------------------------------------------------------------ IMDB

_MEMBER = re.compile(r"^(?:\./)?(?P<top>[^/]+)/(?P<split>train|test)/(?P<folder>[^/]+)/(?P<name>[^/]+)$")
_REVIEW = re.compile(r"^(?P<id>\d+)_(?P<rating>\d+)\.txt$")


@dataclass
class ImdbRead:
    """What :func:`read_imdb` found: labelled records per split, unlabeled texts, counts."""

    source: str
    parts: dict[str, Records]
    unlabeled: list[str] | None
    counts: dict[tuple[str, str], int]
    complete: bool
    content_digest: str


class _ImdbCollector:
    def __init__(self, spec: DatasetSpec, display: str, splits: tuple[str, ...], unlabeled: bool,
                 select: dict[tuple[str, str], set[int]] | None) -> None:
        self.spec = spec
        self.display = display
        self.rule = spec.label_rule
        self.top = spec.files[0].extracted_dir
        self.mapping = self.rule.value_to_class(spec.class_names)
        self.splits = splits
        self.want_unlabeled = unlabeled
        self.select = select
        self.remaining = sum(len(ids) for ids in select.values()) if select is not None else None
        self.found: dict[tuple[str, str], dict[int, tuple[str, int]]] = {}
        self.unlabeled: dict[int, str] = {}
        self.counts: Counter = Counter()
        self.dropped: dict[str, Counter] = {s: Counter() for s in ("train", "test")}
        self.digest = hashlib.sha256()
        self.hash_content = False
        breaks = spec.format.html_line_breaks
        self.break_with = {"newline": "\n", "space": " "}.get(breaks or "keep")

    def classify(self, relpath: str) -> tuple[str, str, int, int] | None:
        """``(split, folder, id, rating)`` for a review member, ``None`` for other members."""
        match = _MEMBER.match(relpath)
        if not match or (self.top and match["top"] != self.top):
            return None
        review = _REVIEW.match(match["name"])
        if review is None:
            return None
        folder = match["folder"]
        if folder not in self.mapping and folder != self.rule.unlabeled:
            known = ", ".join([*self.mapping, self.rule.unlabeled or ""]).strip(", ")
            raise DataError(f"{self.display}: unexpected folder in {relpath!r} (expected {known})")
        return match["split"], folder, int(review["id"]), int(review["rating"])

    def wanted(self, split: str, folder: str, review_id: int) -> bool:
        if folder == self.rule.unlabeled:
            return self.want_unlabeled
        if split not in self.splits:
            return False
        if self.select is None:
            return True
        return review_id in self.select.get((split, folder), ())

    def add(self, relpath: str, split: str, folder: str, review_id: int, rating: int, data: bytes) -> None:
        self.counts[(split, folder)] += 1
        try:
            text = data.decode(self.spec.format.encoding)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{self.display}: {relpath} is not valid {self.spec.format.encoding} "
                f"(byte 0x{data[exc.start]:02x} at offset {exc.start})"
            ) from None
        if self.hash_content:  # folders only: an archive has its file digest
            self.digest.update(f"{relpath}\0{len(data)}\0".encode())
            self.digest.update(data)
        if self.break_with is not None:
            text = _HTML_BREAK.sub(self.break_with, text)
        if folder == self.rule.unlabeled:
            self.unlabeled[(review_id)] = text
            return
        label = self.mapping[folder]
        low, high = self.rule.ratings.get(self.spec.class_names[label], (None, None))
        if low is not None and not low <= rating <= high:
            raise DataError(
                f"{self.display}: {relpath}: rating {rating} is outside the label rule "
                f"({folder} means {low}-{high})"
            )
        bucket = self.found.setdefault((split, folder), {})
        if review_id in bucket:
            raise DataError(f"{self.display}: review id {review_id} appears twice in {split}/{folder}")
        if not text.strip():
            if self.spec.empty_text == "drop":
                self.dropped[split]["empty text"] += 1
                return
            raise DataError(f"{self.display}: {relpath}: empty review text")
        bucket[review_id] = (text, label)
        if self.remaining is not None:
            self.remaining -= 1

    def finish(self, complete: bool) -> ImdbRead:
        parts: dict[str, Records] = {}
        for split in self.splits:
            records = Records(f"{self.display} ({split})")
            for folder in self.mapping:
                bucket = self.found.get((split, folder), {})
                for review_id in sorted(bucket):
                    text, label = bucket[review_id]
                    records.texts.append(text)
                    records.labels.append(label)
                    records.keys.append(f"{split}/{folder}/{review_id}")
                records.raw_labels[folder] = self.counts.get((split, folder), 0)
            records.raw_rows = sum(records.raw_labels.values())
            records.dropped = self.dropped[split]
            parts[split] = records
        unlabeled = [self.unlabeled[i] for i in sorted(self.unlabeled)] if self.want_unlabeled else None
        return ImdbRead(self.display, parts, unlabeled, dict(self.counts), complete, self.digest.hexdigest())


def read_imdb(
    source: str | os.PathLike[str],
    spec: DatasetSpec,
    *,
    splits: tuple[str, ...] = ("train", "test"),
    unlabeled: bool = False,
    select: dict[tuple[str, str], set[int]] | None = None,
    progress: bool = True,
    expected_members: int | None = None,
) -> ImdbRead:
    """Read the IMDB reviews from ``aclImdb_v1.tar.gz`` (streamed, nothing extracted) or from
    an extracted ``aclImdb/`` folder.

    ``select`` maps ``(split, folder)`` to the review ids to read (``limit``); reading stops
    as soon as all of them were found (``ImdbRead.complete`` is then ``False``). Reviews are
    returned ordered by (split, class, id), whatever the order in the archive.
    """
    from tqdm.auto import tqdm

    source = Path(source)
    display = str(source)
    collector = _ImdbCollector(spec, display, splits, unlabeled, select)
    if source.is_dir():
        collector.hash_content = True
        return _read_imdb_folder(source, collector, progress)
    bar = tqdm(total=expected_members, desc=f"reading {source.name}", unit=" files", disable=not progress,
               leave=False, mininterval=0.5)
    count, last = 0, None
    complete = True
    gz = None
    try:
        with open(source, "rb") as probe:
            gzipped = probe.read(2) == b"\x1f\x8b"
        if gzipped:
            # gzip.GzipFile raises EOFError for a stream that ends early, where tarfile's own
            # "r|gz" decompressor would silently stop; the rest is drained below to check it
            gz = gzip.GzipFile(source, "rb")
            tar = tarfile.open(fileobj=gz, mode="r|")
        else:
            tar = tarfile.open(source, mode="r|*")
        with tar:
            for member in tar:
                count, last = count + 1, member.name
                bar.update(1)
                check_member(source, member)
                info = collector.classify(member.name)
                if info is None:
                    continue
                if not member.isfile():
                    raise DataError(f"{display}: {member.name} is not a regular file")
                split, folder, review_id, rating = info
                if not collector.wanted(split, folder, review_id):
                    collector.counts[(split, folder)] += 1
                    continue
                handle = tar.extractfile(member)
                assert handle is not None
                collector.add(member.name, split, folder, review_id, rating, handle.read())
                if collector.remaining == 0 and not unlabeled:
                    complete = False
                    break
        if gz is not None and complete:
            while gz.read(1 << 20):
                pass
    except ARCHIVE_ERRORS as exc:
        raise truncated_error(source, count, last, exc) from None
    finally:
        bar.close()
        if gz is not None:
            gz.close()
    if count == 0:
        raise DataError(f"{display}: the archive has no members")
    return collector.finish(complete)


def _read_imdb_folder(root: Path, collector: _ImdbCollector, progress: bool) -> ImdbRead:
    from tqdm.auto import tqdm

    folders = [(split, folder) for split in ("train", "test") for folder in collector.mapping]
    if collector.rule.unlabeled:
        folders.append(("train", collector.rule.unlabeled))
    for split, folder in folders:
        directory = root / split / folder
        if not directory.is_dir():
            if folder == collector.rule.unlabeled and not collector.want_unlabeled:
                continue
            raise DataError(f"{root}: folder {split}/{folder} is missing; is this an extracted aclImdb/?")
        names = sorted(os.listdir(directory))
        for name in tqdm(names, desc=f"reading {split}/{folder}", unit=" files", disable=not progress,
                         leave=False, mininterval=0.5):
            review = _REVIEW.match(name)
            if review is None:
                continue
            review_id, rating = int(review["id"]), int(review["rating"])
            relpath = f"{root.name}/{split}/{folder}/{name}"
            if not collector.wanted(split, folder, review_id):
                collector.counts[(split, folder)] += 1
                continue
            try:
                data = (directory / name).read_bytes()
            except OSError as exc:
                raise DataError(f"cannot read {directory / name}: {exc.strerror or exc}") from None
            collector.add(relpath, split, folder, review_id, rating, data)
    return collector.finish(True)
