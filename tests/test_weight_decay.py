"""Decoupled weight decay (``ClassifierConfig.weight_decay``): the option's checks, the
optimizer it builds, what one step does to the weights, and a run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
from tiny_run import train_args, write_reviews

from bilstm_attention.errors import ConfigError
from bilstm_attention.model import ClassifierConfig, build_classifier


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.1, 2.0])
def test_weight_decay_must_be_between_0_and_1(decay: float) -> None:
    with pytest.raises(ConfigError, match="weight_decay"):
        ClassifierConfig(weight_decay=decay)


def test_plain_adam_unless_weight_decay_is_asked_for() -> None:
    plain = build_classifier(ClassifierConfig(vocab_size=20, lstm_units=[4]))
    decayed = build_classifier(ClassifierConfig(vocab_size=20, lstm_units=[4], weight_decay=0.05))
    assert type(plain.optimizer) is keras.optimizers.Adam and plain.optimizer.weight_decay is None
    assert isinstance(decayed.optimizer, keras.optimizers.AdamW)
    assert decayed.optimizer.weight_decay == pytest.approx(0.05)


def test_a_step_with_zero_gradients_shrinks_every_weight_but_the_biases() -> None:
    """With zero gradients Adam moves nothing, so the step's only change is the decay:
    ``w <- w * (1 - learning_rate * weight_decay)`` on kernels and embeddings, biases kept."""
    config = ClassifierConfig(vocab_size=20, lstm_units=[4], dense_units=[3], learning_rate=0.1, weight_decay=0.5)
    model = build_classifier(config)
    for variable in model.trainable_variables:
        # non-zero biases, so that decaying them would show
        variable.assign(np.full(variable.shape, 0.5, dtype="float32"))
    before = {variable.path: np.array(variable.numpy()) for variable in model.trainable_variables}
    model.optimizer.apply_gradients([(keras.ops.zeros_like(v), v) for v in model.trainable_variables])
    shrink = 1 - 0.1 * 0.5
    names = set()
    for variable in model.trainable_variables:
        name = variable.path.rsplit("/", 1)[-1]
        names.add(name)
        expected = before[variable.path] if name == "bias" else before[variable.path] * shrink
        np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-6, err_msg=variable.path)
    assert {"bias", "kernel", "recurrent_kernel", "embeddings"} <= names


def test_a_run_with_weight_decay_records_it_and_trains_differently(tmp_path: Path) -> None:
    from bilstm_attention.cli import main

    reviews = write_reviews(tmp_path / "reviews.csv", 160)
    common = ("--normalize-embeddings", "--adversarial-epsilon", "1", "--epochs", "2", "--patience", "2")
    decayed, plain = tmp_path / "decayed", tmp_path / "plain"
    assert main(train_args(reviews, decayed, *common, "--weight-decay", "0.2")) == 0
    assert main(train_args(reviews, plain, *common)) == 0
    info = json.loads((decayed / "run.json").read_text())
    assert info["classifier_config"]["weight_decay"] == pytest.approx(0.2)
    loss = [json.loads((run / "history.json").read_text())["loss"] for run in (decayed, plain)]
    assert loss[0] != loss[1]  # same seed and data: only the decay differs

    from bilstm_attention import load_model

    assert load_model(decayed).predict(["great movie"]).shape == (1,)
