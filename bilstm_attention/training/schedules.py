"""Learning-rate schedules over a run's epochs (``--lr-schedule``)."""

from __future__ import annotations

import math

import keras


def cosine_learning_rate(epoch: int, base_rate: float, epochs: int) -> float:
    """The rate epoch ``epoch`` (0-based) of ``epochs`` trains with under cosine annealing
    (Loshchilov & Hutter 2017, one cycle without restarts, one value per epoch)::

        base_rate * (1 + cos(pi * epoch / epochs)) / 2

    The first epoch trains at ``base_rate``; the last one at a small rate that is not zero
    (6 epochs: 1, 0.93, 0.75, 0.5, 0.25, 0.07 of it). An epoch past ``epochs`` (a run resumed
    with a larger budget) keeps the last epoch's rate.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be positive, got {epochs}")
    if not base_rate > 0:
        raise ValueError(f"base_rate must be positive, got {base_rate}")
    step = min(max(int(epoch), 0), epochs - 1)
    return base_rate * (1.0 + math.cos(math.pi * step / epochs)) / 2.0


def schedule_callback(schedule: str, base_rate: float, epochs: int) -> keras.callbacks.Callback | None:
    """The Keras callback that applies ``schedule`` (``None`` for ``"constant"``).

    The rate of each epoch is computed from ``base_rate`` and the epoch's number alone, so a
    run resumed after an interruption trains each epoch at the rate it would have had."""
    if schedule == "constant":
        return None
    if schedule == "cosine":
        return keras.callbacks.LearningRateScheduler(
            lambda epoch, _rate: cosine_learning_rate(epoch, base_rate, epochs)
        )
    raise ValueError(f"unknown learning-rate schedule {schedule!r}")
