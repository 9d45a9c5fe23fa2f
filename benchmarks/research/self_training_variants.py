"""Variants of NB-LR self-training on saved IMDB runs (research log, session 21).

The recipe fits NB-LR on the training reviews, labels IMDB's 50,000 unlabeled reviews with it
and fits NB-LR again on both (``nblr_self_training``, session 20), ``C`` chosen on validation
from 0.1 / 0.3 / 1 in both fits. The refit chose 1.0, the top of that grid. Variants here: a
wider grid for the refit (``--refit-c``), and more rounds (each refitted model labels the
unlabeled reviews again). Each NB-LR is scored alone and averaged with the run's BiLSTM, the
weight chosen on validation log-loss as the trainer chooses it; test for the record.

    cd benchmarks/research && PYTHONPATH=../.. python self_training_variants.py --run runs/imdb-1337
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from mixed_parts_ensemble import accuracy
from prediction_length import ImdbRunData

from bilstm_attention.features.nblr import best_mix_weight, fit_nblr, self_train_nblr
from bilstm_attention.fileio import write_json
from bilstm_attention.inference.prediction import predict_probabilities


def _grid(text: str) -> tuple[float, ...]:
    return tuple(float(c) for c in text.split(","))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="a tuned IMDB run (BiLSTM + NB-LR)")
    parser.add_argument("--c", default="0.1,0.3,1.0", help="C values of the first fit and the recipe's refits")
    parser.add_argument("--refit-c", default="0.3,1.0,3.0,10.0", help="C values of the wide-grid refits")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    started = time.perf_counter()
    data = ImdbRunData.load(args.run)
    labels = data.labels
    unlabeled_x = data.unlabeled_x()
    deep = {
        split: np.asarray(
            predict_probabilities(
                data.bilstm, data.model.features.tokens(data.ids[split]), ngram_ids=data.ngram_ids[split]
            )
        ).ravel()
        for split in data.x
    }
    first = fit_nblr(
        data.train_x, data.train_labels, data.x["validation"], labels["validation"], c_values=_grid(args.c)
    )
    print(f"parts ready in {time.perf_counter() - started:.0f} s", flush=True)

    rows = []
    for grid_name, grid in (("recipe grid", _grid(args.c)), ("wide refit grid", _grid(args.refit_c))):
        teacher = first
        for round_ in range(1, args.rounds + 1):
            t0 = time.perf_counter()
            teacher = self_train_nblr(
                teacher, data.train_x, data.train_labels, unlabeled_x, data.x["validation"], labels["validation"],
                c_values=grid,
            )  # fmt: skip
            linear = {split: teacher.predict_proba(data.x[split]) for split in data.x}
            weight, mixed = best_mix_weight(deep["validation"], linear["validation"], labels["validation"])
            row = {
                "run": args.run,
                "variant": f"{grid_name}, round {round_}",
                "C": teacher.C,
                "nblr_by_c": {c: round(100 * a, 2) for c, a in teacher.validation_accuracy.items()},
                "bilstm_validation": round(100 * accuracy(deep["validation"], labels["validation"]), 2),
                "nblr_validation": round(100 * accuracy(linear["validation"], labels["validation"]), 2),
                "weight": weight,
                "mixed_validation": round(100 * mixed, 2),
                "nblr_test": round(100 * accuracy(linear["test"], labels["test"]), 2),
                "mixed_test": round(
                    100 * accuracy(weight * deep["test"] + (1 - weight) * linear["test"], labels["test"]), 2
                ),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    write_json(args.output, rows)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
