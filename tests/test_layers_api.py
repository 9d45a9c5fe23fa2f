"""Construction, errors, weights, gradients, config, dropout and dtypes of the attention layers."""

from __future__ import annotations

import re
from pathlib import Path

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

import bilstm_attention.layers as layers_pkg
from bilstm_attention.errors import BilstmAttentionError
from bilstm_attention.layers import LUONG_SCORES, BahdanauAttention, LuongAttention

BATCH, T_Q, T, D_V, D_Q = 3, 4, 7, 5, 6


def _data(variant: str = "bahdanau", query_rank: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    d_q = D_V if needs_equal_sizes(variant) else D_Q
    values = rng.normal(size=(BATCH, T, D_V)).astype("float32")
    query = rng.normal(size=(BATCH, d_q) if query_rank == 2 else (BATCH, T_Q, d_q))
    mask = np.ones((BATCH, T), bool)
    mask[0, 5:] = False
    mask[2, 0] = False
    return values, query.astype("float32"), mask


# ---------------------------------------------------------------- public API


def test_public_names() -> None:
    assert {"BahdanauAttention", "LuongAttention"} <= set(layers_pkg.__all__)
    assert LUONG_SCORES == ("dot", "scaled_dot", "general", "concat", "location")
    for cls in (BahdanauAttention, LuongAttention):
        assert issubclass(cls, keras.layers.Layer)
        assert keras.saving.get_registered_name(cls) == f"bilstm_attention>{cls.__name__}"
        assert cls.__doc__ and "Example" in cls.__doc__


def test_layers_use_keras_ops_only() -> None:
    """No TensorFlow (or other backend) calls in the layer sources."""
    for path in Path(layers_pkg.__file__).parent.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+(tensorflow|jax|torch)\b", source, re.MULTILINE), path
        assert not re.search(r"\btf\.", source), path


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_supports_masking_and_output_shapes(variant: str) -> None:
    layer = make_layer(variant)
    assert layer.supports_masking
    for rank in (2, 3):
        values, query, _ = _data(variant, rank)
        context, weights = layer(values, query)
        lead = (BATCH,) if rank == 2 else (BATCH, T_Q)
        assert tuple(context.shape) == (*lead, D_V)
        assert tuple(weights.shape) == (*lead, T)
        assert layer.compute_output_shape(values.shape, query.shape) == (
            (*lead, D_V),
            (*lead, T),
        )


def test_compute_output_shape_with_unknown_dims() -> None:
    layer = BahdanauAttention(4)
    assert layer.compute_output_shape((None, None, 5), (None, 6)) == ((None, 5), (None, None))
    assert layer.compute_output_shape((2, 9, 5), (None, 3, 6)) == ((2, 3, 5), (2, 3, 9))


EXPECTED_WEIGHTS = {
    "bahdanau": {
        "values_kernel": (D_V, 8),
        "query_kernel": (D_Q, 8),
        "attention_v": (8,),
        "attention_b": (8,),
    },
    "bahdanau_normalize": {
        "values_kernel": (D_V, 8),
        "query_kernel": (D_Q, 8),
        "attention_v": (8,),
        "attention_b": (8,),
        "attention_g": (),
    },
    "bahdanau_nobias": {"values_kernel": (D_V, 8), "query_kernel": (D_Q, 8), "attention_v": (8,)},
    "luong_dot": {},
    "luong_scaled_dot": {},
    "luong_general": {"attention_kernel": (D_Q, D_V)},
    "luong_concat": {"attention_kernel": (D_Q + D_V, 9), "attention_v": (9,)},
    "luong_location": {"attention_kernel": (D_Q, T)},
    "luong_general_scale": {"attention_kernel": (D_Q, D_V), "scale": ()},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_weights(variant: str) -> None:
    layer = make_layer(variant)
    values, query, _ = _data(variant)
    layer(values, query)
    got = {w.name: tuple(w.shape) for w in layer.trainable_weights}
    assert got == EXPECTED_WEIGHTS[variant]
    assert layer.non_trainable_weights == []


def test_concat_units_default_to_values_size() -> None:
    layer = LuongAttention(score="concat")
    values, query, _ = _data("luong_concat")
    layer(values, query)
    assert tuple(layer.attention_v.shape) == (D_V,)
    assert layer.get_config()["units"] is None


def test_normalize_initial_g() -> None:
    layer = BahdanauAttention(16, normalize=True)
    layer(*_data()[:2])
    np.testing.assert_allclose(layer.attention_g.numpy(), 0.25, rtol=1e-6)


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("query_rank", [2, 3])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_gradients_reach_every_weight(variant: str, query_rank: int) -> None:
    values, query, mask = _data(variant, query_rank, seed=3)
    layer = make_layer(variant)
    context, weights = layer(values, query, mask=mask)
    loss_fn = weighted_loss(np.random.default_rng(4), tuple(context.shape), tuple(weights.shape))
    loss, d_values, d_query, d_weights = loss_and_grads(layer, values, query, mask, loss_fn)
    assert np.isfinite(loss)
    assert len(d_weights) == len(layer.trainable_weights)
    for weight, grad in zip(layer.trainable_weights, d_weights):
        assert np.all(np.isfinite(grad)), weight.name
        assert np.any(grad != 0.0), f"no gradient reaches {weight.name}"
    for grad in (d_values, d_query):
        assert np.all(np.isfinite(grad)) and np.any(grad != 0.0)
    # Masked steps have weight exactly 0 and their scores are replaced, so their values get
    # no gradient at all.
    assert np.all(d_values[~mask] == 0.0)


# ---------------------------------------------------------------- config


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_config_round_trip(variant: str) -> None:
    layer = make_layer(variant, dropout=0.25, seed=11, name=f"att_{variant}")
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert config["dropout"] == 0.25 and config["seed"] == 11
    values, query, mask = _data(variant)
    context, weights = layer(values, query, mask=mask)
    clone(values, query, mask=mask)
    clone.set_weights(layer.get_weights())
    context2, weights2 = clone(values, query, mask=mask)
    np.testing.assert_array_equal(np.asarray(context), np.asarray(context2))
    np.testing.assert_array_equal(np.asarray(weights), np.asarray(weights2))
    # serialize / deserialize through the registry
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer)
    assert restored.get_config() == config


def test_config_keeps_initializers_regularizers_constraints() -> None:
    layer = BahdanauAttention(
        4,
        kernel_initializer="he_normal",
        bias_initializer="ones",
        kernel_regularizer=keras.regularizers.L2(0.01),
        bias_regularizer="l1",
        kernel_constraint="non_neg",
        bias_constraint=keras.constraints.MaxNorm(2.0),
    )
    clone = BahdanauAttention.from_config(layer.get_config())
    assert isinstance(clone.kernel_initializer, keras.initializers.HeNormal)
    assert isinstance(clone.kernel_regularizer, keras.regularizers.L2)
    assert isinstance(clone.bias_constraint, keras.constraints.MaxNorm)
    values, query, _ = _data()
    clone(values, query)
    np.testing.assert_array_equal(clone.attention_b.numpy(), np.ones(4))
    assert len(clone.losses) == 4  # W1, W2, v (L2) and b (L1)

    luong = LuongAttention("concat", kernel_regularizer="l2")
    luong(values, query)
    assert len(LuongAttention.from_config(luong.get_config()).get_config()) == len(luong.get_config())
    assert len(luong.losses) == 2


# ---------------------------------------------------------------- errors


def test_unknown_score_lists_valid_names() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown score 'bilinear'; valid scores are 'dot', 'scaled_dot', "
        r"'general', 'concat', 'location'",
    ):
        LuongAttention(score="bilinear")


