"""Common machinery of :class:`BahdanauAttention` and :class:`LuongAttention`.

Both layers share the call contract ``context, weights = layer(values, query)``, the shape
checks, the handling of Keras masks, attention dropout and the output masks. A subclass only
creates its weights in :meth:`build` and computes raw scores in :meth:`_scores`.

How masks reach the layer
-------------------------
Keras 3 fills a plain ``mask`` argument automatically only for layers called with a single
tensor. With several tensors it fills ``<argname>_mask`` instead, so ``call`` takes
``values_mask`` and ``query_mask``: the mask that ``values`` carries (for example from
``Embedding(mask_zero=True)`` followed by ``Bidirectional(LSTM(..., return_sequences=True))``) is
used without the user passing it. An explicit ``mask=`` replaces the carried one, as in Keras.

Output masks
------------
Keras hands ``compute_mask`` only the first input (``values``) and its mask, whose time axis
``T`` is not an axis of the outputs. The outputs are indexed by the query's steps instead, so
the layer remembers the query mask of the call in progress and :meth:`compute_mask` returns it
for both outputs when the query is 3-D; for a 2-D query (one step, no time axis) it returns
``None``.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from ..errors import ConfigError
from .masking import masked_softmax

Tensor = Any
Shape = tuple[int | None, ...]


def _fmt(shape: Any) -> str:
    return str(tuple(shape)) if shape is not None else "None"


class _BaseAttention(keras.layers.Layer):
    """Base class; see :class:`BahdanauAttention` and :class:`LuongAttention`."""

    def __init__(self, dropout: float = 0.0, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise ConfigError(f"{type(self).__name__}: `dropout` must be a number in [0, 1), got {dropout!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ConfigError(f"{type(self).__name__}: `dropout` must be in [0, 1), got {dropout!r}")
        self.dropout = float(dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed) if self.dropout > 0 else None
        self.supports_masking = True
        # (values tensor, output mask) of the call in progress; see `compute_mask`.
        object.__setattr__(self, "_pending_output_mask", None)

    # ------------------------------------------------------------------ shapes

    def _check_shapes(self, values_shape: Any, query_shape: Any) -> tuple[int | None, int, int]:
        """Validates static shapes; returns ``(T, d_v, d_q)``."""
        name = type(self).__name__
        values_shape = tuple(values_shape) if values_shape is not None else None
        query_shape = tuple(query_shape) if query_shape is not None else None
        if values_shape is None or len(values_shape) != 3:
            raise ConfigError(
                f"{name}: `values` must have rank 3, (batch, T, d_v); received values shape {_fmt(values_shape)}"
            )
        if query_shape is None or len(query_shape) not in (2, 3):
            raise ConfigError(
                f"{name}: `query` must have rank 2, (batch, d_q), or rank 3, (batch, T_q, d_q); "
                f"received query shape {_fmt(query_shape)}"
            )
        if values_shape[0] is not None and query_shape[0] is not None and values_shape[0] != query_shape[0]:
            raise ConfigError(
                f"{name}: batch sizes differ: values shape {_fmt(values_shape)}, query shape {_fmt(query_shape)}"
            )
        d_v, d_q = values_shape[-1], query_shape[-1]
        if d_v is None or d_q is None:
            raise ConfigError(
                f"{name}: the last dimensions of `values` and `query` must be known; "
                f"received values shape {_fmt(values_shape)}, query shape {_fmt(query_shape)}"
            )
        built_dims = getattr(self, "_built_dims", None)
        if built_dims is not None:
            built_t, built_dv, built_dq = built_dims
            if (d_v, d_q) != (built_dv, built_dq) or (
                self._needs_fixed_time and values_shape[1] not in (None, built_t)
            ):
                expected_t = built_t if self._needs_fixed_time else "T"
                raise ConfigError(
                    f"{name} '{self.name}' was built for values (batch, {expected_t}, {built_dv}) "
                    f"and query (batch, [T_q,] {built_dq}); received values shape "
                    f"{_fmt(values_shape)}, query shape {_fmt(query_shape)}"
                )
        return values_shape[1], int(d_v), int(d_q)

    #: Whether the layer's weights depend on the number of value steps ``T``.
    _needs_fixed_time: bool = False

    def _record_build_dims(self, time_steps: int | None, d_v: int, d_q: int) -> None:
        object.__setattr__(self, "_built_dims", (time_steps, d_v, d_q))

    def compute_output_shape(self, values_shape: Shape, query_shape: Shape) -> tuple[Shape, Shape]:
        """Shapes of ``(context, weights)``.

        Args:
            values_shape: ``(batch, T, d_v)``.
            query_shape: ``(batch, d_q)`` or ``(batch, T_q, d_q)``.

        Returns:
            ``((batch, d_v), (batch, T))`` for a 2-D query and
            ``((batch, T_q, d_v), (batch, T_q, T))`` for a 3-D one.
        """
        time_steps, d_v, _ = self._check_shapes(values_shape, query_shape)
        values_shape, query_shape = tuple(values_shape), tuple(query_shape)
        batch = values_shape[0] if values_shape[0] is not None else query_shape[0]
        if len(query_shape) == 2:
            return (batch, d_v), (batch, time_steps)
        return (batch, query_shape[1], d_v), (batch, query_shape[1], time_steps)

    # ------------------------------------------------------------------ masks

    def _values_mask(self, values: Tensor, mask: Tensor | None, values_mask: Tensor | None) -> Tensor | None:
        """The mask over the value steps: the explicit ``mask`` if any, else the carried one.

        Only the shape is checked here; ``call`` casts the result to bool.
        """
        chosen = mask if mask is not None else values_mask
        if chosen is None:
            return None
        if not hasattr(chosen, "shape"):  # e.g. a nested list
            chosen = ops.convert_to_tensor(chosen)
        shape = tuple(chosen.shape)
        v_shape = tuple(values.shape)
        if len(shape) != 2 or any(a is not None and b is not None and a != b for a, b in zip(shape, v_shape[:2])):
            raise ConfigError(
                f"{type(self).__name__}: the mask of `values` must have shape (batch, T) = "
                f"{_fmt(v_shape[:2])}; received mask shape {_fmt(shape)}"
            )
        return chosen

    def _remember_output_mask(self, values: Tensor, query: Tensor, query_mask: Any) -> None:
        """Keeps ``(values, query_mask)`` for :meth:`compute_mask`, which Keras calls next."""
        pending = None
        if query_mask is not None and len(query.shape) == 3:
            pending = (values, query_mask)
        object.__setattr__(self, "_pending_output_mask", pending)

    def compute_mask(self, values: Tensor, previous_mask: Any = None) -> Any:
        """Keras mask of the outputs ``(context, weights)``.

        Keras calls this right after :meth:`call` with the first input (``values``) and its
        mask. That mask runs over the value steps ``T``, which are not an axis of the outputs,
        so it is never propagated. When the query is 3-D and carries a mask (or ``query_mask``
        was passed), that ``(batch, T_q)`` mask is returned for both outputs, since their second
        axis is ``T_q``; otherwise (2-D query, or no query mask) ``None``.

        Args:
            values: The ``values`` input of the call.
            previous_mask: The mask of ``values`` (ignored, see above).

        Returns:
            ``(query_mask, query_mask)`` or ``None``.
        """
        pending = self._pending_output_mask
        object.__setattr__(self, "_pending_output_mask", None)
        if pending is None or pending[0] is not values:
            return None
        return pending[1], pending[1]

    def compute_output_spec(
        self,
        values: Tensor,
        query: Tensor,
        mask: Tensor | None = None,
        training: bool | None = None,
        values_mask: Tensor | None = None,
        query_mask: Tensor | None = None,
    ) -> Any:
        # Symbolic (functional API) calls end here instead of in `call`.
        self._check_shapes(values.shape, query.shape)
        self._values_mask(values, mask, values_mask)
        self._remember_output_mask(values, query, query_mask)
        return super().compute_output_spec(
            values,
            query,
            mask=mask,
            training=training,
            values_mask=values_mask,
            query_mask=query_mask,
        )

    # ------------------------------------------------------------------ call

    def _scores(self, values: Tensor, query: Tensor) -> Tensor:
        """Raw scores ``(batch, T_q, T)`` for a 3-D ``query`` ``(batch, T_q, d_q)``."""
        raise NotImplementedError

    def call(
        self,
        values: Tensor,
        query: Tensor,
        mask: Tensor | None = None,
        training: bool | None = None,
        values_mask: Tensor | None = None,
        query_mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Attends over ``values`` with ``query``.

        Args:
            values: ``(batch, T, d_v)``, e.g. the outputs of a
                ``Bidirectional(LSTM(..., return_sequences=True))``.
            query: ``(batch, d_q)`` (one step) or ``(batch, T_q, d_q)`` (every decoder step).
            mask: Optional ``(batch, T)`` boolean mask of ``values``; ``False`` marks padding.
                Overrides the mask carried by ``values``.
            training: Whether attention dropout is applied.
            values_mask: Filled by Keras with the mask carried by ``values``; do not pass.
            query_mask: Filled by Keras with the mask carried by ``query``; only used for the
                output mask (see :meth:`compute_mask`).

        Returns:
            ``(context, weights)``: ``(batch, d_v)`` and ``(batch, T)`` for a 2-D query,
            ``(batch, T_q, d_v)`` and ``(batch, T_q, T)`` for a 3-D one.
        """
        self._check_shapes(values.shape, query.shape)
        step_mask = self._values_mask(values, mask, values_mask)
        if step_mask is not None:
            step_mask = ops.cast(step_mask, "bool")
        if query_mask is not None:
            query_mask = ops.cast(query_mask, "bool")
        self._remember_output_mask(values, query, query_mask)

        single_step = len(query.shape) == 2
        query3 = ops.expand_dims(query, 1) if single_step else query
        scores = self._scores(values, query3)  # (batch, T_q, T)
        if step_mask is not None:
            step_mask = ops.expand_dims(step_mask, 1)  # (batch, 1, T)
        weights = masked_softmax(scores, step_mask, axis=-1)
        if training and self.dropout > 0:
            weights = keras.random.dropout(weights, self.dropout, seed=self.seed_generator)
        context = ops.matmul(weights, ops.cast(values, weights.dtype))  # (batch, T_q, d_v)
        if single_step:
            return ops.squeeze(context, 1), ops.squeeze(weights, 1)
        return context, weights

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"dropout": self.dropout, "seed": self.seed})
        return config
