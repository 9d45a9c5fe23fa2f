"""Small layers (building blocks) of the classifier: a frequency-normalised embedding, a trained
attention query, a masked sum and the weighted average of an ensemble. (The attention layers are in :mod:`bilstm_attention.layers`.)"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
from keras import ops

from bilstm_attention.errors import ConfigError


@keras.saving.register_keras_serializable(package="bilstm_attention")
class LearnedQuery(keras.layers.Layer):
    """Returns trained query vectors, the same for every example:
    ``(batch, T, d) -> (batch, units)``, or ``(batch, heads, units)`` with ``heads``.

    Used as the attention query when the pooling should not depend on the final LSTM
    state ("what is the sentiment-bearing part of this review?", as in Yang et al. 2016's
    context vector). With ``heads`` it holds one vector per head: an attention layer given
    the 3-D query pools the sequence once per head, as in the multi-hop self-attentive
    sentence embedding of Lin et al. (2017).

    Args:
        units: size of each query vector.
        heads: number of query vectors, each with its own step axis entry; ``None`` (the
            default) gives one vector and no step axis.
        initializer: initializer of the vectors.
    """

    def __init__(
        self, units: int, heads: int | None = None, initializer: str = "glorot_uniform", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if heads is not None and (isinstance(heads, bool) or not isinstance(heads, int) or heads < 1):
            raise ConfigError(f"LearnedQuery: `heads` must be a positive int or None, got {heads!r}")
        self.units = int(units)
        self.heads = heads
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.vector = self.add_weight(
            name="vector", shape=(self.heads or 1, self.units), initializer=self.initializer, trainable=True
        )

    def call(self, inputs: Any) -> Any:
        batch = ops.shape(inputs)[0]
        vectors = ops.cast(self.vector, inputs.dtype)
        if self.heads is None:
            return ops.broadcast_to(vectors, (batch, self.units))
        return ops.broadcast_to(ops.expand_dims(vectors, 0), (batch, self.heads, self.units))

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        if self.heads is None:
            return (input_shape[0], self.units)
        return (input_shape[0], self.heads, self.units)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {"units": self.units, "heads": self.heads, "initializer": keras.initializers.serialize(self.initializer)}
        )
        return config


@keras.saving.register_keras_serializable(package="bilstm_attention")
class MaskedSum(keras.layers.Layer):
    """Sums ``(batch, T, d)`` over the time steps its mask keeps: ``(batch, d)``.

    The linear n-gram branch uses it: the logit contribution of a review is the sum of the
    weights of the n-grams it contains (padding excluded).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is not None:
            inputs = inputs * ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return ops.sum(inputs, axis=1)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package="bilstm_attention")
class WeightedAverage(keras.layers.Layer):
    """``weight * a + (1 - weight) * b`` for two inputs of the same shape.

    The ensemble classifier mixes the BiLSTM's probabilities with the NB-LR model's with it;
    ``weight`` is chosen on the validation split and stored in the layer's config.

    Args:
        weight: the share of the first input, in ``[0, 1]``.
    """

    def __init__(self, weight: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        weight = float(weight)
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"WeightedAverage weight must be in [0, 1], got {weight}")
        self.weight = weight

    def call(self, inputs: Any) -> Any:
        first, second = inputs
        return self.weight * first + (1.0 - self.weight) * second

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"weight": self.weight})
        return config


