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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--pairs", nargs="+", required=True, help="RECIPE_RUN:SYLLABLE_RUN, one per seed")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    _, texts, labels = held_out(args.dataset)
    y, y_test = labels["validation"], labels["test"]
    rows = []
    for pair in args.pairs:
        recipe_run, syllable_run = pair.split(":")
        recipe, syllable = parts(recipe_run, texts), parts(syllable_run, texts)
        (morph, nblr), (syl, syl_nblr) = recipe["validation"], syllable["validation"]
        (morph_t, nblr_t), (syl_t, _) = recipe["test"], syllable["test"]
        two, syl_two = two_part_weights([morph, nblr], y), two_part_weights([syl, nblr], y)
        three = best_weights([morph, nblr, syl], y)
        row = {
            "recipe_run": recipe_run,
            "syllable_run": syllable_run,
            "validation": {
                "morpheme_bilstm": pct(accuracy(morph, y)),
                "syllable_bilstm": pct(accuracy(syl, y)),
                "nblr": pct(accuracy(nblr, y)),
                "syllable_run_nblr": pct(accuracy(syl_nblr, y)),
                "recipe_average": pct(accuracy(combine(two, [morph, nblr]), y)),
                "syllable_bilstm_with_recipe_nblr": pct(accuracy(combine(syl_two, [syl, nblr]), y)),
                "two_bilstms": pct(accuracy((morph + syl) / 2, y)),
                "three_parts": pct(accuracy(combine(three, [morph, nblr, syl]), y)),
                "recipe_average_cv": pct(cross_validated(two_part_weights, [morph, nblr], y, args.folds)),
                "three_parts_cv": pct(cross_validated(best_weights, [morph, nblr, syl], y, args.folds)),
            },
            "weights": {"recipe": two, "syllable_with_recipe_nblr": syl_two, "three_parts": three},
            "test_not_used": {
                "morpheme_bilstm": pct(accuracy(morph_t, y_test)),
                "syllable_bilstm": pct(accuracy(syl_t, y_test)),
                "recipe_average": pct(accuracy(combine(two, [morph_t, nblr_t]), y_test)),
                "syllable_bilstm_with_recipe_nblr": pct(accuracy(combine(syl_two, [syl_t, nblr_t]), y_test)),
                "three_parts": pct(accuracy(combine(three, [morph_t, nblr_t, syl_t]), y_test)),
            },
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    output = args.output or RESULTS / f"syllable_third_part-{args.dataset}.json"
    write_json(output, rows)
    print(f"saved {output}")


if __name__ == "__main__":
    main()
