"""Weight averaging (``ClassifierConfig.ema_momentum``): the option's checks, the optimizer it
builds, and a run end to end: the saved model is the averaged one that validation scored."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
from tiny_run import train_args, write_reviews

from bilstm_attention.errors import ConfigError
from bilstm_attention.model import ClassifierConfig, build_classifier
from bilstm_attention.training import TrainConfig
from bilstm_attention.training.trainer import load_splits


@pytest.mark.parametrize("momentum", [0.0, 1.0, -0.5, 1.5])
def test_ema_momentum_must_be_between_0_and_1(momentum: float) -> None:
    with pytest.raises(ConfigError, match="ema_momentum"):
        ClassifierConfig(ema_momentum=momentum)


def test_the_optimizer_keeps_averages_only_when_asked() -> None:
    plain = build_classifier(ClassifierConfig(vocab_size=20, lstm_units=[4]))
    averaged = build_classifier(ClassifierConfig(vocab_size=20, lstm_units=[4], ema_momentum=0.95))
    assert plain.optimizer.use_ema is False
    assert averaged.optimizer.use_ema is True
    assert averaged.optimizer.ema_momentum == pytest.approx(0.95)


def _best_validation_loss(run: Path) -> float:
    history = json.loads((run / "history.json").read_text())
    best = int(np.argmax(history["val_accuracy"]))
    return float(history["val_loss"][best])


def _validation_loss_of_saved_model(run: Path) -> float:
    from bilstm_attention import load_model

    config = TrainConfig.from_dict(json.loads((run / "run.json").read_text())["train_config"])
    validation = load_splits(config).validation
    probabilities = np.clip(load_model(run).predict(list(validation.texts)), 1e-7, 1 - 1e-7)
    labels = np.asarray(validation.labels, dtype="float64")
    return float(-np.mean(labels * np.log(probabilities) + (1 - labels) * np.log(1 - probabilities)))


COMMON = ("--normalize-embeddings", "--adversarial-epsilon", "1", "--epochs", "3", "--patience", "3")


@pytest.fixture(scope="module")
def reviews(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_reviews(tmp_path_factory.mktemp("ema") / "reviews.csv", 160)


@pytest.fixture(scope="module")
def averaged_run(reviews: Path) -> Path:
    from bilstm_attention.cli import main

    run = reviews.parent / "averaged"
    assert main(train_args(reviews, run, *COMMON, "--ema-momentum", "0.9")) == 0
    return run


def test_a_run_with_weight_averaging_saves_the_averaged_weights_that_validation_scored(
    reviews: Path, averaged_run: Path
) -> None:
    """Validation runs on the averaged weights and the best-epoch checkpoint holds them, so the
    saved model's validation loss is the one in the history. With adversarial training the
    embedding is normalized: its statistics must follow the averaged table (they did not before
    the trainer refreshed them). Without averaging (same seed) the figures differ, so the
    option changed what was trained and kept."""
    from bilstm_attention.cli import main

    plain = reviews.parent / "plain"
    assert main(train_args(reviews, plain, *COMMON)) == 0
    info = json.loads((averaged_run / "run.json").read_text())
    assert info["classifier_config"]["ema_momentum"] == pytest.approx(0.9)
    assert _validation_loss_of_saved_model(averaged_run) == pytest.approx(_best_validation_loss(averaged_run), abs=2e-4)
    assert _best_validation_loss(averaged_run) != pytest.approx(_best_validation_loss(plain), abs=1e-3)
    assert keras.saving.load_model(averaged_run / "model.keras").optimizer.use_ema is True


def test_an_interrupted_run_resumes_with_the_weights_and_averages_in_their_places(
    reviews: Path, averaged_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The resume state is saved before the averaged weights are swapped in for validation:
    resumed after its second epoch, the run's last epoch scores what the uninterrupted run's
    did (a resume is not bit-exact: 0.002 apart here without averaging; with the state saved
    after the swap the weights and their averages trade places and it was 0.018 apart)."""
    from bilstm_attention.cli import main
    from bilstm_attention.training import trainer

    finish_epoch = trainer.EpochTimer.on_epoch_end

    def interrupt_after_the_second_epoch(self, epoch: int, logs=None) -> None:
        finish_epoch(self, epoch, logs)
        if epoch == 1:
            raise KeyboardInterrupt

    run = reviews.parent / "interrupted"
    monkeypatch.setattr(trainer.EpochTimer, "on_epoch_end", interrupt_after_the_second_epoch)
    assert main(train_args(reviews, run, *COMMON, "--ema-momentum", "0.9")) == 130  # interrupted
    monkeypatch.undo()
    assert len((run / "history.csv").read_text().splitlines()) == 3  # header and two epochs
    trainer.resume(run)
    resumed = json.loads((run / "history.json").read_text())["val_loss"]
    straight = json.loads((averaged_run / "history.json").read_text())["val_loss"]
    assert resumed[:2] == pytest.approx(straight[:2], abs=1e-6)
    assert resumed[2] == pytest.approx(straight[2], abs=0.005)
