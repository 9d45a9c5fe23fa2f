"""The attention layers inside models: Keras mask propagation from ``Embedding(mask_zero=True)``
through ``Bidirectional(LSTM)``, symbolic outputs in the functional API, training, saving to
``.keras`` and loading in a fresh process, and a run on the JAX backend.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from backends.environment import subprocess_env

from bilstm_attention.layers import BahdanauAttention, LuongAttention

REPO_ROOT = Path(__file__).resolve().parents[1]
BACKENDS_DIR = Path(__file__).resolve().parent / "backends"
VOCAB, EMBED, UNITS = 20, 4, 3
T = 6  # fixed length, so that score="location" can be used

# Rows: some padding, no padding, all padding.
IDS = np.array(
    [[3, 4, 5, 0, 0, 0], [6, 7, 8, 9, 10, 11], [0, 0, 0, 0, 0, 0]],
    dtype="int32",
)
PAD = IDS == 0
DEC_IDS = np.array([[1, 2, 0, 0], [3, 0, 0, 0], [4, 5, 6, 7]], dtype="int32")

ATTENTIONS = {
    "bahdanau": lambda: BahdanauAttention(5),
    "bahdanau_normalize": lambda: BahdanauAttention(5, normalize=True),
    "luong_general": lambda: LuongAttention("general", use_scale=True),
    "luong_concat": lambda: LuongAttention("concat"),
    "luong_location": lambda: LuongAttention("location"),
}


class MaskProbe(keras.layers.Layer):
    """Returns the Keras mask it receives as floats (ones when there is none)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, x, mask=None):
        shape = keras.ops.shape(x)[:2] if len(x.shape) == 3 else keras.ops.shape(x)[:1]
        if mask is None:
            return keras.ops.ones(shape)
        return keras.ops.cast(mask, "float32")

    def compute_mask(self, inputs, mask=None):
        return None


def _encoder(tokens):
    """Embedding(mask_zero=True) -> Bidirectional(LSTM(return_sequences, return_state))."""
    embedded = keras.layers.Embedding(VOCAB, EMBED, mask_zero=True, name="embed")(tokens)
    seq, fh, _, bh, _ = keras.layers.Bidirectional(
        keras.layers.LSTM(UNITS, return_sequences=True, return_state=True), name="bilstm"
    )(embedded)
    return seq, keras.layers.Concatenate(name="query")([fh, bh])


def _check_weights(weights: np.ndarray, pad: np.ndarray) -> None:
    """Padding gets weight exactly 0; real steps sum to 1; all-padding rows are all 0."""
    weights = np.asarray(weights)
    w3 = weights.reshape(weights.shape[0], -1, weights.shape[-1])
    for b in range(w3.shape[0]):
        if pad[b].all():
            assert np.all(w3[b] == 0.0)
        else:
            assert np.all(w3[b][:, pad[b]] == 0.0)
            np.testing.assert_allclose(w3[b].sum(-1), 1.0, atol=1e-5)


# ---------------------------------------------------------------- mask propagation


@pytest.mark.parametrize("name", list(ATTENTIONS))
def test_mask_propagation_functional_and_eager(name: str) -> None:
    keras.utils.set_random_seed(1)
    tokens = keras.Input((T,), dtype="int32")
    seq, query = _encoder(tokens)
    attention = ATTENTIONS[name]()
    context, weights = attention(seq, query)  # no mask argument
    assert tuple(context.shape) == (None, 2 * UNITS)
    assert tuple(weights.shape) == (None, T)
    model = keras.Model(tokens, [context, weights, seq])

    ctx, w, seq_out = model.predict(IDS, verbose=0)
    _check_weights(w, PAD)
    assert np.all(ctx[2] == 0.0), "an all-padding review must give a zero context"
    np.testing.assert_allclose(ctx, np.einsum("bt,btd->bd", w, seq_out), rtol=1e-5, atol=1e-6)

    # The same layers called eagerly, one by one, carry the mask the same way.
    embedded = model.get_layer("embed")(IDS)
    seq_e, fh, _, bh, _ = model.get_layer("bilstm")(embedded)
    query_e = model.get_layer("query")([fh, bh])
    ctx_e, w_e = attention(seq_e, query_e)
    _check_weights(w_e, PAD)
    np.testing.assert_allclose(np.asarray(w_e), w, atol=1e-6)
    np.testing.assert_allclose(np.asarray(ctx_e), ctx, atol=1e-6)

    # The whole model called eagerly.
    _, w_m, _ = model(IDS)
    np.testing.assert_allclose(np.asarray(w_m), w, atol=1e-6)


