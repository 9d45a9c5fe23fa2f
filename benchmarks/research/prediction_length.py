"""A trained IMDB BiLSTM reading more of each review at prediction time (research log, session 21).

The tuned recipe cuts IMDB reviews to ``max_length`` tokens (400, ``head_tail``) for training,
where the cost of an epoch grows with the length. Prediction is cheap by comparison, and the
BiLSTM with attention can read a sequence of any length. Here a saved run's BiLSTM predicts the
validation reviews cut to each length in ``--lengths`` (``all``: uncut), and is averaged with the
recipe's NB-LR (fitted on the training reviews, then self-trained on the unlabeled ones as
``nblr_self_training`` does), the weight chosen on validation log-loss as the trainer chooses
it. Test accuracy is computed only for the lengths in ``--test-lengths``, for the record.

    cd benchmarks/research && PYTHONPATH=../.. python prediction_length.py \\
        --run runs/imdb-1337 --lengths 400,600,800,all --test-lengths 400
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from common import DATA_DIR, RESULTS
from mixed_parts_ensemble import accuracy, held_out

from bilstm_attention import data as data_lib
from bilstm_attention import load_model
from bilstm_attention.features.nblr import best_mix_weight, fit_nblr, ngram_matrix, self_train_nblr
from bilstm_attention.fileio import write_json
from bilstm_attention.inference.prediction import predict_probabilities
from bilstm_attention.model import ensemble_parts


def _length(value: str) -> int | None:
    return None if value == "all" else int(value)


@dataclass
class ImdbRunData:
    """A saved tuned IMDB run with the dataset's reviews encoded as that run encodes them:
    token ids and n-gram ids of validation and test, n-gram matrices, and the run's BiLSTM part
    as a model of its own."""

    model: Any
    bilstm: keras.Model
    labels: dict[str, np.ndarray]
    ids: dict[str, list[np.ndarray]]
    ngram_ids: dict[str, list[np.ndarray]]
    x: dict[str, Any]
    train_x: Any
    train_labels: np.ndarray

    @classmethod
    def load(cls, run: str) -> ImdbRunData:
        splits, texts, labels = held_out("imdb")
        model = load_model(run)
        found = ensemble_parts(model.model)
        if found is None:
            raise SystemExit(f"{run} is not an ensemble (no NB-LR part)")
        data = cls(
            model, keras.Model(model.model.inputs, found[1]), labels, {}, {}, {}, None, np.asarray(splits.train.labels)
        )
        for split in ("validation", "test"):
            data.ids[split] = data.token_ids(texts[split])
            data.ngram_ids[split] = model.features.ngram_ids(data.ids[split])
            data.x[split] = data.matrix(data.ngram_ids[split])
        data.train_x = data.matrix(model.features.ngram_ids(data.token_ids(list(splits.train.texts))))
        return data

    def token_ids(self, texts: list[str]) -> list[np.ndarray]:
        return self.model.vocabulary.encode_batch(self.model.tokenizer.tokenize_batch(texts))

    def matrix(self, ngram_ids: list[np.ndarray]) -> Any:
        return ngram_matrix(ngram_ids, len(self.model.features.ngrams))

    def unlabeled_x(self) -> Any:
        """The n-gram matrix of IMDB's 50,000 unlabeled reviews."""
        unlabeled = data_lib.load_unlabeled("imdb", data_dir=DATA_DIR)
        return self.matrix(self.model.features.ngram_ids(self.token_ids(unlabeled)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="a tuned IMDB run (BiLSTM + NB-LR)")
    parser.add_argument("--lengths", default="400,600,800,all")
    parser.add_argument("--test-lengths", default="400")
    parser.add_argument("--self-training", type=float, default=0.5, help="confidence; 0: NB-LR on train only")
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    data = ImdbRunData.load(args.run)
    nblr = fit_nblr(data.train_x, data.train_labels, data.x["validation"], data.labels["validation"])
    if args.self_training:
        nblr = self_train_nblr(
            nblr, data.train_x, data.train_labels, data.unlabeled_x(), data.x["validation"],
            data.labels["validation"], confidence=args.self_training,
        )  # fmt: skip
    linear = {split: nblr.predict_proba(data.x[split]) for split in data.x}
    labels, model, ids, ngram_ids = data.labels, data.model, data.ids, data.ngram_ids
    print(f"NB-LR ready in {time.perf_counter() - started:.0f} s (C {nblr.C})", flush=True)

    test_lengths = {_length(v) for v in args.test_lengths.split(",") if v}
    rows = []
    for value in args.lengths.split(","):
        length = _length(value)
        features = dataclasses.replace(model.features, max_length=length)
        row: dict = {"run": args.run, "max_length": value, "nblr_C": nblr.C}
        for split in ("validation", "test") if length in test_lengths else ("validation",):
            t0 = time.perf_counter()
            tokens = features.tokens(ids[split])
            deep = np.asarray(
                predict_probabilities(data.bilstm, tokens, batch_size=256, pad_to=None, ngram_ids=ngram_ids[split])
            ).ravel()
            if split == "validation":
                weight, mixed = best_mix_weight(deep, linear[split], labels[split])
                row["weight"] = weight
            else:
                mixed = accuracy(weight * deep + (1 - weight) * linear[split], labels[split])
            row[f"bilstm_{split}"] = round(100 * accuracy(deep, labels[split]), 2)
            row[f"nblr_{split}"] = round(100 * accuracy(linear[split], labels[split]), 2)
            row[f"mixed_{split}"] = round(100 * mixed, 2)
            row[f"{split}_seconds"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(row), flush=True)
        rows.append(row)
    output = args.output or RESULTS / "prediction_length-imdb.json"
    write_json(output, rows)
    print(f"saved {output}")


if __name__ == "__main__":
    main()
