"""Delimited text (NSMC, Steam, Naver shopping, users' CSV/TSV): :func:`iter_rows` splits a
file into rows with exact 1-based line numbers; :func:`read_registry_table` applies a
registry entry's columns, header and label rule.

Read with the standard library, not pandas: see ``docs/ARCHITECTURE.md`` (pandas pads short
rows and numbers rows rather than lines; with the checks added back it is no faster,
``benchmarks/delimited_readers.py``).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from bilstm_attention.data.registry import DatasetSpec
from bilstm_attention.data.splits import Records
from bilstm_attention.errors import DataError

SEPARATOR_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}


def separator_name(separator: str) -> str:
    return SEPARATOR_NAMES.get(separator, repr(separator))


def preview(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def field_count_error(
    display: str, number: int, fields: list[str], ncols: int, separator: str, columns: str = "", hint: str = ""
) -> str:
    """The message for a row that is empty or does not have ``ncols`` fields."""
    expected = f"expected {ncols} {separator_name(separator)}-separated fields{columns}"
    if fields == [""]:
        return f"{display}, line {number}: empty line; {expected}"
    return f"{display}, line {number}: {expected}, found {len(fields)}: {preview(separator.join(fields))!r}{hint}"


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
        data = data[len(codecs.BOM_UTF8) :]
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


def read_registry_table(
    path: str | os.PathLike[str],
    spec: DatasetSpec,
    role: str,
    *,
    known_defects: tuple[int, ...] = (),
    display: str | None = None,
) -> Records:
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

    for number, fields, problem in iter_rows(
        path, separator=fmt.separator, quoting=fmt.quoting, encoding=fmt.encoding, display=display
    ):
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
            problem = field_count_error(display, number, fields, ncols, fmt.separator, f" ({', '.join(columns)})")
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
