"""NB-LR refitted with IMDB's unlabeled reviews, labelled by a teacher (research log, session 18).

IMDB has 50,000 unlabeled reviews that only word2vec reads. Here the n-gram part learns from
them: a teacher labels each unlabeled review (NB-LR itself: self-training; the run's BiLSTM or
its whole average: co-training, Blum & Mitchell 1998, the other view teaching the linear one);
reviews the teacher is at least ``confidence`` sure of are added to the training reviews with
its hard label; NB ratios and the regression are fitted again on both (the run's n-gram
vocabulary, built on the training reviews, is kept). The new NB-LR is scored alone and in the
average with the run's BiLSTM, the weight chosen on validation log-loss as the trainer chooses
it; ``C`` from the trainer's grid, chosen on validation accuracy as ``fit_nblr`` does. Test
accuracy is printed for the record, never used to choose.

    PYTHONPATH=$PWD python benchmarks/research/nblr_self_training.py --run runs/imdb
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from common import DATA_DIR, RESULTS
from mixed_parts_ensemble import accuracy, held_out, split_parts
from scipy import sparse

from bilstm_attention import data as data_lib
from bilstm_attention import load_model
from bilstm_attention.features.nblr import best_mix_weight, fit_nblr, ngram_matrix
from bilstm_attention.fileio import write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="a tuned IMDB run (BiLSTM + NB-LR)")
    parser.add_argument("--teachers", default="nblr,bilstm,average")
    parser.add_argument("--confidence", default="0.5,0.8,0.9", help="least teacher probability of the chosen class")
    parser.add_argument("--c", default="0.1,0.3,1.0")
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    splits, texts, labels = held_out("imdb")
    unlabeled = data_lib.load_unlabeled("imdb", data_dir=DATA_DIR)
    model = load_model(args.run)
    size = len(model.features.ngrams)
    train_texts = list(splits.train.texts)
    train_labels = np.asarray(splits.train.labels)
    parts = {}
    for split, split_texts in (("validation", texts["validation"]), ("test", texts["test"]), ("unlabeled", unlabeled)):
        mixed, deep, linear, inputs = split_parts(model, split_texts, args.run)
        parts[split] = {"average": mixed, "bilstm": deep, "nblr": linear, "x": ngram_matrix(inputs.ngrams, size)}
    train_x = ngram_matrix(model.encode(train_texts).ngrams, size)
    print(f"parts ready in {time.perf_counter() - started:.0f} s", flush=True)
    c_values = [float(c) for c in args.c.split(",")]

    def score(name: str, x, y) -> dict:
        t0 = time.perf_counter()
        nblr = fit_nblr(x, y, parts["validation"]["x"], labels["validation"], c_values=c_values)
        row: dict = {"variant": name, "rows": int(x.shape[0]), "C": nblr.C}
        row["nblr_by_c"] = {c: round(100 * a, 2) for c, a in nblr.validation_accuracy.items()}
        linear = {s: nblr.predict_proba(parts[s]["x"]) for s in ("validation", "test")}
        deep = {s: parts[s]["bilstm"] for s in ("validation", "test")}
        w, mixed_validation = best_mix_weight(deep["validation"], linear["validation"], labels["validation"])
        row.update(
            nblr_validation=round(100 * accuracy(linear["validation"], labels["validation"]), 2),
            nblr_test=round(100 * accuracy(linear["test"], labels["test"]), 2),
            weight=w,
            mixed_validation=round(100 * mixed_validation, 2),
            mixed_test=round(100 * accuracy(w * deep["test"] + (1 - w) * linear["test"], labels["test"]), 2),
            seconds=round(time.perf_counter() - t0, 1),
        )
        print(json.dumps(row), flush=True)
        return row

    rows = [score("train only", train_x, train_labels)]
    for teacher in args.teachers.split(","):
        p = parts["unlabeled"][teacher]
        for confidence in (float(c) for c in args.confidence.split(",")):
            chosen = np.maximum(p, 1 - p) >= confidence
            x = sparse.vstack([train_x, parts["unlabeled"]["x"][chosen]]).tocsr()
            y = np.concatenate([train_labels, (p[chosen] >= 0.5).astype(train_labels.dtype)])
            row = score(f"{teacher} >= {confidence}", x, y)
            row["added"] = int(chosen.sum())
            rows.append(row)
    output = args.output or RESULTS / "nblr_self_training-imdb.json"
    write_json(output, rows)
    print(f"saved {output}")


if __name__ == "__main__":
    main()
