"""Naive-Bayes-weighted logistic regression over bags of n-grams (NBSVM's NB-LR variant).

Wang & Manning (2012), "Baselines and Bigrams": each binary n-gram feature is scaled by its
Naive Bayes log-count ratio ``r = log((p / |p|) / (q / |q|))`` (``p``, ``q``: smoothed
counts in positive and negative reviews), then a logistic regression is fitted on the
scaled features (scikit-learn's liblinear). On binary features the fitted model is one
weight per n-gram, ``r * w``, plus a bias: that vector is what the ensemble classifier
stores in its ``nblr_weights`` embedding (see :func:`bilstm_attention.model.ensemble_classifier`).

Its regularisation strength ``C`` is chosen on the validation split. :func:`self_train_nblr`
fits it again with unlabeled reviews it has labelled itself (self-training).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bilstm_attention._optional import require
from bilstm_attention.errors import ConfigError


def ngram_matrix(ngram_ids: Sequence[np.ndarray], num_features: int) -> Any:
    """Binary ``scipy.sparse`` document x feature matrix (CSR) from per-review n-gram ids.

    Id 0 (padding) is dropped; an id listed twice in a review counts once.
    """
    require("scipy", "train")
    from scipy import sparse

    lengths = np.fromiter((len(ids) for ids in ngram_ids), dtype=np.int64, count=len(ngram_ids))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = (
        np.concatenate([np.asarray(ids, dtype=np.int64) for ids in ngram_ids])
        if len(ngram_ids)
        else np.zeros(0, dtype=np.int64)
    )
    if len(indices) and (indices.min() < 0 or indices.max() >= num_features):
        raise ConfigError(f"n-gram ids must be in [0, {num_features}), got {indices.min()}..{indices.max()}")
    matrix = sparse.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(ngram_ids), num_features)
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    matrix.data[matrix.indices == 0] = 0.0
    matrix.eliminate_zeros()
    return matrix


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class SelfTraining:
    """How a self-trained NB-LR (:func:`self_train_nblr`) was fitted.

    Attributes:
        confidence: the least probability of its own label an unlabeled review needed.
        unlabeled: how many unlabeled reviews were offered.
        added: how many of them were added to the training reviews.
        first_C: the ``C`` of the first fit (training reviews only), which labelled them.
        first_validation_accuracy: that first fit's validation accuracy.
    """

    confidence: float
    unlabeled: int
    added: int
    first_C: float
    first_validation_accuracy: float


@dataclass
class NBLogisticRegression:
    """A fitted NB-LR model: ``P(positive) = sigmoid(x @ weights + bias)`` for binary ``x``.

    Attributes:
        weights: one weight per feature id (``r * w``; id 0, padding, has weight 0).
        bias: the intercept.
        C: the inverse regularisation strength it was fitted with.
        validation_accuracy: accuracy on the validation split for each ``C`` tried.
        self_training: with :func:`self_train_nblr`, how the unlabeled reviews were added.
    """

    weights: np.ndarray
    bias: float
    C: float
    validation_accuracy: dict[float, float] = field(default_factory=dict)
    self_training: SelfTraining | None = None

    def predict_proba(self, features: Any) -> np.ndarray:
        """Probability of the positive class for each row of a binary feature matrix."""
        return _sigmoid(features @ self.weights + self.bias).astype(np.float32)


def nb_ratios(features: Any, labels: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """The Naive Bayes log-count ratio of every feature (``alpha``: additive smoothing)."""
    labels = np.asarray(labels)
    positive = np.asarray(features[labels == 1].sum(axis=0)).ravel() + alpha
    negative = np.asarray(features[labels == 0].sum(axis=0)).ravel() + alpha
    return np.log((positive / positive.sum()) / (negative / negative.sum())).astype(np.float32)


def fit_nblr(
    train_features: Any,
    train_labels: np.ndarray,
    validation_features: Any,
    validation_labels: np.ndarray,
    *,
    c_values: Sequence[float] = (0.1, 0.3, 1.0),
    alpha: float = 1.0,
    max_iter: int = 1000,
    progress: bool = False,
) -> NBLogisticRegression:
    """Fit NB-LR for every ``C`` in ``c_values``; keep the one most accurate on validation
    (``progress``: a progress bar over the ``C`` values).

    Raises:
        ConfigError: labels are not binary 0/1, a ``C`` is not positive, or train has one class.
    """
    require("sklearn", "train")
    train_labels = np.asarray(train_labels)
    validation_labels = np.asarray(validation_labels)
    if not c_values or any(c <= 0 for c in c_values):
        raise ConfigError(f"nblr C values must be positive numbers, got {list(c_values)}")
    if alpha <= 0:
        raise ConfigError(f"nblr alpha must be positive, got {alpha}")
    if set(np.unique(train_labels)) != {0, 1}:
        raise ConfigError("the NB-LR model needs two classes (0 and 1) in the training labels")
    ratios = nb_ratios(train_features, train_labels, alpha)
    scaled = train_features.multiply(ratios).tocsr()
    best: NBLogisticRegression | None = None
    accuracies: dict[float, float] = {}
    for c in _progress_bar(c_values, "NB-LR (C grid)", progress):
        candidate = _fit_scaled(scaled, train_labels, ratios, c, max_iter)
        accuracy = float(((candidate.predict_proba(validation_features) >= 0.5) == validation_labels).mean())
        accuracies[float(c)] = accuracy
        if best is None or accuracy > accuracies[best.C]:
            best = candidate
    assert best is not None
    best.validation_accuracy = accuracies
    return best


def self_train_nblr(
    first: NBLogisticRegression,
    train_features: Any,
    train_labels: np.ndarray,
    unlabeled_features: Any,
    validation_features: Any,
    validation_labels: np.ndarray,
    *,
    confidence: float = 0.5,
    c_values: Sequence[float] = (0.1, 0.3, 1.0),
    alpha: float = 1.0,
    max_iter: int = 1000,
    progress: bool = False,
) -> NBLogisticRegression:
    """NB-LR fitted again on the training reviews plus unlabeled ones labelled by ``first``.

    Self-training (Yarowsky 1995; Scudder 1965): ``first`` (fitted on the training reviews
    alone, :func:`fit_nblr`) gives every unlabeled review its more probable class; those whose
    probability of that class is at least ``confidence`` (0.5: all of them) join the training
    reviews with that hard label, and the NB ratios and the regression are fitted again on both,
    ``C`` chosen on validation as :func:`fit_nblr` chooses it. The feature columns (the n-gram
    vocabulary) stay those of the training reviews.

    Returns:
        the new model; its ``self_training`` says how many reviews were added.

    Raises:
        ConfigError: ``confidence`` outside [0.5, 1), or feature matrices of different widths.
    """
    require("scipy", "train")
    from scipy import sparse

    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0.5 <= confidence < 1:
        raise ConfigError(f"self-training confidence must be at least 0.5 and below 1, got {confidence!r}")
    if unlabeled_features.shape[1] != train_features.shape[1]:
        raise ConfigError(
            f"the unlabeled reviews have {unlabeled_features.shape[1]} feature columns, "
            f"the training reviews {train_features.shape[1]}"
        )
    probabilities = first.predict_proba(unlabeled_features)
    chosen = np.maximum(probabilities, 1.0 - probabilities) >= confidence
    train_labels = np.asarray(train_labels)
    features = sparse.vstack([train_features, unlabeled_features[chosen]]).tocsr()
    labels = np.concatenate([train_labels, (probabilities[chosen] >= 0.5).astype(train_labels.dtype)])
    model = fit_nblr(
        features,
        labels,
        validation_features,
        validation_labels,
        c_values=c_values,
        alpha=alpha,
        max_iter=max_iter,
        progress=progress,
    )
    model.self_training = SelfTraining(
        confidence=float(confidence),
        unlabeled=int(unlabeled_features.shape[0]),
        added=int(chosen.sum()),
        first_C=first.C,
        first_validation_accuracy=first.validation_accuracy.get(first.C, float("nan")),
    )
    return model


def _progress_bar(items: Any, description: str, progress: bool, total: int | None = None) -> Any:
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=description, total=total, unit=" fits")


def _fit_scaled(
    scaled: Any, labels: np.ndarray, ratios: np.ndarray, c: float, max_iter: int, seed: int | None = None
) -> NBLogisticRegression:
    """The logistic regression on NB-scaled features, folded back into one weight per feature
    (``seed``: liblinear's shuffling; ``None``, numpy's global generator)."""
    from sklearn.linear_model import LogisticRegression

    solver = LogisticRegression(C=c, solver="liblinear", dual=True, max_iter=max_iter, random_state=seed)
    solver.fit(scaled, labels)
    weights = (solver.coef_.ravel() * ratios).astype(np.float32)
    weights[0] = 0.0
    return NBLogisticRegression(weights, float(solver.intercept_[0]), float(c))


def out_of_fold_probabilities(
    features: Any,
    labels: np.ndarray,
    *,
    C: float,
    alpha: float = 1.0,
    folds: int = 5,
    seed: int = 0,
    max_iter: int = 1000,
    progress: bool = False,
) -> np.ndarray:
    """NB-LR's probability of the positive class for every row, each from a model that did not see it.

    The rows are split into ``folds`` stratified folds (shuffled with ``seed``); for each fold
    the NB ratios and the regression are fitted on the other folds at the given ``C``; the
    same ``seed`` gives the same probabilities. This is
    what a teacher's soft targets for the training reviews must be: a model fitted on all of
    them would return (almost) their labels. ``progress``: a progress bar over the folds.

    Raises:
        ConfigError: fewer than 2 folds, or a class with fewer reviews than folds.
    """
    require("sklearn", "train")
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"out-of-fold predictions need at least 2 folds, got {folds!r}")
    counts = np.bincount(labels.astype(np.int64), minlength=2)
    if len(counts) != 2 or counts.min() < folds:
        raise ConfigError(
            f"{folds} folds need at least {folds} reviews of each of the classes 0 and 1, got {counts.tolist()}"
        )
    features = features.tocsr()
    probabilities = np.empty(len(labels), dtype=np.float32)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = splitter.split(np.zeros(len(labels)), labels)
    for fitted_on, held_out in _progress_bar(splits, "NB-LR teacher (folds)", progress, total=folds):
        part = features[fitted_on]
        ratios = nb_ratios(part, labels[fitted_on], alpha)
        model = _fit_scaled(part.multiply(ratios).tocsr(), labels[fitted_on], ratios, C, max_iter, seed)
        probabilities[held_out] = model.predict_proba(features[held_out])
    return probabilities


def best_mix_weight(
    deep: np.ndarray, linear: np.ndarray, labels: np.ndarray, *, step: float = 0.05
) -> tuple[float, float]:
    """The weight ``w`` of ``w * deep + (1 - w) * linear`` with the lowest log-loss on ``labels``.

    Tries ``0, step, ..., 1``; among equally good weights the one nearest 0.5 wins. The
    log-loss (cross-entropy) rather than the accuracy decides: on a validation split of a few
    thousand reviews the accuracies of neighbouring weights differ by a handful of reviews, so
    picking by accuracy follows noise (on IMDB it chose the linear model alone, 0.0, whose test
    accuracy the average beats), while the log-loss of a probability average is smooth in ``w``.

    Returns:
        ``(w, accuracy of the average at w)``.
    """
    labels = np.asarray(labels)
    grid = np.round(np.arange(0.0, 1.0 + step / 2, step), 6)
    losses = []
    for w in grid:
        mixed = np.clip(w * deep + (1 - w) * linear, 1e-7, 1 - 1e-7)
        losses.append(float(-np.mean(labels * np.log(mixed) + (1 - labels) * np.log(1 - mixed))))
    best = min(range(len(grid)), key=lambda i: (round(losses[i], 9), abs(grid[i] - 0.5)))
    weight = float(grid[best])
    accuracy = float((((weight * deep + (1 - weight) * linear) >= 0.5) == labels).mean())
    return weight, accuracy
