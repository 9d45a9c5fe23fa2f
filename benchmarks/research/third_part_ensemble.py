"""A third part for the NSMC average: NB-LR over syllable (character) n-grams (research log, session 14).

The recipe averages the BiLSTM with NB-LR over Mecab word 1-3-grams; both read Mecab's
morphemes, so they share its mistakes (spacing errors, typos, slang Mecab splits oddly). An
NB-LR over character n-grams of the raw text sees none of Mecab's output. This script fits it
(the package's ``fit_nblr``, C chosen on validation accuracy as the trainer does), reads the
BiLSTM and word NB-LR parts back from saved recipe runs (as ``mixed_parts_ensemble.py``), and
chooses the weights of the three-part average on validation log-loss (a 0.05 grid over the
simplex, as ``best_mix_weight`` does for two parts). Test accuracy is printed for the record,
never used to choose.

    PYTHONPATH=$PWD python benchmarks/research/third_part_ensemble.py --dataset nsmc \\
        --nblr runs/nsmc --bilstm runs/nsmc runs/nsmc-morphtag-1337
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import numpy as np
from common import RESULTS
from mixed_parts_ensemble import accuracy, held_out, parts
from nblr_char_ngrams import _binary
from sklearn.feature_extraction.text import CountVectorizer

from bilstm_attention.features.nblr import fit_nblr
from bilstm_attention.fileio import write_json

ANALYZERS = {
    # name: (CountVectorizer analyzer, n-gram range, text transform)
    "char_wb1-4": ("char_wb", (1, 4), lambda text: text),
    "char1-5-nospace": ("char", (1, 5), lambda text: "".join(text.split())),
    "char2-5": ("char", (2, 5), lambda text: " ".join(text.split())),
    "char1-4-nospace": ("char", (1, 4), lambda text: "".join(text.split())),
    "char1-6-nospace": ("char", (1, 6), lambda text: "".join(text.split())),
    "char2-6-nospace": ("char", (2, 6), lambda text: "".join(text.split())),
    # English (IMDB): characters within words, lowercased
    "char_wb2-5-lower": ("char_wb", (2, 5), lambda text: text.lower()),
    "char_wb3-6-lower": ("char_wb", (3, 6), lambda text: text.lower()),
}


def log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    p = np.clip(probabilities, 1e-7, 1 - 1e-7)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


def combine(weights, parts_: list[np.ndarray], space: str = "probability") -> np.ndarray:
    """The weighted average of the parts' probabilities, or (``space="logit"``) of their
    log-odds, turned back into a probability."""
    if space == "probability":
        return sum(w * p for w, p in zip(weights, parts_))
    logits = [np.log(np.clip(p, 1e-7, 1 - 1e-7)) - np.log1p(-np.clip(p, 1e-7, 1 - 1e-7)) for p in parts_]
    return 1.0 / (1.0 + np.exp(-sum(w * z for w, z in zip(weights, logits))))


def best_weights(
    parts_: list[np.ndarray], labels: np.ndarray, step: float = 0.05, space: str = "probability"
) -> tuple[float, ...]:
    """The simplex weights (step ``step``) of the parts' average with the lowest log-loss."""
    ticks = int(round(1 / step))
    best, best_loss = None, np.inf
    for combo in itertools.product(range(ticks + 1), repeat=len(parts_) - 1):
        if sum(combo) > ticks:
            continue
        weights = [c / ticks for c in combo] + [(ticks - sum(combo)) / ticks]
        loss = log_loss(combine(weights, parts_, space), labels)
        if loss < best_loss - 1e-9:
            best, best_loss = tuple(weights), loss
    return best


def char_nblr(name: str, splits, labels) -> dict[str, np.ndarray]:
    analyzer, ngram_range, transform = ANALYZERS[name]
    started = time.perf_counter()
    vectorizer = CountVectorizer(analyzer=analyzer, ngram_range=ngram_range, min_df=2, lowercase=False, binary=True)
    features = {"train": _binary(vectorizer.fit_transform([transform(t) for t in splits.train.texts]))}
    for split in ("validation", "test"):
        features[split] = _binary(vectorizer.transform([transform(t) for t in getattr(splits, split).texts]))
    model = fit_nblr(
        features["train"],
        np.asarray(splits.train.labels),
        features["validation"],
        labels["validation"],
        c_values=(0.03, 0.1, 0.3, 1.0),
    )
    by_c = {c: round(100 * a, 2) for c, a in model.validation_accuracy.items()}
    print(
        f"{name}: {features['train'].shape[1] - 1} n-grams, validation accuracy by C {by_c}, "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return {split: np.asarray(model.predict_proba(features[split])).ravel() for split in ("validation", "test")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--bilstm", nargs="+", required=True, help="runs whose BiLSTM part is used")
    parser.add_argument("--nblr", required=True, help="the run whose word NB-LR part is used")
    parser.add_argument("--analyzers", default=",".join(ANALYZERS), help=f"from {sorted(ANALYZERS)}")
    parser.add_argument("--space", default="probability", choices=("probability", "logit"), help="what is averaged")
    parser.add_argument("--output", default=None, help="JSON file for the figures")
    args = parser.parse_args()

    splits, texts, labels = held_out(args.dataset)
    word = {split: nblr for split, (_, nblr) in parts(args.nblr, texts).items()}
    chars = {name: char_nblr(name, splits, labels) for name in args.analyzers.split(",")}
    deeps = {run: {split: bilstm for split, (bilstm, _) in parts(run, texts).items()} for run in args.bilstm}

    rows = []
    for (run, deep), (name, char) in itertools.product(deeps.items(), chars.items()):
        for label, members in (
            ("bilstm+word", [deep, word]),
            ("bilstm+char", [deep, char]),
            ("word+char", [word, char]),
            ("bilstm+word+char", [deep, word, char]),
        ):
            weights = best_weights([m["validation"] for m in members], labels["validation"], space=args.space)
            row = {"bilstm_run": run, "char": name, "parts": label, "space": args.space, "weights": weights}
            for split in ("validation", "test"):
                mixed = combine(weights, [m[split] for m in members], args.space)
                row[f"{split}_accuracy"] = round(100 * accuracy(mixed, labels[split]), 2)
                row[f"{split}_log_loss"] = round(log_loss(mixed, labels[split]), 4)
            row["char_validation"] = round(100 * accuracy(char["validation"], labels["validation"]), 2)
            row["char_test"] = round(100 * accuracy(char["test"], labels["test"]), 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    output = args.output or RESULTS / f"third_part_ensemble-{args.dataset}.json"
    write_json(output, rows)
    print(f"saved {output}")


if __name__ == "__main__":
    main()
