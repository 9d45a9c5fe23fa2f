"""The BiLSTM of one trained run averaged with the NB-LR of another (research log, session 13).

Both runs are tuned-recipe ensembles trained on the same registry dataset (so the same
validation slice); they differ in what their parts saw, e.g. Mecab morphemes with their tags
(``--tokenizer-options '{"form": "morph_tag"}'``) for the BiLSTM and plain morphemes for NB-LR.
Each run's parts are read back from its saved ``model.keras``: the BiLSTM's own probability is
the ensemble's second output, and NB-LR's is ``(p - w * p_bilstm) / (1 - w)``. The averaging
weight is chosen as the trainer chooses it (lowest validation log-loss); the test accuracy is
printed for the record, never used to choose.

    PYTHONPATH=$PWD python benchmarks/research/mixed_parts_ensemble.py --dataset nsmc \\
        --bilstm runs/nsmc-morphtag-1337 runs/nsmc-morphtag-2 --nblr runs/nsmc
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import keras
import numpy as np
from common import DATA_DIR, PATHS, RESULTS

from bilstm_attention import data as data_lib
from bilstm_attention import load_model
from bilstm_attention.features.nblr import best_mix_weight
from bilstm_attention.fileio import write_json
from bilstm_attention.inference.prediction import predict_probabilities
from bilstm_attention.model import ensemble_parts


def split_parts(model: Any, texts: list[str], run: str = "the run") -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """``(average, BiLSTM, NB-LR)`` probabilities of ``texts`` from a loaded ensemble run
    (``load_model(run)``), and the model inputs they were computed from."""
    found = ensemble_parts(model.model)
    if found is None:
        raise SystemExit(f"{run} is not an ensemble (no NB-LR part)")
    weight, deep_output = found
    if weight >= 1.0:
        raise SystemExit(f"{run} gives NB-LR no weight: its NB-LR probability cannot be read back")
    both = keras.Model(model.model.inputs, [model.model.output, deep_output])
    inputs = model.encode(texts)
    mixed, deep = predict_probabilities(
        both, inputs.tokens, batch_size=256, pad_to=model.pad_to, ngram_ids=inputs.ngrams
    )
    mixed, deep = np.asarray(mixed).ravel(), np.asarray(deep).ravel()
    return mixed, deep, np.clip((mixed - weight * deep) / (1.0 - weight), 0.0, 1.0), inputs


def parts(run: str, texts: dict[str, list[str]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{split: (BiLSTM probabilities, NB-LR probabilities)}`` of a saved ensemble run."""
    model = load_model(run)
    result = {}
    for split, split_texts in texts.items():
        _, deep, linear, _ = split_parts(model, split_texts, run)
        result[split] = (deep, linear)
    return result


def held_out(dataset: str) -> tuple[data_lib.DatasetSplits, dict[str, list[str]], dict[str, np.ndarray]]:
    """The dataset's splits (the benchmark's), and the texts and labels of validation and test."""
    splits = data_lib.load_dataset(dataset, data_dir=DATA_DIR, path=PATHS.get(dataset))
    texts = {"validation": list(splits.validation.texts), "test": list(splits.test.texts)}
    labels = {"validation": np.asarray(splits.validation.labels), "test": np.asarray(splits.test.labels)}
    return splits, texts, labels


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(((probabilities >= 0.5) == labels).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--bilstm", nargs="+", required=True, help="runs whose BiLSTM part is used")
    parser.add_argument("--nblr", required=True, help="the run whose NB-LR part is used")
    parser.add_argument("--output", default=None, help="JSON file for the figures")
    args = parser.parse_args()

    _, texts, labels = held_out(args.dataset)
    linear = {split: nblr for split, (_, nblr) in parts(args.nblr, texts).items()}
    rows = []
    for run in args.bilstm:
        deep = {split: bilstm for split, (bilstm, _) in parts(run, texts).items()}
        weight, validation_accuracy = best_mix_weight(deep["validation"], linear["validation"], labels["validation"])
        row = {
            "bilstm_run": run,
            "nblr_run": args.nblr,
            "weight": weight,
            "bilstm_validation": accuracy(deep["validation"], labels["validation"]),
            "nblr_validation": accuracy(linear["validation"], labels["validation"]),
            "mixed_validation": validation_accuracy,
            "bilstm_test": accuracy(deep["test"], labels["test"]),
            "nblr_test": accuracy(linear["test"], labels["test"]),
            "mixed_test": accuracy(weight * deep["test"] + (1 - weight) * linear["test"], labels["test"]),
        }
        rows.append(row)
        print(json.dumps(row))
    output = args.output or RESULTS / f"mixed_parts_ensemble-{args.dataset}.json"
    write_json(output, rows)
    print(f"saved {output}")


if __name__ == "__main__":
    main()
