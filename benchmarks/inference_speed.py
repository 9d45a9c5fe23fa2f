"""Inference speed of a trained run: one-review latency (predict, explain) and batch throughput.

Measures, on the Keras backend in use (``KERAS_BACKEND``), for the run directory ``--model``
and the test reviews of its dataset:

* the median latency of ``SentimentModel.predict([text])`` (tokenization included) and of
  ``SentimentModel.explain(text)``, plus the first call (compilation included);
* batch throughput on encoded reviews (``predict_inputs``) and end to end from raw text;
* with ``--compare``, the same through ``keras.Model.predict`` / ``predict_on_batch`` (the
  path before the compiled one), in the same process, so the ratios are from one run.

The backend, TensorFlow's thread settings, thread/XLA environment variables and the load
average are saved next to the figures. Example::

    python benchmarks/inference_speed.py --model runs/imdb-tuned --data-dir ~/data/imdb --compare
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _keras_path(model: Any, texts: list[str], *, batch_size: int, latency_samples: int) -> dict[str, Any]:
    """The figures of the previous path: ``Model.predict`` with a tf.data pipeline per call,
    ``predict_on_batch`` for explain."""
    import numpy as np

    from bilstm_attention.evaluation.benchmark import _median_ms
    from bilstm_attention.inference.prediction import keras_predict_probabilities, padded_batch
    from bilstm_attention.model import NGRAM_INPUT_NAME, TOKEN_INPUT_NAME

    def predict_inputs(inputs: Any) -> Any:
        return keras_predict_probabilities(
            model.model, inputs.tokens, batch_size=batch_size, pad_to=model.pad_to, ngram_ids=inputs.ngrams
        )

    def explain(text: str) -> Any:
        inputs = model.encode([text])
        batch: Any = padded_batch(inputs.tokens, model.pad_to)
        if inputs.ngrams is not None:
            batch = {TOKEN_INPUT_NAME: batch, NGRAM_INPUT_NAME: padded_batch(inputs.ngrams)}
        return model._attention_model.predict_on_batch(batch)

    samples = texts[:latency_samples]
    model.explain(samples[0])  # builds the explainer model
    predict_inputs(model.encode(samples[:2]))
    latency, _ = _median_ms(lambda text: predict_inputs(model.encode([text])), samples)
    explain_latency, _ = _median_ms(explain, samples)
    inputs = model.encode(texts)
    started = time.perf_counter()
    predict_inputs(inputs)
    model_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predict_inputs(model.encode(texts))
    end_to_end_seconds = time.perf_counter() - started
    return {
        "inference_reviews_per_second": len(texts) / model_seconds,
        "inference_end_to_end_reviews_per_second": len(texts) / end_to_end_seconds,
        "latency_ms_median": latency,
        "explain_latency_ms_median": explain_latency,
        "max_abs_difference_to_fast_path": float(
            np.max(np.abs(predict_inputs(inputs) - model.predict_inputs(inputs, batch_size=batch_size)))
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="run directory of a trained model")
    parser.add_argument("--dataset", help="registry dataset of the test reviews (default: the run's)")
    parser.add_argument("--data-dir", help="directory with the dataset's upstream files")
    parser.add_argument("--reviews", type=int, default=5000, help="test reviews for the throughput (0: all)")
    parser.add_argument("--latency-samples", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--compare", action="store_true", help="also measure the keras.Model.predict path")
    parser.add_argument("--output-dir", default=str(Path(__file__).resolve().parent / "results"))
    parser.add_argument("--no-save", dest="save", action="store_false")
    args = parser.parse_args(argv)

    from bilstm_attention import load_model
    from bilstm_attention.data import load_dataset
    from bilstm_attention.evaluation.benchmark import (
        machine_description,
        measure_inference,
        runtime_settings,
        versions,
    )
    from bilstm_attention.fileio import write_json

    started = time.perf_counter()
    model = load_model(args.model)
    load_seconds = time.perf_counter() - started
    dataset = args.dataset or model.run_info["dataset"]["name"]
    texts = list(load_dataset(dataset, data_dir=args.data_dir, progress=False).test.texts)
    if args.reviews:
        texts = texts[: args.reviews]
    lengths = [len(tokens) for tokens in model.tokenizer.tokenize_batch(texts[: args.latency_samples], progress=False)]
    fast = measure_inference(
        model, texts, batch_size=args.batch_size, latency_samples=args.latency_samples, explain=True
    )
    report: dict[str, Any] = {
        "model": str(Path(args.model).resolve()),
        "dataset": dataset,
        "test_reviews": len(texts),
        "latency_reviews": min(len(texts), args.latency_samples),
        "latency_reviews_median_tokens": statistics.median(lengths),
        "batch_size": args.batch_size,
        "load_model_seconds": load_seconds,
        "fast": fast,
    }
    if args.compare:
        report["keras_predict"] = _keras_path(
            model, texts, batch_size=args.batch_size, latency_samples=args.latency_samples
        )
        report["keras_predict"]["runtime"] = runtime_settings()
        report["speedup"] = {
            key: (
                fast[key] / report["keras_predict"][key]
                if "per_second" in key
                else report["keras_predict"][key] / fast[key]
            )
            for key in (
                "latency_ms_median",
                "explain_latency_ms_median",
                "inference_reviews_per_second",
                "inference_end_to_end_reviews_per_second",
            )
        }
    report.update(
        machine=machine_description(),
        versions=versions(),
        command=" ".join(sys.argv),
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    print(json.dumps({k: v for k, v in report.items() if k not in ("machine", "versions")}, indent=2))
    if args.save:
        backend = fast["runtime"]["backend"]
        path = Path(args.output_dir) / f"inference-{dataset}-{Path(args.model).name}-{backend}.json"
        write_json(path, report)
        print(f"saved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
