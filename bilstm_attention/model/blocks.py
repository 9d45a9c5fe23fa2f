"""Small layers (building blocks) of the classifier: a trained attention query, a masked sum
and the weighted average of an ensemble. (The attention layers are in :mod:`bilstm_attention.layers`.)"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="bilstm_attention")
class LearnedQuery(keras.layers.Layer):
    """Returns one trained vector per example: ``(batch, T, d) -> (batch, units)``.

    Used as the attention query when the pooling should not depend on the final LSTM
    state ("what is the sentiment-bearing part of this review?", as in Yang et al. 2016's
    context vector).

    Args:
        units: size of the query vector.
        initializer: initializer of the vector.
    """

    def __init__(self, units: int, initializer: str = "glorot_uniform", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.vector = self.add_weight(
            name="vector", shape=(1, self.units), initializer=self.initializer, trainable=True
        )

    def call(self, inputs: Any) -> Any:
        batch = ops.shape(inputs)[0]
        return ops.broadcast_to(ops.cast(self.vector, inputs.dtype), (batch, self.units))

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, int]:
        return (input_shape[0], self.units)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"units": self.units, "initializer": keras.initializers.serialize(self.initializer)})
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
