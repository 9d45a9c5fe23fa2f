"""Where IMDB batch inference could get faster on TensorFlow: one BiLSTM run several ways.

The tuned IMDB model's inference is its two LSTM directions stepping over ~200 tokens per
review. This script runs the same weights (Embedding 30k x 128, one BiLSTM(64) over the whole
sequence, masked mean pooling, a sigmoid unit) on the same length-sorted batches in turn,
and reports each way's median throughput:

* ``graph``: a ``tf.function`` with dynamic shapes (what ``CompiledPredictor`` does for
  batches of more than a few reviews);
* ``xla``: the same function with ``jit_compile=True``, batches padded to the fixed lengths
  (as ``CompiledPredictor`` does for one-review calls), compiled once per shape before timing;
* ``hoisted``: an LSTM whose input projection ``x @ W + b`` runs once over the whole sequence,
  leaving only ``h @ U`` inside the time loop (the same arithmetic, fewer, larger matmuls);
* ``classifier``: the tuned recipe's whole classifier (``build_classifier``: frequency-normalised
  embedding, BiLSTM(64), Bahdanau attention, dense head; its own weights) as a graph, to see
  what the layers around the BiLSTM cost.

Review lengths are drawn from a log-normal with IMDB's median token count (199 after the
tuned recipe's tokenizer) and cut at the recipe's 400 tokens; speed does not depend on which
ids they hold. Example::

    python benchmarks/lstm_loop_speed.py --reviews 4096 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _hoisted_lstm_class() -> Any:
    import keras
    from keras import ops
    from keras.src.backend import rnn  # the backend's time loop (not in Keras' public API)

    class HoistedLSTM(keras.layers.LSTM):
        """``keras.layers.LSTM`` with the input projection taken out of the time loop (inference)."""

        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
            if isinstance(mask, (list, tuple)):
                mask = mask[0]
            cell = self.cell
            projected = ops.matmul(sequences, cell.kernel) + cell.bias

            def step(z_t: Any, states: Any) -> Any:
                h, c = states
                gates = ops.split(z_t + ops.matmul(h, cell.recurrent_kernel), 4, axis=-1)
                c, o = cell._compute_carry_and_output_fused(gates, c)
                h = o * cell.activation(c)
                return h, [h, c]

            return rnn(
                step,
                projected,
                list(initial_state),
                go_backwards=self.go_backwards,
                mask=mask,
                input_length=sequences.shape[1],
                zero_output_for_mask=self.zero_output_for_mask,
                return_all_outputs=self.return_sequences,
            )

    keras.saving.register_keras_serializable("lstm_loop_speed")(HoistedLSTM)
    return HoistedLSTM


def _model(lstm: Any, vocab_size: int) -> Any:
    import keras

    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(vocab_size, 128, mask_zero=True)(tokens)
    states = keras.layers.Bidirectional(lstm(64, return_sequences=True))(embedded)
    pooled = keras.layers.GlobalAveragePooling1D()(states)
    return keras.Model(tokens, keras.layers.Dense(1, activation="sigmoid")(pooled))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--median-tokens", type=int, default=199)
    parser.add_argument("--max-length", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "results" / "lstm_loop_speed.json"))
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    from bilstm_attention.evaluation.benchmark import save_speed_report
    from bilstm_attention.inference.prediction import _pad_array, padded_batch
    from bilstm_attention.model import ClassifierConfig, build_classifier

    load_before = os.getloadavg()
    rng = np.random.default_rng(0)
    lengths = np.clip(rng.lognormal(np.log(args.median_tokens), 0.6, args.reviews).astype(int), 5, args.max_length)
    ids = [rng.integers(2, 30_000, n).astype(np.int32) for n in lengths]
    order = np.argsort(lengths, kind="stable")
    batches = [
        padded_batch([ids[i] for i in order[start : start + args.batch_size]])
        for start in range(0, args.reviews, args.batch_size)
    ]

    keras.utils.set_random_seed(1)
    plain = _model(keras.layers.LSTM, 30_000)
    hoisted = _model(_hoisted_lstm_class(), 30_000)
    hoisted.set_weights(plain.get_weights())
    classifier = build_classifier(
        ClassifierConfig(vocab_size=30_000, lstm_units=[64], normalize_embeddings=True), compile=False
    )
    dynamic = [tf.TensorSpec((None, None), tf.int32)]
    ways = {
        "graph": (tf.function(lambda x: plain(x, training=False), input_signature=dynamic), False),
        "xla": (tf.function(lambda x: plain(x, training=False), jit_compile=True), True),
        "hoisted": (tf.function(lambda x: hoisted(x, training=False), input_signature=dynamic), False),
        "classifier": (tf.function(lambda x: classifier(x, training=False), input_signature=dynamic), False),
    }

    def run(name: str) -> tuple[float, np.ndarray]:
        function, bucketed = ways[name]
        started = time.perf_counter()
        outputs = [np.asarray(function(_pad_array(b, None) if bucketed else b))[: len(b)] for b in batches]
        return time.perf_counter() - started, np.concatenate(outputs)

    first_pass = {name: run(name)[0] for name in ways}  # traces and compiles every shape
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    outputs: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        for name in ways:
            elapsed, outputs[name] = run(name)
            seconds[name].append(elapsed)
    median = {name: statistics.median(times) for name, times in seconds.items()}
    report: dict[str, Any] = {
        "reviews": args.reviews,
        "batch_size": args.batch_size,
        "median_tokens": float(np.median(lengths)),
        "max_length": args.max_length,
        "reviews_per_second": {name: args.reviews / s for name, s in median.items()},
        "ratio_to_graph": {name: median["graph"] / s for name, s in median.items()},
        "first_pass_seconds": first_pass,
        "seconds": seconds,
        # the classifier has its own weights: no difference to compare
        "max_abs_difference_to_graph": {
            name: float(np.max(np.abs(outputs[name] - outputs["graph"]))) for name in ways if name != "classifier"
        },
    }
    save_speed_report(args.output, report, load_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
