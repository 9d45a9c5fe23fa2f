"""Benchmarks: train a dataset's recipes side by side and report accuracy and speed.

One benchmark run trains every requested recipe (``seed``: the tutorial's configuration,
``tuned``: this package's) on the same data and machine, then measures each trained model's
test accuracy/F1, epoch time, training and inference throughput, single-review latency,
tokenization time and peak memory. Results go to a JSON file per recipe and a Markdown row.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bilstm_attention._optional import require
from bilstm_attention.fileio import write_json
from bilstm_attention.version import __version__

#: Fields every benchmark report has (tests check them).
REPORT_FIELDS: tuple[str, ...] = (
    "dataset",
    "recipe",
    "data",
    "test_accuracy",
    "test_f1",
    "epochs_run",
    "epoch_seconds",
    "seconds_per_epoch",
    "train_reviews_per_second",
    "inference_reviews_per_second",
    "inference_batch_size",
    "latency_ms_median",
    "peak_rss_mb",
    "tokenize_seconds",
    "counts",
    "config",
    "machine",
    "versions",
    "seed",
    "command",
    "finished_at",
)


def machine_description() -> dict[str, Any]:
    """CPU model, logical cores, memory and OS of this machine."""
    psutil = require("psutil", "train")

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "gpu": _gpu_names(),
    }


def _gpu_names() -> list[str]:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return [str(device) for device in jax.devices() if device.platform == "gpu"]
    import tensorflow as tf

    return [device.name for device in tf.config.list_physical_devices("GPU")]


def versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape the results, and the Keras backend."""
    import importlib.metadata as metadata

    import keras

    found = {
        "python": platform.python_version(),
        "bilstm-attention": __version__,
        "keras_backend": keras.backend.backend(),
    }
    packages = ("tensorflow", "keras", "numpy", "kiwipiepy", "konlpy")
    if found["keras_backend"] == "jax":
        packages += ("jax", "jaxlib")
    for package in packages:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


