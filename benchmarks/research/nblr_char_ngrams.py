"""NB-LR on validation: Mecab word 1-3-grams (the recipe's features) against character n-grams
and both together (research log, session 6). Validation figures only; test is not read.

    PYTHONPATH=$PWD python benchmarks/research/nblr_char_ngrams.py --dataset steam
    PYTHONPATH=$PWD python benchmarks/research/nblr_char_ngrams.py --dataset steam --c 0.01,0.03,0.05,0.1 --word-only
"""

from __future__ import annotations

import argparse

import numpy as np
from common import DATA_DIR, PATHS
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

from bilstm_attention import data as data_lib
from bilstm_attention.features.nblr import fit_nblr
from bilstm_attention.tokenizers import get_tokenizer


def _binary(matrix: sparse.spmatrix) -> sparse.csr_matrix:
    matrix = matrix.tocsr().astype(np.float32)
    matrix.data[:] = 1.0
    # column 0 is padding in the package's n-gram ids: keep that layout
    return sparse.hstack([sparse.csr_matrix((matrix.shape[0], 1), dtype=np.float32), matrix]).tocsr()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--c", default="0.1,0.3,1.0", help="NB-LR C values (the recipe's by default)")
    parser.add_argument("--word-only", action="store_true")
    args = parser.parse_args()
    c_values = tuple(float(c) for c in args.c.split(","))

    splits = data_lib.load_dataset(args.dataset, data_dir=DATA_DIR, path=PATHS.get(args.dataset))
    train, validation = splits.train, splits.validation
    tokenizer = get_tokenizer("mecab")
    train_words = [" ".join(tokenizer.tokenize(text)) for text in train.texts]
    validation_words = [" ".join(tokenizer.tokenize(text)) for text in validation.texts]
    labels, validation_labels = np.asarray(train.labels), np.asarray(validation.labels)

    def report(name: str, features: sparse.csr_matrix, validation_features: sparse.csr_matrix) -> None:
        model = fit_nblr(features, labels, validation_features, validation_labels, c_values=c_values)
        by_c = {c: round(100 * accuracy, 2) for c, accuracy in model.validation_accuracy.items()}
        print(f"{args.dataset} {name}: {features.shape[1] - 1} features, validation accuracy by C {by_c}", flush=True)

    words = CountVectorizer(ngram_range=(1, 3), token_pattern=r"\S+", min_df=2, lowercase=False, binary=True)
    word_train, word_validation = _binary(words.fit_transform(train_words)), _binary(words.transform(validation_words))
    report("word 1-3", word_train, word_validation)
    if args.word_only:
        return
    for low, high in ((1, 4), (2, 5)):
        chars = CountVectorizer(analyzer="char_wb", ngram_range=(low, high), min_df=2, lowercase=False, binary=True)
        char_train = _binary(chars.fit_transform(list(train.texts)))
        char_validation = _binary(chars.transform(list(validation.texts)))
        report(f"char {low}-{high}", char_train, char_validation)
        report(
            f"word 1-3 + char {low}-{high}",
            sparse.hstack([word_train, char_train[:, 1:]]).tocsr(),
            sparse.hstack([word_validation, char_validation[:, 1:]]).tocsr(),
        )


if __name__ == "__main__":
    main()
