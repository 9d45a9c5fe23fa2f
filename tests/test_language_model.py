"""Language-model pretraining of the embedding and first BiLSTM
(:mod:`bilstm_attention.training.language_model`): the targets, that each direction sees only
its own side of a review, that both learn a language they can predict, the cache, resuming,
the settings, and a run end to end."""

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
from bilstm_attention.training.config import LanguageModelConfig
from bilstm_attention.training.language_model import (
    EncoderLanguageModel,
    language_model_targets,
    pretrain_encoder,
    pretraining_key,
)

VOCAB = 40


def _classifier(seed: int = 1, units: int = 16) -> keras.Model:
    keras.utils.set_random_seed(seed)
    config = ClassifierConfig(
        vocab_size=VOCAB,
        embedding_dim=8,
        lstm_units=[units],
        lstm_dropout=0.0,
        attention_units=8,
        dense_units=[4],
        normalize_embeddings=True,
    )
    return build_classifier(config)


def _counting_reviews(count: int, seed: int = 0, length: int | None = None) -> list[np.ndarray]:
    """Reviews that count up (mod 38, ids 2..39) from a random start: every token is
    determined by the one before it and by the one after it. ``length``: all of that many
    tokens (one batch shape: quicker), else 3 to 9."""
    rng = np.random.default_rng(seed)
    return [
        ((np.arange(length or rng.integers(3, 10)) + rng.integers(0, VOCAB - 2)) % (VOCAB - 2) + 2).astype(np.int32)
        for _ in range(count)
    ]


def test_targets_are_the_next_and_previous_tokens_and_nothing_on_padding() -> None:
    ids = np.array([[5, 6, 7, 0, 0], [9, 30, 2, 3, 4]], dtype=np.int32)
    next_token, previous_token = (np.asarray(t) for t in language_model_targets(ids, 10))
    # 30 is past the 10 predicted ids: it is a target as the out-of-vocabulary id 1
    np.testing.assert_array_equal(next_token, [[6, 7, 0, 0, 0], [1, 2, 3, 4, 0]])
    np.testing.assert_array_equal(previous_token, [[0, 5, 6, 0, 0], [0, 9, 1, 2, 3]])


def test_each_direction_sees_only_its_own_side_of_the_review() -> None:
    """The forward logits at position t do not change when later tokens change (and the
    backward ones when earlier tokens change): neither direction can read its target."""
    model = EncoderLanguageModel(_classifier(), VOCAB)
    ids = np.array([[4, 9, 13, 21, 7, 0]], dtype=np.int32)
    later_changed = ids.copy()
    later_changed[0, 3:5] = [30, 31]
    earlier_changed = ids.copy()
    earlier_changed[0, 0:2] = [30, 31]
    forward, backward = (np.asarray(x) for x in model(ids))
    forward_later = np.asarray(model(later_changed)[0])
    backward_earlier = np.asarray(model(earlier_changed)[1])
    np.testing.assert_allclose(forward_later[0, :3], forward[0, :3], atol=1e-6)
    assert not np.allclose(forward_later[0, 3], forward[0, 3])
    np.testing.assert_allclose(backward_earlier[0, 2:5], backward[0, 2:5], atol=1e-6)
    assert not np.allclose(backward_earlier[0, 1], backward[0, 1])
    # and the padding at the end does not reach the backward direction's real positions
    padded_more = np.array([[4, 9, 13, 21, 7, 0, 0, 0, 0]], dtype=np.int32)
    np.testing.assert_allclose(np.asarray(model(padded_more)[1])[0, :5], backward[0, :5], atol=1e-5)


@pytest.mark.slow  # trains for ~25 s; the option is off in every recipe
def test_both_directions_learn_a_language_they_can_predict(tmp_path: Path) -> None:
    """On reviews that count up, the forward model learns "the next id is one more" and the
    backward one "the previous id is one less"; the classifier's BiLSTM keeps what they learned."""
    classifier = _classifier()
    reviews = _counting_reviews(300)
    before = [w.copy() for w in classifier.get_layer("bilstm_1").get_weights()]
    config = LanguageModelConfig(epochs=25, output_vocab_size=VOCAB, batch_size=32, learning_rate=0.03, dropout=0.0)
    report = pretrain_encoder(classifier, reviews, config, cache_dir=tmp_path, seed=3, verbose=0)
    assert not report.from_cache
    assert report.tokens == sum(len(r) for r in reviews)
    assert len(report.loss) == 25 and report.loss[-1] < 0.1 < report.loss[0]
    after = classifier.get_layer("bilstm_1").get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(after, before))


def test_the_learned_weights_are_cached_by_data_and_settings(tmp_path: Path) -> None:
    reviews = _counting_reviews(64, length=6)
    config = LanguageModelConfig(epochs=1, output_vocab_size=VOCAB, batch_size=32)
    first = _classifier()
    report = pretrain_encoder(first, reviews, config, cache_dir=tmp_path, verbose=0)
    cached_file = tmp_path / "language-models" / f"{report.key}.npz"
    assert sorted((tmp_path / "language-models").iterdir()) == [cached_file]  # the resume state is gone

    second = _classifier()  # the same starting weights: the cache answers
    cached = pretrain_encoder(second, reviews, config, cache_dir=tmp_path, verbose=0)
    assert cached.from_cache and cached.key == report.key and cached.loss == pytest.approx(report.loss)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)

    # other text, other starting weights (another seed, or word2vec), other settings: other keys
    keys = {
        report.key,
        pretraining_key(_classifier(), reviews[:-1], config, 1337),
        pretraining_key(_classifier(seed=2), reviews, config, 1337),
        pretraining_key(_classifier(), reviews, LanguageModelConfig(epochs=2, output_vocab_size=VOCAB), 1337),
        pretraining_key(_classifier(), reviews, config, 1338),
    }
    assert len(keys) == 5

    # a damaged entry is trained again (with a warning), not read
    cached_file.write_bytes(b"not an npz file")
    with pytest.warns(Warning, match="unreadable cache file"):
        again = pretrain_encoder(_classifier(), reviews, config, cache_dir=tmp_path, verbose=0)
    assert not again.from_cache and cached_file.is_file()


