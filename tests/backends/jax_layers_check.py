"""Exercises both attention layers on the JAX backend (run with ``KERAS_BACKEND=jax``).

Checks output shapes, masking (padding gets weight 0, a fully masked row gives a zero
context), a gradient through ``stateless_call`` with ``jax.grad``, mask propagation from
``Embedding(mask_zero=True)`` through a bidirectional LSTM in a functional model (jitted by
``predict``) and eagerly. Prints ``JAX CHECK OK`` at the end; any failure raises.
"""

from __future__ import annotations

import os
import time

_T0 = time.process_time()

import jax
import keras
import numpy as np

from bilstm_attention.layers import LUONG_SCORES, BahdanauAttention, LuongAttention

print("imported", f"{time.process_time() - _T0:.1f}s cpu")

assert keras.backend.backend() == "jax", keras.backend.backend()
assert "tensorflow" not in os.environ.get("KERAS_BACKEND", "")

BATCH, T_Q, T, D_V, D_Q = 3, 4, 7, 5, 6
rng = np.random.default_rng(0)
mask = np.ones((BATCH, T), bool)
mask[0, 4:] = False
mask[1] = False

# The in-process tests cover every variant on whichever backend pytest runs with; here a
# cross-section keeps the subprocess short (op-by-op JAX compiles each new op shape).
layers = [
    BahdanauAttention(8, normalize=True),
    LuongAttention(score="dot", use_scale=True),
    LuongAttention(score="concat"),
    LuongAttention(score="location"),
]
assert {layer.score for layer in layers[1:]} <= set(LUONG_SCORES)
for layer in layers:
    d_q = D_V if getattr(layer, "score", None) in ("dot", "scaled_dot") else D_Q
    values = rng.normal(size=(BATCH, T, D_V)).astype("float32")
    layer.build(values.shape, (BATCH, T_Q, d_q))
    trainable = [v.value for v in layer.trainable_variables]
    frozen = [v.value for v in layer.non_trainable_variables]

    # Jitted: op-by-op JAX compiles every new op shape, which is slow.
    @jax.jit
    def forward(tv, v, q, layer=layer, frozen=frozen):
        return layer.stateless_call(tv, frozen, v, q, mask=mask)[0]

    for q_shape in ((BATCH, d_q), (BATCH, T_Q, d_q)):
        query = rng.normal(size=q_shape).astype("float32")
        context, weights = forward(trainable, values, query)
        lead = q_shape[:-1]
        assert context.shape == (*lead, D_V), (layer.name, context.shape)
        assert weights.shape == (*lead, T), (layer.name, weights.shape)
        w = np.asarray(weights).reshape(BATCH, -1, T)
        c = np.asarray(context).reshape(BATCH, -1, D_V)
        assert np.all(w[0][:, 4:] == 0.0), layer.name
        np.testing.assert_allclose(w[[0, 2]].sum(-1), 1.0, atol=1e-5)
        assert np.all(w[1] == 0.0) and np.all(c[1] == 0.0), layer.name

    coef = rng.normal(size=context.shape).astype("float32")

    def loss(tv, v, q, forward=forward, coef=coef):
        return keras.ops.sum(forward(tv, v, q)[0] * coef)

    g_tv, g_v = jax.jit(jax.grad(loss, argnums=(0, 1)))(trainable, values, query)
    for g in [*g_tv, g_v]:
        assert np.all(np.isfinite(np.asarray(g))), layer.name
    for var, g in zip(layer.trainable_variables, g_tv):
        assert np.any(np.asarray(g) != 0.0), (layer.name, var.name)
    assert np.all(np.asarray(g_v)[~mask] == 0.0), layer.name
print("layers ok:", len(layers), f"{time.process_time() - _T0:.1f}s")

# Keras mask carried from Embedding(mask_zero=True) through a bidirectional LSTM
# (functional model, run jitted by predict).
tokens = keras.Input((None,), dtype="int32")
embed = keras.layers.Embedding(20, 3, mask_zero=True)
seq, fh, _, bh, _ = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True, return_state=True))(
    embed(tokens)
)
query = keras.layers.Concatenate()([fh, bh])
ctx_b, w_b = BahdanauAttention(6)(seq, query)
luong = LuongAttention("general")
ctx_l, w_l = luong(seq, seq)
model = keras.Model(tokens, [ctx_b, w_b, w_l])
assert tuple(w_b.shape) == (None, None) and tuple(w_l.shape) == (None, None, None)
ids = np.array([[3, 4, 5, 0, 0], [6, 7, 0, 0, 0], [0, 0, 0, 0, 0]], "int32")
pad = ids == 0
cb, wb, wl = model.predict(ids, verbose=0)
assert np.all(wb[pad] == 0.0) and np.all(wl[np.broadcast_to(pad[:, None, :], wl.shape)] == 0.0)
np.testing.assert_allclose(wb[:2].sum(-1), 1.0, atol=1e-5)
assert np.all(wb[2] == 0.0) and np.all(cb[2] == 0.0)
print("functional ok", f"{time.process_time() - _T0:.1f}s")

# Eagerly: JAX arrays cannot hold attributes, so Keras keeps their masks in a side table;
# the mask of the embedded ids must still reach the layer.
embedded = embed(ids)
_, w_eager = BahdanauAttention(6)(embedded, np.ones((3, 2), "float32"))
assert np.all(np.asarray(w_eager)[pad] == 0.0) and np.all(np.asarray(w_eager)[2] == 0.0)
np.testing.assert_allclose(np.asarray(w_eager)[:2].sum(-1), 1.0, atol=1e-5)
print("JAX CHECK OK", f"{time.process_time() - _T0:.1f}s")
