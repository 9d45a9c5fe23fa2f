"""A user's own CSV/TSV file of reviews: ``load_file`` (CLI ``--file``).

Same checks as the registry datasets: a malformed row, a missing column, a label outside
the label map, an empty text or a file that is not in the given encoding each raise
:class:`~bilstm_attention.errors.DataError` naming the file and the line.

Without a test file, test is a deterministic stratified holdout (``test_fraction``, seed
``split_seed``), and validation a stratified slice of the rest, by the same rules as the
registry datasets (``datasets.yaml``).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bilstm_attention.data.digests import file_digest
from bilstm_attention.data.formats.delimited import (
    SEPARATOR_NAMES,
    field_count_error,
    iter_rows,
    preview,
    separator_name,
)
from bilstm_attention.data.loading import (
    assemble,
    check_seed,
    make_fingerprint,
    split_settings,
)
from bilstm_attention.data.registry import (
    EMPTY_TEXT_POLICIES,
    QUOTING,
    USER_FILE_MAX_LENGTH,
    DatasetSpec,
    FileSpec,
    FormatSpec,
    LabelRule,
    SplitSpec,
    _frozen,
    default_registry,
)
from bilstm_attention.data.splits import (
    DatasetSplits,
    LoadReport,
    RawData,
    Records,
    SourceFile,
    TextSplit,
    count_by_class,
)
from bilstm_attention.data.store import content_key
from bilstm_attention.errors import ConfigError, DataError

_EXTENSION_SEPARATORS = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": "\t"}


def parse_label_map(text: str, option: str = "--label-map") -> dict[str, int]:
    """``"neg=0,pos=1"`` -> ``{"neg": 0, "pos": 1}`` (for the command line)."""
    mapping: dict[str, int] = {}
    for item in (part.strip() for part in str(text).split(",")):
        if not item:
            continue
        raw, sep, value = item.rpartition("=")
        if not sep or not raw.strip() or not re.fullmatch(r"\d+", value.strip()):
            raise ConfigError(f"{option}: expected RAW=CLASS_INDEX pairs like 'neg=0,pos=1', got {item!r}")
        mapping[raw.strip()] = int(value)
    if not mapping:
        raise ConfigError(f"{option} is empty; expected pairs like 'neg=0,pos=1'")
    return mapping


#: Reviews sampled (from the top of the file) to tell its language, and the share of Hangul
#: among their letters from which it is Korean.
LANGUAGE_SAMPLE = 1000
HANGUL_SHARE_KO = 0.3
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


def detect_language(texts: list[str]) -> tuple[str | None, float]:
    """``(language, share of Hangul among the letters)`` of the first ``LANGUAGE_SAMPLE``
    texts: ``"ko"`` from a share of ``HANGUL_SHARE_KO``, else ``"en"``; ``None`` when they
    contain no letters at all."""
    sample = "".join(texts[:LANGUAGE_SAMPLE])
    letters = sum(1 for ch in sample if ch.isalpha())
    if not letters:
        return None, 0.0
    share = len(_HANGUL.findall(sample)) / letters
    return ("ko" if share >= HANGUL_SHARE_KO else "en"), share


def _check_label_map(label_map: Mapping[Any, Any]) -> dict[str, int]:
    if not isinstance(label_map, Mapping) or not label_map:
        raise ConfigError(f"label_map must be a non-empty mapping of raw label -> class index, got {label_map!r}")
    out: dict[str, int] = {}
    for raw, index in label_map.items():
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ConfigError(f"label_map[{raw!r}] must be a class index >= 0, got {index!r}")
        out[str(raw).strip()] = index
    indices = sorted(set(out.values()))
    if indices != list(range(len(indices))) or len(indices) < 2:
        raise ConfigError(f"label_map must map onto the class indices 0..K-1 (K >= 2), got {sorted(set(out.values()))}")
    return out


def _column_index(column: str | int, header: list[str] | None, ncols: int, display: str, what: str) -> int:
    """The 0-based index of a column given by name (needs a header) or by index."""
    if isinstance(column, bool) or not isinstance(column, (str, int)):
        raise ConfigError(f"{what} column must be a column name or a 0-based index, got {column!r}")
    names = [h.strip() for h in header] if header is not None else None
    if isinstance(column, str) and names is not None and column.strip() in names:
        return names.index(column.strip())
    if isinstance(column, int) or column.strip().isdigit():
        index = int(column)
        if index >= ncols:
            raise DataError(f"{display}: no {what} column {index} (0-based); the rows have {ncols} fields")
        return index
    if names is None:
        raise ConfigError(f"{what} column {column!r}: without a header, columns are 0-based indices")
    hint = ""
    other = next((name for char, name in SEPARATOR_NAMES.items() if len(names) == 1 and char in names[0]), None)
    if other:
        hint = f" (the header is one field holding a {other}: pass the separator, sep=..., CLI --sep)"
    raise DataError(f"{display}: no {what} column {column!r}; the header has: {', '.join(names)}{hint}")


def _read_user_file(
    path: Path,
    *,
    text_column,
    label_column,
    sep: str,
    header: bool,
    quoting: str,
    encoding: str,
    label_map: dict[str, int] | None,
    empty_text: str,
) -> tuple[Records, list[str] | None]:
    display = str(path)
    records = Records(display)
    header_row: list[str] | None = None
    text_i = label_i = None
    ncols = None
    raw_rows: list[tuple[int, str, str]] = []
    advice = "pass its encoding (encoding='cp949', CLI --encoding cp949)"
    for number, fields, problem in iter_rows(
        path, separator=sep, quoting=quoting, encoding=encoding, display=display, advice=advice
    ):
        if problem is not None:
            raise DataError(problem)
        if ncols is None:
            ncols = len(fields)
            if header:
                header_row = fields
                if not any(f.strip() for f in fields):
                    raise DataError(f"{display}, line {number}: the header is empty")
            text_i = _column_index(text_column, header_row, ncols, display, "text")
            label_i = _column_index(label_column, header_row, ncols, display, "label")
            if header:
                continue
        if fields == [""] or len(fields) != ncols:
            hint = " (is the quoting right?)" if quoting == "none" else ""
            raise DataError(field_count_error(display, number, fields, ncols, sep, hint=hint))
        raw_rows.append((number, fields[label_i].strip(), fields[text_i]))
    if ncols is None or not raw_rows:
        raise DataError(f"{display} has no data rows")

    if label_map is None:
        mapping: dict[str, int] = {}
        for number, raw, _ in raw_rows:
            if raw not in mapping:
                if not re.fullmatch(r"\d+", raw):
                    raise DataError(
                        f"{display}, line {number}: label {preview(raw)!r} is not a class index (0, 1, ...); "
                        "pass a label map, e.g. label_map={'neg': 0, 'pos': 1} (CLI --label-map neg=0,pos=1)"
                    )
                mapping[raw] = int(raw)
        classes = sorted(set(mapping.values()))
        if classes != list(range(len(classes))):
            raise DataError(
                f"{display}: the labels are {', '.join(map(str, classes))}; they must be the class indices 0..K-1 "
                "with K >= 2 (pass a label map to map other values)"
            )
    else:
        mapping = label_map
    for number, raw, text in raw_rows:
        records.raw_rows += 1
        records.raw_labels[raw] += 1
        label = mapping.get(raw)
        if label is None:
            raise DataError(
                f"{display}, line {number}: label {preview(raw)!r} is not in the label map "
                f"(expected one of {', '.join(map(repr, sorted(mapping)))})"
            )
        if not text.strip():
            if empty_text == "drop":
                records.dropped["empty text"] += 1
                continue
            raise DataError(f"{display}, line {number}: empty review text")
        records.texts.append(text)
        records.labels.append(label)
        records.keys.append(text)
    return records, header_row


def load_file(
    path: str | os.PathLike[str],
    text_column: str | int,
    label_column: str | int,
    *,
    sep: str | None = None,
    header: bool = True,
    label_map: Mapping[Any, int] | None = None,
    class_names: list[str] | tuple[str, ...] | None = None,
    encoding: str = "utf-8",
    quoting: str | None = None,
    test_path: str | os.PathLike[str] | None = None,
    test_fraction: float = 0.25,
    split_seed: int = 42,
    validation_fraction: float | None = None,
    seed: int | None = None,
    limit: int | None = None,
    language: str | None = None,
    name: str | None = None,
    empty_text: str = "error",
    split: str = "holdout",
) -> DatasetSplits:
    """Load a CSV/TSV file of labelled reviews as train / validation / test.

    Args:
        path: the file. ``sep=None`` picks the separator from the extension: ``.csv`` comma,
            ``.tsv``/``.tab``/``.txt`` tab.
        text_column, label_column: column names (with a header) or 0-based indices.
        header: whether the first line names the columns.
        label_map: raw label -> class index (e.g. ``{"neg": 0, "pos": 1}``); without it the
            labels must already be the class indices 0..K-1.
        class_names: names of the class indices (default: from ``label_map`` when it is
            one-to-one, else ``"0"``, ``"1"``, ...).
        encoding: the file's text encoding (``cp949`` for many Korean exports).
        quoting: ``"minimal"`` (CSV quoting; default for commas) or ``"none"`` (quotes are
            text; default for tabs, like NSMC).
        test_path: a separate test file in the same layout; otherwise a deterministic
            stratified holdout of ``test_fraction`` (seed ``split_seed``).
        validation_fraction, seed, limit: as in :func:`load_dataset`.
        language: ``"en"`` or ``"ko"``: sets the default tokenizer of the returned spec;
            ``"auto"`` tells it from the share of Hangul in the first reviews
            (:func:`detect_language`; the report's notes say what was found).
        name: the dataset name used in reports and cache keys (default ``file:<stem>``).
        empty_text: ``"error"`` (default) or ``"drop"`` (counted in the report).
        split: ``"holdout"`` (default): train / validation / test as above; ``"all"``: every
            row of the file is the test split (train and validation are empty), to evaluate
            a trained model on the whole file.

    The returned spec's ``max_length`` is the registry's ``defaults.user_file.max_length``,
    so a run on a user's file is capped unless it sets its own ``max_length``.

    Raises:
        DataError: a malformed file (file and line named), or a training split with fewer
            than two classes.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path} does not exist" if not path.exists() else f"{path} is not a file")
    if sep is None:
        sep = _EXTENSION_SEPARATORS.get(path.suffix.lower())
        if sep is None:
            raise ConfigError(
                f"cannot tell the separator of {path.name} from its extension; pass sep=',' or sep='\\t' (CLI --sep , or --sep tab)"
            )
    if sep in ("\\t", "tab", "TAB"):
        sep = "\t"
    if not isinstance(sep, str) or len(sep) != 1:
        raise ConfigError(f"sep must be one character, got {sep!r}")
    quoting = quoting or ("none" if sep == "\t" else "minimal")
    if quoting not in QUOTING:
        raise ConfigError(f"quoting must be 'none' or 'minimal', got {quoting!r}")
    if empty_text not in EMPTY_TEXT_POLICIES:
        raise ConfigError(f"empty_text must be 'error' or 'drop', got {empty_text!r}")
    try:
        "".encode(encoding)
    except LookupError:
        raise ConfigError(f"unknown encoding {encoding!r}") from None
    if language is not None and language not in ("en", "ko", "auto"):
        raise ConfigError(f"language must be 'en', 'ko' or 'auto', got {language!r}")
    if split not in ("holdout", "all"):
        raise ConfigError(f"split must be 'holdout' or 'all', got {split!r}")
    if split == "all" and (test_path is not None or limit is not None):
        raise ConfigError("split='all' reads one file whole; it cannot be combined with test_path or limit")
    mapping = _check_label_map(label_map) if label_map is not None else None
    if not 0 < test_fraction < 1:
        raise ConfigError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    split_seed = check_seed("split_seed", split_seed)

    options = {
        "text_column": text_column,
        "label_column": label_column,
        "sep": sep,
        "header": header,
        "quoting": quoting,
        "encoding": encoding,
        "label_map": mapping,
        "empty_text": empty_text,
    }
    records, header_row = _read_user_file(path, **options)
    notes = []
    if language == "auto":
        language, share = detect_language(records.texts)
        sample = min(len(records.texts), LANGUAGE_SAMPLE)
        notes.append(
            f"language detected: {language or 'none (no letters)'} "
            f"(Hangul {share:.0%} of the letters of the first {sample:,} reviews)"
        )
    parts = {"all": records}
    files = [("all", path)]
    if test_path is not None:
        test_path = Path(test_path).expanduser()
        if not test_path.is_file():
            raise DataError(f"test file {test_path} does not exist")
        if mapping is None:
            # the test file must use the training file's classes
            mapping = {raw: int(raw) for raw in records.raw_labels}
            options["label_map"] = mapping
        test_records, _ = _read_user_file(test_path, **options)
        parts = {"train": records, "test": test_records}
        files = [("train", path), ("test", test_path)]

    num_classes = max(mapping.values()) + 1 if mapping is not None else len(set(records.labels))
    if class_names is None:
        if mapping is not None and len(set(mapping.values())) == len(mapping):
            inverse = {v: k for k, v in mapping.items()}
            class_names = tuple(inverse[i] for i in range(num_classes))
        else:
            class_names = tuple(str(i) for i in range(num_classes))
    class_names = tuple(str(c) for c in class_names)
    if len(class_names) != num_classes or len(set(class_names)) != num_classes:
        raise ConfigError(f"class_names must name the {num_classes} classes uniquely, got {list(class_names)}")

    raw_to_class: dict[str, list[str]] = {}
    for raw, index in (mapping or {str(i): i for i in range(num_classes)}).items():
        raw_to_class.setdefault(class_names[index], []).append(raw)
    columns = tuple(h.strip() for h in header_row) if header_row else ()
    text_name = str(text_column)
    label_name = str(label_column)
    fmt = FormatSpec(
        type="delimited", encoding=encoding, separator=sep, quoting=quoting, header=columns or None, columns=columns
    )
    rule = LabelRule(label_name, _frozen({k: tuple(v) for k, v in raw_to_class.items()}))
    split_spec = (
        SplitSpec("upstream", train="train", test="test")
        if test_path is not None
        else SplitSpec("stratified_hash", test_fraction=float(test_fraction), seed=split_seed)
    )
    registry = default_registry()
    defaults = registry.defaults
    sources = [SourceFile(role, p, "sha256", file_digest(p), None, None, p.stat().st_size) for role, p in files]
    spec = DatasetSpec(
        name=name or f"file:{path.stem}",
        title=f"user file {path.name}",
        description=f"{path} ({fmt.describe() if columns else separator_name(sep) + '-separated, no header'}; "
        f"text {text_name!r}, label {label_name!r})",
        language=language or "unknown",
        class_names=class_names,
        files=tuple(FileSpec(role=role, filename=p.name, url=None, size=None, checksum=None) for role, p in files),
        format=fmt,
        label_rule=rule,
        split=split_spec,
        tokenizer=registry.default_tokenizers.get(language) if language else None,
        tokenizer_options=_frozen({}),
        vocab_size=None,
        max_length=defaults.get("user_file_max_length", USER_FILE_MAX_LENGTH),
        validation_fraction=defaults.get("validation_fraction", 0.1),
        validation_seed=defaults.get("validation_seed", 0),
        limit_test_fraction=defaults.get("limit_test_fraction", 0.25),
        limit_seed=defaults.get("limit_seed", 0),
        empty_text=empty_text,
        content_hash=content_key(
            {
                **options,
                "text": text_name,
                "label": label_name,
                "class_names": class_names,
                "split": split_spec.describe(),
            }
        ),
    )
    settings = {
        **split_settings(spec, validation_fraction=validation_fraction, seed=seed, limit=limit),
        "source": "file",
    }
    fingerprint = make_fingerprint(spec, sources, True)
    if split == "all":
        return _whole_file(spec, records, sources, settings, fingerprint, notes)
    splits = assemble(
        spec, RawData(parts, None, sources, {}, {}), settings=settings, fingerprint=fingerprint, notes=notes
    )
    counts = Counter(records.labels)
    missing = [class_names[i] for i in range(num_classes) if counts[i] == 0]
    if missing:
        splits.report.notes.append(f"classes without reviews in {path.name}: {', '.join(missing)}")
    return splits


def _whole_file(
    spec: DatasetSpec,
    records: Records,
    sources: list[SourceFile],
    settings: dict[str, Any],
    fingerprint: str,
    notes: list[str],
) -> DatasetSplits:
    """Every row of the file as the test split (``load_file(split="all")``)."""
    labels = records.label_array()
    empty = TextSplit([], np.zeros(0, dtype=np.int64))
    report = LoadReport(
        rows={"all": records.raw_rows},
        checks=list(notes),
        notes=[f"test = every row of {sources[0].path.name} ({len(labels):,} reviews)"],
    )
    if records.dropped:
        report.dropped["all"] = dict(records.dropped)
    report.final = {
        "train": count_by_class(empty.labels, spec.class_names),
        "validation": count_by_class(empty.labels, spec.class_names),
        "test": count_by_class(labels, spec.class_names),
    }
    return DatasetSplits(
        name=spec.name,
        spec=spec,
        train=empty,
        validation=empty,
        test=TextSplit(records.texts, labels),
        fingerprint=fingerprint,
        source_files=tuple(sources),
        settings={**settings, "split": "all"},
        report=report,
    )