@pytest.mark.slow  # trains for ~25 s; the option is off in every recipe
def test_an_interrupted_pretraining_resumes_from_its_last_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reviews = _counting_reviews(64, length=6)
    config = LanguageModelConfig(epochs=2, output_vocab_size=VOCAB, batch_size=32, learning_rate=0.03)
    straight = pretrain_encoder(_classifier(), reviews, config, cache_dir=tmp_path / "straight", verbose=0)

    save_epoch = keras.callbacks.BackupAndRestore.on_epoch_end

    def interrupt_after_the_first_epoch(self, epoch: int, logs=None) -> None:
        save_epoch(self, epoch, logs)
        if epoch == 0:
            raise KeyboardInterrupt

    monkeypatch.setattr(keras.callbacks.BackupAndRestore, "on_epoch_end", interrupt_after_the_first_epoch)
    with pytest.raises(KeyboardInterrupt):
        pretrain_encoder(_classifier(), reviews, config, cache_dir=tmp_path / "resumed", verbose=0)
    monkeypatch.undo()
    folder = tmp_path / "resumed" / "language-models"
    assert [p.suffix for p in folder.iterdir()] == [".resume"]  # nothing cached half-trained
    resumed = pretrain_encoder(_classifier(), reviews, config, cache_dir=tmp_path / "resumed", verbose=0)
    assert resumed.key == straight.key
    assert len(resumed.loss) == 1  # only the second epoch was trained after the resume
    # from where the first epoch left off (not bit-exact: the batch order and dropout draws
    # start again), far from where a fresh start would be
    assert straight.loss[0] - straight.loss[1] > 0.1
    assert resumed.loss == pytest.approx(straight.loss[1:], abs=0.03)


def test_pretraining_needs_reviews_of_two_tokens(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="two tokens"):
        pretrain_encoder(_classifier(), [np.array([3])], LanguageModelConfig(), cache_dir=tmp_path, verbose=0)


def test_the_language_model_needs_a_classifier_built_by_the_package() -> None:
    inputs = keras.Input((None,), dtype="int32")
    plain = keras.Model(inputs, keras.layers.Embedding(10, 2)(inputs))
    with pytest.raises(ValueError, match="build_classifier"):
        EncoderLanguageModel(plain, VOCAB)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"output_vocab_size": 2}, "output_vocab_size"),
        ({"batch_size": 1.5}, "batch_size"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"dropout": 1.0}, "dropout"),
        ({"epoch": 1}, "unknown language_model option"),
    ],
)
def test_language_model_settings_are_checked(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict({"dataset": "imdb", "language_model": values})


def test_flags_turn_the_pretraining_on_and_set_it() -> None:
    from bilstm_attention.cli import build_parser
    from bilstm_attention.cli.train_cmd import train_config_from_args

    def config(*flags: str) -> TrainConfig:
        return train_config_from_args(build_parser().parse_args(["train", "--dataset", "steam", *flags]))

    assert config().language_model is None
    assert config("--language-model").language_model == LanguageModelConfig()
    assert config("--language-model-epochs", "3").language_model == LanguageModelConfig(epochs=3)
    assert config("--language-model", "--no-language-model-use-unlabeled").language_model.use_unlabeled is False
    with pytest.raises(ConfigError, match="--no-language-model cannot be combined"):
        config("--no-language-model", "--language-model-epochs", "3")
    flat = config("--language-model-epochs", "2").to_flat_dict()
    assert flat["language_model"]["epochs"] == 2
    assert TrainConfig.from_dict(flat).language_model == LanguageModelConfig(epochs=2)


def test_a_run_with_language_model_pretraining_end_to_end(tmp_path: Path) -> None:
    """Pretrained, then fine-tuned: the run records the pretraining, saves a model that loads
    and predicts, and a second run on the same data takes the weights from the cache."""
    from bilstm_attention import load_model
    from bilstm_attention.cli import main

    reviews = write_reviews(tmp_path / "reviews.csv", 120)
    lm = ("--language-model-epochs", "2", "--language-model-batch-size", "16", "--cache-dir", str(tmp_path / "cache"))
    assert main(train_args(reviews, tmp_path / "first", *lm)) == 0
    assert main(train_args(reviews, tmp_path / "second", *lm)) == 0
    first = json.loads((tmp_path / "first" / "metrics.json").read_text())
    second = json.loads((tmp_path / "second" / "metrics.json").read_text())
    assert first["timings"]["language_model_from_cache"] is False
    assert second["timings"]["language_model_from_cache"] is True
    assert len(first["timings"]["language_model_loss"]) == 2
    assert first["test"]["accuracy"] == pytest.approx(second["test"]["accuracy"])
    run_config = json.loads((tmp_path / "first" / "run.json").read_text())["train_config"]
    assert run_config["language_model"]["epochs"] == 2
    probabilities = load_model(tmp_path / "first").predict(["great wonderful movie", "awful boring plot"])
    assert probabilities.shape == (2,) and np.all((probabilities >= 0) & (probabilities <= 1))
