"""The fast prediction path: same probabilities as ``Model.predict``, no retracing, masks kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from bilstm_attention.inference.prediction import (
    SMALL_BATCH,
    CompiledPredictor,
    bucket_length,
    compiled_predictor,
    keras_predict_probabilities,
    padded_batch,
    predict_probabilities,
)
from bilstm_attention.model import (
    ClassifierConfig,
    attention_model,
    build_classifier,
    ensemble_classifier,
)

SMALL = {"vocab_size": 50, "embedding_dim": 8, "lstm_units": [6], "attention_units": 7, "dense_units": [4]}
BACKENDS_DIR = Path(__file__).resolve().parent / "backends"


def _sequences(rng: np.random.Generator, lengths: list[int], vocab: int = 50) -> list[np.ndarray]:
    return [rng.integers(2, vocab, size=n).astype(np.int32) for n in lengths]


@pytest.fixture(scope="module")
def plain_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return build_classifier(ClassifierConfig(**SMALL, lstm_dropout=0.0, dense_dropout=0.0), compile=False)


def test_bucket_lengths_are_few_and_cover_the_length() -> None:
    buckets = {bucket_length(n) for n in range(1, 513)}
    assert sorted(buckets) == [16, 24, 32, 40, 50, 62, 78, 98, 122, 153, 191, 238, 298, 373, 466, 582]
    assert all(bucket_length(n) >= n for n in range(1, 2000))
    assert all(bucket_length(n) <= max(1.25 * n, n + 8) for n in range(16, 2000))


def test_prediction_pads_as_training_does_on_jax() -> None:
    """One rule for the padded lengths of compiled shapes (bilstm_attention.features.padding)."""
    from bilstm_attention.features import padding, pipeline

    assert bucket_length is padding.fixed_length
    assert pipeline.FIXED_LENGTHS is padding.FIXED_LENGTHS


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_fast_path_matches_model_predict(plain_model: keras.Model, batch_size: int) -> None:
    rng = np.random.default_rng(1)
    ids = _sequences(rng, [int(n) for n in rng.integers(1, 30, size=15)] + [70])
    fast = predict_probabilities(plain_model, ids, batch_size=batch_size)
    reference = keras_predict_probabilities(plain_model, ids, batch_size=batch_size)
    assert fast.shape == (16,)
    np.testing.assert_allclose(fast, reference, atol=1e-5)


def test_single_reviews_of_many_lengths_match_and_do_not_retrace(plain_model: keras.Model) -> None:
    rng = np.random.default_rng(2)
    predictor = CompiledPredictor(plain_model)
    for length in range(1, 41, 2):  # 20 lengths, one review at a time (the XLA path on TensorFlow)
        batch = padded_batch(_sequences(rng, [length]))
        (fast,) = predictor(batch)
        reference = np.asarray(plain_model(batch, training=False))
        np.testing.assert_allclose(fast, reference, atol=1e-5)
    for rows in (SMALL_BATCH + 1, 17, 40):  # the graph path, several batch sizes and lengths
        batch = padded_batch(_sequences(rng, [int(n) for n in rng.integers(1, 90, size=rows)]))
        (fast,) = predictor(batch)
        np.testing.assert_allclose(fast, np.asarray(plain_model(batch, training=False)), atol=1e-5)
    # TensorFlow: one trace per tf.function (the graph and the XLA one), whatever the shapes.
    assert predictor.trace_count <= 2


def test_fixed_length_model_keeps_its_length() -> None:
    keras.utils.set_random_seed(3)
    model = build_classifier(ClassifierConfig(**SMALL, max_length=12), compile=False)
    ids = _sequences(np.random.default_rng(3), [1, 5, 12, 7])
    np.testing.assert_allclose(
        predict_probabilities(model, ids, batch_size=2, pad_to=12),
        keras_predict_probabilities(model, ids, batch_size=2, pad_to=12),
        atol=1e-5,
    )
    single = predict_probabilities(model, ids[:1], pad_to=12)
    np.testing.assert_allclose(single, keras_predict_probabilities(model, ids[:1], pad_to=12), atol=1e-5)


def test_ngram_and_ensemble_models_and_several_outputs() -> None:
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(4)
    joint = build_classifier(ClassifierConfig(**SMALL, ngram_vocab_size=30), compile=False)
    joint.get_layer("ngram_weights").set_weights([rng.normal(size=(30, 1)).astype("float32")])
    lengths = [int(n) for n in rng.integers(1, 20, size=19)]
    ids = _sequences(rng, lengths)
    ngrams = _sequences(rng, [n + 3 for n in lengths], vocab=30)
    for batch_size in (1, 8):
        np.testing.assert_allclose(
            predict_probabilities(joint, ids, batch_size=batch_size, ngram_ids=ngrams),
            keras_predict_probabilities(joint, ids, batch_size=batch_size, ngram_ids=ngrams),
            atol=1e-5,
        )
    deep = build_classifier(ClassifierConfig(**SMALL), compile=False)
    ensemble = ensemble_classifier(deep, rng.normal(size=30), bias=0.2, deep_weight=0.4)
    both = keras.Model(ensemble.inputs, [ensemble.output, deep.output])  # a list-input, two-output model
    for model in (ensemble, both):
        for batch_size in (1, 8):
            fast = predict_probabilities(model, ids, batch_size=batch_size, ngram_ids=ngrams)
            reference = keras_predict_probabilities(model, ids, batch_size=batch_size, ngram_ids=ngrams)
            for a, b in zip(
                fast if isinstance(fast, tuple) else (fast,),
                reference if isinstance(reference, tuple) else (reference,),
            ):
                assert a.shape == (19,)
                np.testing.assert_allclose(a, b, atol=1e-5)


def test_padding_gets_zero_attention_on_the_compiled_path(plain_model: keras.Model) -> None:
    explainer = attention_model(plain_model)
    rng = np.random.default_rng(5)
    for lengths in ([3], [7, 2], [1, 30, 17, 9, 4, 11]):
        batch = padded_batch(_sequences(rng, lengths))
        probabilities, weights = compiled_predictor(explainer)(batch)
        assert weights.shape == batch.shape
        for row, length in enumerate(lengths):
            assert np.all(weights[row, length:] == 0.0)
            assert weights[row, :length].sum() == pytest.approx(1.0, abs=1e-5)
        np.testing.assert_allclose(probabilities, np.asarray(plain_model(batch, training=False)), atol=1e-5)


def test_compiled_predictor_is_kept_with_its_model_and_freed_with_it() -> None:
    import gc
    import weakref

    model = build_classifier(ClassifierConfig(**SMALL), compile=False)
    assert compiled_predictor(model) is compiled_predictor(model)
    predictor = weakref.ref(compiled_predictor(model))
    del model
    gc.collect()
    assert predictor() is None


def test_padded_batch_and_argument_errors(plain_model: keras.Model) -> None:
    batch = padded_batch([np.array([3, 4]), np.array([5])])
    assert batch.dtype == np.int32 and batch.tolist() == [[3, 4], [5, 0]]
    with pytest.raises(ValueError, match="a sequence of 3 ids does not fit the padded length 2"):
        padded_batch([np.array([1, 2, 3])], 2)
    with pytest.raises(ValueError, match="batch_size must be positive, got 0"):
        predict_probabilities(plain_model, [np.array([2])], batch_size=0)
    from bilstm_attention.errors import ConfigError

    with pytest.raises(ConfigError, match="got 1 token sequences but 2 n-gram sequences"):
        predict_probabilities(plain_model, [np.array([2])], ngram_ids=[np.array([1]), np.array([1])])
    assert predict_probabilities(plain_model, []).shape == (0,)


def test_fast_path_on_jax() -> None:
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, str(BACKENDS_DIR / "prediction_check.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "prediction ok on jax" in result.stdout


def test_runtime_settings_record_backend_threads_and_load(monkeypatch) -> None:
    from bilstm_attention.evaluation.benchmark import runtime_settings

    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    settings = runtime_settings()
    assert settings["backend"] == keras.backend.backend()
    assert settings["environment"]["OMP_NUM_THREADS"] == "2"
    assert len(settings["load_average"]) == 3 and all(value >= 0 for value in settings["load_average"])
    assert settings["tf_intra_op_threads"] >= 0 and settings["tf_inter_op_threads"] >= 0
