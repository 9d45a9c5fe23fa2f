"""The layers against an independent NumPy implementation of every score, and against
``keras.layers.Attention`` for the dot-product score.

The NumPy references below follow the formulas of the papers literally, one (query step,
value step) pair at a time, with the layer's own weights read back from the layer.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import keras
import numpy as np
import pytest
from backends.layer_helpers import VARIANTS, make_layer, needs_equal_sizes

import bilstm_attention.layers.bahdanau as bahdanau_module
import bilstm_attention.layers.luong as luong_module
from bilstm_attention.layers import BahdanauAttention, LuongAttention

BATCH, T_Q, T, D_V, D_Q = 3, 4, 7, 5, 6


def np_masked_softmax(scores: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Softmax over the last axis of ``scores`` ``(batch, T_q, T)`` restricted to ``mask``."""
    out = np.zeros_like(scores, dtype=np.float64)
    for b in range(scores.shape[0]):
        keep = np.ones(scores.shape[-1], bool) if mask is None else mask[b]
        if not keep.any():
            continue
        for i in range(scores.shape[1]):
            s = scores[b, i, keep].astype(np.float64)
            e = np.exp(s - s.max())
            out[b, i, keep] = e / e.sum()
    return out


def np_scores(variant: str, layer: Any, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Scores ``(batch, T_q, T)`` for a 3-D query, computed pair by pair."""
    values = values.astype(np.float64)
    query = query.astype(np.float64)
    batch, time_steps, d_v = values.shape
    q_steps = query.shape[1]
    w = {x.name: np.asarray(x.numpy(), np.float64) for x in layer.weights}
    scores = np.zeros((batch, q_steps, time_steps))
    for b in range(batch):
        for i in range(q_steps):
            s = query[b, i]
            if variant.startswith("bahdanau"):
                v = w["attention_v"]
                if "attention_g" in w:  # Raffel et al. 2017: g * v / ||v||
                    v = w["attention_g"] * v / np.linalg.norm(v)
                bias = w.get("attention_b", 0.0)
                for j in range(time_steps):
                    h = values[b, j]
                    hidden = w["values_kernel"].T @ h + w["query_kernel"].T @ s + bias
                    scores[b, i, j] = v @ np.tanh(hidden)
                continue
            score = layer.score
            if score == "location":
                scores[b, i] = w["attention_kernel"].T @ s
            for j in range(time_steps):
                h = values[b, j]
                if score == "dot":
                    scores[b, i, j] = s @ h
                elif score == "scaled_dot":
                    scores[b, i, j] = s @ h / math.sqrt(d_v)
                elif score == "general":
                    scores[b, i, j] = s @ w["attention_kernel"] @ h
                elif score == "concat":
                    hidden = w["attention_kernel"].T @ np.concatenate([s, h])
                    scores[b, i, j] = w["attention_v"] @ np.tanh(hidden)
            if "scale" in w:
                scores[b, i] *= w["scale"]
    return scores


def np_attention(variant: str, layer: Any, values: np.ndarray, query: np.ndarray, mask):
    single = query.ndim == 2
    q3 = query[:, None, :] if single else query
    weights = np_masked_softmax(np_scores(variant, layer, values, q3), mask)
    context = np.einsum("bqt,btd->bqd", weights, values.astype(np.float64))
    if single:
        return context[:, 0], weights[:, 0]
    return context, weights


def _randomise_weights(layer: Any, rng: np.random.Generator) -> None:
    """Give every weight (including zero-initialised biases and unit scales) random values."""
    for weight in layer.weights:
        if weight.trainable:
            weight.assign(
                rng.uniform(0.3, 1.2, size=weight.shape).astype("float32")
                * rng.choice([-1.0, 1.0], size=weight.shape).astype("float32")
            )


def _inputs(rng: np.random.Generator, variant: str, query_rank: int):
    d_q = D_V if needs_equal_sizes(variant) else D_Q
    values = rng.normal(size=(BATCH, T, D_V)).astype("float32")
    q_shape = (BATCH, d_q) if query_rank == 2 else (BATCH, T_Q, d_q)
    query = rng.normal(size=q_shape).astype("float32")
    mask = np.ones((BATCH, T), bool)
    mask[0, 4:] = False
    mask[1, :] = False  # a fully masked row
    mask[2, ::2] = False
    return values, query, mask


@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
@pytest.mark.parametrize("query_rank", [2, 3])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_matches_numpy_reference(variant: str, query_rank: int, masked: bool) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{variant}-{query_rank}-{masked}".encode()))
    values, query, mask = _inputs(rng, variant, query_rank)
    mask = mask if masked else None
    layer = make_layer(variant)
    layer(values, query)  # build
    _randomise_weights(layer, rng)
    context, weights = layer(values, query, mask=mask)
    ref_context, ref_weights = np_attention(variant, layer, values, query, mask)
    np.testing.assert_allclose(np.asarray(weights), ref_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(context), ref_context, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("query_rank", [2, 3])
@pytest.mark.parametrize("use_scale", [False, True])
def test_dot_matches_keras_attention(use_scale: bool, query_rank: int) -> None:
    rng = np.random.default_rng(7)
    values, query, mask = _inputs(rng, "luong_dot", query_rank)
    mask[1, 3] = True  # keras.layers.Attention needs one unmasked step per row
    ours = LuongAttention(score="dot", use_scale=use_scale)
    theirs = keras.layers.Attention(use_scale=use_scale)
    context, weights = ours(values, query, mask=mask)
    q3 = query[:, None, :] if query_rank == 2 else query
    ref_context, ref_weights = theirs([q3, values], mask=[None, mask], return_attention_scores=True)
    if use_scale:
        ours.scale.assign(0.7)
        theirs.scale.assign(0.7)
        context, weights = ours(values, query, mask=mask)
        ref_context, ref_weights = theirs([q3, values], mask=[None, mask], return_attention_scores=True)
    ref_context, ref_weights = np.asarray(ref_context), np.asarray(ref_weights)
    if query_rank == 2:
        ref_context, ref_weights = ref_context[:, 0], ref_weights[:, 0]
    np.testing.assert_allclose(np.asarray(weights), ref_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(context), ref_context, rtol=1e-5, atol=1e-6)


def test_scaled_dot_matches_keras_attention_with_fixed_scale() -> None:
    rng = np.random.default_rng(8)
    values, query, mask = _inputs(rng, "luong_scaled_dot", 3)
    mask[1, 0] = True
    theirs = keras.layers.Attention(use_scale=True)
    theirs([query, values])
    theirs.scale.assign(1.0 / math.sqrt(D_V))
    ref_context, ref_weights = theirs([query, values], mask=[None, mask], return_attention_scores=True)
    context, weights = LuongAttention(score="scaled_dot")(values, query, mask=mask)
    np.testing.assert_allclose(np.asarray(weights), np.asarray(ref_weights), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(context), np.asarray(ref_context), rtol=1e-5, atol=1e-6)


class _CountingOps:
    """Stands in for ``keras.ops`` in a layer module and counts matmuls by a kernel shape."""

    def __init__(self, kernel_shape: tuple[int, int]) -> None:
        self.kernel_shape = kernel_shape
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(keras.ops, name)

    def matmul(self, a: Any, b: Any) -> Any:
        if tuple(b.shape) == self.kernel_shape:
            self.calls += 1
        return keras.ops.matmul(a, b)


@pytest.mark.parametrize(
    "module, layer, kernel_shape",
    [
        (bahdanau_module, lambda: BahdanauAttention(units=8), (D_V, 8)),
        (luong_module, lambda: LuongAttention(score="concat", units=9), (D_V, 9)),
    ],
    ids=["bahdanau", "luong_concat"],
)
def test_values_projection_is_computed_once_for_all_query_steps(
    monkeypatch: pytest.MonkeyPatch, module: Any, layer: Any, kernel_shape: tuple[int, int]
) -> None:
    rng = np.random.default_rng(9)
    values = rng.normal(size=(BATCH, T, D_V)).astype("float32")
    query = rng.normal(size=(BATCH, T_Q, D_Q)).astype("float32")
    attention = layer()
    expected_context, _ = attention(values, query)
    spy = _CountingOps(kernel_shape)
    monkeypatch.setattr(module, "ops", spy)
    context, weights = attention(values, query)
    assert spy.calls == 1, f"values were projected {spy.calls} times for {T_Q} query steps"
    assert tuple(weights.shape) == (BATCH, T_Q, T)
    np.testing.assert_allclose(np.asarray(context), np.asarray(expected_context), rtol=1e-6)
