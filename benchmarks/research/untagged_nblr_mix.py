"""The BiLSTM of tuned runs (tagged Mecab morphemes) averaged with NB-LR over untagged morphemes
(research log, session 20).

Steam's recipe feeds both parts ``form/TAG`` tokens; NB-LR alone is 0.58 points better on
validation over plain morphemes (session 13). Here NB-LR is fitted over the plain morphemes'
1-3-grams (in at least 2 training reviews; ``C`` chosen on validation from the recipe's grid, as
``fit_nblr`` does) and averaged with each run's own BiLSTM part, the weight chosen as the
trainer chooses it (validation log-loss). Test accuracy is printed for the record, never used
to choose.

    cd benchmarks/research && PYTHONPATH=../.. python untagged_nblr_mix.py --dataset steam \\
        --bilstm runs/steam-1337 runs/steam-2 runs/steam-3
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from common import RESULTS
from mixed_parts_ensemble import accuracy, held_out, parts
from nblr_char_ngrams import _binary
from sklearn.feature_extraction.text import CountVectorizer

from bilstm_attention.features.nblr import best_mix_weight, fit_nblr
from bilstm_attention.fileio import write_json
from bilstm_attention.tokenizers import get_tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--bilstm", nargs="+", required=True, help="tuned runs whose BiLSTM part is used")
    parser.add_argument("--output", default=None, help="JSON file for the figures")
    args = parser.parse_args()

    splits, texts, labels = held_out(args.dataset)
    tokenizer = get_tokenizer("mecab", form="morph")
    texts["train"] = list(splits.train.texts)
    words = {
        split: [" ".join(tokenizer.tokenize(text)) for text in split_texts] for split, split_texts in texts.items()
    }
    vectorizer = CountVectorizer(ngram_range=(1, 3), token_pattern=r"\S+", min_df=2, lowercase=False, binary=True)
    features = {"train": _binary(vectorizer.fit_transform(words["train"]))}
    for split in ("validation", "test"):
        features[split] = _binary(vectorizer.transform(words[split]))
    nblr = fit_nblr(features["train"], np.asarray(splits.train.labels), features["validation"], labels["validation"])
    linear = {split: nblr.predict_proba(features[split]) for split in ("validation", "test")}
    print(f"untagged NB-LR: C {nblr.C}, validation {100 * accuracy(linear['validation'], labels['validation']):.2f}")
    rows = []
    for run in args.bilstm:
        both = parts(run, {split: texts[split] for split in ("validation", "test")})
        deep = {split: bilstm for split, (bilstm, _) in both.items()}
        tagged = {split: nblr_part for split, (_, nblr_part) in both.items()}
        weight, validation_accuracy = best_mix_weight(deep["validation"], linear["validation"], labels["validation"])
        tagged_weight, tagged_accuracy = best_mix_weight(deep["validation"], tagged["validation"], labels["validation"])
        row = {
            "bilstm_run": run,
            "nblr_C": nblr.C,
            "bilstm_validation": accuracy(deep["validation"], labels["validation"]),
            "tagged_nblr_validation": accuracy(tagged["validation"], labels["validation"]),
            "untagged_nblr_validation": accuracy(linear["validation"], labels["validation"]),
            "tagged_weight": tagged_weight,
            "tagged_mixed_validation": tagged_accuracy,
            "weight": weight,
            "mixed_validation": validation_accuracy,
            "tagged_mixed_test": accuracy(
                tagged_weight * deep["test"] + (1 - tagged_weight) * tagged["test"], labels["test"]
            ),
            "mixed_test": accuracy(weight * deep["test"] + (1 - weight) * linear["test"], labels["test"]),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    output = args.output or RESULTS / f"untagged_nblr_mix-{args.dataset}.json"
    write_json(output, rows)
    print(f"saved {output}")


if __name__ == "__main__":
    main()
