"""Fast prediction over token-id sequences: one compiled forward pass, batches in length order.

``keras.Model.predict`` builds a data pipeline and a predict function on every call, which
costs far more than the forward pass of one short review on a CPU. :class:`CompiledPredictor`
compiles the model's inference call once per model and is called on NumPy batches directly:

* TensorFlow: ``tf.function`` s whose input signature has dynamic batch and time dimensions
  (``(None, None)`` int32), so they are traced once whatever the lengths and batch sizes.
  Batches of more than :data:`SMALL_BATCH` rows run as a graph; smaller ones (one review
  from ``predict([text])`` or ``explain``) through XLA (``jit_compile=True``), which runs
  the LSTM's time steps 5-20x faster on a CPU but compiles once per input shape, so small
  batches are padded to a bucketed shape as on JAX.
* JAX: ``jax.jit`` over the model's stateless call. JAX compiles one program per input
  shape, so batches are padded to a bucket: the time dimension to
  :func:`~bilstm_attention.features.padding.fixed_length` (16, 24, 32, 40, 50, ...: at most 25 % or 8
  tokens of padding, the rule training batches follow on JAX), the batch dimension up to a
  power of two. Padding is id 0, which the embedding's mask hides
  (padding gets zero attention; the predictions do not change).
* Other backends: ``Model.predict_on_batch``.

:func:`predict_probabilities` sorts the reviews by length so that batches carry little
padding and returns the results in input order.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from bilstm_attention.features.padding import FIXED_LENGTHS, fixed_length
from bilstm_attention.model.classifier import NGRAM_INPUT_NAME, TOKEN_INPUT_NAME

__all__ = [
    "LENGTH_BUCKET",
    "SMALL_BATCH",
    "CompiledPredictor",
    "bucket_length",
    "compiled_predictor",
    "keras_predict_probabilities",
    "padded_batch",
    "predict_probabilities",
]

#: The smallest padded length of a compiled shape.
LENGTH_BUCKET = FIXED_LENGTHS[0]

#: The padded length of a compiled shape; the name before the rule moved to
#: :mod:`bilstm_attention.features.padding` (kept for one release).
bucket_length = fixed_length

#: On TensorFlow, batches of at most this many rows run through XLA (see the module docstring).
SMALL_BATCH = 4


class CompiledPredictor:
    """A Keras model's inference forward pass, compiled once, called on NumPy arrays.

    Args:
        model: a functional model taking int token ids ``(batch, T)`` or a dict of such
            inputs (``{"token_ids", "ngram_ids"}``); any number of outputs.
        jit_compile: on TensorFlow, run batches of up to :data:`SMALL_BATCH` rows through
            XLA (default ``True``); ``False`` runs everything as a graph, with no
            compilation per shape.

    Call it with one padded batch (an int array or a dict of them); it returns the list of
    the model's outputs as NumPy arrays. On JAX the batch is padded to its bucket and the
    outputs cut back, so callers never see the bucketing. :attr:`trace_count` counts how
    often a function was traced: on TensorFlow at most once per function (2), whatever the
    shapes; on JAX once per bucketed shape.
    """

    def __init__(self, model: keras.Model, *, jit_compile: bool = True) -> None:
        self.model = model
        self.jit_compile = jit_compile
        self.backend = keras.backend.backend()
        self.trace_count = 0
        inputs = model.inputs
        # Several inputs are passed as a dict keyed by input name, also to a model built
        # on a list of inputs (as keras.Model(model.inputs, ...) builds one).
        self._input_names: list[str] | None = None
        self._as_list = False
        if isinstance(model.input, dict):
            self._input_names = list(model.input.keys())
        elif len(inputs) > 1:
            self._input_names = [tensor.name for tensor in inputs]
            self._as_list = True
        # Fixed lengths (the seed recipe's Input(shape=(max_length,))) cannot be bucketed.
        self._fixed = {
            name: (tensor.shape[1] if len(tensor.shape) > 1 else None)
            for name, tensor in zip(self._input_names or [TOKEN_INPUT_NAME], inputs)
        }
        # Outputs with a time dimension (attention weights) are cut back to the input's length.
        self._time_outputs = [len(t.shape) > 1 and t.shape[1] is None for t in model.outputs]
        self._lock = threading.Lock()
        self._small_function: Any = None
        if self.backend == "tensorflow":
            self._function = self._tensorflow_function(jit_compile=False)
            if jit_compile:
                self._small_function = self._tensorflow_function(jit_compile=True)
        elif self.backend == "jax":
            self._function = self._jax_function()
        else:
            self._function = None

    # ------------------------------------------------------------------ backends

    def _model_inputs(self, inputs: Any) -> Any:
        if self._as_list:
            return [inputs[name] for name in self._input_names or ()]
        return inputs

    def _call_model(self, inputs: Any) -> list[Any]:
        self.trace_count += 1
        outputs = self.model(self._model_inputs(inputs), training=False)
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    def _tensorflow_function(self, *, jit_compile: bool) -> Any:
        import tensorflow as tf

        def spec(tensor: Any) -> Any:
            return tf.TensorSpec((None, *tensor.shape[1:]), tf.as_dtype(tensor.dtype))

        if self._input_names is None:
            signature: list[Any] = [spec(self.model.inputs[0])]
        else:
            signature = [{name: spec(t) for name, t in zip(self._input_names, self.model.inputs)}]
        return tf.function(self._call_model, input_signature=signature, jit_compile=jit_compile)

    def _jax_function(self) -> Any:
        import jax

        model = self.model

        def stateless(trainable: Any, non_trainable: Any, inputs: Any) -> list[Any]:
            self.trace_count += 1
            outputs, _ = model.stateless_call(trainable, non_trainable, self._model_inputs(inputs), training=False)
            return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

        return jax.jit(stateless)

    # ------------------------------------------------------------------ calling

    def __call__(self, inputs: Any) -> list[np.ndarray]:
        if self.backend == "tensorflow":
            with self._lock:  # tracing is not thread-safe
                if self._small_function is not None and _rows(inputs) <= SMALL_BATCH:
                    outputs = self._small_function(self._bucketed(inputs))
                else:
                    outputs = self._function(inputs)
            return self._unpadded(outputs, inputs)
        if self.backend == "jax":
            outputs = self._function(
                [v.value for v in self.model.trainable_variables],
                [v.value for v in self.model.non_trainable_variables],
                self._bucketed(inputs),
            )
            return self._unpadded(outputs, inputs)
        outputs = self.model.predict_on_batch(self._model_inputs(inputs))
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        return [np.asarray(o) for o in outputs]

    def _unpadded(self, outputs: Any, inputs: Any) -> list[np.ndarray]:
        """Outputs as NumPy arrays, without the rows and time steps bucketing added."""
        rows = _rows(inputs)
        length = _token_array(inputs).shape[1]
        return [
            np.asarray(o)[:rows, :length] if in_time else np.asarray(o)[:rows]
            for o, in_time in zip(outputs, self._time_outputs)
        ]

    def _bucketed(self, inputs: Any) -> Any:
        """``inputs`` padded (with 0) to a bucketed batch size and length (JAX)."""
        if self._input_names is None:
            return _pad_array(inputs, self._fixed[TOKEN_INPUT_NAME])
        return {name: _pad_array(array, self._fixed.get(name)) for name, array in inputs.items()}


def _token_array(inputs: Any) -> np.ndarray:
    if isinstance(inputs, dict):
        return inputs.get(TOKEN_INPUT_NAME, next(iter(inputs.values())))
    return inputs


def _rows(inputs: Any) -> int:
    return int(_token_array(inputs).shape[0])


def _bucket_rows(rows: int) -> int:
    return 1 << max(0, (rows - 1).bit_length())


def _pad_array(array: np.ndarray, fixed_to: int | None) -> np.ndarray:
    rows, length = array.shape[:2]
    target_rows = _bucket_rows(rows)
    target_length = length if fixed_to is not None else fixed_length(length)
    if target_rows == rows and target_length == length:
        return array
    out = np.zeros((target_rows, target_length, *array.shape[2:]), dtype=array.dtype)
    out[:rows, :length] = array
    return out


_PREDICTOR_ATTRIBUTE = "_bilstm_attention_compiled_predictor"
_PREDICTORS_LOCK = threading.Lock()


def compiled_predictor(model: keras.Model) -> CompiledPredictor:
    """The :class:`CompiledPredictor` of ``model``, created on first use and kept with it
    (as a plain attribute, which Keras neither tracks nor saves; it goes with the model)."""
    with _PREDICTORS_LOCK:
        predictor = getattr(model, _PREDICTOR_ATTRIBUTE, None)
        if predictor is None or predictor.backend != keras.backend.backend():
            predictor = CompiledPredictor(model)
            object.__setattr__(model, _PREDICTOR_ATTRIBUTE, predictor)
    return predictor


def padded_batch(sequences: Sequence[np.ndarray], length: int | None = None) -> np.ndarray:
    """Int32 array ``(len(sequences), length)``, each sequence at the start of its row, then 0s.

    ``length`` defaults to the longest sequence; longer sequences are an error.
    """
    lengths = [len(seq) for seq in sequences]
    width = max(lengths, default=0) if length is None else length
    if lengths and max(lengths) > width:
        raise ValueError(f"a sequence of {max(lengths)} ids does not fit the padded length {width}")
    out = np.zeros((len(sequences), max(width, 1)), dtype=np.int32)
    for row, seq in enumerate(sequences):
        out[row, : len(seq)] = seq
    return out


def predict_probabilities(
    model: keras.Model,
    ids: Sequence[np.ndarray],
    *,
    batch_size: int = 256,
    pad_to: int | None = None,
    ngram_ids: Sequence[np.ndarray] | None = None,
    verbose: int | str = 0,
) -> Any:
    """Probabilities for every sequence, shape ``(n,)`` for two classes, else ``(n, classes)``.

    Sequences are batched in order of length so that batches carry little padding; the
    output is in the order of ``ids``. ``ngram_ids`` feeds a model with the n-gram branch.
    A model with several outputs gives a tuple of such arrays. The forward pass is the
    model's :func:`compiled_predictor` (no ``tf.data`` pipeline, no retracing); ``verbose``
    shows a progress bar over the batches.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if ngram_ids is not None and len(ngram_ids) != len(ids):
        from bilstm_attention.errors import ConfigError

        raise ConfigError(f"got {len(ids)} token sequences but {len(ngram_ids)} n-gram sequences")
    if len(ids) == 0:
        empty = np.zeros((0,), dtype=np.float32)
        return tuple(empty for _ in model.outputs) if len(model.outputs) > 1 else empty
    predictor = compiled_predictor(model)
    lengths = np.fromiter((len(seq) for seq in ids), dtype=np.int64, count=len(ids))
    order = np.argsort(lengths, kind="stable")
    starts = range(0, len(ids), batch_size)
    if verbose:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="predicting", unit=" batches")
    chunks: list[list[np.ndarray]] = []
    for start in starts:
        rows = order[start : start + batch_size]
        batch: Any = padded_batch([ids[i] for i in rows], pad_to)
        if ngram_ids is not None:
            batch = {TOKEN_INPUT_NAME: batch, NGRAM_INPUT_NAME: padded_batch([ngram_ids[i] for i in rows])}
        chunks.append(predictor(batch))
    outputs = [np.concatenate([chunk[k] for chunk in chunks]) for k in range(len(chunks[0]))]
    if len(outputs) > 1:
        return tuple(_in_input_order(p, order) for p in outputs)
    return _in_input_order(outputs[0], order)


