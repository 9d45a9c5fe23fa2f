"""NB-LR refitted without the training reviews it finds mislabelled (research log, session 21).

NSMC's and Steam's labels come from star ratings and a recommend flag, and some training
reviews say the opposite of their label. NB-LR's out-of-fold probability of each training
review's own label (``out_of_fold_probabilities``, 5 folds at the C validation chose, as the
teacher computes it) is ``p``; variant ``t`` refits NB-LR on the reviews with ``p >= t`` only
(``drop``) or with the labels of the others flipped (``flip``), C chosen on validation. Each
NB-LR is scored alone and averaged with the BiLSTM part of saved runs, the weight chosen on
validation log-loss as the trainer chooses it; test for the record.

    cd benchmarks/research && PYTHONPATH=../.. python nblr_label_cleaning.py --dataset nsmc \\
        --runs runs/nsmc-1337 runs/nsmc-2 runs/nsmc-3
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from common import RESULTS
from mixed_parts_ensemble import accuracy, held_out, split_parts

from bilstm_attention import load_model
from bilstm_attention.features.nblr import best_mix_weight, fit_nblr, ngram_matrix, out_of_fold_probabilities
from bilstm_attention.fileio import write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--runs", nargs="+", required=True, help="tuned runs; the first one's n-gram table is used")
    parser.add_argument("--thresholds", default="0.05,0.1,0.2")
    parser.add_argument("--flip", default="0.1", help="thresholds below which labels are flipped instead")
    parser.add_argument("--seed", type=int, default=1337, help="seeds the folds, as the run's seed does")
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    splits, texts, labels = held_out(args.dataset)
    texts["train"], labels["train"] = list(splits.train.texts), np.asarray(splits.train.labels)
    deep = {}
    for run in args.runs:
        model = load_model(run)
        deep[run] = {split: split_parts(model, texts[split], run)[1] for split in ("validation", "test")}
    model = load_model(args.runs[0])
    size = len(model.features.ngrams)
    x = {split: ngram_matrix(model.encode(texts[split]).ngrams, size) for split in ("train", "validation", "test")}
    first = fit_nblr(x["train"], labels["train"], x["validation"], labels["validation"])
    positive = out_of_fold_probabilities(x["train"], labels["train"], C=first.C, seed=args.seed)
    own = np.where(labels["train"] == 1, positive, 1.0 - positive)
    print(f"parts ready in {time.perf_counter() - started:.0f} s (C {first.C})", flush=True)

    variants = [("unchanged", None, None)]
    variants += [(f"drop p < {t}", float(t), "drop") for t in args.thresholds.split(",") if t]
    variants += [(f"flip p < {t}", float(t), "flip") for t in args.flip.split(",") if t]
    rows = []
    for name, threshold, how in variants:
        t0 = time.perf_counter()
        if how is None:
            nblr, changed = first, 0
        else:
            doubtful = own < threshold
            changed = int(doubtful.sum())
            if how == "drop":
                train_x, train_y = x["train"][~doubtful], labels["train"][~doubtful]
            else:
                train_x, train_y = x["train"], np.where(doubtful, 1 - labels["train"], labels["train"])
            nblr = fit_nblr(train_x, train_y, x["validation"], labels["validation"])
        linear = {split: nblr.predict_proba(x[split]) for split in ("validation", "test")}
        row: dict = {
            "variant": name,
            "changed": changed,
            "C": nblr.C,
            "nblr_validation": round(100 * accuracy(linear["validation"], labels["validation"]), 2),
            "nblr_test": round(100 * accuracy(linear["test"], labels["test"]), 2),
            "mixed": [],
        }
        for run, parts in deep.items():
            weight, mixed = best_mix_weight(parts["validation"], linear["validation"], labels["validation"])
            mixed_test = accuracy(weight * parts["test"] + (1 - weight) * linear["test"], labels["test"])
            row["mixed"].append(
                {"run": run, "weight": weight, "validation": round(100 * mixed, 2), "test": round(100 * mixed_test, 2)}
            )
        row["mixed_validation_mean"] = round(float(np.mean([m["validation"] for m in row["mixed"]])), 2)
        row["mixed_test_mean"] = round(float(np.mean([m["test"] for m in row["mixed"]])), 2)
        row["seconds"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(row), flush=True)
        rows.append(row)
    output = args.output or RESULTS / f"nblr_label_cleaning-{args.dataset}.json"
    write_json(output, rows)
    print(f"saved {output}")


if __name__ == "__main__":
    main()
