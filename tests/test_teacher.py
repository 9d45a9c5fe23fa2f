"""Distillation from the n-gram model (``--nblr-teacher-weight``): NB-LR's out-of-fold
probabilities, the soft targets, the accuracy they are reported with, and a whole run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from bilstm_attention.errors import ConfigError
from bilstm_attention.features.nblr import fit_nblr, ngram_matrix, out_of_fold_probabilities
from bilstm_attention.model.classifier import LabelAccuracy
from bilstm_attention.training import TrainConfig


def test_out_of_fold_probabilities_never_see_the_review_they_score() -> None:
    # every review has one feature no other review has, and a random label: a model fitted on
    # all reviews memorises them, a model that never saw a review knows nothing about it
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 60)
    features = ngram_matrix([np.array([i + 1]) for i in range(60)], 61)
    in_sample = fit_nblr(features, labels, features, labels, c_values=[10.0]).predict_proba(features)
    assert ((in_sample >= 0.5) == labels).mean() == 1.0
    held_out = out_of_fold_probabilities(features, labels, C=10.0, folds=3, seed=1)
    # each fold's model has weight 0 on the features it never saw: only its bias is left,
    # the same within a fold and near the share of positives everywhere
    assert held_out.shape == (60,) and held_out.dtype == np.float32
    assert len(np.unique(np.round(held_out, 5))) <= 3
    assert np.all(np.abs(held_out - labels.mean()) < 0.15)


def test_out_of_fold_probabilities_learn_cues_and_follow_the_seed() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 300)
    ids = [np.concatenate([[1 if y else 2], rng.integers(3, 40, 4)]) for y in labels]
    features = ngram_matrix(ids, 40)
    first = out_of_fold_probabilities(features, labels, C=1.0, folds=4, seed=7)
    assert ((first >= 0.5) == labels).mean() == 1.0
    np.testing.assert_array_equal(first, out_of_fold_probabilities(features, labels, C=1.0, folds=4, seed=7))
    assert not np.array_equal(first, out_of_fold_probabilities(features, labels, C=1.0, folds=4, seed=8))


@pytest.mark.parametrize(
    ("labels", "folds", "message"),
    [
        (np.array([0, 1] * 5), 1, "at least 2 folds, got 1"),
        (np.array([0, 1] * 5), True, "at least 2 folds, got True"),
        (
            np.array([0] * 8 + [1] * 2),
            3,
            r"3 folds need at least 3 reviews of each of the classes 0 and 1, got \[8, 2\]",
        ),
        (np.array([0] * 10), 2, r"got \[10, 0\]"),
    ],
)
def test_out_of_fold_probabilities_reject_bad_folds(labels, folds, message) -> None:
    features = ngram_matrix([np.array([1])] * len(labels), 2)
    with pytest.raises(ConfigError, match=message):
        out_of_fold_probabilities(features, labels, C=1.0, folds=folds)


def test_label_accuracy_scores_soft_targets_by_the_label_they_stand_for() -> None:
    predictions = np.array([[0.9], [0.2], [0.3], [0.6]], dtype="float32")
    hard, soft = LabelAccuracy(name="accuracy"), LabelAccuracy(name="accuracy")
    hard.update_state(np.array([1, 0, 1, 0]), predictions)
    # (1 - 0.4) * label + 0.4 * teacher, the teacher wrong on the last two reviews
    soft.update_state(np.array([0.96, 0.04, 0.6, 0.4], dtype="float32"), predictions)
    assert float(hard.result()) == float(soft.result()) == 0.5


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"nblr_teacher_weight": 0.3}, "needs the NB-LR part: --ngram-model nblr and an --ngram-order"),
        ({"ngram_order": 2, "ngram_model": "joint", "nblr_teacher_weight": 0.3}, "needs the NB-LR part"),
        ({"ngram_order": 2, "ngram_model": "nblr", "nblr_teacher_weight": 0.5}, "between 0 and 0.5"),
        ({"ngram_order": 2, "ngram_model": "nblr", "nblr_teacher_weight": 0}, "between 0 and 0.5"),
        ({"ngram_order": 2, "ngram_model": "nblr", "nblr_teacher_folds": 1}, "nblr_teacher_folds must be an integer"),
    ],
)
def test_teacher_options_are_checked(values, message) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict({"dataset": "imdb", **values})


def test_a_run_distilled_from_nblr(tmp_path: Path) -> None:
    """The BiLSTM is fitted to soft targets; the run reports its accuracy on the labels, the
    teacher's out-of-fold accuracy, and saves an ensemble that loads and predicts."""
    from bilstm_attention import load_model
    from bilstm_attention.cli import main
    from tests.test_train_cli import train_args, write_reviews

    reviews = write_reviews(tmp_path / "reviews.csv", 400, seed=8)
    run = tmp_path / "distilled"
    flags = "--epochs 2 --ngram-order 2 --ngram-min-count 1 --ngram-model nblr --lstm-units 8"
    argv = train_args(reviews, run, *flags.split(), "--nblr-teacher-weight", "0.3", "--nblr-teacher-folds", "3")
    assert main(argv) == 0
    report = json.loads((run / "metrics.json").read_text())
    parts = report["ensemble"]
    assert parts["teacher_weight"] == 0.3 and parts["teacher_out_of_fold_accuracy"] > 0.9
    assert report["timings"]["teacher_seconds"] > 0
    history = json.loads((run / "history.json").read_text())
    # Keras' own binary accuracy would compare predictions with the soft values: about 0
    assert history["accuracy"][-1] > 0.6
    assert report["test"]["accuracy"] > 0.9
    model = load_model(run)
    probabilities = model.predict(["great superb film", "dull awful film"])
    assert probabilities[0] > 0.5 > probabilities[1]
