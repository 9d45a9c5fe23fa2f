"""IMDB: ``aclImdb_v1.tar.gz`` (streamed, nothing extracted) or its extracted ``aclImdb/``
folder, the cache of parsed archives, and the optional tensorflow-datasets source.

The parsed-archive cache keeps the reviews read from an archive, so that the next load skips
the tar parsing (about 11 s of CPU for 100,000 members, well under a second from the cache):
one ``.npz`` per key under ``<cache>/parsed/`` (:mod:`bilstm_attention.data.store`), the key
covering the reader version, the registry entry, the archive's digest and whether the
unlabeled reviews were kept. Only complete reads of archives are stored (not ``limit`` reads,
not extracted folders, whose content has no single digest).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import re
import sys
import tarfile
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from bilstm_attention.data import store
from bilstm_attention.data.fetch import (
    ARCHIVE_ERRORS,
    check_member,
    default_cache_dir,
    truncated_error,
)
from bilstm_attention.data.formats import READER_VERSION
from bilstm_attention.data.registry import DatasetSpec
from bilstm_attention.data.splits import (
    RawData,
    Records,
    SourceFile,
    balanced_subset,
    limit_sizes,
)
from bilstm_attention.data.structure import (
    FOLDER_DIGEST,
    observed_counts,
    problems_by_role,
    structure_problems,
)
from bilstm_attention.errors import (
    BilstmAttentionError,
    ConfigError,
    DataError,
    DatasetNotFoundError,
)

#: 2: keys from :func:`store.content_key`; 3: each review's movie (``groups``).
PARSED_FORMAT_VERSION = 3

_HTML_BREAK = re.compile(r"<br\s*/?\s*>", re.IGNORECASE)
_MEMBER = re.compile(r"^(?:\./)?(?P<top>[^/]+)/(?P<split>train|test)/(?P<folder>[^/]+)/(?P<name>[^/]+)$")
_REVIEW = re.compile(r"^(?P<id>\d+)_(?P<rating>\d+)\.txt$")
#: ``aclImdb/train/urls_pos.txt``: line i is the IMDb page of the movie of review i
_URLS = re.compile(r"^(?:\./)?(?P<top>[^/]+)/(?P<split>train|test)/urls_(?P<folder>[^/]+)\.txt$")
_TITLE = re.compile(r"tt\d+")


def _line_breaks(spec: DatasetSpec, text: str) -> str:
    """``<br />`` as the registry's ``html_line_breaks`` says (newline, space, or kept)."""
    breaks = {"newline": "\n", "space": " "}.get(spec.format.html_line_breaks or "keep")
    return text if breaks is None else _HTML_BREAK.sub(breaks, text)


