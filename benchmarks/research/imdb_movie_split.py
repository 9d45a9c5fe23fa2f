"""How much does IMDB's validation split flatter a model because it shares movies with train?

aclImdb's train and test reviews come from disjoint sets of movies (its README; `urls_*.txt`
give each review's movie), at most 30 reviews per movie. The package's validation slice is a
random 10 % of train, so almost every validation review has reviews of its own movie in
the training part, which test reviews never have. This script fits NB-LR (word 1-3-grams,
the recipe's C grid) on two 90/10 cuts of IMDB's train split:

- ``random``: the package's stratified hash split of the review keys (the benchmark's);
- ``movie``: whole movies (the package's split since session 19,
  ``data.splits.grouped_stratified_holdout``), so a movie's reviews stay on one side.

and prints the validation accuracy of each by C, and how many validation reviews have their
movie in the training part. The test split is never read.

    PYTHONPATH=$PWD BILSTM_ATTENTION_DATA=/abs/path python benchmarks/research/imdb_movie_split.py
    ... imdb_movie_split.py --seeds 2,3,4 --c 0.3    # other cuts (results/imdb_movie_split-seeds.json)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from common import DATA_DIR, RESULTS
from nblr_char_ngrams import _binary
from sklearn.feature_extraction.text import CountVectorizer

from bilstm_attention.data import get_spec
from bilstm_attention.data.readers import read_imdb
from bilstm_attention.data.splits import grouped_stratified_holdout, stratified_holdout
from bilstm_attention.features.nblr import fit_nblr
from bilstm_attention.tokenizers import get_tokenizer

C_VALUES = (0.1, 0.3, 1.0)


def train_reviews(archive: Path) -> tuple[list[str], np.ndarray, list[str], list[str]]:
    """IMDB's train reviews read by the package's reader: texts, labels, keys, movies."""
    (records,) = read_imdb(archive, get_spec("imdb"), splits=("train",), progress=False).parts.values()
    return records.texts, records.label_array(), records.keys, records.groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1337", help="split seeds (1337: the package's)")
    parser.add_argument("--c", default=",".join(str(c) for c in C_VALUES), help="NB-LR C values")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    c_values = tuple(float(c) for c in args.c.split(","))
    archive = Path(DATA_DIR) / "imdb" / "aclImdb_v1.tar.gz"
    texts, labels, keys, movies = train_reviews(archive)
    tokenizer = get_tokenizer("english")
    started = time.perf_counter()
    words = [" ".join(tokenizer.tokenize(t)) for t in texts]
    print(f"tokenized {len(words):,} reviews in {time.perf_counter() - started:.0f} s", flush=True)

    report = {"c_values": c_values, "cuts": {}}
    for seed, name in ((seed, name) for seed in seeds for name in ("random", "movie")):
        if name == "random":
            held = stratified_holdout(labels, keys, 0.1, seed)
        else:
            held = grouped_stratified_holdout(labels, movies, 0.1, seed)
        name = name if seed == 1337 else f"{name}, seed {seed}"
        train_movies = {movies[i] for i in np.flatnonzero(~held)}
        shared = sum(movies[i] in train_movies for i in np.flatnonzero(held))
        vectorizer = CountVectorizer(ngram_range=(1, 3), token_pattern=r"\S+", min_df=2, lowercase=False, binary=True)
        fit_rows = [words[i] for i in np.flatnonzero(~held)]
        train_x = _binary(vectorizer.fit_transform(fit_rows))
        val_x = _binary(vectorizer.transform([words[i] for i in np.flatnonzero(held)]))
        model = fit_nblr(train_x, labels[~held], val_x, labels[held], c_values=c_values)
        by_c = {str(c): round(100 * a, 2) for c, a in model.validation_accuracy.items()}
        row = {
            "validation_reviews": int(held.sum()),
            "validation_reviews_whose_movie_is_in_train": int(shared),
            "validation_movies": len({movies[i] for i in np.flatnonzero(held)}),
            "nblr_validation_accuracy_by_C": by_c,
        }
        report["cuts"][name] = row
        print(name, json.dumps(row), flush=True)
    out = RESULTS / ("imdb_movie_split.json" if seeds == [1337] else "imdb_movie_split-seeds.json")
    out.write_text(json.dumps(report, indent=1) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
