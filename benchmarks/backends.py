"""The same classifier on each Keras backend, side by side in one run.

For every backend (TensorFlow, JAX) a fresh subprocess (Keras picks its backend once per
process) trains the same recipe on the same data with the same seed, then measures, through
the public API only (``train``, ``load_model``, ``SentimentModel.predict_inputs`` /
``predict``):

- epoch time (the first epoch, which includes compiling the training step, and the last);
- batch inference throughput on encoded test reviews (after a warm-up pass over the same
  batches, so compilation is not counted);
- one-review latency end to end (raw text -> probability) with ``SentimentModel.predict``:
  the first calls (cold: new input shapes may compile) and the median after warm-up.

Prints a Markdown table and writes one JSON file with every figure, the library versions,
thread settings and the load average before and after each backend's run::

    python benchmarks/backends.py --dataset nsmc --recipe tuned --limit 20000 \\
        --data-dir ../shared/datasets

The machine this was written on is shared: compare the backends as ratios within one run,
and read the load average next to the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # this checkout's package, in this process and (PYTHONPATH) the workers
DEFAULT_OUTPUT_DIR = REPO / "benchmarks" / "results"


def _thread_settings() -> dict[str, Any]:
    settings: dict[str, Any] = {
        "affinity_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        **{
            name: os.environ.get(name)
            for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "XLA_FLAGS")
        },
    }
    import tensorflow as tf  # tf.data runs the input pipelines on both backends

    settings["tf_intra_op_threads"] = tf.config.threading.get_intra_op_parallelism_threads()
    settings["tf_inter_op_threads"] = tf.config.threading.get_inter_op_parallelism_threads()
    return settings


def _median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """Train and measure on the backend this process runs (``KERAS_BACKEND``)."""
    from bilstm_attention.backend import select_backend

    backend = select_backend(args.backend)
    load_before = os.getloadavg()
    import keras

    from bilstm_attention.data import load_dataset
    from bilstm_attention.evaluation.benchmark import machine_description, versions
    from bilstm_attention.inference.sentiment_model import load_model
    from bilstm_attention.training import train
    from bilstm_attention.training.recipes import recipe_config

    assert keras.backend.backend() == backend, (keras.backend.backend(), backend)
    config = recipe_config(args.dataset, args.recipe)
    overrides = {
        "data_dir": args.data_dir,
        "limit": args.limit,
        "epochs": args.epochs,
        "seed": args.seed,
        "patience": None,
        "tensorboard": False,
        "cache_dir": args.cache_dir,
    }
    config = config.replace(**{k: v for k, v in overrides.items() if v is not None or k == "patience"})
    with tempfile.TemporaryDirectory(prefix=f"bilstm-attention-{backend}-") as scratch:
        run_dir = Path(scratch) / "run"
        started = time.perf_counter()
        result = train(config, run_dir, verbose=2)
        train_seconds = time.perf_counter() - started

        model = load_model(run_dir)
        splits = load_dataset(args.dataset, data_dir=args.data_dir, limit=args.limit, progress=False)
        texts = list(splits.test.texts)[: args.inference_reviews]
        inputs = model.encode(texts)
        model.predict_inputs(inputs, batch_size=args.batch_size)  # warm-up: compiles every batch shape
        batch_seconds = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            model.predict_inputs(inputs, batch_size=args.batch_size)
            batch_seconds.append(time.perf_counter() - started)

        one = texts[: args.latency_reviews]
        cold, warm = [], []
        for pass_times in (cold, warm):  # first pass: cold (may compile); second: warm
            for text in one:
                started = time.perf_counter()
                model.predict([text])
                pass_times.append(time.perf_counter() - started)
        probabilities = model.predict(one)

    epoch_seconds = result.timings["epoch_seconds"]
    return {
        "backend": backend,
        "dataset": args.dataset,
        "recipe": args.recipe,
        "limit": args.limit,
        "counts": result.counts,
        "test_accuracy": result.test_metrics["accuracy"],
        "epoch_seconds": epoch_seconds,
        "first_epoch_seconds": epoch_seconds[0],
        "last_epoch_seconds": epoch_seconds[-1],
        "train_reviews_per_second_last_epoch": result.counts["train"] / epoch_seconds[-1],
        "train_total_seconds": train_seconds,
        "timings": result.timings,
        "inference_reviews": len(texts),
        "inference_batch_size": args.batch_size,
        "inference_seconds": batch_seconds,
        "inference_reviews_per_second": len(texts) / statistics.median(batch_seconds),
        "latency_reviews": len(one),
        "latency_ms_cold_median": _median_ms(cold),
        "latency_ms_cold_max": max(cold) * 1000,
        "latency_ms_median": _median_ms(warm),
        "latency_ms_p90": statistics.quantiles(warm, n=10)[-1] * 1000 if len(warm) > 1 else warm[0] * 1000,
        "probabilities_first_reviews": [float(p) for p in probabilities[:5]],
        "config": config.to_dict(),
        "versions": versions(),
        "machine": machine_description(),
        "threads": _thread_settings(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def markdown_table(reports: list[dict[str, Any]]) -> str:
    """One row per backend: epoch times, batch throughput, one-review latency."""
    lines = [
        (
            "| backend | first epoch (s) | last epoch (s) | train reviews/s | batch inference (reviews/s) "
            "| one review, warm (ms) | one review, cold (ms) | test accuracy | load avg (1 min) |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in reports:
        lines.append(
            f"| {r['backend']} | {r['first_epoch_seconds']:.1f} | {r['last_epoch_seconds']:.1f} "
            f"| {r['train_reviews_per_second_last_epoch']:.0f} | {r['inference_reviews_per_second']:.0f} "
            f"| {r['latency_ms_median']:.1f} | {r['latency_ms_cold_median']:.1f} | {r['test_accuracy']:.4f} "
            f"| {r['load_average_before'][0]:.1f} -> {r['load_average_after'][0]:.1f} |"
        )
    return "\n".join(lines)


def _worker_command(args: argparse.Namespace, backend: str, out: Path) -> list[str]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--backend",
        backend,
        "--json-out",
        str(out),
        "--dataset",
        args.dataset,
        "--recipe",
        args.recipe,
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
        "--inference-reviews",
        str(args.inference_reviews),
        "--latency-reviews",
        str(args.latency_reviews),
        "--repeats",
        str(args.repeats),
    ]
    for flag, value in (
        ("--data-dir", args.data_dir),
        ("--limit", args.limit),
        ("--seed", args.seed),
        ("--cache-dir", args.cache_dir),
    ):
        if value is not None:
            command += [flag, str(value)]
    return command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="tensorflow,jax", help="comma-separated, run in this order")
    parser.add_argument("--dataset", default="nsmc")
    parser.add_argument("--recipe", default="tuned")
    parser.add_argument("--data-dir")
    parser.add_argument("--limit", type=int, default=20000, help="training reviews (test: a quarter of it)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs (no early stopping, so all run)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--cache-dir", help="encoded-dataset cache shared by the backends' runs")
    parser.add_argument("--batch-size", type=int, default=512, help="batch size of the inference measurement")
    parser.add_argument("--inference-reviews", type=int, default=4096)
    parser.add_argument("--latency-reviews", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per backend")
    parser.add_argument("--output", help="JSON file (default: benchmarks/results/backends-<dataset>-<time>.json)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        report = worker(args)
        Path(args.json_out).write_text(json.dumps(report, indent=2), encoding="utf-8")
        return 0

    reports: list[dict[str, Any]] = []
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bilstm-attention-backends-") as scratch:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            out = Path(scratch) / f"{backend}.json"
            env = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
                "KERAS_BACKEND": backend,
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "PYTHONUNBUFFERED": "1",
            }
            print(f"== {backend} (load average {os.getloadavg()[0]:.2f})", flush=True)
            completed = subprocess.run(_worker_command(args, backend, out), env=env, timeout=args.timeout, check=False)
            if completed.returncode != 0 or not out.is_file():
                failures[backend] = f"exit code {completed.returncode}"
                continue
            reports.append(json.loads(out.read_text(encoding="utf-8")))

    table = markdown_table(reports)
    print(table)
    for backend, why in failures.items():
        print(f"{backend}: failed ({why})", file=sys.stderr)
    output = (
        Path(args.output)
        if args.output
        else (DEFAULT_OUTPUT_DIR / f"backends-{args.dataset}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "command": "python benchmarks/backends.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "python": platform.python_version(),
        "reports": reports,
        "failures": failures,
        "markdown": table,
    }
    from bilstm_attention.fileio import write_json

    write_json(output, summary)
    print(f"saved {output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