def locate_imdb(spec: DatasetSpec, path: Path) -> Path:
    """The archive or extracted folder a user's ``path=`` means: itself, or the archive or
    ``aclImdb/`` folder inside the folder it names."""
    file = spec.files[0]
    if not path.is_dir() or (path / "train").is_dir():
        return path
    for candidate in (path / file.filename, path / (file.extracted_dir or "")):
        if candidate.exists() and candidate != path:
            return candidate
    raise DatasetNotFoundError(
        f"{path} is neither {file.filename} nor an extracted {file.extracted_dir}/ folder "
        f"(with train/ and test/), and contains neither"
    )


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
    def __init__(
        self,
        spec: DatasetSpec,
        display: str,
        splits: tuple[str, ...],
        unlabeled: bool,
        select: dict[tuple[str, str], set[int]] | None,
    ) -> None:
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
        self.want_groups = spec.split.validation_groups == "movie"
        self.urls: dict[tuple[str, str], list[str]] = {}

    def urls_member(self, relpath: str) -> tuple[str, str] | None:
        """``(split, folder)`` when ``relpath`` is a urls file whose movies are wanted."""
        match = _URLS.match(relpath) if self.want_groups else None
        if not match or (self.top and match["top"] != self.top) or match["folder"] not in self.mapping:
            return None
        return match["split"], match["folder"]

    def add_urls(self, relpath: str, split: str, folder: str, data: bytes) -> None:
        """Keep the movie of every line of a urls file (its ``tt`` id, else the whole line)."""
        lines = data.decode("utf-8", errors="replace").splitlines()
        movies = []
        for line in lines:
            title = _TITLE.search(line)
            movies.append(title.group() if title else line.strip())
        self.urls[(split, folder)] = movies

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
        """Whether to read this review (a skipped one is only counted)."""
        if folder == self.rule.unlabeled:
            wanted = self.want_unlabeled
        else:
            wanted = split in self.splits and (self.select is None or review_id in self.select.get((split, folder), ()))
        if not wanted:
            self.counts[(split, folder)] += 1
        return wanted

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
        text = _line_breaks(self.spec, text)
        if folder == self.rule.unlabeled:
            self.unlabeled[(review_id)] = text
            return
        label = self.mapping[folder]
        low, high = self.rule.ratings.get(self.spec.class_names[label], (None, None))
        if low is not None and not low <= rating <= high:
            raise DataError(
                f"{self.display}: {relpath}: rating {rating} is outside the label rule ({folder} means {low}-{high})"
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

    def movies(self, split: str) -> dict[str, list[str]] | None:
        """The movies of ``split``'s folders, or ``None`` when a urls file is missing."""
        if not self.want_groups or any((split, folder) not in self.urls for folder in self.mapping):
            return None
        for folder in self.mapping:
            movies = self.urls[(split, folder)]
            ids = self.found.get((split, folder), {})
            if ids and max(ids) >= len(movies):
                raise DataError(
                    f"{self.display}: {split}/urls_{folder}.txt has {len(movies):,} lines, but review "
                    f"{split}/{folder}/{max(ids)}_*.txt needs line {max(ids) + 1:,} (line i + 1 is review i's movie)"
                )
        return {folder: self.urls[(split, folder)] for folder in self.mapping}

    def finish(self, complete: bool) -> ImdbRead:
        parts: dict[str, Records] = {}
        for split in self.splits:
            records = Records(f"{self.display} ({split})")
            movies = self.movies(split)
            for folder in self.mapping:
                bucket = self.found.get((split, folder), {})
                for review_id in sorted(bucket):
                    text, label = bucket[review_id]
                    records.texts.append(text)
                    records.labels.append(label)
                    records.keys.append(f"{split}/{folder}/{review_id}")
                    if movies is not None:
                        records.groups.append(movies[folder][review_id])
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
    bar = tqdm(
        total=expected_members,
        desc=f"reading {source.name}",
        unit=" files",
        disable=not progress,
        leave=False,
        mininterval=0.5,
    )
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
                urls = collector.urls_member(member.name)
                if urls is not None and member.isfile():
                    handle = tar.extractfile(member)
                    assert handle is not None
                    collector.add_urls(member.name, *urls, handle.read())
                    continue
                info = collector.classify(member.name)
                if info is None:
                    continue
                if not member.isfile():
                    raise DataError(f"{display}: {member.name} is not a regular file")
                split, folder, review_id, rating = info
                if not collector.wanted(split, folder, review_id):
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
    for split, folder in folders:
        urls = root / split / f"urls_{folder}.txt"
        if collector.want_groups and urls.is_file():
            try:
                collector.add_urls(str(urls), split, folder, urls.read_bytes())
            except OSError as exc:
                raise DataError(f"cannot read {urls}: {exc.strerror or exc}") from None
    if collector.rule.unlabeled:
        folders.append(("train", collector.rule.unlabeled))
    for split, folder in folders:
        directory = root / split / folder
        if not directory.is_dir():
            if folder == collector.rule.unlabeled and not collector.want_unlabeled:
                continue
            raise DataError(f"{root}: folder {split}/{folder} is missing; is this an extracted aclImdb/?")
        names = sorted(os.listdir(directory))
        for name in tqdm(
            names, desc=f"reading {split}/{folder}", unit=" files", disable=not progress, leave=False, mininterval=0.5
        ):
            review = _REVIEW.match(name)
            if review is None:
                continue
            review_id, rating = int(review["id"]), int(review["rating"])
            relpath = f"{root.name}/{split}/{folder}/{name}"
            if not collector.wanted(split, folder, review_id):
                continue
            try:
                data = (directory / name).read_bytes()
            except OSError as exc:
                raise DataError(f"cannot read {directory / name}: {exc.strerror or exc}") from None
            collector.add(relpath, split, folder, review_id, rating, data)
    return collector.finish(True)


def _imdb_selection(spec: DatasetSpec, limit: int, seed: int) -> dict[tuple[str, str], set[int]] | None:
    """The review ids ``limit`` will take, from the registry's counts (ids 0..n-1 per folder),
    so that only those members are read."""
    classes = spec.structure.get("classes", {})
    rule = spec.label_rule
    folder_of = {name: raws[0] for name, raws in rule.classes.items()}
    select: dict[tuple[str, str], set[int]] = {}
    test_fraction = spec.limit_test_fraction
    for part, n in zip(("train", "test"), limit_sizes(limit, test_fraction, spec.num_classes)):
        counts = classes.get(part)
        if not counts:
            return None
        labels, keys = [], []
        for cls, name in enumerate(spec.class_names):
            for review_id in range(counts.get(name, 0)):
                labels.append(cls)
                keys.append(f"{part}/{folder_of[name]}/{review_id}")
        for i in balanced_subset(np.asarray(labels), keys, n, spec.num_classes, seed):
            _, folder, review_id = keys[i].split("/")
            select.setdefault((part, folder), set()).add(int(review_id))
    return select


def _imdb_observed(spec: DatasetSpec, counts: dict[tuple[str, str], int]) -> dict[str, Any]:
    rule = spec.label_rule
    observed: dict[str, Any] = {"rows": {}, "classes": {}}
    for part in ("train", "test"):
        observed["rows"][part] = sum(counts.get((part, raws[0]), 0) for raws in rule.classes.values())
        observed["classes"][part] = {name: counts.get((part, raws[0]), 0) for name, raws in rule.classes.items()}
    if rule.unlabeled:
        observed["rows"]["unlabeled"] = counts.get(("train", rule.unlabeled), 0)
    return observed


def read_imdb_files(spec, resolved, sources, progress, unlabeled, limit, limit_seed) -> RawData:
    file = spec.files[0]
    path = resolved.paths[file.role]
    source = sources[file.role]
    archive = source.algorithm != FOLDER_DIGEST  # an archive's reviews may be cached, a folder's not
    if archive:
        # a read that kept the unlabeled reviews serves a read without them too
        for flag in (True,) if unlabeled else (True, False):
            cache = parsed_cache_path(spec, source.algorithm, source.digest, flag)
            cached = store.read_arrays(*cache, PARSED_FORMAT_VERSION, partial(_parse, unlabeled=unlabeled))
            if cached is not None:
                parts, texts, observed, _ = cached
                problems = {file.role: structure_problems(spec, observed)}
                return RawData(parts, texts, [source], observed, problems)
    select = None
    if limit is not None and not unlabeled:
        trusted = (
            source.matches_upstream
            or resolved.explicit
            or (archive and store.is_verified(spec.content_hash, source.algorithm, source.digest))
        )
        if trusted:
            select = _imdb_selection(spec, limit, limit_seed)
    rows = spec.structure.get("rows", {})
    expected_members = sum(rows.values()) + 8 if rows else None
    # A whole archive is decompressed whichever members are kept, so a whole read of an archive
    # keeps the unlabeled reviews too (about 3 s more, measured) and caches them: a later read that wants
    # them (self-training, distillation) then costs no second pass over the archive.
    keep_unlabeled = unlabeled or (archive and select is None and spec.label_rule.unlabeled is not None)
    read: ImdbRead = read_imdb(
        path, spec, unlabeled=keep_unlabeled, select=select, progress=progress, expected_members=expected_members
    )
    observed = _imdb_observed(spec, read.counts)
    if not archive:
        source = SourceFile(file.role, path, FOLDER_DIGEST, read.content_digest)
    elif read.complete:
        cache = parsed_cache_path(spec, source.algorithm, source.digest, keep_unlabeled)
        save_parsed(*cache, read.parts, read.unlabeled, observed, read.counts)
    problems = {file.role: structure_problems(spec, observed)} if read.complete else {}
    return RawData(read.parts, read.unlabeled if unlabeled else None, [source], observed, problems, read.complete)


def parsed_cache_path(spec: DatasetSpec, algorithm: str, digest: str, unlabeled: bool) -> tuple[Path, str]:
    """(file, key) of the cached reviews of an archive."""
    key = store.content_key(
        {
            "format": PARSED_FORMAT_VERSION,
            "reader": READER_VERSION,
            "dataset": spec.name,
            "entry": spec.content_hash,
            "digest": [algorithm, digest],
            "unlabeled": bool(unlabeled),
        }
    )
    return default_cache_dir() / "parsed" / f"{spec.name}-{key[:24]}.npz", key


def save_parsed(
    path: Path,
    key: str,
    parts: dict[str, Records],
    unlabeled: list[str] | None,
    observed: dict[str, Any],
    counts: dict[tuple[str, str], int],
) -> None:
    """Store a complete read; failures to write only cost a re-parse next time."""
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {
        "parts": {},
        "observed": observed,
        "counts": [[split, folder, n] for (split, folder), n in counts.items()],
        "unlabeled": unlabeled is not None,
    }
    for name, records in parts.items():
        arrays[f"{name}_texts"], arrays[f"{name}_text_offsets"] = store.pack_strings(records.texts)
        arrays[f"{name}_keys"], arrays[f"{name}_key_offsets"] = store.pack_strings(records.keys)
        arrays[f"{name}_groups"], arrays[f"{name}_group_offsets"] = store.pack_strings(records.groups)
        arrays[f"{name}_labels"] = records.label_array()
        meta["parts"][name] = {
            "source": records.source,
            "raw_rows": records.raw_rows,
            "raw_labels": dict(records.raw_labels),
            "dropped": dict(records.dropped),
            "skipped_lines": records.skipped_lines,
        }
    if unlabeled is not None:
        arrays["unlabeled_texts"], arrays["unlabeled_offsets"] = store.pack_strings(unlabeled)
    store.write_arrays(path, key, PARSED_FORMAT_VERSION, arrays, meta)


def _parse(data: Any, meta: dict[str, Any], *, unlabeled: bool = True):
    """``(parts, unlabeled, observed, counts)`` from a parsed-archive cache file; the unlabeled
    reviews are ``None`` when the file has none or ``unlabeled`` is false."""
    parts: dict[str, Records] = {}
    for name, info in meta["parts"].items():
        records = Records(info["source"])
        records.texts = store.unpack_strings(data[f"{name}_texts"], data[f"{name}_text_offsets"])
        records.keys = store.unpack_strings(data[f"{name}_keys"], data[f"{name}_key_offsets"])
        records.groups = store.unpack_strings(data[f"{name}_groups"], data[f"{name}_group_offsets"])
        records.labels = data[f"{name}_labels"].astype(np.int64).tolist()
        if not len(records.texts) == len(records.keys) == len(records.labels):
            raise ValueError(f"its {name} arrays are inconsistent")
        if records.groups and len(records.groups) != len(records.keys):
            raise ValueError(f"its {name} groups are inconsistent")
        records.raw_rows = int(info["raw_rows"])
        records.raw_labels = Counter(info["raw_labels"])
        records.dropped = Counter(info["dropped"])
        records.skipped_lines = list(info["skipped_lines"])
        parts[name] = records
    texts = None
    if meta["unlabeled"] and unlabeled:
        texts = store.unpack_strings(data["unlabeled_texts"], data["unlabeled_offsets"])
    counts = {(split, folder): int(n) for split, folder, n in meta["counts"]}
    return parts, texts, meta["observed"], counts


def tfds_available() -> bool:
    """Whether the optional ``tensorflow-datasets`` can be imported (without importing it)."""
    if "tensorflow_datasets" in sys.modules:
        return sys.modules["tensorflow_datasets"] is not None
    try:
        return importlib.util.find_spec("tensorflow_datasets") is not None
    except (ImportError, ValueError):
        return False


def read_tfds(spec: DatasetSpec, *, download: bool, progress: bool, unlabeled: bool) -> RawData:
    if not spec.tfds_name:
        raise ConfigError(f"dataset {spec.name!r} has no tensorflow-datasets source; use source='files'")
    if not tfds_available():
        raise DatasetNotFoundError(
            "source='tfds' needs the optional package tensorflow-datasets, which is not installed "
            "(pip install 'bilstm-attention[tfds]'); or use source='files' to read "
            f"{spec.files[0].filename} directly"
        )
    import tensorflow_datasets as tfds
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    parts: dict[str, Records] = {}
    texts_unlabeled: list[str] | None = None
    try:
        builder = tfds.builder(spec.tfds_name)
        if download:
            builder.download_and_prepare()
        wanted = [("train", "train"), ("test", "test")] + ([("unlabeled", "unsupervised")] if unlabeled else [])
        for part, split in wanted:
            dataset = builder.as_dataset(split=split, as_supervised=True)
            records = Records(f"tfds:{spec.tfds_name}/{split}")
            for text, label in tqdm(tfds.as_numpy(dataset), desc=f"tfds {split}", disable=not progress, leave=False):
                raw = text if isinstance(text, bytes) else str(text).encode()
                digest.update(raw + b"\0" + str(int(label)).encode() + b"\n")
                value = _line_breaks(spec, raw.decode("utf-8", errors="replace"))
                records.raw_rows += 1
                if part == "unlabeled":
                    records.texts.append(value)
                    continue
                label = int(label)
                if not 0 <= label < spec.num_classes:
                    raise DataError(
                        f"tfds:{spec.tfds_name}/{split}: label {label} is outside 0..{spec.num_classes - 1}"
                    )
                records.raw_labels[spec.label_rule.classes[spec.class_names[label]][0]] += 1
                records.texts.append(value)
                records.labels.append(label)
                records.keys.append(value)
            if part == "unlabeled":
                texts_unlabeled = records.texts
            else:
                parts[part] = records
    except BilstmAttentionError:
        raise
    except Exception as exc:
        raise DatasetNotFoundError(
            f"tensorflow-datasets could not provide {spec.tfds_name!r}: {type(exc).__name__}: {exc}"
        ) from None
    observed = observed_counts(spec, parts)
    source = SourceFile("tfds", Path(f"tfds:{spec.tfds_name}"), FOLDER_DIGEST, digest.hexdigest())
    return RawData(parts, texts_unlabeled, [source], observed, problems_by_role(spec, observed, parts))
