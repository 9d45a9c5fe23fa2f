"""Would averaging several trained BiLSTMs help the recipe? (research log, session 6)

Reads finished NSMC runs of the tuned recipe (each an ensemble of its BiLSTM and the same
NB-LR), takes each BiLSTM's probabilities and NB-LR's on the validation split, and reports
the validation accuracy of ``w * mean(BiLSTMs) + (1 - w) * NB-LR`` with ``w`` chosen on
validation log-loss, as the package chooses it. Test accuracy is printed for the record only.

    PYTHONPATH=$PWD python benchmarks/research/deep_ensemble.py runs/nsmc-a runs/nsmc-b
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import keras
import numpy as np

from bilstm_attention import load_model
from bilstm_attention.features.nblr import best_mix_weight
from bilstm_attention.inference.prediction import predict_probabilities
from bilstm_attention.model import ensemble_parts
from bilstm_attention.training import TrainConfig
from bilstm_attention.training.trainer import load_splits


def _parts(run: Path, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(BiLSTM probability, NB-LR probability) of every text under ``run``'s ensemble."""
    model = load_model(run)
    parts = ensemble_parts(model.model)
    assert parts is not None, f"{run} is not an ensemble run"
    both = keras.Model(model.model.inputs, [model.model.output, parts[1]])
    inputs = model.encode(texts)
    outputs = predict_probabilities(both, inputs.tokens, batch_size=512, pad_to=model.pad_to, ngram_ids=inputs.ngrams)
    final, deep = (np.asarray(p, dtype="float64").reshape(-1) for p in outputs)
    weight = json.loads((run / "metrics.json").read_text())["ensemble"]["deep_weight"]
    return deep, (final - weight * deep) / (1 - weight)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    config = TrainConfig.from_dict(json.loads((args.runs[0] / "run.json").read_text())["train_config"])
    splits = load_splits(config)
    figures = {}
    for name, split in (("validation", splits.validation), ("test", splits.test)):
        texts, labels = list(split.texts), np.asarray(split.labels)
        parts = [_parts(run, texts) for run in args.runs]
        deeps = np.stack([deep for deep, _ in parts])
        nblr = parts[0][1]
        figures[name] = (deeps, nblr, labels)

    def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
        return round(100 * float(((probabilities >= 0.5) == labels).mean()), 2)

    val_deeps, val_nblr, val_labels = figures["validation"]
    test_deeps, test_nblr, test_labels = figures["test"]
    for index, run in enumerate(args.runs):
        print(f"{run}: BiLSTM validation {accuracy(val_deeps[index], val_labels)}")
    print(f"NB-LR validation {accuracy(val_nblr, val_labels)}")
    for count in range(1, len(args.runs) + 1):
        val_mean, test_mean = val_deeps[:count].mean(0), test_deeps[:count].mean(0)
        weight, val_accuracy = best_mix_weight(val_mean, val_nblr, val_labels)
        test_mix = weight * test_mean + (1 - weight) * test_nblr
        print(
            f"{count} BiLSTM(s): mean of BiLSTMs validation {accuracy(val_mean, val_labels)}, "
            f"with NB-LR (w {weight}) validation {round(100 * val_accuracy, 2)}; "
            f"test (not used to choose) BiLSTMs {accuracy(test_mean, test_labels)}, recipe {accuracy(test_mix, test_labels)}"
        )


if __name__ == "__main__":
    main()