@keras.saving.register_keras_serializable(package="bilstm_attention")
class NormalizedEmbedding(keras.layers.Layer):
    """A token embedding whose vectors are standardised with the tokens' training frequencies.

    Adversarial training on embeddings (Miyato et al. 2017, "Adversarial Training Methods for
    Semi-Supervised Text Classification") perturbs the embedded review by a vector of fixed
    norm. Without normalisation the model can make any such perturbation harmless by growing
    its embeddings; with it, every channel of the table has mean 0 and variance 1 under the
    token frequencies ``f`` (``f`` sums to 1)::

        mean = sum_i f_i E_i        var = sum_i f_i (E_i - mean)^2
        v_i  = (E_i - mean) / sqrt(var + epsilon)

    While training, ``mean`` and ``var`` are computed from the current table at each call (the
    gradient flows through them) and stored in two non-trainable weights; at inference the
    stored statistics are used, so a call costs one lookup, as with ``keras.layers.Embedding``.
    :meth:`update_statistics` recomputes them from the table (after loading or assigning
    vectors, and at the end of training).

    The adversarial training step (:mod:`bilstm_attention.training.adversarial`) adds its
    perturbation to this layer's output through :meth:`perturbed`; nothing of it is saved.

    Args:
        input_dim: number of token ids (0 = padding).
        output_dim: size of the vectors.
        mask_zero: id 0 is padding: the layer returns a mask that hides it.
        embeddings_initializer: initializer of the table.
        epsilon: added to the variance before the square root.

    Input shape ``(batch, T)`` int ids; output ``(batch, T, output_dim)``.
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        *,
        mask_zero: bool = True,
        embeddings_initializer: Any = "uniform",
        epsilon: float = 1e-6,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.mask_zero = bool(mask_zero)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.epsilon = float(epsilon)
        self.supports_masking = self.mask_zero
        object.__setattr__(self, "_perturbation", None)

    def build(self, input_shape: tuple[int | None, ...] | None = None) -> None:
        self.embeddings = self.add_weight(
            name="embeddings", shape=(self.input_dim, self.output_dim), initializer=self.embeddings_initializer
        )
        uniform = 1.0 / self.input_dim
        self.frequencies = self.add_weight(
            name="frequencies",
            shape=(self.input_dim,),
            initializer=keras.initializers.Constant(uniform),
            trainable=False,
        )
        self.mean = self.add_weight(
            name="mean",
            shape=(self.output_dim,),
            initializer="zeros",
            trainable=False,
            aggregation="only_first_replica",
        )
        self.scale = self.add_weight(
            name="scale",
            shape=(self.output_dim,),
            initializer="ones",
            trainable=False,
            aggregation="only_first_replica",
        )
        self.built = True

    def statistics(self) -> tuple[Any, Any]:
        """``(mean, 1 / sqrt(var + epsilon))`` of the current table under the frequencies."""
        table = ops.convert_to_tensor(self.embeddings)
        weights = ops.expand_dims(ops.convert_to_tensor(self.frequencies), -1)
        mean = ops.sum(weights * table, axis=0)
        var = ops.sum(weights * ops.square(table - mean), axis=0)
        return mean, ops.rsqrt(var + self.epsilon)

    def update_statistics(self) -> None:
        """Store the statistics of the current table for inference."""
        mean, scale = self.statistics()
        self.mean.assign(mean)
        self.scale.assign(scale)

    def set_frequencies(self, counts: Any) -> None:
        """Set the token frequencies from counts (one per id; normalised to sum to 1) and
        update the statistics. All-zero counts mean uniform frequencies."""
        counts = np.asarray(counts, dtype="float64").reshape(-1)
        if counts.shape != (self.input_dim,):
            raise ValueError(f"NormalizedEmbedding needs {self.input_dim} counts, got {counts.shape[0]}")
        if (counts < 0).any():
            raise ValueError("NormalizedEmbedding counts must not be negative")
        total = counts.sum()
        freqs = counts / total if total > 0 else np.full(self.input_dim, 1.0 / self.input_dim)
        self.frequencies.assign(freqs.astype("float32"))
        self.update_statistics()

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        ids = ops.cast(inputs, "int32")
        if training:
            mean, scale = self.statistics()
            self.mean.assign(ops.stop_gradient(mean))
            self.scale.assign(ops.stop_gradient(scale))
        else:
            mean, scale = self.mean, self.scale
        vectors = (ops.take(self.embeddings, ids, axis=0) - mean) * scale
        if self._perturbation is not None:
            vectors = vectors + ops.cast(self._perturbation, vectors.dtype)
        return vectors

    @contextlib.contextmanager
    def perturbed(self, perturbation: Any) -> Iterator[None]:
        """Within the block, calls add ``perturbation`` ``(batch, T, output_dim)`` to the output."""
        previous = self._perturbation
        object.__setattr__(self, "_perturbation", perturbation)
        try:
            yield
        finally:
            object.__setattr__(self, "_perturbation", previous)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape, self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "mask_zero": self.mask_zero,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
                "epsilon": self.epsilon,
            }
        )
        return config
