"""The classifier: shapes, masking end to end, every attention choice, config errors."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from bilstm_attention.errors import ConfigError
from bilstm_attention.model import (
    ATTENTION_CHOICES,
    ClassifierConfig,
    attention_model,
    build_classifier,
    parse_attention,
)
from bilstm_attention.model.blocks import LearnedQuery

SMALL = dict(vocab_size=50, embedding_dim=8, lstm_units=[6, 5], attention_units=7, dense_units=[4])


def _batch(rng: np.random.Generator, lengths: list[int], width: int) -> np.ndarray:
    batch = np.zeros((len(lengths), width), dtype=np.int32)
    for row, length in enumerate(lengths):
        batch[row, :length] = rng.integers(2, 50, size=length)
    return batch


@pytest.mark.parametrize("attention", [a for a in ATTENTION_CHOICES if a != "luong:location"])
@pytest.mark.parametrize("query", ["final_state", "learned"])
def test_padding_gets_zero_attention_and_does_not_change_the_prediction(attention: str, query: str) -> None:
    config = ClassifierConfig(**SMALL, attention=attention, query=query)
    model = build_classifier(config)
    explain = attention_model(model)
    rng = np.random.default_rng(0)
    lengths = [9, 4, 1]
    batch = _batch(rng, lengths, 9)
    probabilities, weights = explain.predict_on_batch(batch)
    assert probabilities.shape == (3, 1)
    assert weights.shape == (3, 9)
    for row, length in enumerate(lengths):
        assert np.all(weights[row, length:] == 0.0)
        assert weights[row, :length].sum() == pytest.approx(1.0, abs=1e-5)
    # the same reviews padded further give the same probabilities: padding is invisible
    wider = np.zeros((3, 17), dtype=np.int32)
    wider[:, :9] = batch
    assert np.allclose(model.predict_on_batch(wider), probabilities, atol=1e-5)


@pytest.mark.parametrize("attention", ["bahdanau", "luong:general"])
def test_several_attention_heads_pool_with_their_own_queries(attention: str, tmp_path) -> None:
    config = ClassifierConfig(**SMALL, attention=attention, query="learned", attention_heads=3)
    model = build_classifier(config)
    query = model.get_layer("learned_query")
    assert query.heads == 3 and tuple(query.vector.shape) == (3, 2 * SMALL["lstm_units"][-1])
    # the heads' contexts reach the head side by side
    assert model.get_layer("attention_heads").output.shape[-1] == 3 * 2 * SMALL["lstm_units"][-1]
    lengths = [9, 4, 1]
    batch = _batch(np.random.default_rng(6), lengths, 9)
    probabilities, weights = attention_model(model).predict_on_batch(batch)
    assert probabilities.shape == (3, 1)
    # explain's weights: the heads' mean, one row per review, 0 on padding, summing to 1
    assert weights.shape == (3, 9)
    heads = keras.Model(model.inputs, model.get_layer("attention").output[1]).predict_on_batch(batch)
    assert heads.shape == (3, 3, 9)
    assert not np.allclose(heads[0, 0], heads[0, 1])  # each head its own query, its own weights
    assert np.allclose(weights, heads.mean(axis=1), atol=1e-6)
    for row, length in enumerate(lengths):
        assert np.all(weights[row, length:] == 0.0)
        assert weights[row, :length].sum() == pytest.approx(1.0, abs=1e-5)
    path = tmp_path / "heads.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.get_layer("learned_query").heads == 3
    assert np.allclose(loaded.predict_on_batch(batch), probabilities, atol=1e-6)
    assert np.allclose(attention_model(loaded).predict_on_batch(batch)[1], weights, atol=1e-6)


def test_attention_heads_need_the_learned_query_and_a_positive_count() -> None:
    with pytest.raises(ConfigError, match="attention_heads 2 needs query 'learned' .*'final_state' query is a single"):
        ClassifierConfig(**SMALL, attention_heads=2)
    with pytest.raises(ConfigError, match="attention_heads must be at least 1, got 0"):
        ClassifierConfig(**SMALL, query="learned", attention_heads=0)
    with pytest.raises(ConfigError, match=r"LearnedQuery: `heads` must be a positive int or None, got 0"):
        LearnedQuery(8, heads=0)
    # one head is the single query, without a step axis (and with the same weight shape as before)
    single = build_classifier(ClassifierConfig(**SMALL, query="learned", attention_heads=1))
    assert single.get_layer("learned_query").heads is None
    assert tuple(single.get_layer("learned_query").vector.shape) == (1, 2 * SMALL["lstm_units"][-1])
    assert "attention_heads" not in [layer.name for layer in single.layers]


def test_location_attention_needs_and_uses_a_fixed_length() -> None:
    with pytest.raises(ConfigError, match="needs a fixed max_length"):
        ClassifierConfig(**SMALL, attention="luong:location")
    model = build_classifier(ClassifierConfig(**SMALL, attention="luong:location", max_length=12))
    batch = _batch(np.random.default_rng(1), [12, 3], 12)
    _, weights = attention_model(model).predict_on_batch(batch)
    assert weights.shape == (2, 12)
    assert np.all(weights[1, 3:] == 0.0)


def test_more_than_two_classes_gives_softmax_rows() -> None:
    model = build_classifier(ClassifierConfig(**SMALL, num_classes=3))
    probabilities = model.predict_on_batch(_batch(np.random.default_rng(2), [5, 2], 6))
    assert probabilities.shape == (2, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_seed_configuration_is_the_tutorial_model() -> None:
    """Embedding 128, BiLSTM 64 x2 (dropout 0.5), Bahdanau 64, Dense 20 + dropout 0.5, sigmoid."""
    model = build_classifier(ClassifierConfig(vocab_size=10_000, max_length=500))
    layers = {layer.name: layer for layer in model.layers}
    assert layers["embedding"].output_dim == 128 and layers["embedding"].mask_zero
    for name in ("bilstm_1", "bilstm_2"):
        assert layers[name].forward_layer.units == 64
        assert layers[name].forward_layer.dropout == 0.5
    assert type(layers["attention"]).__name__ == "BahdanauAttention"
    assert layers["attention"].units == 64
    assert layers["head_dense_1"].units == 20
    assert layers["head_dropout_1"].rate == 0.5
    assert layers["probability"].units == 1
    lstm1 = 2 * 4 * 64 * (128 + 64 + 1)  # input 128 (embedding)
    lstm2 = 2 * 4 * 64 * (128 + 64 + 1)  # input 128 (2 x 64 from the first BiLSTM)
    attention = 128 * 64 + 128 * 64 + 64 + 64  # W1, W2, v, one bias b inside the tanh
    head = 128 * 20 + 20 + 20 + 1
    assert model.count_params() == 10_000 * 128 + lstm1 + lstm2 + attention + head


def test_training_step_lowers_the_loss_on_a_learnable_task() -> None:
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    x = _batch(rng, list(rng.integers(3, 10, size=64)), 10)
    y = (x == 7).any(axis=1).astype("float32")  # "token 7 present" is learnable by attention
    model = build_classifier(ClassifierConfig(**SMALL, lstm_dropout=0.0, dense_dropout=0.0, learning_rate=0.01))
    before = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0)[0] < before * 0.7


def test_saved_classifier_reloads_with_identical_outputs(tmp_path) -> None:
    model = build_classifier(ClassifierConfig(**SMALL, attention="luong:concat", query="learned"))
    batch = _batch(np.random.default_rng(4), [6, 2], 6)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert np.allclose(loaded.predict_on_batch(batch), model.predict_on_batch(batch), atol=1e-6)


def test_token_dropout_drops_whole_tokens_while_training_only(tmp_path) -> None:
    keras.utils.set_random_seed(5)
    model = build_classifier(ClassifierConfig(**SMALL, token_dropout=0.5, normalize_embeddings=True))
    batch = _batch(np.random.default_rng(5), [40, 40, 40, 40], 40)
    embedded = model.get_layer("embedding")(batch)
    dropout = model.get_layer("token_dropout")
    dropped = keras.ops.convert_to_numpy(dropout(embedded, training=True))
    embedded = keras.ops.convert_to_numpy(embedded)
    zero = np.all(dropped == 0.0, axis=-1)
    # a token is dropped whole (every channel) or kept whole, scaled by 1 / (1 - rate)
    assert np.allclose(dropped[~zero], 2.0 * embedded[~zero], atol=1e-5)
    assert 0.35 < zero.mean() < 0.65  # 160 tokens at rate 0.5
    # inference is untouched: the same probabilities as the model without the layer
    plain = build_classifier(ClassifierConfig(**SMALL, normalize_embeddings=True))
    plain.set_weights(model.get_weights())
    assert np.allclose(model.predict_on_batch(batch), plain.predict_on_batch(batch), atol=1e-6)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.get_layer("token_dropout").rate == 0.5
    assert np.allclose(loaded.predict_on_batch(batch), model.predict_on_batch(batch), atol=1e-6)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lstm_units", [], "lstm_units"),
        ("lstm_dropout", 1.0, "lstm_dropout"),
        ("attention", "luong:cosine", "unknown attention 'luong:cosine'"),
        ("query", "mean", "unknown query 'mean'"),
        ("vocab_size", 2, "vocab_size"),
        ("num_classes", 1, "num_classes"),
        ("learning_rate", 0.0, "learning_rate"),
        ("ngram_vocab_size", -1, "ngram_vocab_size must be >= 0"),
        ("ngram_dropout", 1.0, "ngram_dropout must be in"),
        ("token_dropout", -0.1, "token_dropout must be in"),
    ],
)
def test_bad_config_values_are_named(field: str, value, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ClassifierConfig(**{**SMALL, field: value})


def test_config_round_trip_and_unknown_keys() -> None:
    config = ClassifierConfig(**SMALL, attention="luong:general")
    assert ClassifierConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown classifier option.*lstm_size"):
        ClassifierConfig.from_dict({"lstm_size": 3})


def test_parse_attention() -> None:
    assert parse_attention("Bahdanau") == ("bahdanau", None)
    assert parse_attention("luong") == ("luong", "general")
    assert parse_attention("luong:scaled_dot") == ("luong", "scaled_dot")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "give exactly one of dataset"),
        ({"dataset": "imdb", "file": "x.csv"}, "give exactly one of dataset"),
        ({"file": "x.csv"}, "file needs text_column and label_column"),
        ({"dataset": "imdb", "ngram_order": 4}, r"ngram_order must be from 0 \(off\) to 3"),
        ({"dataset": "imdb", "batch_size": 0}, "batch_size must be positive"),
        ({"dataset": "imdb", "truncation": "middle"}, "unknown truncation 'middle'"),
        ({"dataset": "imdb", "strategy": "tpu"}, "unknown strategy 'tpu'"),
        ({"dataset": "imdb", "epochs_total": 3}, "unknown training option.*epochs_total"),
    ],
)
def test_bad_training_configuration_is_named(values, message: str) -> None:
    from bilstm_attention.training import TrainConfig

    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(values)
