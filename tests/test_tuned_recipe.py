"""The parts of the tuned recipe: NB-LR over n-grams, word2vec pretraining, the ensemble
model, and a training run that uses all three."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import keras

from bilstm_attention.errors import ConfigError
from bilstm_attention.features.nblr import best_mix_weight, fit_nblr, nb_ratios, ngram_matrix
from bilstm_attention.features.word2vec import Word2VecConfig, pretrain_embeddings
from bilstm_attention.inference.prediction import predict_probabilities
from bilstm_attention.model import (
    ClassifierConfig,
    WeightedAverage,
    attention_model,
    build_classifier,
    ensemble_classifier,
)
from bilstm_attention.training import TrainConfig

# --- NB-LR -----------------------------------------------------------------------------


def test_ngram_matrix_is_binary_and_drops_padding() -> None:
    matrix = ngram_matrix([np.array([1, 3, 3]), np.array([0, 2]), np.array([], dtype=np.int32)], 4)
    assert matrix.shape == (3, 4)
    assert matrix.toarray().tolist() == [[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0]]
    with pytest.raises(ConfigError, match=r"n-gram ids must be in \[0, 4\)"):
        ngram_matrix([np.array([4])], 4)


def test_nb_ratios_match_the_formula() -> None:
    features = ngram_matrix([np.array([1, 2]), np.array([1]), np.array([3])], 4)
    labels = np.array([1, 1, 0])
    positive = np.array([0, 2, 1, 0]) + 1.0
    negative = np.array([0, 0, 0, 1]) + 1.0
    expected = np.log((positive / positive.sum()) / (negative / negative.sum()))
    np.testing.assert_allclose(nb_ratios(features, labels), expected, rtol=1e-6)


def _cue_data(rows: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Feature 1 = positive cue, 2 = negative cue, 3..49 noise; 10 % of labels flipped."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, rows)
    ids = [np.unique(np.concatenate([[1 if y else 2], rng.integers(3, 50, 5)])) for y in labels]
    flip = rng.random(rows) < 0.1
    return ids, np.where(flip, 1 - labels, labels)


def test_fit_nblr_learns_cues_and_keeps_the_best_c() -> None:
    train_ids, train_y = _cue_data(400, 0)
    val_ids, val_y = _cue_data(200, 1)
    model = fit_nblr(ngram_matrix(train_ids, 50), train_y, ngram_matrix(val_ids, 50), val_y, c_values=[0.01, 1.0])
    assert set(model.validation_accuracy) == {0.01, 1.0}
    assert model.validation_accuracy[model.C] == max(model.validation_accuracy.values())
    assert model.validation_accuracy[model.C] > 0.8
    assert model.weights[0] == 0.0 and model.weights[1] > 0 > model.weights[2]
    probabilities = model.predict_proba(ngram_matrix([np.array([1]), np.array([2])], 50))
    assert probabilities[0] > 0.5 > probabilities[1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"c_values": []}, "C values must be positive"),
        ({"c_values": [0.0]}, "C values must be positive"),
        ({"alpha": 0}, "alpha must be positive"),
        ({"labels": np.zeros(4, dtype=int)}, "needs two classes"),
    ],
)
def test_fit_nblr_rejects_bad_arguments(kwargs, message) -> None:
    features = ngram_matrix([np.array([1]), np.array([2]), np.array([1]), np.array([2])], 3)
    labels = kwargs.pop("labels", np.array([1, 0, 1, 0]))
    with pytest.raises(ConfigError, match=message):
        fit_nblr(features, labels, features, labels, **kwargs)


def test_best_mix_weight_prefers_the_accurate_model_and_breaks_ties_towards_half() -> None:
    labels = np.array([1, 0, 1, 0])
    right = np.array([0.9, 0.1, 0.8, 0.2])
    wrong = np.array([0.1, 0.9, 0.2, 0.8])
    weight, accuracy = best_mix_weight(right, wrong, labels)
    assert accuracy == 1.0 and weight == 1.0
    assert best_mix_weight(right, right, labels) == (0.5, 1.0)


def test_best_mix_weight_uses_log_loss_not_accuracy() -> None:
    # both models classify every review right, so accuracy cannot choose; one is confidently
    # right, the other barely: the log-loss favours a mix leaning to the confident one
    labels = np.array([1, 0] * 10)
    confident = np.where(labels == 1, 0.95, 0.05)
    barely = np.where(labels == 1, 0.55, 0.45)
    weight, accuracy = best_mix_weight(confident, barely, labels)
    assert weight == 1.0 and accuracy == 1.0
    # complementary errors: each model is confidently wrong on a different review; the average fixes both
    first = np.array([0.9, 0.1, 0.9, 0.1, 0.2])
    second = np.array([0.9, 0.1, 0.9, 0.1, 0.9])
    second[0] = 0.3
    weight, _ = best_mix_weight(first, second, np.array([1, 0, 1, 0, 1]))
    assert 0.0 < weight < 1.0


# --- word2vec --------------------------------------------------------------------------


def _corpus(rows: int = 400) -> list[np.ndarray]:
    """Tokens 2 and 3 fill the same slot (between 8 and 9), 5 and 6 another (between 10
    and 11); 4 and 7 never appear."""
    rng = np.random.default_rng(0)
    sentences = []
    for index in range(rows):
        left, right, words = (8, 9, (2, 3)) if index % 2 else (10, 11, (5, 6))
        sentences.append(np.array([token for _ in range(4) for token in (left, rng.choice(words), right)]))
    return sentences


def test_pretrained_rows_replace_the_initial_ones_deterministically() -> None:
    initial = np.random.default_rng(1).normal(size=(14, 8)).astype("float32")
    config = Word2VecConfig(epochs=10, window=1, min_count=1, sample=0)
    matrix, found = pretrain_embeddings(_corpus(), initial, config, seed=3, progress=False)
    again, _ = pretrain_embeddings(_corpus(), initial, config, seed=3, progress=False)
    np.testing.assert_array_equal(matrix, again)
    assert found == 8
    np.testing.assert_array_equal(matrix[[0, 1, 4, 7]], initial[[0, 1, 4, 7]])  # pad, OOV, unseen
    assert not np.allclose(matrix[[2, 3, 5, 6]], initial[[2, 3, 5, 6]])

    def cosine(a: int, b: int) -> float:
        return float(matrix[a] @ matrix[b] / np.linalg.norm(matrix[a]) / np.linalg.norm(matrix[b]))

    assert cosine(2, 3) > cosine(2, 5) and cosine(5, 6) > cosine(3, 6)


def test_pretraining_is_the_same_in_another_process() -> None:
    script = (
        "import numpy as np, zlib\n"
        "from bilstm_attention.features.word2vec import Word2VecConfig, pretrain_embeddings\n"
        "ids=[np.array([2,3,4,5,2,3])]*50\n"
        "m,_=pretrain_embeddings(ids, np.zeros((6,4),'float32'), Word2VecConfig(epochs=2, min_count=1), seed=1, progress=False)\n"
        "print(zlib.crc32(m.tobytes()))\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hash_seed in (1, 2)
    }
    assert len(outputs) == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Word2VecConfig(epochs=0), "epochs must be a positive integer"),
        (lambda: Word2VecConfig(sample=1.5), r"sample must be in \[0, 1\)"),
        (
            lambda: pretrain_embeddings([np.array([0, 1])], np.zeros((4, 2)), Word2VecConfig(), progress=False),
            "no in-vocabulary tokens",
        ),
        (
            lambda: pretrain_embeddings([np.array([2])], np.zeros(4), Word2VecConfig(), progress=False),
            "must be a \\(vocab_size, dim\\) matrix",
        ),
    ],
)
def test_word2vec_errors(call, message) -> None:
    with pytest.raises(ConfigError, match=message):
        call()


# --- the ensemble model ----------------------------------------------------------------


def _tiny_classifier(num_classes: int = 2) -> keras.Model:
    keras.utils.set_random_seed(0)
    config = ClassifierConfig(
        vocab_size=20, num_classes=num_classes, embedding_dim=8, lstm_units=[4], attention_units=4, dense_units=[4]
    )
    return build_classifier(config)


def test_weighted_average_layer() -> None:
    layer = WeightedAverage(0.25)
    out = layer([np.ones((2, 1), "float32"), np.zeros((2, 1), "float32")])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), 0.25)
    assert WeightedAverage.from_config(layer.get_config()).weight == 0.25
    with pytest.raises(ValueError, match=r"weight must be in \[0, 1\]"):
        WeightedAverage(1.5)


def test_ensemble_mixes_probabilities_saves_and_explains(tmp_path: Path) -> None:
    deep = _tiny_classifier()
    weights = np.array([0.0, 0.5, -1.0, 2.0], dtype="float32")
    model = ensemble_classifier(deep, weights, bias=-0.25, deep_weight=0.4)
    tokens = np.array([[3, 4, 5, 0], [6, 7, 0, 0]], dtype="int32")
    ngrams = np.array([[1, 3, 0], [2, 0, 0]], dtype="int32")
    inputs = {"token_ids": tokens, "ngram_ids": ngrams}
    deep_p = deep.predict(tokens, verbose=0)[:, 0]
    linear_p = 1 / (1 + np.exp(-(np.array([0.5 + 2.0, -1.0]) - 0.25)))
    mixed = model.predict(inputs, verbose=0)[:, 0]
    np.testing.assert_allclose(mixed, 0.4 * deep_p + 0.6 * linear_p, rtol=1e-5)
    assert not model.get_layer("nblr_weights").trainable

    path = tmp_path / "ensemble.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(inputs, verbose=0)[:, 0], mixed, rtol=1e-6)
    _probabilities, attention = attention_model(loaded).predict(inputs, verbose=0)
    np.testing.assert_allclose(attention.sum(axis=-1), 1.0, rtol=1e-5)
    assert np.all(attention[1, 2:] == 0)  # padding gets no attention

    both = keras.Model(model.inputs, [model.output, model.get_layer("probability").output])
    mixed_again, deep_again = predict_probabilities(both, list(tokens), ngram_ids=list(ngrams))
    np.testing.assert_allclose(mixed_again, mixed, rtol=1e-5)
    np.testing.assert_allclose(deep_again, deep_p, rtol=1e-5)


def test_ensemble_needs_a_two_class_model() -> None:
    with pytest.raises(ValueError, match="two-class classifier"):
        ensemble_classifier(_tiny_classifier(num_classes=3), np.zeros(3), 0.0, 0.5)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        ensemble_classifier(_tiny_classifier(), np.zeros((3, 1)), 0.0, 0.5)


# --- configuration and a whole run -----------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ngram_model": "stacked"}, "unknown ngram_model 'stacked'"),
        ({"ngram_model": "nblr"}, "needs an ngram_order from 1 to 3"),
        ({"ngram_order": 2, "ngram_model": "nblr", "nblr_c": [0]}, "nblr_c must be a list of positive numbers"),
        ({"nblr_alpha": -1}, "nblr_alpha must be positive"),
        ({"word2vec": {"epochs": 0}}, "word2vec epochs must be a positive integer"),
        ({"word2vec": {"dims": 3}}, "unknown word2vec option"),
        ({"word2vec": 5}, "word2vec must be a mapping"),
    ],
)
def test_train_config_checks_the_tuned_options(values, message) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict({"dataset": "imdb", **values})


def test_config_round_trips_word2vec_settings() -> None:
    config = TrainConfig.from_dict(
        {"dataset": "imdb", "ngram_order": 3, "ngram_model": "nblr", "word2vec": {"epochs": 2}}
    )
    again = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and again.word2vec == Word2VecConfig(epochs=2)


def test_tuned_recipe_uses_word2vec_and_nblr() -> None:
    from bilstm_attention.training.recipes import recipe_config

    units = {"imdb": [64], "nsmc": [128], "steam": [64], "naver_shopping": [64]}
    batches = {"imdb": 256, "nsmc": 256, "steam": 128, "naver_shopping": 512}
    # Steam and NSMC feed Mecab morphemes with their tags (research log, sessions 13-14)
    options = {"imdb": {}, "nsmc": {"form": "morph_tag"}, "steam": {"form": "morph_tag"}, "naver_shopping": {}}
    # NSMC's NB-LR reads character 1-4-grams of the squeezed text (session 14), the others token 1-3-grams
    ngrams = {"imdb": ("token", 3), "nsmc": ("char", 4), "steam": ("token", 3), "naver_shopping": ("token", 3)}
    # NSMC's and Steam's BiLSTMs are distilled from NB-LR (session 15)
    teachers = {"imdb": None, "nsmc": 0.3, "steam": 0.3, "naver_shopping": None}
    # Steam's BiLSTM drops whole tokens while training (session 18)
    token_dropout = {"imdb": 0.0, "nsmc": 0.0, "steam": 0.1, "naver_shopping": 0.0}
    # IMDB's NB-LR is fitted again with the 50,000 unlabeled reviews it labels (session 20)
    self_training = {"imdb": 0.5, "nsmc": None, "steam": None, "naver_shopping": None}
    # IMDB's validation slice is whole movies, noisier: patience 3 (session 19)
    stopping = {"imdb": (8, 3), "nsmc": (6, 1), "steam": (3, 1), "naver_shopping": (6, 1)}
    for dataset in ("imdb", "nsmc", "steam", "naver_shopping"):
        config = recipe_config(dataset, "tuned")
        assert (config.fit.epochs, config.fit.patience) == stopping[dataset]
        assert config.ngrams.model == "nblr" and config.word2vec is not None
        assert (config.ngrams.unit, config.ngrams.order) == ngrams[dataset]
        assert config.ngrams.teacher_weight == teachers[dataset]
        assert config.ngrams.self_training == self_training[dataset]
        assert config.classifier.token_dropout == token_dropout[dataset]
        assert config.classifier.lstm_units == units[dataset] and config.fit.batch_size == batches[dataset]
        assert config.fit.bucketing and not config.fit.pad_to_max_length
        assert config.text.tokenizer_options == options[dataset]
    # the tutorial's recipe keeps the tutorial's plain morphemes
    assert recipe_config("steam", "seed").text.tokenizer_options == {"stopwords": "steam_seed"}
    assert recipe_config("steam", "seed").ngrams.teacher_weight is None
    assert recipe_config("steam", "seed").classifier.token_dropout == 0.0
    assert recipe_config("imdb", "seed").ngrams.self_training is None


def test_nblr_ensemble_run_end_to_end(tmp_path: Path, capsys) -> None:
    from bilstm_attention import load_model
    from bilstm_attention.cli import main
    from tests.test_train_cli import train_args, write_reviews

    reviews = write_reviews(tmp_path / "reviews.csv", 400, seed=5)
    run = tmp_path / "ensemble"
    argv = train_args(
        reviews,
        run,
        "--epochs",
        "2",
        "--ngram-order",
        "2",
        "--ngram-min-count",
        "1",
        "--ngram-model",
        "nblr",
        "--word2vec-epochs",
        "2",
        "--lstm-units",
        "8",
    )
    assert main(argv) == 0
    info = json.loads((run / "run.json").read_text())
    assert info["train_config"]["word2vec"]["epochs"] == 2
    assert info["classifier_config"]["ngram_vocab_size"] == 0  # the BiLSTM itself has no n-gram branch
    report = json.loads((run / "metrics.json").read_text())
    parts = report["ensemble"]
    assert 0.0 <= parts["deep_weight"] <= 1.0 and parts["nblr_C"] in (0.1, 0.3, 1.0)
    for key in ("deep_test_accuracy", "nblr_test_accuracy", "ensemble_validation_accuracy"):
        assert 0.0 <= parts[key] <= 1.0
    assert report["timings"]["pretrained_vectors"] > 10
    assert report["test"]["accuracy"] > 0.9
    model = load_model(run)
    probabilities = model.predict(["great superb film", "dull awful film"])
    assert probabilities[0] > 0.5 > probabilities[1]
    explanation = model.explain("the film was great")
    assert explanation.tokens == ["the", "film", "was", "great"]
    assert explanation.bilstm_weight == parts["deep_weight"]
    assert 0.0 <= explanation.bilstm_probability <= 1.0
    # predict_bilstm gives the BiLSTM part's own probability, before the average with NB-LR
    assert model.predict_bilstm(["the film was great"])[0] == pytest.approx(explanation.bilstm_probability, abs=1e-5)
    assert explanation.to_dict()["bilstm_weight"] == parts["deep_weight"]
    from bilstm_attention.inference.visualize import heading

    assert "attention of the BiLSTM part" in heading(explanation)
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(run),
                "--file",
                str(reviews),
                "--text-column",
                "review",
                "--label-column",
                "sentiment",
                "--label-map",
                "neg=0,pos=1",
            ]
        )
        == 0
    )


def test_nblr_over_character_ngrams_end_to_end(tmp_path: Path) -> None:
    """``--ngram-unit char``: NB-LR reads the characters of the squeezed text, not the tokens;
    the run saves that vocabulary, and a loaded model encodes raw texts the same way."""
    from bilstm_attention import load_model
    from bilstm_attention.cli import main
    from bilstm_attention.features.ngrams import CharNgramVocabulary, load_ngram_vocabulary
    from tests.test_train_cli import train_args, write_reviews

    reviews = write_reviews(tmp_path / "reviews.csv", 400, seed=6)
    run = tmp_path / "chars"
    flags = "--epochs 1 --ngram-unit char --ngram-order 5 --ngram-model nblr --lstm-units 8"
    argv = train_args(reviews, run, *flags.split())
    assert main(argv) == 0
    info = json.loads((run / "run.json").read_text())
    assert info["train_config"]["ngrams"]["unit"] == "char" and info["train_config"]["ngrams"]["order"] == 5
    ngrams = load_ngram_vocabulary(run / "ngrams.npz")
    assert isinstance(ngrams, CharNgramVocabulary) and ngrams.order == 5
    assert "great" in ngrams.ngrams and "t s" not in ngrams.ngrams  # spaces are squeezed out
    report = json.loads((run / "metrics.json").read_text())
    assert report["ensemble"]["nblr_test_accuracy"] > 0.9 and report["test"]["accuracy"] > 0.9
    model = load_model(run)
    spaced, squeezed = model.encode(["superb  film", "superbfilm"]).ngrams
    assert spaced.tolist() == squeezed.tolist() and len(spaced) > 0
    probabilities = model.predict(["great superb film", "dull awful film"])
    assert probabilities[0] > 0.5 > probabilities[1]
    assert model.explain("the film was great").tokens == ["the", "film", "was", "great"]
