"""Masked softmax and the masking properties of both attention layers.

Property-based tests (hypothesis) over random shapes and random masks, including rows whose
steps are all masked, for every Luong score and for Bahdanau with and without
``normalize``: masked weights are exactly 0, unmasked weights sum to 1, a fully masked row
gives zero weights and a zero context, and values and gradients are finite.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from backends.layer_helpers import (
    VARIANTS,
    loss_and_grads,
    make_layer,
    needs_equal_sizes,
    weighted_loss,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bilstm_attention.layers import large_negative_number, masked_softmax

# ---------------------------------------------------------------- masked_softmax


def test_masked_softmax_without_mask_is_softmax() -> None:
    scores = np.random.default_rng(0).normal(size=(3, 4, 7)).astype("float32")
    expected = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(masked_softmax(scores)), expected, rtol=1e-5)


def test_masked_softmax_partial_and_full_rows() -> None:
    scores = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, -3.0, 0.5, 2.0]], "float32")
    mask = np.array([[True, False, True, False], [False, False, False, False]])
    weights = np.asarray(masked_softmax(scores, mask))
    e = np.exp([1.0, 3.0])
    np.testing.assert_allclose(weights[0], [e[0] / e.sum(), 0.0, e[1] / e.sum(), 0.0], rtol=1e-6)
    assert np.all(weights[1] == 0.0)
    assert np.all(weights[0][~mask[0]] == 0.0)


def test_masked_softmax_accepts_numeric_mask_and_broadcasts() -> None:
    scores = np.zeros((2, 3, 4), "float32")
    mask = np.array([[[1, 1, 0, 0]], [[0, 0, 0, 1]]], "int32")  # (2, 1, 4)
    weights = np.asarray(masked_softmax(scores, mask))
    np.testing.assert_allclose(weights[0], np.tile([0.5, 0.5, 0, 0], (3, 1)))
    np.testing.assert_allclose(weights[1], np.tile([0, 0, 0, 1.0], (3, 1)))


def test_masked_softmax_extreme_scores_stay_finite() -> None:
    # Masked scores are replaced, not shifted, so huge scores cannot overflow.
    scores = np.array([[3e38, -3e38, 1e30, 0.0]], "float32")
    mask = np.array([[False, True, True, False]])
    weights = np.asarray(masked_softmax(scores, mask))
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights, [[0.0, 0.0, 1.0, 0.0]])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_masked_softmax_low_precision(dtype: str) -> None:
    if dtype == "float64" and keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("JAX truncates float64 to float32 unless JAX_ENABLE_X64 is set")
    scores = keras.ops.cast(np.array([[60000.0, -60000.0, 2.0], [-1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), dtype)
    mask = np.array([[False, True, True], [True, True, False], [False, False, False]])
    out = masked_softmax(scores, mask)
    assert keras.backend.standardize_dtype(out.dtype) == dtype
    weights = keras.ops.convert_to_numpy(keras.ops.cast(out, "float32"))
    assert np.all(np.isfinite(weights))
    assert np.all(weights[~mask] == 0.0)
    np.testing.assert_allclose(weights[:2].sum(-1), 1.0, atol=1e-2)
    np.testing.assert_allclose(weights[0], [0.0, 0.0, 1.0], atol=1e-3)
    assert np.all(weights[2] == 0.0)


def test_large_negative_number() -> None:
    assert large_negative_number("float16") == -65504.0
    assert large_negative_number(np.dtype("float16")) == -65504.0
    assert large_negative_number("bfloat16") == -1e9
    assert large_negative_number("float32") == -1e9
    # Representable: finite in the dtype itself.
    assert np.isfinite(np.float16(large_negative_number("float16")))


def test_masked_softmax_gradient_of_fully_masked_row_is_finite_and_zero() -> None:
    scores = np.random.default_rng(1).normal(size=(2, 5)).astype("float32")
    mask = np.array([[True, True, False, True, False], [False] * 5])
    coef = np.random.default_rng(2).normal(size=(2, 5)).astype("float32")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        s = tf.convert_to_tensor(scores)
        with tf.GradientTape() as tape:
            tape.watch(s)
            loss = tf.reduce_sum(masked_softmax(s, mask) * coef)
        grad = tape.gradient(loss, s).numpy()
    elif backend == "jax":
        import jax

        grad = np.asarray(jax.grad(lambda s: keras.ops.sum(masked_softmax(s, mask) * coef))(scores))
    else:
        pytest.skip(f"no gradient helper for the {backend} backend")
    assert np.all(np.isfinite(grad))
    assert np.all(grad[1] == 0.0)  # fully masked row: no signal
    assert np.all(grad[0][~mask[0]] == 0.0)  # masked positions: no signal
    assert np.any(grad[0][mask[0]] != 0.0)


# ---------------------------------------------------------------- layer properties


@st.composite
def attention_problems(draw: st.DrawFn, variant: str) -> dict:
    batch = draw(st.integers(1, 4))
    time_steps = draw(st.integers(1, 8))
    d_v = draw(st.integers(1, 6))
    d_q = d_v if needs_equal_sizes(variant) else draw(st.integers(1, 6))
    query_steps = draw(st.one_of(st.none(), st.integers(1, 4)))  # None -> 2-D query
    mask_kind = draw(st.sampled_from(["none", "random", "random_with_empty_row"]))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.sampled_from([0.1, 1.0, 5.0]))
    rng = np.random.default_rng(seed)
    values = (scale * rng.normal(size=(batch, time_steps, d_v))).astype("float32")
    q_shape = (batch, d_q) if query_steps is None else (batch, query_steps, d_q)
    query = (scale * rng.normal(size=q_shape)).astype("float32")
    mask = None
    if mask_kind != "none":
        mask = rng.random((batch, time_steps)) < draw(st.sampled_from([0.2, 0.5, 0.9]))
        if mask_kind == "random_with_empty_row":
            mask[draw(st.integers(0, batch - 1))] = False
    return {"values": values, "query": query, "mask": mask, "seed": seed}


@pytest.mark.parametrize("variant", list(VARIANTS))
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_masking_properties(variant: str, data: st.DataObject) -> None:
    problem = data.draw(attention_problems(variant))
    values, query, mask = problem["values"], problem["query"], problem["mask"]
    layer = make_layer(variant)
    context, weights = layer(values, query, mask=mask)
    context, weights = np.asarray(context), np.asarray(weights)

    batch, time_steps, d_v = values.shape
    lead = query.shape[:-1]
    assert context.shape == (*lead, d_v)
    assert weights.shape == (*lead, time_steps)
    assert np.all(np.isfinite(context)) and np.all(np.isfinite(weights))

    w3 = weights.reshape(batch, -1, time_steps)
    c3 = context.reshape(batch, -1, d_v)
    m = np.ones((batch, time_steps), bool) if mask is None else mask
    for b in range(batch):
        if m[b].any():
            assert np.all(w3[b][:, ~m[b]] == 0.0), "masked steps must get weight exactly 0"
            np.testing.assert_allclose(w3[b].sum(-1), 1.0, atol=1e-5)
            assert np.all(w3[b] >= 0.0)
        else:
            assert np.all(w3[b] == 0.0), "a fully masked row must give zero weights"
            assert np.all(c3[b] == 0.0), "a fully masked row must give a zero context"
    np.testing.assert_allclose(c3, w3 @ values, rtol=1e-4, atol=1e-5)

    rng = np.random.default_rng(problem["seed"] + 1)
    loss_fn = weighted_loss(rng, context.shape, weights.shape)
    loss, d_values, d_query, d_weights = loss_and_grads(layer, values, query, mask, loss_fn)
    assert np.isfinite(loss)
    for grad in (d_values, d_query, *d_weights):
        assert np.all(np.isfinite(grad)), "gradients must be finite"
    # A fully masked row contributes nothing through the weights, so its values get none.
    for b in range(batch):
        if not m[b].any():
            assert np.all(d_values[b] == 0.0)
