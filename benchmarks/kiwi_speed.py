"""Time to tokenize NSMC (or any registry dataset) with Kiwi the first time (no cache).

Tokenizes every review (train and test, as training does) with ``KiwiTokenizer.tokenize_batch``
(Kiwi's multi-threaded batch API, ``num_workers`` threads) and reports the wall time, with the
Kiwi model's load time and the Python post-processing (tags, stopwords, jamo) apart. A sample
is also tokenized one review at a time and compared token by token with the batch result.
The load average and thread settings are saved next to the figures. Example::

    python benchmarks/kiwi_speed.py --data-dir ~/data/nsmc
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="nsmc")
    parser.add_argument("--data-dir")
    parser.add_argument("--limit", type=int, help="only the first N reviews")
    parser.add_argument("--num-workers", type=int, help="Kiwi threads (default: the usable cores)")
    parser.add_argument("--sample", type=int, default=2000, help="reviews compared with one-at-a-time tokenizing")
    parser.add_argument("--output-dir", default=str(Path(__file__).resolve().parent / "results"))
    parser.add_argument("--no-save", dest="save", action="store_false")
    args = parser.parse_args(argv)

    from bilstm_attention.data import load_dataset
    from bilstm_attention.evaluation.benchmark import machine_description, versions
    from bilstm_attention.fileio import write_json
    from bilstm_attention.tokenizers.kiwi import KiwiTokenizer

    splits = load_dataset(args.dataset, data_dir=args.data_dir, progress=False)
    texts = [*splits.train.texts, *splits.validation.texts, *splits.test.texts]
    if args.limit:
        texts = texts[: args.limit]
    load_before = os.getloadavg()
    tokenizer = KiwiTokenizer(**({"num_workers": args.num_workers} if args.num_workers else {}))
    started = time.perf_counter()
    tokenizer.analyser  # noqa: B018  (loads the Kiwi model)
    model_seconds = time.perf_counter() - started
    started = time.perf_counter()
    batch = tokenizer.tokenize_batch(texts, progress=False)
    batch_seconds = time.perf_counter() - started
    started = time.perf_counter()
    raw = list(tokenizer.analyser.tokenize(texts, normalize_coda=tokenizer.normalize_coda))
    kiwi_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for tokens in raw:
        tokenizer._tokens(tokens)
    post_seconds = time.perf_counter() - started
    sample = texts[: args.sample]
    started = time.perf_counter()
    single = [tokenizer.tokenize(text) for text in sample]
    single_seconds = time.perf_counter() - started
    mismatches = sum(a != b for a, b in zip(single, batch))
    report = {
        "dataset": args.dataset,
        "reviews": len(texts),
        "num_workers": tokenizer.num_workers,
        "kiwi_model_load_seconds": model_seconds,
        "tokenize_batch_seconds": batch_seconds,
        "tokenize_batch_reviews_per_second": len(texts) / batch_seconds,
        "kiwi_batch_api_seconds": kiwi_seconds,
        "python_postprocessing_seconds": post_seconds,
        "one_at_a_time_reviews_per_second": len(sample) / single_seconds,
        "sample_compared": len(sample),
        "sample_mismatches": mismatches,
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "environment": {k: os.environ[k] for k in ("OMP_NUM_THREADS",) if k in os.environ},
        "machine": machine_description(),
        "versions": {**versions(), **tokenizer.versions()},
        "command": " ".join(sys.argv),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    print(json.dumps({k: v for k, v in report.items() if k not in ("machine", "versions")}, indent=2))
    if args.save:
        suffix = f"-limit{args.limit}" if args.limit else ""
        path = Path(args.output_dir) / f"kiwi-{args.dataset}{suffix}.json"
        write_json(path, report)
        print(f"saved {path}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
