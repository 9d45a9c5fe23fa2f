"""Backend-aware helpers shared by ``tests/test_layers_*.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest

from bilstm_attention.layers import BahdanauAttention, LuongAttention

#: Every layer variant under test: id -> (class, constructor kwargs).
VARIANTS: dict[str, tuple[type, dict[str, Any]]] = {
    "bahdanau": (BahdanauAttention, {"units": 8}),
    "bahdanau_normalize": (BahdanauAttention, {"units": 8, "normalize": True}),
    "bahdanau_nobias": (BahdanauAttention, {"units": 8, "use_bias": False}),
    "luong_dot": (LuongAttention, {"score": "dot"}),
    "luong_scaled_dot": (LuongAttention, {"score": "scaled_dot"}),
    "luong_general": (LuongAttention, {"score": "general"}),
    "luong_concat": (LuongAttention, {"score": "concat", "units": 9}),
    "luong_location": (LuongAttention, {"score": "location"}),
    "luong_general_scale": (LuongAttention, {"score": "general", "use_scale": True}),
}


def needs_equal_sizes(variant: str) -> bool:
    """Whether the variant requires d_q == d_v."""
    return variant in ("luong_dot", "luong_scaled_dot")


def make_layer(variant: str, **overrides: Any) -> keras.layers.Layer:
    cls, kwargs = VARIANTS[variant]
    return cls(**{**kwargs, **overrides})


def loss_and_grads(
    layer: keras.layers.Layer,
    values: np.ndarray,
    query: np.ndarray,
    mask: np.ndarray | None,
    loss_fn: Callable[[Any, Any], Any],
) -> tuple[float, np.ndarray, np.ndarray, list[np.ndarray]]:
    """``loss_fn(context, weights)`` and its gradients with the active Keras backend.

    Returns ``(loss, d_values, d_query, [d_weight for weight in layer.trainable_weights])``
    as NumPy. The layer is built first if needed.
    """
    if not layer.built:
        layer(values, query, mask=mask)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        v = tf.convert_to_tensor(values)
        q = tf.convert_to_tensor(query)
        with tf.GradientTape() as tape:
            tape.watch([v, q])
            context, weights = layer(v, q, mask=mask)
            loss = loss_fn(context, weights)
        grads = tape.gradient(loss, [v, q, *layer.trainable_weights])
        grads = [
            np.zeros(x.shape) if g is None else np.asarray(g) for g, x in zip(grads, [v, q, *layer.trainable_weights])
        ]
        return float(loss), grads[0], grads[1], grads[2:]
    if backend == "jax":
        import jax

        trainable = [w.value for w in layer.trainable_variables]
        frozen = [w.value for w in layer.non_trainable_variables]

        def fn(tv, v, q):
            (context, weights), _ = layer.stateless_call(tv, frozen, v, q, mask=mask)
            return loss_fn(context, weights)

        loss, (g_tv, g_v, g_q) = jax.value_and_grad(fn, argnums=(0, 1, 2))(trainable, values, query)
        return float(loss), np.asarray(g_v), np.asarray(g_q), [np.asarray(g) for g in g_tv]
    pytest.skip(f"gradient helper not written for the {backend} backend")
    raise AssertionError  # unreachable


def weighted_loss(rng: np.random.Generator, context_shape: tuple, weights_shape: tuple):
    """A loss with random coefficients, so that no gradient vanishes by symmetry.

    (``sum(weights)`` would be constant, since each row of weights sums to 1.)
    """
    a = rng.normal(size=context_shape).astype("float32")
    b = rng.normal(size=weights_shape).astype("float32")

    def loss_fn(context, weights):
        return keras.ops.sum(context * a) + keras.ops.sum(weights * b)

    return loss_fn
