"""Additive (Bahdanau) attention."""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from ..errors import ConfigError
from ._base import Shape, Tensor, _BaseAttention

__all__ = ["BahdanauAttention"]


@keras.saving.register_keras_serializable(package="bilstm_attention")
class BahdanauAttention(_BaseAttention):
    """Additive attention of Bahdanau et al. (2015), optionally weight-normalised.

    For value steps ``h_1 .. h_T`` (rows of ``values``) and a query ``s``::

        score(s, h_j) = v^T tanh(W1 h_j + W2 s + b)
        weights       = softmax_j(score)          (masked steps get exactly 0)
        context       = sum_j weights_j h_j

    ``W1 h_j`` does not depend on the query: it is computed once per call and broadcast
    against every query step. With ``normalize=True`` the score vector is replaced by its
    weight-normalised form ``g * v / ||v||`` with a learnable scalar ``g`` (initialised to
    ``sqrt(1 / units)``), as in Raffel et al. (2017) and TensorFlow Addons'
    ``BahdanauAttention(normalize=True)``; that variant always has the bias ``b``.

    Weights: ``values_kernel`` (W1, ``(d_v, units)``), ``query_kernel`` (W2, ``(d_q, units)``),
    ``attention_v`` (v, ``(units,)``), ``attention_b`` (b, ``(units,)``, when ``use_bias``),
    ``attention_g`` (g, scalar, when ``normalize``).

    Args:
        units: Size of the hidden layer of the score (the rows of ``W1``/``W2``), > 0.
        use_bias: Whether to add the bias ``b`` inside the ``tanh``. Must be ``True`` when
            ``normalize=True``.
        normalize: Use the weight-normalised score ``g * v / ||v||`` of Raffel et al. (2017).
        dropout: Fraction of the attention weights to drop, only when ``training=True``.
        seed: Seed of the dropout.
        kernel_initializer: Initializer of ``W1``, ``W2`` and ``v``.
        bias_initializer: Initializer of ``b``.
        kernel_regularizer: Optional regularizer of ``W1``, ``W2`` and ``v``.
        bias_regularizer: Optional regularizer of ``b``.
        kernel_constraint: Optional constraint of ``W1``, ``W2`` and ``v``.
        bias_constraint: Optional constraint of ``b``.
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

    Example:

    >>> import numpy as np
    >>> layer = BahdanauAttention(units=8)
    >>> values = np.random.rand(3, 7, 5).astype("float32")
    >>> query = np.random.rand(3, 6).astype("float32")
    >>> context, weights = layer(values, query)
    >>> tuple(context.shape), tuple(weights.shape)
    ((3, 5), (3, 7))
    """

    def __init__(
        self,
        units: int,
        use_bias: bool = True,
        normalize: bool = False,
        dropout: float = 0.0,
        seed: int | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ConfigError(f"BahdanauAttention: `units` must be a positive int, got {units!r}")
        if normalize and not use_bias:
            raise ConfigError(
                "BahdanauAttention: normalize=True needs use_bias=True (the weight-normalised "
                "score g * v/||v||^T tanh(W1 h + W2 s + b) of Raffel et al. 2017 has a bias b)"
            )
        self.units = units
        self.use_bias = bool(use_bias)
        self.normalize = bool(normalize)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)

    def build(self, values_shape: Shape, query_shape: Shape) -> None:
        """Creates ``W1``, ``W2``, ``v`` and, as configured, ``b`` and ``g``.

        Raises:
            ConfigError: (a ``ValueError``) for shapes of the wrong rank, differing batch sizes
                or unknown feature sizes.
        """
        time_steps, d_v, d_q = self._check_shapes(values_shape, query_shape)
        kernel_args = {
            "initializer": self.kernel_initializer,
            "regularizer": self.kernel_regularizer,
            "constraint": self.kernel_constraint,
        }
        self.values_kernel = self.add_weight(name="values_kernel", shape=(d_v, self.units), **kernel_args)
        self.query_kernel = self.add_weight(name="query_kernel", shape=(d_q, self.units), **kernel_args)
        self.attention_v = self.add_weight(name="attention_v", shape=(self.units,), **kernel_args)
        self.attention_b = None
        if self.use_bias:
            self.attention_b = self.add_weight(
                name="attention_b",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.attention_g = None
        if self.normalize:
            self.attention_g = self.add_weight(
                name="attention_g",
                shape=(),
                initializer=keras.initializers.Constant(math.sqrt(1.0 / self.units)),
            )
        self._record_build_dims(time_steps, d_v, d_q)

    def _scores(self, values: Tensor, query: Tensor) -> Tensor:
        keys = ops.matmul(values, self.values_kernel)  # (batch, T, units), once per call
        processed_query = ops.matmul(query, self.query_kernel)  # (batch, T_q, units)
        features = ops.expand_dims(keys, 1) + ops.expand_dims(processed_query, 2)
        if self.attention_b is not None:
            features = features + self.attention_b
        features = ops.tanh(features)  # (batch, T_q, T, units)
        v = ops.convert_to_tensor(self.attention_v)
        if self.attention_g is not None:
            v = self.attention_g * v / ops.sqrt(ops.sum(ops.square(v)))
        return ops.sum(features * v, axis=-1)  # (batch, T_q, T)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "use_bias": self.use_bias,
                "normalize": self.normalize,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            }
        )
        return config