@pytest.mark.parametrize(
    "factory, message",
    [
        (lambda: BahdanauAttention(0), r"`units` must be a positive int, got 0"),
        (lambda: BahdanauAttention(2.5), r"`units` must be a positive int, got 2\.5"),
        (lambda: LuongAttention("concat", units=-1), r"`units` must be a positive int or None"),
        (lambda: BahdanauAttention(4, dropout=1.0), r"`dropout` must be in \[0, 1\), got 1\.0"),
        (lambda: LuongAttention(dropout="x"), r"`dropout` must be a number"),
        (
            lambda: BahdanauAttention(4, normalize=True, use_bias=False),
            r"normalize=True needs use_bias=True",
        ),
    ],
)
def test_bad_constructor_arguments(factory, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        factory()
    assert isinstance(info.value, BilstmAttentionError)


@pytest.mark.parametrize(
    "factory, values_shape, query_shape, message",
    [
        (
            lambda: BahdanauAttention(4),
            (3, 5),
            (3, 6),
            r"`values` must have rank 3, \(batch, T, d_v\); received values shape \(3, 5\)",
        ),
        (
            lambda: LuongAttention("general"),
            (3, 7, 5),
            (3, 4, 2, 6),
            r"`query` must have rank 2, .* received query shape \(3, 4, 2, 6\)",
        ),
        (
            lambda: LuongAttention("general"),
            (3, 7, 5),
            (2, 6),
            r"batch sizes differ: values shape \(3, 7, 5\), query shape \(2, 6\)",
        ),
        (
            lambda: LuongAttention("dot"),
            (3, 7, 5),
            (3, 4, 6),
            (
                r"LuongAttention\(score='dot'\) needs the query size d_q to equal the values size "
                r"d_v; received values shape \(3, 7, 5\) \(d_v=5\), query shape \(3, 4, 6\) \(d_q=6\)"
            ),
        ),
        (lambda: LuongAttention("scaled_dot"), (3, 7, 5), (3, 6), r"score='scaled_dot'.*d_q=6"),
        (
            lambda: LuongAttention("location"),
            (3, None, 5),
            (3, 6),
            (
                r"score='location'\) needs the number of value steps T to be known .* "
                r"received values shape \(3, None, 5\)"
            ),
        ),
        (
            lambda: BahdanauAttention(4),
            (3, 7, None),
            (3, 6),
            r"last dimensions of `values` and `query` must be known",
        ),
    ],
)
def test_build_errors_name_the_shapes(factory, values_shape, query_shape, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        factory().build(values_shape, query_shape)


def test_shape_errors_from_calls() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"`values` must have rank 3"):
        BahdanauAttention(4)(rng.normal(size=(3, 5)), rng.normal(size=(3, 6)))
    with pytest.raises(ValueError, match=r"score='dot'.*d_q=6"):
        LuongAttention("dot")(keras.Input((7, 5)), keras.Input((6,)))
    with pytest.raises(ValueError, match=r"score='location'.*T to be known"):
        LuongAttention("location")(keras.Input((None, 5)), keras.Input((6,)))

    layer = LuongAttention("general")
    layer(rng.normal(size=(3, 7, 5)), rng.normal(size=(3, 6)))
    with pytest.raises(
        ValueError,
        match=r"was built for values \(batch, T, 5\) and query "
        r"\(batch, \[T_q,\] 6\); received values shape \(3, 7, 4\)",
    ):
        layer(rng.normal(size=(3, 7, 4)), rng.normal(size=(3, 6)))

    location = LuongAttention("location")
    location(rng.normal(size=(3, 7, 5)), rng.normal(size=(3, 6)))
    with pytest.raises(ValueError, match=r"built for values \(batch, 7, 5\).*\(3, 8, 5\)"):
        location(rng.normal(size=(3, 8, 5)), rng.normal(size=(3, 6)))

    with pytest.raises(
        ValueError,
        match=r"mask of `values` must have shape \(batch, T\) = "
        r"\(3, 7\); received mask shape \(3, 6\)",
    ):
        layer(rng.normal(size=(3, 7, 5)), rng.normal(size=(3, 6)), mask=np.ones((3, 6), bool))


# ---------------------------------------------------------------- dropout and dtypes


@pytest.mark.parametrize("variant", ["bahdanau", "luong_general"])
def test_attention_dropout_only_in_training(variant: str) -> None:
    values, query, mask = _data(variant)
    layer = make_layer(variant, dropout=0.5, seed=1)
    _, inference_w = layer(values, query, mask=mask)
    _, again_w = layer(values, query, mask=mask, training=False)
    np.testing.assert_array_equal(np.asarray(inference_w), np.asarray(again_w))
    np.testing.assert_allclose(np.asarray(inference_w).sum(-1), 1.0, atol=1e-5)

    train_c, train_w = layer(values, query, mask=mask, training=True)
    train_w, inference_w = np.asarray(train_w), np.asarray(inference_w)
    assert not np.allclose(train_w, inference_w)
    assert np.all(train_w[np.broadcast_to(~mask[:, None, :], train_w.shape)] == 0.0)
    kept = train_w != 0.0
    np.testing.assert_allclose(train_w[kept], 2.0 * inference_w[kept], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(train_c), np.einsum("bqt,btd->bqd", train_w, values), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_mixed_float16(variant: str) -> None:
    values, query, mask = _data(variant, seed=5)
    values, query = 30.0 * values, 30.0 * query  # large scores
    mask[1] = False
    layer = make_layer(variant, dtype="mixed_float16")
    context, weights = layer(values, query, mask=mask)
    assert keras.backend.standardize_dtype(context.dtype) == "float16"
    assert keras.backend.standardize_dtype(weights.dtype) == "float16"
    assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in layer.weights)
    w = keras.ops.convert_to_numpy(weights).astype("float32")
    c = keras.ops.convert_to_numpy(context).astype("float32")
    assert np.all(np.isfinite(w)) and np.all(np.isfinite(c))
    assert np.all(w[np.broadcast_to(~mask[:, None, :], w.shape)] == 0.0)
    assert np.all(w[1] == 0.0) and np.all(c[1] == 0.0)
    np.testing.assert_allclose(w[[0, 2]].sum(-1), 1.0, atol=5e-3)
    loss_fn = weighted_loss(np.random.default_rng(6), tuple(c.shape), tuple(w.shape))
    loss, d_values, d_query, d_weights = loss_and_grads(layer, values, query, mask, loss_fn)
    assert np.isfinite(loss)
    for grad in (d_values, d_query, *d_weights):
        assert np.all(np.isfinite(grad))