def keras_predict_probabilities(
    model: keras.Model,
    ids: Sequence[np.ndarray],
    *,
    batch_size: int = 256,
    pad_to: int | None = None,
    ngram_ids: Sequence[np.ndarray] | None = None,
    verbose: int | str = 0,
) -> Any:
    """:func:`predict_probabilities` through ``keras.Model.predict`` and a ``tf.data``
    pipeline: the reference the fast path is tested and benchmarked against."""
    from bilstm_attention.features.pipeline import inference_dataset

    if len(ids) == 0:
        empty = np.zeros((0,), dtype=np.float32)
        return tuple(empty for _ in model.outputs) if len(model.outputs) > 1 else empty
    dataset, order = inference_dataset(ids, batch_size=batch_size, pad_to=pad_to, ngram_ids=ngram_ids)
    predictions = model.predict(dataset, verbose=verbose)
    if isinstance(predictions, (list, tuple)):
        return tuple(_in_input_order(np.asarray(p), order) for p in predictions)
    return _in_input_order(np.asarray(predictions), order)


def _in_input_order(predictions: np.ndarray, order: np.ndarray) -> np.ndarray:
    if predictions.shape[-1] == 1:
        predictions = predictions[:, 0]
    out = np.empty_like(predictions)
    out[order] = predictions
    return out