def test_explicit_mask_overrides_the_carried_one() -> None:
    tokens = keras.Input((T,), dtype="int32")
    own_mask = keras.Input((T,), dtype="bool")
    seq, query = _encoder(tokens)
    _, weights = BahdanauAttention(4)(seq, query, mask=own_mask)
    model = keras.Model([tokens, own_mask], weights)
    custom = np.zeros((3, T), bool)
    custom[:, :2] = True  # the first two steps of every row, padding or not
    w = model.predict([IDS, custom], verbose=0)
    _check_weights(w, ~custom)


def test_3d_query_mask_propagates_to_both_outputs_2d_query_to_none() -> None:
    enc = keras.Input((None,), dtype="int32")
    dec = keras.Input((None,), dtype="int32")
    seq, query = _encoder(enc)
    dec_seq = keras.layers.LSTM(5, return_sequences=True)(keras.layers.Embedding(VOCAB, EMBED, mask_zero=True)(dec))
    luong = LuongAttention("general")
    ctx3, w3 = luong(seq, dec_seq)  # every decoder step at once
    assert tuple(ctx3.shape) == (None, None, 2 * UNITS)
    assert tuple(w3.shape) == (None, None, None)
    ctx2, w2 = BahdanauAttention(4)(seq, query)
    probes = [MaskProbe()(x) for x in (ctx3, w3, ctx2, w2)]
    model = keras.Model([enc, dec], [w3, *probes])
    w3_out, m_ctx3, m_w3, m_ctx2, m_w2 = model.predict([IDS, DEC_IDS], verbose=0)

    dec_mask = (DEC_IDS != 0).astype("float32")
    np.testing.assert_array_equal(m_ctx3, dec_mask)
    np.testing.assert_array_equal(m_w3, dec_mask)
    np.testing.assert_array_equal(m_ctx2, np.ones(3))  # no mask on 2-D query outputs
    np.testing.assert_array_equal(m_w2, np.ones(3))
    for step in range(DEC_IDS.shape[1]):
        _check_weights(w3_out[:, step], PAD)

    # Eagerly: the layers pass the query mask on as well.
    values = keras.ops.convert_to_tensor(np.random.default_rng(0).normal(size=(3, T, 6)))
    decoder_embed = keras.layers.Embedding(VOCAB, 5, mask_zero=True)
    queries = decoder_embed(DEC_IDS)
    ctx_e, w_e = luong(values, queries)
    np.testing.assert_array_equal(np.asarray(MaskProbe()(ctx_e)), dec_mask)
    np.testing.assert_array_equal(np.asarray(MaskProbe()(w_e)), dec_mask)
    # compute_mask called on its own (not right after a call) has no query to look at.
    assert luong.compute_mask(values, None) is None


# ---------------------------------------------------------------- functional API


@pytest.mark.parametrize("query_rank", [2, 3])
def test_symbolic_call_returns_pair_with_shapes(query_rank: int) -> None:
    values = keras.Input((7, 5), batch_size=3)
    query = keras.Input((6,) if query_rank == 2 else (4, 6), batch_size=3)
    for layer in (BahdanauAttention(8, normalize=True), LuongAttention("concat", units=3)):
        out = layer(values, query)
        assert isinstance(out, tuple) and len(out) == 2
        context, weights = out
        lead = (3,) if query_rank == 2 else (3, 4)
        assert tuple(context.shape) == (*lead, 5)
        assert tuple(weights.shape) == (*lead, 7)
        model = keras.Model([values, query], [context, weights])
        assert [tuple(s) for s in model.output_shape] == [(*lead, 5), (*lead, 7)]
        rng = np.random.default_rng(0)
        v = rng.normal(size=(3, 7, 5)).astype("float32")
        q = rng.normal(size=(3, *query.shape[1:])).astype("float32")
        c, w = model.predict([v, q], verbose=0)
        assert c.shape == (*lead, 5) and w.shape == (*lead, 7)
        c_e, w_e = layer(v, q)
        np.testing.assert_allclose(c, np.asarray(c_e), atol=1e-6)
        np.testing.assert_allclose(w, np.asarray(w_e), atol=1e-6)


