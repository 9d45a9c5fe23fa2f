"""One adversarial training step from saved weights, on whichever backend KERAS_BACKEND names.

Usage: ``python adversarial_step.py IN.npz OUT.npz``. ``IN.npz`` holds the batch (``x``,
``y``), the classifier's initial weights (``w0``, ``w1``, ...), ``epsilon``,
``learning_rate`` and optionally ``consistency``; the weights after one SGD step of
:class:`~bilstm_attention.training.adversarial.AdversarialTraining` are written to ``OUT.npz``.
``test_adversarial.py`` runs it on both backends and compares the results.
"""

from __future__ import annotations

import sys

import keras
import numpy as np

from bilstm_attention.model import ClassifierConfig, build_classifier
from bilstm_attention.training.adversarial import AdversarialTraining

#: The tiny classifier both backends build (no dropout, so a step is deterministic).
CONFIG = ClassifierConfig(
    vocab_size=30,
    embedding_dim=6,
    lstm_units=[5],
    lstm_dropout=0.0,
    attention_units=4,
    dense_units=[4],
    dense_dropout=0.0,
    normalize_embeddings=True,
)


def one_step(inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The classifier's weights after one adversarial SGD step on ``inputs``' batch."""
    classifier = build_classifier(CONFIG, compile=False)
    count = len(classifier.weights)
    classifier.set_weights([inputs[f"w{index}"] for index in range(count)])
    consistency = float(inputs["consistency"]) if "consistency" in inputs else 0.0
    model = AdversarialTraining(classifier, epsilon=float(inputs["epsilon"]), consistency=consistency)
    model.compile(optimizer=keras.optimizers.SGD(float(inputs["learning_rate"])), loss="binary_crossentropy")
    model.train_on_batch(inputs["x"], inputs["y"])
    return [keras.ops.convert_to_numpy(weight) for weight in classifier.weights]


def main(argv: list[str]) -> int:
    source, target = argv
    with np.load(source) as data:
        inputs = {key: data[key] for key in data.files}
    weights = one_step(inputs)
    np.savez(target, **{f"w{index}": weight for index, weight in enumerate(weights)})
    print(f"ADVERSARIAL STEP OK {keras.backend.backend()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
