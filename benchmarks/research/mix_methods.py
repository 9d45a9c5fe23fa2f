"""How the BiLSTM and NB-LR parts are combined, judged by cross-validation on validation
(research log, session 21).

The package averages probabilities, ``w * p_bilstm + (1 - w) * p_nblr``, with ``w`` on a 0.05
grid by validation log-loss. Alternatives: the same average over log-odds, and a logistic
regression on the two parts' log-odds with an intercept (a stacker: a temperature per part and a
bias), fitted on validation. Each method is scored by 10-fold cross-validation on the validation
split (fitted on nine tenths, accuracy on the tenth held out, pooled), so no method is scored on
the reviews it was fitted on; fitted on all of validation, its test accuracy is printed for the
record. IMDB runs get the recipe's self-trained NB-LR (``--self-training``).

    cd benchmarks/research && PYTHONPATH=../.. python mix_methods.py --dataset nsmc --runs runs/nsmc-1337
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import numpy as np
from common import RESULTS
from mixed_parts_ensemble import accuracy, held_out, split_parts
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from bilstm_attention import load_model
from bilstm_attention.features.nblr import best_mix_weight, fit_nblr, self_train_nblr
from bilstm_attention.fileio import write_json
from bilstm_attention.inference.prediction import predict_probabilities

Parts = dict[str, tuple[np.ndarray, np.ndarray]]  # split -> (BiLSTM, NB-LR) probabilities
Method = Callable[[np.ndarray, np.ndarray, np.ndarray], Callable[[np.ndarray, np.ndarray], np.ndarray]]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def probability_average(deep: np.ndarray, linear: np.ndarray, y: np.ndarray):
    w, _ = best_mix_weight(deep, linear, y)
    return lambda d, n: w * d + (1 - w) * n


def logit_average(deep: np.ndarray, linear: np.ndarray, y: np.ndarray):
    # the weight of the log-odds mix with the lowest log-loss, on the grid best_mix_weight uses
    grid = np.round(np.arange(0.0, 1.0001, 0.05), 6)
    a, b = _logit(deep), _logit(linear)

    def loss(w: float) -> float:
        p = np.clip(1 / (1 + np.exp(-(w * a + (1 - w) * b))), 1e-7, 1 - 1e-7)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    w = min(grid, key=lambda v: (round(loss(v), 9), abs(v - 0.5)))
    return lambda d, n: 1 / (1 + np.exp(-(w * _logit(d) + (1 - w) * _logit(n))))


def stacker(deep: np.ndarray, linear: np.ndarray, y: np.ndarray):
    model = LogisticRegression(C=100.0).fit(np.column_stack([_logit(deep), _logit(linear)]), y)
    return lambda d, n: model.predict_proba(np.column_stack([_logit(d), _logit(n)]))[:, 1]


METHODS: dict[str, Method] = {
    "probability average": probability_average,
    "log-odds average": logit_average,
    "stacker": stacker,
}


def run_parts(run: str, texts: dict, labels: dict, self_training: bool) -> Parts:
    """A saved run's (BiLSTM, NB-LR) probabilities of validation and test; with ``self_training``
    (IMDB) NB-LR is fitted again as the recipe fits it, self-trained on the unlabeled reviews."""
    if not self_training:
        model = load_model(run)
        return {split: split_parts(model, texts[split], run)[1:3] for split in ("validation", "test")}
    from prediction_length import ImdbRunData

    data = ImdbRunData.load(run)
    first = fit_nblr(data.train_x, data.train_labels, data.x["validation"], labels["validation"])
    nblr = self_train_nblr(first, data.train_x, data.train_labels, data.unlabeled_x(), data.x["validation"],
                           labels["validation"])  # fmt: skip
    parts = {}
    for split in ("validation", "test"):
        tokens = data.model.features.tokens(data.ids[split])
        deep = np.asarray(predict_probabilities(data.bilstm, tokens, ngram_ids=data.ngram_ids[split])).ravel()
        parts[split] = (deep, nblr.predict_proba(data.x[split]))
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--runs", nargs="+", required=True)
    parser.add_argument("--self-training", action="store_true", help="IMDB: the recipe's self-trained NB-LR")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    _, texts, labels = held_out(args.dataset)
    rows = []
    for run in args.runs:
        parts = run_parts(run, texts, labels, args.self_training)
        (deep, linear), y = parts["validation"], labels["validation"]
        for name, method in METHODS.items():
            correct = np.zeros(len(y), dtype=bool)
            folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
            for fit, held in folds.split(deep, y):
                combine = method(deep[fit], linear[fit], y[fit])
                correct[held] = (combine(deep[held], linear[held]) >= 0.5) == y[held]
            combine = method(deep, linear, y)
            test_deep, test_linear = parts["test"]
            row = {
                "run": run,
                "method": name,
                "validation_cv": round(100 * float(correct.mean()), 2),
                "validation_in_sample": round(100 * accuracy(combine(deep, linear), y), 2),
                "test": round(100 * accuracy(combine(test_deep, test_linear), labels["test"]), 2),
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    output = args.output or RESULTS / f"mix_methods-{args.dataset}.json"
    write_json(output, rows)
    print(f"saved {output}")


if __name__ == "__main__":
    main()
