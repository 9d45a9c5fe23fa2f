"""Multiplicative (Luong) attention."""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from ..errors import ConfigError
from ._base import Shape, Tensor, _BaseAttention

__all__ = ["LUONG_SCORES", "LuongAttention"]

#: The score functions of :class:`LuongAttention`.
LUONG_SCORES: tuple[str, ...] = ("dot", "scaled_dot", "general", "concat", "location")


@keras.saving.register_keras_serializable(package="bilstm_attention")
class LuongAttention(_BaseAttention):
    """Attention of Luong et al. (2015) with its score functions.

    For value steps ``h_1 .. h_T`` (rows of ``values``, size ``d_v``) and a query ``s``
    (size ``d_q``)::

        "dot":         score(s, h_j) = s . h_j                       (needs d_q == d_v)
        "scaled_dot":  score(s, h_j) = s . h_j / sqrt(d_v)           (needs d_q == d_v)
        "general":     score(s, h_j) = s^T W_a h_j                   W_a: (d_q, d_v)
        "concat":      score(s, h_j) = v_a^T tanh(W_a [s; h_j])      W_a: (d_q + d_v, units)
        "location":    scores(s)     = W_a^T s  (over all T at once) W_a: (d_q, T)

        weights = softmax_j(scale * score)      (masked steps get exactly 0)
        context = sum_j weights_j h_j

    ``scale`` is a learnable scalar initialised to 1 when ``use_scale=True`` (TensorFlow
    Addons' ``LuongAttention(scale=True)``), else 1. ``"location"`` computes the weights from the
    query alone, so the number of value steps ``T`` must be known when the layer is built and
    stay the same afterwards. With ``"dot"`` the layer matches ``keras.layers.Attention``.
    In ``"concat"`` the value half of ``W_a`` is applied once per call, not once per query step.

    Weights: ``attention_kernel`` (``W_a``; for ``"general"``, ``"concat"`` and ``"location"``),
    ``attention_v`` (``v_a``, ``(units,)``; ``"concat"`` only), ``scale`` (when ``use_scale``).

    Args:
        score: One of ``"dot"``, ``"scaled_dot"``, ``"general"``, ``"concat"``, ``"location"``.
        use_scale: Multiply the scores by a learnable scalar (initialised to 1).
        units: Hidden size of the ``"concat"`` score (rows of ``v_a``); ``None`` means
            ``d_v``. Not used by the other scores.
        dropout: Fraction of the attention weights to drop, only when ``training=True``.
        seed: Seed of the dropout.
        kernel_initializer: Initializer of ``W_a`` and ``v_a``.
        kernel_regularizer: Optional regularizer of ``W_a`` and ``v_a``.
        kernel_constraint: Optional constraint of ``W_a`` and ``v_a``.
        **kwargs: Base layer keyword arguments, such as ``name`` and ``dtype``.

    Call arguments:
        values: ``(batch, T, d_v)``, e.g. the sequence output of a bidirectional LSTM.
        query: ``(batch, d_q)`` for one query per example, or ``(batch, T_q, d_q)`` for
            ``T_q`` queries at once (for example every decoder step).
        mask: Optional boolean ``(batch, T)``; ``False`` marks padded value steps. When
            omitted, the Keras mask carried by ``values`` is used.
        training: Whether to apply attention dropout.

    Input shape:
        ``values``: ``(batch, T, d_v)``; ``query``: ``(batch, d_q)`` or ``(batch, T_q, d_q)``.

    Output shape:
        ``(context, weights)``: ``(batch, d_v)`` and ``(batch, T)`` for a 2-D query,
        ``(batch, T_q, d_v)`` and ``(batch, T_q, T)`` for a 3-D query. Masked steps get weight
        0; a row whose steps are all masked gives zero weights and a zero context. For a 3-D
        query, a query mask is propagated to both outputs; for a 2-D query they carry none.

    Raises:
        ConfigError: (a ``ValueError``) for an unknown ``score`` at construction, and when the
            layer is built for shapes the score cannot handle (``"dot"``/``"scaled_dot"`` with
            ``d_q != d_v``, ``"location"`` with an unknown ``T``).

    Example:

    >>> import numpy as np
    >>> layer = LuongAttention(score="general")
    >>> values = np.random.rand(3, 7, 5).astype("float32")
    >>> query = np.random.rand(3, 4, 6).astype("float32")
    >>> context, weights = layer(values, query)
    >>> tuple(context.shape), tuple(weights.shape)
    ((3, 4, 5), (3, 4, 7))
    """

    def __init__(
        self,
        score: str = "general",
        use_scale: bool = False,
        units: int | None = None,
        dropout: float = 0.0,
        seed: int | None = None,
        kernel_initializer: Any = "glorot_uniform",
        kernel_regularizer: Any = None,
        kernel_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        if score not in LUONG_SCORES:
            raise ConfigError(
                f"LuongAttention: unknown score {score!r}; valid scores are " + ", ".join(repr(s) for s in LUONG_SCORES)
            )
        if units is not None and (isinstance(units, bool) or not isinstance(units, int) or units <= 0):
            raise ConfigError(f"LuongAttention: `units` must be a positive int or None, got {units!r}")
        self.score = score
        self.use_scale = bool(use_scale)
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self._needs_fixed_time = score == "location"

    def build(self, values_shape: Shape, query_shape: Shape) -> None:
        """Creates the weights of the chosen score.

        Raises:
            ConfigError: (a ``ValueError``) for shapes of the wrong rank, differing batch sizes,
                unknown feature sizes, ``d_q != d_v`` with ``"dot"``/``"scaled_dot"``, or an
                unknown ``T`` with ``"location"``.
        """
        time_steps, d_v, d_q = self._check_shapes(values_shape, query_shape)
        if self.score in ("dot", "scaled_dot") and d_q != d_v:
            raise ConfigError(
                f"LuongAttention(score={self.score!r}) needs the query size d_q to equal the "
                f"values size d_v; received values shape {tuple(values_shape)} (d_v={d_v}), "
                f"query shape {tuple(query_shape)} (d_q={d_q}). Use score='general' or "
                "'concat' for different sizes."
            )
        if self.score == "location" and time_steps is None:
            raise ConfigError(
                "LuongAttention(score='location') needs the number of value steps T to be "
                f"known when the layer is built; received values shape {tuple(values_shape)}. "
                "Give the input a fixed length, e.g. keras.Input(shape=(T, d))."
            )
        kernel_args = {
            "initializer": self.kernel_initializer,
            "regularizer": self.kernel_regularizer,
            "constraint": self.kernel_constraint,
        }
        self.attention_kernel = None
        self.attention_v = None
        if self.score == "general":
            self.attention_kernel = self.add_weight(name="attention_kernel", shape=(d_q, d_v), **kernel_args)
        elif self.score == "concat":
            units = self.units if self.units is not None else d_v
            self.attention_kernel = self.add_weight(name="attention_kernel", shape=(d_q + d_v, units), **kernel_args)
            self.attention_v = self.add_weight(name="attention_v", shape=(units,), **kernel_args)
        elif self.score == "location":
            self.attention_kernel = self.add_weight(name="attention_kernel", shape=(d_q, time_steps), **kernel_args)
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        self._record_build_dims(time_steps, d_v, d_q)

    def _scores(self, values: Tensor, query: Tensor) -> Tensor:
        d_q = query.shape[-1]
        if self.score in ("dot", "scaled_dot"):
            scores = ops.matmul(query, ops.swapaxes(values, 1, 2))
            if self.score == "scaled_dot":
                scores = scores * (1.0 / math.sqrt(values.shape[-1]))
        elif self.score == "general":
            projected = ops.matmul(query, self.attention_kernel)  # (batch, T_q, d_v)
            scores = ops.matmul(projected, ops.swapaxes(values, 1, 2))
        elif self.score == "concat":
            kernel = ops.convert_to_tensor(self.attention_kernel)
            keys = ops.matmul(values, kernel[d_q:])  # (batch, T, units), once per call
            processed_query = ops.matmul(query, kernel[:d_q])  # (batch, T_q, units)
            features = ops.tanh(ops.expand_dims(keys, 1) + ops.expand_dims(processed_query, 2))
            scores = ops.sum(features * self.attention_v, axis=-1)
        else:  # location
            scores = ops.matmul(query, self.attention_kernel)  # (batch, T_q, T)
        if self.scale is not None:
            scores = scores * self.scale
        return scores

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "score": self.score,
                "use_scale": self.use_scale,
                "units": self.units,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            }
        )
        return config
