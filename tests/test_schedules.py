"""The learning-rate schedules of ``--lr-schedule``: the cosine values, the callback, the
configuration checks. (A whole run with the schedule, and its resume after a kill, are in
``test_train_cli.py``.)"""

from __future__ import annotations

import itertools
import math

import keras
import pytest

from bilstm_attention.errors import ConfigError
from bilstm_attention.training.config import FitConfig
from bilstm_attention.training.schedules import cosine_learning_rate, schedule_callback


def test_cosine_rate_falls_from_the_full_rate_to_a_small_one_in_the_last_epoch() -> None:
    rates = [cosine_learning_rate(epoch, 0.002, 6) for epoch in range(6)]
    fractions = [rate / 0.002 for rate in rates]
    assert fractions == pytest.approx([1.0, 0.9330127, 0.75, 0.5, 0.25, 0.0669873])
    assert all(a > b for a, b in itertools.pairwise(rates))
    assert rates[-1] > 0


def test_cosine_rate_is_symmetric_around_the_middle_epoch() -> None:
    for epoch in range(1, 8):
        # (1 + cos(pi e / E)) + (1 + cos(pi (E - e) / E)) = 2
        assert cosine_learning_rate(epoch, 1.0, 8) + cosine_learning_rate(8 - epoch, 1.0, 8) == pytest.approx(1.0)


def test_cosine_rate_past_the_budget_keeps_the_last_epochs_rate() -> None:
    last = cosine_learning_rate(3, 0.01, 4)
    assert cosine_learning_rate(4, 0.01, 4) == last
    assert cosine_learning_rate(10, 0.01, 4) == last
    assert cosine_learning_rate(0, 0.01, 1) == 0.01  # a one-epoch run trains at the full rate


@pytest.mark.parametrize(
    ("epochs", "rate", "message"),
    [
        (0, 0.01, "epochs must be positive, got 0"),
        (3, 0.0, "base_rate must be positive, got 0.0"),
        (3, -1.0, "got -1.0"),
    ],
)
def test_cosine_rate_refuses_a_bad_budget_or_rate(epochs: int, rate: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cosine_learning_rate(0, rate, epochs)


def test_schedule_callback_sets_each_epochs_rate_from_the_base_rate() -> None:
    assert schedule_callback("constant", 0.01, 3) is None
    callback = schedule_callback("cosine", 0.01, 4)
    assert isinstance(callback, keras.callbacks.LearningRateScheduler)
    # the rate the optimizer has now does not matter (a resumed run starts from any epoch)
    for epoch in range(4):
        expected = 0.01 * (1 + math.cos(math.pi * epoch / 4)) / 2
        assert callback.schedule(epoch, 123.0) == pytest.approx(expected)
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'linear'"):
        schedule_callback("linear", 0.01, 3)


def test_fit_config_checks_the_schedule() -> None:
    assert FitConfig().lr_schedule == "constant"
    assert FitConfig(lr_schedule="cosine").lr_schedule == "cosine"
    with pytest.raises(ConfigError, match="lr_schedule must be one of constant, cosine, got 'step'"):
        FitConfig(lr_schedule="step")
    with pytest.raises(ConfigError, match="lr_schedule 'cosine' and reduce_lr_factor both set the learning rate"):
        FitConfig(lr_schedule="cosine", reduce_lr_factor=0.5)
