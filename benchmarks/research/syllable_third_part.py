"""A BiLSTM over syllables beside the recipe's BiLSTM and NB-LR (research log, session 22).

Each pair is a recipe run and a run of the same seed with ``--tokenizer syllable``. Per pair,
on validation (test printed for the record, never used to choose):

- each BiLSTM alone, and each with the recipe run's NB-LR (the package's averaging weight);
- the three-part average (recipe BiLSTM, recipe NB-LR, syllable BiLSTM), its weights on a
  0.05 simplex grid by validation log-loss;
- the two- and three-part averages scored by 10-fold cross-validation on validation (weights
  fitted on nine tenths, accuracy on the tenth held out, pooled), as in ``mix_methods.py``.

    cd benchmarks/research && PYTHONPATH=../.. python syllable_third_part.py --dataset steam \\
        --pairs runs/steam-1337:runs/steam-syl-1337 runs/steam-2:runs/steam-syl-2
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import numpy as np
from common import RESULTS
from mixed_parts_ensemble import accuracy, held_out, parts
from sklearn.model_selection import StratifiedKFold
from third_part_ensemble import best_weights, combine

from bilstm_attention.features.nblr import best_mix_weight
from bilstm_attention.fileio import write_json

Fit = Callable[[list[np.ndarray], np.ndarray], tuple[float, ...]]


def two_part_weights(parts_: list[np.ndarray], labels: np.ndarray) -> tuple[float, ...]:
    """The package's rule: the BiLSTM's weight of lowest log-loss (``best_mix_weight``)."""
    weight, _ = best_mix_weight(parts_[0], parts_[1], labels)
    return (weight, 1.0 - weight)


def cross_validated(fit: Fit, parts_: list[np.ndarray], labels: np.ndarray, folds: int) -> float:
    """Accuracy of the average whose weights ``fit`` chooses on the other folds, pooled."""
    correct = np.zeros(len(labels), dtype=bool)
    for train, held in StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(parts_[0], labels):
        weights = fit([p[train] for p in parts_], labels[train])
        correct[held] = (combine(weights, [p[held] for p in parts_]) >= 0.5) == labels[held]
    return float(correct.mean())


def pct(value: float) -> float:
    return round(100 * value, 2)


def compare_pair(
    recipe_run: str,
    other_run: str,
    texts: dict[str, list[str]],
    labels: dict[str, np.ndarray],
    *,
    folds: int,
    recipe_name: str,
    other_name: str,
) -> dict:
    """One pair's figures: the recipe run's BiLSTM (``<recipe_name>_bilstm``) and NB-LR, the other
    run's BiLSTM (``<other_name>_bilstm``), their two- and three-part averages, in-sample and
    cross-validated on validation; test for the record."""
    y, y_test = labels["validation"], labels["test"]
    recipe, other = parts(recipe_run, texts), parts(other_run, texts)
    (first, nblr), (second, other_nblr) = recipe["validation"], other["validation"]
    (first_t, nblr_t), (second_t, _) = recipe["test"], other["test"]
    two, other_two = two_part_weights([first, nblr], y), two_part_weights([second, nblr], y)
    three = best_weights([first, nblr, second], y)
    with_nblr = f"{other_name}_bilstm_with_recipe_nblr"
    return {
        "recipe_run": recipe_run,
        f"{other_name}_run": other_run,
        "validation": {
            f"{recipe_name}_bilstm": pct(accuracy(first, y)),
            f"{other_name}_bilstm": pct(accuracy(second, y)),
            "nblr": pct(accuracy(nblr, y)),
            f"{other_name}_run_nblr": pct(accuracy(other_nblr, y)),
            "recipe_average": pct(accuracy(combine(two, [first, nblr]), y)),
            with_nblr: pct(accuracy(combine(other_two, [second, nblr]), y)),
            "two_bilstms": pct(accuracy((first + second) / 2, y)),
            "three_parts": pct(accuracy(combine(three, [first, nblr, second]), y)),
            "recipe_average_cv": pct(cross_validated(two_part_weights, [first, nblr], y, folds)),
            f"{with_nblr}_cv": pct(cross_validated(two_part_weights, [second, nblr], y, folds)),
            "three_parts_cv": pct(cross_validated(best_weights, [first, nblr, second], y, folds)),
        },
        "weights": {"recipe": two, f"{other_name}_with_recipe_nblr": other_two, "three_parts": three},
        "test_not_used": {
            f"{recipe_name}_bilstm": pct(accuracy(first_t, y_test)),
            f"{other_name}_bilstm": pct(accuracy(second_t, y_test)),
            "recipe_average": pct(accuracy(combine(two, [first_t, nblr_t]), y_test)),
            with_nblr: pct(accuracy(combine(other_two, [second_t, nblr_t]), y_test)),
            "three_parts": pct(accuracy(combine(three, [first_t, nblr_t, second_t]), y_test)),
        },
    }


def compare_pairs(description: str, *, recipe_name: str, other_name: str, output_stem: str) -> None:
    """The command line shared by this script and ``distillation_third_part.py``: ``--dataset D
    --pairs RECIPE_RUN:OTHER_RUN ...``; prints each pair's figures and saves them all."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--pairs", nargs="+", required=True, help=f"RECIPE_RUN:{other_name.upper()}_RUN, one per seed")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    _, texts, labels = held_out(args.dataset)
    rows = []
    for pair in args.pairs:
        recipe_run, other_run = pair.split(":")
        row = compare_pair(
            recipe_run, other_run, texts, labels, folds=args.folds, recipe_name=recipe_name, other_name=other_name
        )
        print(json.dumps(row), flush=True)
        rows.append(row)
    output = args.output or RESULTS / f"{output_stem}-{args.dataset}.json"
    write_json(output, rows)
    print(f"saved {output}")


if __name__ == "__main__":
    compare_pairs(__doc__, recipe_name="morpheme", other_name="syllable", output_stem="syllable_third_part")
