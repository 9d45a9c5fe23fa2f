"""What the run-directory consistency checks cost when loading a run.

Trains (once) a run whose model has the size of the tuned IMDB one (a 20,000-token embedding
of 128 dimensions, 64-unit BiLSTM) on synthetic reviews, then loads it again and again with
``load_model(run)`` (every check, manifest digests included) and ``load_model(run,
check=False)`` (no digests), alternating, and times ``RunDirectory.verify_manifest()`` alone.
Prints a table with the load average and saves ``benchmarks/results/load_checks.json``.

    python benchmarks/load_checks.py [--run DIR] [--repeats 5]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def make_run(directory: Path) -> Path:
    import numpy as np

    from bilstm_attention.cli import main

    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(22_000)])
    reviews = directory / "reviews.csv"
    with reviews.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"])
        for index in range(3_000):
            writer.writerow([" ".join(rng.choice(words, size=60)) + (" good" if index % 2 else " bad"), index % 2])
    run = directory / "run"
    argv = [
        "train",
        "--file",
        str(reviews),
        "--text-column",
        "review",
        "--label-column",
        "sentiment",
        "--tokenizer",
        "whitespace",
        "--vocab-size",
        "20000",
        "--min-count",
        "1",
        "--embedding-dim",
        "128",
        "--lstm-units",
        "64",
        "--epochs",
        "1",
        "--batch-size",
        "256",
        "--output",
        str(run),
        "--no-tensorboard",
    ]
    assert main(argv) == 0
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="an existing run directory (default: train one)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from bilstm_attention.inference.sentiment_model import load_model
    from bilstm_attention.run_dir import RunDirectory

    run = args.run or make_run(Path(tempfile.mkdtemp(prefix="load-checks-")))
    load_model(run)  # warm up: imports, Keras tracing
    times: dict[str, list[float]] = {"checked": [], "unchecked": [], "verify_manifest": []}
    for _ in range(args.repeats):
        for key, check in (("checked", True), ("unchecked", False)):
            started = time.perf_counter()
            load_model(run, check=check)
            times[key].append(time.perf_counter() - started)
        started = time.perf_counter()
        RunDirectory(run).verify_manifest()
        times["verify_manifest"].append(time.perf_counter() - started)
    medians = {key: statistics.median(values) for key, values in times.items()}
    report = {
        "run": str(run),
        "model_keras_bytes": (run / "model.keras").stat().st_size,
        "load_average": os.getloadavg(),
        "repeats": args.repeats,
        "median_seconds": medians,
        "checked_over_unchecked": medians["checked"] / medians["unchecked"],
        "seconds": times,
    }
    print(f"load average {report['load_average']}; model.keras {report['model_keras_bytes'] / 1e6:.1f} MB")
    for key, value in medians.items():
        print(f"{key:16s} median {value:.3f} s over {args.repeats}")
    print(f"load_model with / without the manifest digests: {report['checked_over_unchecked']:.3f}")
    out = Path(__file__).resolve().parent / "results" / "load_checks.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
