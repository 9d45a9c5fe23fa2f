"""What an adversarial training step costs on TensorFlow, and what one backward pass less saves.

Adversarial training (``training/adversarial.py``) needs, per batch, the gradient of the clean
loss with respect to the embedding output (the perturbation's direction) and the weight
gradients of the clean and the perturbed loss. This script trains the same classifier (the
tuned recipe's: frequency-normalised embedding 30k x 128, BiLSTM(64), Bahdanau(64), Dense 20,
dropout as in the recipe) from the same weights on the same length-bucketed batches, three ways
in turn, and reports each way's median seconds per pass over the batches:

* ``plain``: the classifier's own ``fit`` (no adversarial loss), for reference;
* ``nested_tapes``: the perturbation's gradient from an inner tape, then the gradient of
  ``clean + weight * adversarial`` from an outer one (the package's step before session 11:
  the clean loss is differentiated twice, once to the perturbation and once to the weights);
* ``one_clean_backward``: :class:`~bilstm_attention.training.adversarial.AdversarialTraining`
  as it is now: one backward pass of the clean loss gives both, a second one the adversarial
  loss's weight gradients.

Review lengths are drawn from a log-normal with a median of ``--median-tokens`` (NSMC's Mecab
median is 14 tokens; IMDB's 199) and cut at ``--max-length``. Both adversarial ways start from
the same weights and seeds, so their weights after the timed passes must agree up to float
rounding; the report gives the largest difference. Example::

    python benchmarks/adversarial_step_speed.py --reviews 8192 --median-tokens 14 --max-length 60
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _nested_tapes_class() -> Any:
    import keras
    import tensorflow as tf

    from bilstm_attention.training.adversarial import AdversarialTraining, adversarial_direction

    class NestedTapes(AdversarialTraining):
        """The step as it was: the clean loss differentiated by two tapes."""

        def _tf_train_step(self, data: Any) -> dict[str, Any]:
            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
            delta = self._zero_perturbation(x)
            with tf.GradientTape() as tape:
                with tf.GradientTape() as inner:
                    inner.watch(delta)
                    with self.embedding.perturbed(delta):
                        y_pred = self(x, training=True)
                    loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
                r_adv = adversarial_direction(inner.gradient(loss, delta), x, self.epsilon)
                with self.embedding.perturbed(r_adv):
                    adversarial_pred = self(x, training=True)
                adversarial_loss = self.compute_loss(
                    x=x, y=y, y_pred=adversarial_pred, sample_weight=sample_weight, training=True
                )
                total = loss + self.weight * adversarial_loss
            variables = self.trainable_variables
            self.optimizer.apply_gradients(zip(tape.gradient(total, variables), variables))
            return self._report(x, y, y_pred, loss, sample_weight)

    return NestedTapes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=8192)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--median-tokens", type=int, default=14)
    parser.add_argument("--max-length", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--output", default=str(Path(__file__).resolve().parent / "results" / "adversarial_step_speed.json")
    )
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    from bilstm_attention.evaluation.benchmark import save_speed_report
    from bilstm_attention.inference.prediction import padded_batch
    from bilstm_attention.model import ClassifierConfig, build_classifier, compile_classifier
    from bilstm_attention.training.adversarial import AdversarialTraining

    if keras.backend.backend() != "tensorflow":
        parser.error("this benchmark times the TensorFlow step (KERAS_BACKEND=tensorflow)")
    load_before = os.getloadavg()
    vocab_size = 30_000
    rng = np.random.default_rng(0)
    lengths = np.clip(rng.lognormal(np.log(args.median_tokens), 0.6, args.reviews).astype(int), 2, args.max_length)
    ids = [rng.integers(2, vocab_size, n).astype(np.int32) for n in lengths]
    labels = rng.integers(0, 2, args.reviews).astype("float32")
    order = np.argsort(lengths, kind="stable")
    batches = [
        (
            padded_batch([ids[i] for i in order[start : start + args.batch_size]]),
            labels[order[start : start + args.batch_size], None],
        )
        for start in range(0, args.reviews, args.batch_size)
    ]
    dataset = tf.data.Dataset.from_generator(
        lambda: iter(batches),
        output_signature=(tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None, 1), tf.float32)),
    ).apply(tf.data.experimental.assert_cardinality(len(batches)))
    config = ClassifierConfig(vocab_size=vocab_size, lstm_units=[64], normalize_embeddings=True, learning_rate=0.002)
    counts = rng.zipf(1.3, vocab_size).clip(max=10**6)

    def classifier() -> keras.Model:
        keras.utils.set_random_seed(1)
        model = build_classifier(config, compile=False)
        model.get_layer("embedding").set_frequencies(counts)
        return model

    def adversarial(cls: type) -> keras.Model:
        model = cls(classifier(), epsilon=5.0)
        compile_classifier(model, config)
        return model

    plain = classifier()
    compile_classifier(plain, config)
    trainees = {
        "plain": plain,
        "nested_tapes": adversarial(_nested_tapes_class()),
        "one_clean_backward": adversarial(AdversarialTraining),
    }

    def run(name: str) -> float:
        started = time.perf_counter()
        trainees[name].fit(dataset, epochs=1, shuffle=False, verbose=0)
        return time.perf_counter() - started

    first_pass = {name: run(name) for name in trainees}  # traces every shape
    seconds: dict[str, list[float]] = {name: [] for name in trainees}
    for _ in range(args.repeats):
        for name in trainees:
            seconds[name].append(run(name))
    median = {name: statistics.median(times) for name, times in seconds.items()}

    def weights(name: str) -> list[np.ndarray]:
        model = trainees[name]
        model = getattr(model, "classifier", model)
        return [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]

    difference = max(
        float(np.max(np.abs(a - b))) for a, b in zip(weights("nested_tapes"), weights("one_clean_backward"))
    )
    report: dict[str, Any] = {
        "reviews": args.reviews,
        "batch_size": args.batch_size,
        "batches": len(batches),
        "median_tokens": float(np.median(lengths)),
        "max_length": args.max_length,
        "median_seconds_per_pass": median,
        "ratio_to_plain": {name: s / median["plain"] for name, s in median.items()},
        "one_clean_backward_over_nested_tapes": median["one_clean_backward"] / median["nested_tapes"],
        "first_pass_seconds": first_pass,
        "seconds": seconds,
        "max_abs_weight_difference_between_the_adversarial_ways": difference,
    }
    save_speed_report(args.output, report, load_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
