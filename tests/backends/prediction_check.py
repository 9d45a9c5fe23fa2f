"""Run with KERAS_BACKEND=jax: the compiled prediction path against the eager model call,
the bucketing's bound on compilations, and zero attention on padding."""

from __future__ import annotations

import keras
import numpy as np

from bilstm_attention.inference.prediction import CompiledPredictor, padded_batch, predict_probabilities
from bilstm_attention.model import ClassifierConfig, attention_model, build_classifier, ensemble_classifier

assert keras.backend.backend() == "jax", keras.backend.backend()
SMALL = dict(vocab_size=50, embedding_dim=8, lstm_units=[6], attention_units=7, dense_units=[4])
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
model = build_classifier(ClassifierConfig(**SMALL), compile=False)

predictor = CompiledPredictor(model)
# 20 lengths, one review each: lengths bucket to 16/24/32/40. The eager call compiles for every
# new length on JAX (seconds each), so it is the reference for one or two lengths per bucket.
EAGER_CHECKED = {1, 15, 17, 31, 39}
for length in range(1, 41, 2):
    batch = padded_batch([rng.integers(2, 50, size=length).astype(np.int32)])
    fast = predictor(batch)[0]
    assert fast.shape == (1, 1) and 0.0 < float(fast[0, 0]) < 1.0, fast
    if length in EAGER_CHECKED:
        np.testing.assert_allclose(fast, np.asarray(model(batch, training=False)), atol=1e-5)
assert predictor.trace_count <= 4, predictor.trace_count

lengths = [int(n) for n in rng.integers(1, 30, size=21)]
ids = [rng.integers(2, 50, size=n).astype(np.int32) for n in lengths]
for batch_size in (1, 8):
    fast = predict_probabilities(model, ids, batch_size=batch_size)
    for row in (0, 20):
        expected = np.asarray(model(ids[row][None, :], training=False))[0, 0]
        assert abs(fast[row] - expected) < 1e-5, (batch_size, row, fast[row], expected)

explainer = CompiledPredictor(attention_model(model))
batch = padded_batch([ids[0], ids[1], ids[2]])
_, weights = explainer(batch)
assert weights.shape == batch.shape
for row in range(3):
    assert np.all(weights[row, lengths[row] :] == 0.0)
    assert abs(weights[row, : lengths[row]].sum() - 1.0) < 1e-5

ensemble = ensemble_classifier(model, rng.normal(size=30), bias=0.1, deep_weight=0.5)
ngrams = [rng.integers(1, 30, size=n + 3).astype(np.int32) for n in lengths]
fast = predict_probabilities(ensemble, ids, batch_size=8, ngram_ids=ngrams)
for row in (0, 20):
    inputs = {"token_ids": ids[row][None, :], "ngram_ids": ngrams[row][None, :]}
    assert abs(fast[row] - float(np.asarray(ensemble(inputs, training=False))[0, 0])) < 1e-5
print("prediction ok on jax")
