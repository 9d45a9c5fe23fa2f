"""The token cache: a second ``encode_dataset`` with other vocabulary settings does not tokenize.

Encodes NSMC (``limit``: a class-balanced subset) with Kiwi and a 30,000-token vocabulary into
an empty cache directory, then again with ``vocab_size=10_000, min_count=2``. Prints both times,
their ratio and the load average; writes ``benchmarks/results/token_cache.json``.

Usage: ``python benchmarks/token_cache.py [--limit 5000] [--data-dir /path/to/datasets]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from bilstm_attention.data import encode_dataset, load_dataset

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    splits = load_dataset("nsmc", args.data_dir, limit=args.limit, progress=False)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        first = encode_dataset(splits, "kiwi", 30_000, cache_dir=cache, progress=False)
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        second = encode_dataset(splits, "kiwi", 10_000, min_count=2, cache_dir=cache, progress=False)
        second_seconds = time.perf_counter() - started
    result = {
        "reviews": len(splits.train) + len(splits.validation) + len(splits.test),
        "first_seconds": first_seconds,
        "first_from_cache": first.from_cache,
        "second_seconds": second_seconds,
        "second_from_cache": second.from_cache,
        "ratio": second_seconds / first_seconds,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }
    print(
        f"{result['reviews']:,} reviews: tokenize + vocabulary {first_seconds:.2f} s; other vocabulary from the "
        f"cached tokens {second_seconds:.2f} s (ratio {result['ratio']:.4f}); load {load_before[0]:.1f}"
    )
    out = HERE / "results" / "token_cache.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