class PeakMemory:
    """Samples this process's resident memory in a background thread; ``peak_mb`` is the
    largest value seen between ``__enter__`` and ``__exit__`` (so recipes run one after
    another in one process each get their own peak)."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        import psutil

        process = psutil.Process()
        while True:
            self.peak_mb = max(self.peak_mb, process.memory_info().rss / 2**20)
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> PeakMemory:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def save_speed_report(path: str | Path, report: dict[str, Any], load_before: Any) -> None:
    """Complete a benchmark script's ``report`` with what its figures depend on (the load
    average before and after, :func:`runtime_settings`, :func:`machine_description`,
    :func:`versions`, the command and the time), print it without the machine and version
    facts, and write it atomically to ``path`` as JSON."""
    report.update(
        load_average_before=list(load_before),
        load_average_after=list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        runtime=runtime_settings(),
        machine=machine_description(),
        versions=versions(),
        command=" ".join(sys.argv),
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    print(json.dumps({k: v for k, v in report.items() if k not in ("machine", "versions", "runtime")}, indent=2))
    write_json(Path(path), report)
    print(f"saved {path}")


def runtime_settings() -> dict[str, Any]:
    """What shapes a speed figure besides the code: the Keras backend, TensorFlow's thread
    pools, the thread/XLA environment variables and the machine's load average (1, 5, 15
    minutes) at the time of the call. Saved next to every speed figure."""
    import keras

    settings: dict[str, Any] = {"backend": keras.backend.backend()}
    try:
        import tensorflow as tf

        settings["tf_intra_op_threads"] = tf.config.threading.get_intra_op_parallelism_threads()
        settings["tf_inter_op_threads"] = tf.config.threading.get_inter_op_parallelism_threads()
    except ImportError:  # pragma: no cover - TensorFlow is a dependency
        pass
    names = (
        "OMP_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
        "XLA_FLAGS",
        "TF_XLA_FLAGS",
        "TF_ENABLE_ONEDNN_OPTS",
        "KERAS_BACKEND",
    )
    settings["environment"] = {name: os.environ[name] for name in names if name in os.environ}
    settings["load_average"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    return settings


def _median_ms(call: Any, items: list[Any]) -> tuple[float, float]:
    """(median ms of ``call(item)`` over ``items``, ms of the first call)."""
    latencies = []
    for item in items:
        started = time.perf_counter()
        call(item)
        latencies.append((time.perf_counter() - started) * 1000)
    return statistics.median(latencies), latencies[0]


def measure_inference(
    model: Any, texts: list[str], *, batch_size: int = 256, latency_samples: int = 50, explain: bool = False
) -> dict[str, Any]:
    """Batch throughput (encoded reviews -> probabilities, and raw text -> probabilities) and
    the median latency of classifying one raw review (tokenization included); with
    ``explain``, the median latency of :meth:`~bilstm_attention.SentimentModel.explain` too.

    Latencies are measured after one pass over the same reviews (which compiles the shapes
    they need); ``latency_ms_first`` is the very first call, compilation included. The
    machine's load average and the backend's thread settings are recorded with the figures.
    """
    settings_before = runtime_settings()
    samples = texts[:latency_samples]
    latency_first = _median_ms(lambda text: model.predict([text]), samples[:1])[1]
    for text in samples:  # warm up: compile the shapes these reviews need
        model.predict([text])
    latency, _ = _median_ms(lambda text: model.predict([text]), samples)
    figures: dict[str, Any] = {"latency_ms_first": latency_first, "latency_ms_median": latency}
    if explain:
        explain_first = _median_ms(model.explain, samples[:1])[1]
        for text in samples:
            model.explain(text)
        figures["explain_latency_ms_median"], _ = _median_ms(model.explain, samples)
        figures["explain_latency_ms_first"] = explain_first
    inputs = model.encode(texts)
    model.predict(texts[:batch_size], batch_size=batch_size)  # warm up
    model.predict_inputs(inputs, batch_size=batch_size)
    started = time.perf_counter()
    model.predict_inputs(inputs, batch_size=batch_size)
    model_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model.predict(texts, batch_size=batch_size)
    end_to_end_seconds = time.perf_counter() - started
    return {
        "inference_reviews_per_second": len(texts) / model_seconds,
        "inference_end_to_end_reviews_per_second": len(texts) / end_to_end_seconds,
        **figures,
        "runtime": {**settings_before, "load_average_after": runtime_settings()["load_average"]},
    }


def run_recipe(
    dataset: str,
    recipe: str,
    *,
    data_dir: str | None = None,
    path: str | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    work_dir: str | Path | None = None,
    verbose: int | None = None,
) -> dict[str, Any]:
    """Train ``recipe`` on ``dataset`` and measure it; returns the report (see :data:`REPORT_FIELDS`).

    The tokenization cache is private to the run, so tokenization time is always measured.
    """
    from bilstm_attention.data import load_dataset
    from bilstm_attention.inference.sentiment_model import load_model
    from bilstm_attention.training import train
    from bilstm_attention.training.recipes import recipe_config

    config = recipe_config(dataset, recipe)
    overrides: dict[str, Any] = {"data_dir": data_dir, "path": path, "limit": limit, "epochs": epochs, "seed": seed}
    config = config.replace(**{k: v for k, v in overrides.items() if v is not None})
    with tempfile.TemporaryDirectory(prefix="bilstm-attention-bench-") as scratch, PeakMemory() as memory:
        scratch_path = Path(work_dir or scratch)
        config = config.replace(cache_dir=str(scratch_path / "cache"), tensorboard=False)
        run_dir = scratch_path / f"{dataset}-{recipe}"
        result = train(config, run_dir, verbose=verbose)
        model = load_model(run_dir)
        splits = load_dataset(dataset, data_dir=data_dir, path=path, limit=limit, progress=False)
        inference = measure_inference(model, list(splits.test.texts), batch_size=config.fit.batch_size)

    epoch_seconds = result.timings["epoch_seconds"]
    seconds_per_epoch = statistics.mean(epoch_seconds)
    report: dict[str, Any] = {
        "dataset": dataset,
        "recipe": recipe,
        "data": _data_description(splits, limit, path),
        "test_accuracy": result.test_metrics["accuracy"],
        "test_f1": result.test_metrics["f1"],
        "test_metrics": result.test_metrics,
        "epochs_run": len(epoch_seconds),
        "epoch_seconds": epoch_seconds,
        "seconds_per_epoch": seconds_per_epoch,
        "train_reviews_per_second": result.counts["train"] / seconds_per_epoch,
        "inference_batch_size": config.fit.batch_size,
        **inference,
        "peak_rss_mb": memory.peak_mb,
        "tokenize_seconds": result.timings["tokenize_seconds"],
        "load_seconds": result.timings["load_seconds"],
        "timings": result.timings,
        "ensemble": result.ensemble,
        "counts": result.counts,
        "config": config.to_flat_dict(),  # the flat form, as in the reports of 0.1
        "machine": machine_description(),
        "versions": versions(),
        "seed": config.runtime.seed,
        "command": "bilstm-attention " + shlex.join(sys.argv[1:])
        if sys.argv and "bilstm" in sys.argv[0]
        else shlex.join(sys.argv),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return report


def _data_description(splits: Any, limit: int | None, path: str | None) -> str:
    counts = (
        f"{len(splits.train.texts)} train / {len(splits.validation.texts)} validation / {len(splits.test.texts)} test"
    )
    notes = []
    if path:
        notes.append(f"file {Path(path).name}")
    if limit:
        notes.append(f"limit {limit}")
    return counts + (f" ({', '.join(notes)})" if notes else "")


def markdown_row(report: dict[str, Any]) -> str:
    """One row of the RESULTS.md table."""
    return (
        f"| {report['dataset']} | {report['recipe']} | {100 * report['test_accuracy']:.2f} | "
        f"{100 * report['test_f1']:.2f} | {report['epochs_run']} | {report['seconds_per_epoch']:.0f} | "
        f"{report['train_reviews_per_second']:.0f} | {report['inference_reviews_per_second']:.0f} | "
        f"{report['latency_ms_median']:.0f} | {report['peak_rss_mb']:.0f} | {report['tokenize_seconds']:.0f} | "
        f"{report['data']} |"
    )


MARKDOWN_HEADER = (
    "| dataset | recipe | test acc % | F1 % | epochs | s/epoch | train rev/s | infer rev/s | "
    "latency ms | peak RSS MB | tokenize s | data |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def report_path(output_dir: str | Path, dataset: str, recipe: str, limit: int | None) -> Path:
    """``<output_dir>/<dataset>-<recipe>[-limit<N>].json``."""
    suffix = f"-limit{limit}" if limit else ""
    return Path(output_dir) / f"{dataset}-{recipe}{suffix}.json"


def save_report(report: dict[str, Any], output_dir: str | Path, *, limit: int | None = None) -> Path:
    """Write the report as JSON (atomically) and return its path."""
    path = report_path(output_dir, report["dataset"], report["recipe"], limit)
    write_json(path, report)
    return path


def results_table(results_dir: str | Path, datasets: list[str], recipes: tuple[str, ...] = ("seed", "tuned")) -> str:
    """The Markdown tables of the full-data reports in ``results_dir`` (``<dataset>-<recipe>.json``).

    First one row per dataset and recipe, with the command that produced each row (a
    combination without a report gets a row saying it was not measured); then, for every
    dataset with both a seed and a tuned report, the comparison: accuracy gain, the tuned/seed
    epoch-time ratio (flagged when the two reports come from different commands, i.e. not
    the same benchmark run) and, for the tuned ensemble, the accuracy of each of its parts.
    """
    import json

    rows = [MARKDOWN_HEADER]
    commands = []
    reports: dict[tuple[str, str], dict[str, Any]] = {}
    for dataset in datasets:
        for recipe in recipes:
            path = report_path(results_dir, dataset, recipe, None)
            if not path.is_file():
                rows.append(f"| {dataset} | {recipe} | not measured | | | | | | | | | |")
                continue
            report = json.loads(path.read_text(encoding="utf-8"))
            reports[dataset, recipe] = report
            rows.append(markdown_row(report))
            commands.append(f"- {dataset} / {recipe}: `{report['command']}`")
    text = "\n".join(rows) + "\n\nCommands:\n\n" + "\n".join(commands) + "\n"
    comparison = [
        comparison_row(dataset, reports[dataset, "seed"], reports[dataset, "tuned"])
        for dataset in datasets
        if (dataset, "seed") in reports and (dataset, "tuned") in reports
    ]
    if comparison:
        text += "\n" + COMPARISON_HEADER + "\n" + "\n".join(comparison) + "\n"
    return text


COMPARISON_HEADER = (
    "| dataset | tuned - seed (points) | tuned/seed s per epoch | tuned: BiLSTM alone % | tuned: NB-LR alone % "
    "| BiLSTM weight | NB-LR C |\n"
    "|---|---|---|---|---|---|---|"
)


def comparison_row(dataset: str, seed: dict[str, Any], tuned: dict[str, Any]) -> str:
    """One row of the seed-versus-tuned table (see :func:`results_table`)."""
    gain = 100 * (tuned["test_accuracy"] - seed["test_accuracy"])
    same_run = tuned.get("tuned_to_seed_epoch_time_ratio")
    if same_run is not None and seed.get("command") == tuned.get("command"):
        ratio = f"{same_run:.2f}"
    else:
        ratio = f"{tuned['seconds_per_epoch'] / seed['seconds_per_epoch']:.2f} (different runs)"
    parts = tuned.get("ensemble") or {}

    def percent(key: str) -> str:
        return f"{100 * parts[key]:.2f}" if key in parts else "-"

    return (
        f"| {dataset} | {gain:+.2f} | {ratio} | {percent('deep_test_accuracy')} | {percent('nblr_test_accuracy')} | "
        f"{parts.get('deep_weight', '-')} | {parts.get('nblr_C', '-')} |"
    )