def test_classifier_trains_and_keeps_padding_at_zero() -> None:
    keras.utils.set_random_seed(2)
    tokens = keras.Input((None,), dtype="int32")
    seq, query = _encoder(tokens)
    context, weights = BahdanauAttention(4, dropout=0.2, seed=3)(seq, query)
    prob = keras.layers.Dense(1, activation="sigmoid")(context)
    classifier = keras.Model(tokens, prob)
    classifier.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    labels = np.array([1.0, 0.0, 1.0], "float32")
    history = classifier.fit(IDS, labels, epochs=3, batch_size=3, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    w = keras.Model(tokens, weights).predict(IDS, verbose=0)
    _check_weights(w, PAD)


# ---------------------------------------------------------------- saving


def _run(script: Path, *args: str, backend: str | None = None, timeout: int = 300):
    env = subprocess_env(backend or keras.backend.backend())
    return subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        cwd=str(REPO_ROOT),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_keras_file_round_trip_in_fresh_process(tmp_path: Path) -> None:
    keras.utils.set_random_seed(4)
    tokens = keras.Input((T,), dtype="int32", name="tokens")
    dec = keras.Input((None,), dtype="int32", name="decoder")
    seq, query = _encoder(tokens)
    dec_seq = keras.layers.Embedding(VOCAB, 5, mask_zero=True)(dec)
    outputs = []
    for attention, q in [
        (BahdanauAttention(4, normalize=True, dropout=0.1, seed=5, name="bahdanau_n"), query),
        (BahdanauAttention(4, use_bias=False, kernel_regularizer="l2", name="bahdanau"), query),
        (LuongAttention("general", use_scale=True, name="general"), dec_seq),
        (LuongAttention("concat", units=3, name="concat"), dec_seq),
        (LuongAttention("location", name="location"), query),
        (LuongAttention("dot", name="dot"), seq),
        (LuongAttention("scaled_dot", name="scaled_dot"), seq),
    ]:
        outputs.extend(attention(seq, q))
    model = keras.Model([tokens, dec], outputs)
    # Non-default weights everywhere (biases and scales start at 0 / 1).
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    expected = model.predict([IDS, DEC_IDS], verbose=0)

    path = tmp_path / "attention.keras"
    model.save(path)
    np.savez(tmp_path / "inputs.npz", x0=IDS, x1=DEC_IDS)
    result = _run(
        BACKENDS_DIR / "load_saved_model.py",
        str(path),
        str(tmp_path / "inputs.npz"),
        str(tmp_path / "outputs.npz"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "BahdanauAttention" in result.stdout and "LuongAttention" in result.stdout
    with np.load(tmp_path / "outputs.npz") as data:
        loaded = [data[f"arr_{i}"] for i in range(len(data.files))]
    assert len(loaded) == len(expected) == 14
    for got, want in zip(loaded, expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)

    # In this process too, and the configs survive.
    reloaded = keras.saving.load_model(path, safe_mode=True)
    for name in ("bahdanau_n", "bahdanau", "general", "concat", "location", "dot"):
        assert reloaded.get_layer(name).get_config() == model.get_layer(name).get_config()


# ---------------------------------------------------------------- other backends


def test_runs_on_jax_backend() -> None:
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed (pip install 'jax[cpu]' to run the JAX backend check)")
    result = _run(BACKENDS_DIR / "jax_layers_check.py", backend="jax", timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "JAX CHECK OK" in result.stdout
