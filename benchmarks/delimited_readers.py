"""Reading NSMC train (150,000 rows): the package's delimited reader vs pandas.read_csv.

Three ways, alternated in one process (the machine is shared: compare the ratios, and read
the load average printed next to them):

* ``package``: ``read_registry_table`` (header, field counts, labels, empty texts, all
  errors with line numbers), what ``load_dataset("nsmc")`` does;
* ``pandas_raw``: ``pd.read_csv(sep="\\t", quoting=3, dtype=str)`` alone, no checks (a rows
  with too few fields is silently padded, a blank line becomes a row of empty strings, the
  errors name rows, not lines);
* ``pandas_checked``: ``pandas_raw`` plus the vectorised checks the package needs (fields per
  physical line counted with numpy on the bytes, labels mapped, empty texts found), i.e. the
  cheapest pandas reader that could keep the package's errors.

Usage: ``python benchmarks/delimited_readers.py [--repeats 5] [--file ratings_train.txt]``;
writes ``benchmarks/results/delimited_readers.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bilstm_attention.data import get_spec
from bilstm_attention.data.formats.delimited import read_registry_table

HERE = Path(__file__).resolve().parent


def pandas_raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", quoting=3, dtype=str, keep_default_na=False, na_filter=False)


def pandas_checked(path: Path, spec) -> tuple[list[str], np.ndarray]:
    data = path.read_bytes()
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)
    separators = np.flatnonzero(raw == 9)
    per_line = np.diff(np.searchsorted(separators, np.r_[-1, ends])) + 1
    bad = np.flatnonzero(per_line != len(spec.format.columns)) + 1
    if len(bad):
        raise ValueError(f"line {bad[0]}: wrong number of fields")
    frame = pd.read_csv(io.BytesIO(data), sep="\t", quoting=3, dtype=str, keep_default_na=False, na_filter=False)
    mapping = spec.label_rule.value_to_class(spec.class_names)
    labels = frame[spec.label_rule.column].str.strip().map(mapping)
    if labels.isna().any():
        raise ValueError(f"line {int(np.flatnonzero(labels.isna())[0]) + 2}: label outside the rule")
    texts = frame[spec.format.text_column]
    keep = texts.str.strip() != ""
    return texts[keep].tolist(), labels[keep].to_numpy(np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--file", default="../shared/datasets/nsmc/ratings_train.txt")
    args = parser.parse_args()
    spec = get_spec("nsmc")
    path = Path(args.file)
    ways = {
        "package": lambda: read_registry_table(path, spec, "train"),
        "pandas_raw": lambda: pandas_raw(path),
        "pandas_checked": lambda: pandas_checked(path, spec),
    }
    package, (texts, labels) = ways["package"](), ways["pandas_checked"]()
    assert package.texts == texts and np.array_equal(package.label_array(), labels), "the readers disagree"
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    load_before = os.getloadavg()
    for _ in range(args.repeats):
        for name, read in ways.items():
            started = time.perf_counter()
            read()
            seconds[name].append(time.perf_counter() - started)
    load_after = os.getloadavg()
    median = {name: statistics.median(values) for name, values in seconds.items()}
    result = {
        "file": str(path),
        "rows": package.raw_rows,
        "repeats": args.repeats,
        "pandas": pd.__version__,
        "median_seconds": median,
        "seconds": seconds,
        "ratio_to_package": {name: median[name] / median["package"] for name in ways},
        "load_average_before": load_before,
        "load_average_after": load_after,
    }
    for name in ways:
        print(f"{name:15s} median {median[name]:.3f} s  ratio {result['ratio_to_package'][name]:.2f}")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    out = HERE / "results" / "delimited_readers.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
