"""Classification metrics computed from labels and probabilities (NumPy only)."""

from __future__ import annotations

from typing import Any

import numpy as np


def predicted_labels(probabilities: np.ndarray) -> np.ndarray:
    """Class ids from probabilities: ``p >= 0.5`` for one sigmoid column, else ``argmax``."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim == 1 or probabilities.shape[-1] == 1:
        return (probabilities.reshape(-1) >= 0.5).astype(np.int64)
    return probabilities.argmax(axis=-1).astype(np.int64)


def classification_report(labels: np.ndarray, probabilities: np.ndarray, num_classes: int = 2) -> dict[str, Any]:
    """Accuracy, precision, recall, F1 and the confusion matrix.

    For two classes precision/recall/F1 are those of the positive class (1); for more
    classes they are macro averages. ``confusion_matrix[i][j]`` counts true class ``i``
    predicted as ``j``.
    """
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    predictions = predicted_labels(probabilities)
    if len(labels) != len(predictions):
        raise ValueError(f"{len(labels)} labels but {len(predictions)} predictions")
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    true_positive = np.diag(matrix).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(true_positive / matrix.sum(axis=0))
        recall = np.nan_to_num(true_positive / matrix.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    if num_classes == 2:
        p, r, f = precision[1], recall[1], f1[1]
    else:
        p, r, f = precision.mean(), recall.mean(), f1.mean()
    return {
        "examples": int(len(labels)),
        "accuracy": float(true_positive.sum() / max(len(labels), 1)),
        "precision": float(p),
        "recall": float(r),
        "f1": float(f),
        "confusion_matrix": matrix.tolist(),
    }
