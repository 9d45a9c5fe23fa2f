"""NormalizedEmbedding and adversarial training (issue 13): the layer's statistics, mask and
saving; the adversarial step's arithmetic (one step checked against the clean step, the same
step on both backends); the training option end to end."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
from backends.adversarial_step import CONFIG, one_step
from backends.environment import subprocess_env
from tiny_run import train_args, write_reviews

from bilstm_attention.errors import ConfigError
from bilstm_attention.model import ClassifierConfig, NormalizedEmbedding, build_classifier
from bilstm_attention.training import TrainConfig
from bilstm_attention.training.adversarial import AdversarialTraining, adversarial_direction, prediction_divergence

REPO_ROOT = Path(__file__).resolve().parents[1]
BACKEND = keras.backend.backend()


def _layer(counts: list[int], dim: int = 4, seed: int = 0) -> NormalizedEmbedding:
    keras.utils.set_random_seed(seed)
    layer = NormalizedEmbedding(len(counts), dim, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0))
    layer.build((None, None))
    layer.set_frequencies(counts)
    return layer


# --- NormalizedEmbedding ----------------------------------------------------------------------


def test_vectors_have_zero_mean_and_unit_variance_under_the_frequencies() -> None:
    counts = [0, 0, 50, 30, 15, 5]
    layer = _layer(counts)
    vectors = keras.ops.convert_to_numpy(layer(np.arange(6)[None, :]))[0]
    freqs = np.array(counts, dtype="float64") / sum(counts)
    mean = (freqs[:, None] * vectors).sum(axis=0)
    var = (freqs[:, None] * (vectors - mean) ** 2).sum(axis=0)
    np.testing.assert_allclose(mean, 0.0, atol=1e-5)
    np.testing.assert_allclose(var, 1.0, atol=1e-4)
    # the frequent token dominates: a raw-vector mean would not give these
    raw = keras.ops.convert_to_numpy(layer.embeddings)
    assert not np.allclose(raw.mean(axis=0), 0.0, atol=1e-3)


def test_training_computes_the_statistics_and_inference_reuses_the_stored_ones() -> None:
    layer = _layer([0, 1, 2, 3, 4])
    ids = np.array([[1, 2, 3, 4]])
    layer.embeddings.assign(keras.ops.convert_to_numpy(layer.embeddings) * 3.0 + 1.0)
    stale = keras.ops.convert_to_numpy(layer(ids, training=False))
    fresh = keras.ops.convert_to_numpy(layer(ids, training=True))
    assert not np.allclose(stale, fresh, atol=1e-3)
    # the training call stored the statistics it used
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(ids, training=False)), fresh, atol=1e-5)
    layer.embeddings.assign(keras.ops.convert_to_numpy(layer.embeddings) + 2.0)
    layer.update_statistics()
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(ids, training=False)),
        keras.ops.convert_to_numpy(layer(ids, training=True)),
        atol=1e-5,
    )


def test_mask_hides_padding_and_perturbation_is_added_only_inside_the_block() -> None:
    layer = _layer([0, 0, 3, 3])
    ids = np.array([[2, 3, 0, 0]])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.compute_mask(ids)), [[True, True, False, False]])
    plain = keras.ops.convert_to_numpy(layer(ids))
    shift = np.full((1, 4, 4), 0.5, dtype="float32")
    with layer.perturbed(shift):
        moved = keras.ops.convert_to_numpy(layer(ids))
    np.testing.assert_allclose(moved, plain + 0.5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(ids)), plain, atol=1e-6)


def test_set_frequencies_checks_the_counts() -> None:
    layer = _layer([1, 1, 1])
    with pytest.raises(ValueError, match="needs 3 counts, got 2"):
        layer.set_frequencies([1, 2])
    with pytest.raises(ValueError, match="must not be negative"):
        layer.set_frequencies([1, -1, 2])
    layer.set_frequencies([0, 0, 0])  # no counts: uniform
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.frequencies), 1 / 3, atol=1e-7)


def test_classifier_with_normalized_embeddings_saves_and_loads(tmp_path: Path) -> None:
    config = ClassifierConfig(
        vocab_size=20, embedding_dim=4, lstm_units=[3], attention_units=3, dense_units=[2], normalize_embeddings=True
    )
    model = build_classifier(config, compile=False)
    embedding = model.get_layer("embedding")
    assert isinstance(embedding, NormalizedEmbedding)
    embedding.set_frequencies(np.arange(20))
    ids = np.array([[3, 4, 5, 0], [7, 0, 0, 0]])
    expected = model.predict(ids, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(loaded.get_layer("embedding"), NormalizedEmbedding)
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), expected, atol=1e-6)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded.get_layer("embedding").frequencies), np.arange(20) / np.arange(20).sum()
    )
    # a padded review gives the same probability as the unpadded one (padding is masked)
    np.testing.assert_allclose(
        model.predict(np.array([[7, 0, 0, 0, 0, 0]]), verbose=0), model.predict(np.array([[7]]), verbose=0), atol=1e-6
    )


# --- the adversarial step -----------------------------------------------------------------------


def test_adversarial_direction_has_norm_epsilon_per_review_and_spares_padding() -> None:
    rng = np.random.default_rng(0)
    gradient = rng.normal(size=(3, 5, 4)).astype("float32")
    ids = np.array([[4, 5, 6, 0, 0], [1, 2, 3, 4, 5], [9, 0, 0, 0, 0]])
    r = keras.ops.convert_to_numpy(adversarial_direction(gradient, ids, 5.0))
    np.testing.assert_allclose(np.sqrt((r**2).sum(axis=(1, 2))), 5.0, rtol=1e-5)
    assert np.all(r[ids == 0] == 0.0)
    # the direction of the (masked) gradient
    cosine = (r[1] * gradient[1]).sum() / (np.linalg.norm(r[1]) * np.linalg.norm(gradient[1]))
    assert cosine == pytest.approx(1.0, abs=1e-5)


def _batch(seed: int = 0) -> dict[str, np.ndarray]:
    keras.utils.set_random_seed(seed)
    classifier = build_classifier(CONFIG, compile=False)
    rng = np.random.default_rng(seed)
    classifier.get_layer("embedding").set_frequencies(rng.integers(1, 50, size=CONFIG.vocab_size))
    x = rng.integers(2, CONFIG.vocab_size, size=(8, 7)).astype("int32")
    x[::2, 5:] = 0
    y = rng.integers(0, 2, size=(8, 1)).astype("float32")
    inputs = {"x": x, "y": y, "epsilon": np.float32(2.0), "learning_rate": np.float32(0.5)}
    inputs.update({f"w{index}": keras.ops.convert_to_numpy(w) for index, w in enumerate(classifier.weights)})
    return inputs


def _plain_step(inputs: dict[str, np.ndarray], learning_rate: float) -> list[np.ndarray]:
    classifier = build_classifier(CONFIG, compile=False)
    classifier.set_weights([inputs[f"w{index}"] for index in range(len(classifier.weights))])
    classifier.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="binary_crossentropy")
    classifier.train_on_batch(inputs["x"], inputs["y"])
    return [keras.ops.convert_to_numpy(w) for w in classifier.trainable_weights]


def test_a_tiny_perturbation_makes_the_step_a_clean_step_with_the_loss_counted_twice() -> None:
    """loss(x) + 1.0 * loss(x + r) with |r| -> 0 is 2 * loss(x): with SGD, the adversarial step
    must equal a clean step at twice the learning rate; a real perturbation must change it."""
    inputs = _batch()
    clean_twice = _plain_step(inputs, 2 * float(inputs["learning_rate"]))
    clean_once = _plain_step(inputs, float(inputs["learning_rate"]))

    def trainable(weights: list[np.ndarray]) -> list[np.ndarray]:
        classifier = build_classifier(CONFIG, compile=False)
        classifier.set_weights(weights)
        return [keras.ops.convert_to_numpy(w) for w in classifier.trainable_weights]

    tiny = trainable(one_step({**inputs, "epsilon": np.float32(1e-6)}))
    for got, want in zip(tiny, clean_twice):
        np.testing.assert_allclose(got, want, atol=2e-5)
    assert any(not np.allclose(a, b, atol=1e-4) for a, b in zip(clean_twice, clean_once))
    real = trainable(one_step(inputs))
    assert any(not np.allclose(a, b, atol=1e-4) for a, b in zip(real, clean_twice))


@pytest.mark.skipif(BACKEND != "tensorflow", reason="the gradient is taken with tf.GradientTape here")
def test_the_perturbation_raises_the_loss_more_than_its_opposite() -> None:
    import tensorflow as tf

    inputs = _batch(seed=3)
    classifier = build_classifier(CONFIG, compile=False)
    classifier.set_weights([inputs[f"w{index}"] for index in range(len(classifier.weights))])
    embedding = classifier.get_layer("embedding")
    x, y = inputs["x"], inputs["y"]

    def loss(perturbation: tf.Tensor) -> tf.Tensor:
        with embedding.perturbed(perturbation):
            return keras.losses.binary_crossentropy(y, classifier(x, training=False)).numpy().mean()

    delta = tf.zeros((8, 7, CONFIG.embedding_dim))
    with tf.GradientTape() as tape:
        tape.watch(delta)
        with embedding.perturbed(delta):
            value = tf.reduce_mean(keras.losses.binary_crossentropy(y, classifier(x, training=False)))
    r = adversarial_direction(tape.gradient(value, delta), x, 0.5)
    assert loss(r) > loss(delta) > loss(-r)
    rng = np.random.default_rng(0)
    random = adversarial_direction(rng.normal(size=(8, 7, CONFIG.embedding_dim)).astype("float32"), x, 0.5)
    assert loss(r) > loss(random)


def _reference_classifier(inputs: dict[str, np.ndarray]) -> tuple[list[np.ndarray], keras.Model, NormalizedEmbedding]:
    """The batch's starting weights, a classifier holding them and its embedding layer."""
    start = [inputs[f"w{index}"] for index in range(len(build_classifier(CONFIG, compile=False).weights))]
    reference = build_classifier(CONFIG, compile=False)
    reference.set_weights(start)
    return start, reference, reference.get_layer("embedding")


@pytest.mark.skipif(BACKEND != "tensorflow", reason="the reference gradients are taken with tf.GradientTape")
@pytest.mark.parametrize("weight", [0.5, 2.0])
def test_an_sgd_step_moves_the_weights_by_the_clean_plus_weighted_adversarial_gradient(weight: float) -> None:
    """The step against gradients taken here one loss at a time: the perturbation from the
    clean loss's gradient w.r.t. the embedding output, then ``w - lr * (g_clean + weight * g_adv)``."""
    import tensorflow as tf

    inputs = _batch(seed=4)
    learning_rate, epsilon = 0.5, 2.0
    x, y = inputs["x"], inputs["y"]
    start, reference, embedding = _reference_classifier(inputs)

    def loss_with(perturbation: tf.Tensor) -> tf.Tensor:
        with embedding.perturbed(perturbation):
            return tf.reduce_mean(keras.losses.binary_crossentropy(y, reference(x, training=True)))

    delta = tf.zeros((*x.shape, CONFIG.embedding_dim))
    with tf.GradientTape() as tape:
        tape.watch(delta)
        clean = loss_with(delta)
    r_adv = adversarial_direction(tape.gradient(clean, delta), x, epsilon)
    variables = reference.trainable_variables
    with tf.GradientTape() as tape:
        clean = loss_with(delta)
    clean_gradients = tape.gradient(clean, variables)
    with tf.GradientTape() as tape:
        adversarial = loss_with(r_adv)
    adversarial_gradients = tape.gradient(adversarial, variables)
    expected = [
        v.numpy() - learning_rate * (tf.convert_to_tensor(c) + weight * tf.convert_to_tensor(a)).numpy()
        for v, c, a in zip(variables, clean_gradients, adversarial_gradients)
    ]

    classifier = build_classifier(CONFIG, compile=False)
    classifier.set_weights(start)
    model = AdversarialTraining(classifier, epsilon=epsilon, weight=weight)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="binary_crossentropy")
    model.train_on_batch(x, y)
    for got, want in zip(classifier.trainable_weights, expected):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), want, atol=1e-5)
    # the step moved every weight the losses reach
    assert all(not np.allclose(want, v.numpy(), atol=1e-6) for want, v in zip(expected, variables))


def test_prediction_divergence_is_the_kl_divergence_of_bernoulli_or_categorical_predictions() -> None:
    p = np.array([[0.9], [0.2], [0.5]], dtype="float32")
    q = np.array([[0.6], [0.3], [0.5]], dtype="float32")
    bernoulli = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
    got = keras.ops.convert_to_numpy(prediction_divergence(p, q))
    assert got == pytest.approx(bernoulli.mean(), rel=1e-5)
    assert keras.ops.convert_to_numpy(prediction_divergence(p, p)) == pytest.approx(0.0, abs=1e-7)
    a = np.array([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4]], dtype="float32")
    b = np.array([[0.5, 0.25, 0.25], [0.1, 0.6, 0.3]], dtype="float32")
    categorical = (a * np.log(a / b)).sum(axis=1).mean()
    assert keras.ops.convert_to_numpy(prediction_divergence(a, b)) == pytest.approx(categorical, rel=1e-5)
    # certain predictions stay finite
    assert np.isfinite(keras.ops.convert_to_numpy(prediction_divergence(np.ones((2, 1)), np.zeros((2, 1)))))


@pytest.mark.skipif(BACKEND != "tensorflow", reason="the reference gradients are taken with tf.GradientTape")
def test_the_consistency_term_adds_the_gradient_of_kl_clean_to_perturbed() -> None:
    """``w - lr * (g_clean + weight * (g_adv + c * g_kl))``, ``g_kl`` the gradient of
    KL(p(x) || p(x + r)) with the clean prediction p(x) held constant."""
    import tensorflow as tf

    inputs = _batch(seed=5)
    learning_rate, epsilon, weight, consistency = 0.5, 2.0, 1.0, 3.0
    x, y = inputs["x"], inputs["y"]
    start, reference, embedding = _reference_classifier(inputs)

    def predict(perturbation: tf.Tensor) -> tf.Tensor:
        with embedding.perturbed(perturbation):
            return reference(x, training=True)

    delta = tf.zeros((*x.shape, CONFIG.embedding_dim))
    variables = reference.trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(delta)
        clean_pred = predict(delta)
        clean = tf.reduce_mean(keras.losses.binary_crossentropy(y, clean_pred))
    r_adv = adversarial_direction(tape.gradient(clean, delta), x, epsilon)
    clean_gradients = tape.gradient(clean, variables)
    anchor = tf.stop_gradient(clean_pred)
    with tf.GradientTape() as tape:
        perturbed = predict(r_adv)
        adversarial = tf.reduce_mean(keras.losses.binary_crossentropy(y, perturbed))
        p, q = tf.clip_by_value(anchor, 1e-7, 1 - 1e-7), tf.clip_by_value(perturbed, 1e-7, 1 - 1e-7)
        kl = tf.reduce_mean(p * tf.math.log(p / q) + (1 - p) * tf.math.log((1 - p) / (1 - q)))
        total = adversarial + consistency * kl
    adversarial_gradients = tape.gradient(total, variables)
    assert float(kl) > 0
    expected = [
        v.numpy() - learning_rate * (tf.convert_to_tensor(c) + weight * tf.convert_to_tensor(a)).numpy()
        for v, c, a in zip(variables, clean_gradients, adversarial_gradients)
    ]

    def step(consistency: float) -> list[np.ndarray]:
        classifier = build_classifier(CONFIG, compile=False)
        classifier.set_weights(start)
        model = AdversarialTraining(classifier, epsilon=epsilon, weight=weight, consistency=consistency)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="binary_crossentropy")
        model.train_on_batch(x, y)
        return [keras.ops.convert_to_numpy(w) for w in classifier.trainable_weights]

    with_consistency = step(consistency)
    for got, want in zip(with_consistency, expected):
        np.testing.assert_allclose(got, want, atol=1e-5)
    # the term changes the step
    assert any(not np.allclose(a, b, atol=1e-5) for a, b in zip(with_consistency, step(0.0)))


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None or importlib.util.find_spec("tensorflow") is None,
    reason="needs both jax and tensorflow",
)
def test_the_step_is_the_same_on_tensorflow_and_jax(tmp_path: Path) -> None:
    """One step here (in process) and on the other backend (a subprocess) from the same weights."""
    other = "jax" if BACKEND == "tensorflow" else "tensorflow"
    inputs = {**_batch(seed=1), "consistency": np.float32(0.5)}  # the consistency term too
    np.savez(tmp_path / "in.npz", **inputs)
    env = subprocess_env(other)
    step = REPO_ROOT / "tests" / "backends" / "adversarial_step.py"
    result = subprocess.run(
        [sys.executable, str(step), str(tmp_path / "in.npz"), str(tmp_path / "out.npz")],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert f"ADVERSARIAL STEP OK {other}" in result.stdout
    with np.load(tmp_path / "out.npz") as data:
        there = [data[f"w{index}"] for index in range(len(data.files))]
    here = one_step(inputs)
    start = [inputs[f"w{index}"] for index in range(len(here))]
    assert any(not np.allclose(a, b, atol=1e-4) for a, b in zip(here, start))
    for weight_here, weight_there in zip(here, there):
        np.testing.assert_allclose(weight_there, weight_here, atol=1e-4)


def test_adversarial_training_names_the_backends_it_supports(monkeypatch) -> None:
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(ValueError, match="written for the tensorflow and jax backends, not 'torch'"):
        AdversarialTraining(build_classifier(CONFIG))


def test_adversarial_training_needs_a_normalized_embedding() -> None:
    plain = build_classifier(ClassifierConfig(vocab_size=10, embedding_dim=4, lstm_units=[2], dense_units=[]))
    with pytest.raises(ValueError, match="normalize_embeddings=True"):
        AdversarialTraining(plain)
    with pytest.raises(ValueError, match="must be positive"):
        AdversarialTraining(build_classifier(CONFIG), epsilon=0.0)
    with pytest.raises(ValueError, match="consistency must be 0 or positive"):
        AdversarialTraining(build_classifier(CONFIG), consistency=-1.0)


def test_adversarial_training_model_saves_and_loads(tmp_path: Path) -> None:
    model = AdversarialTraining(build_classifier(CONFIG), epsilon=3.0, weight=0.5, consistency=2.0)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    inputs = _batch()
    model.fit(inputs["x"], inputs["y"], epochs=1, verbose=0)
    model.save(tmp_path / "at.keras")
    loaded = keras.saving.load_model(tmp_path / "at.keras", safe_mode=True)
    assert isinstance(loaded, AdversarialTraining)
    assert (loaded.epsilon, loaded.weight, loaded.consistency) == (3.0, 0.5, 2.0)
    np.testing.assert_allclose(
        loaded.classifier.predict(inputs["x"], verbose=0), model.classifier.predict(inputs["x"], verbose=0), atol=1e-6
    )


# --- the training option ------------------------------------------------------------------------


def test_adversarial_epsilon_needs_normalized_embeddings_and_a_positive_value() -> None:
    base = {"dataset": "imdb", "classifier": {"normalize_embeddings": True}}
    assert TrainConfig.from_dict({**base, "adversarial_epsilon": 5.0}).fit.adversarial_epsilon == 5.0
    with pytest.raises(ConfigError, match="adversarial_epsilon needs normalize_embeddings"):
        TrainConfig.from_dict({"dataset": "imdb", "adversarial_epsilon": 5.0})
    with pytest.raises(ConfigError, match="adversarial_epsilon must be positive"):
        TrainConfig.from_dict({**base, "adversarial_epsilon": 0.0})
    with pytest.raises(ConfigError, match="adversarial_weight must be positive"):
        TrainConfig.from_dict({**base, "adversarial_weight": -1.0})
    assert (
        TrainConfig.from_dict(
            {**base, "adversarial_epsilon": 5.0, "adversarial_consistency": 1.0}
        ).fit.adversarial_consistency
        == 1.0
    )
    with pytest.raises(ConfigError, match="adversarial_consistency must be 0 or positive"):
        TrainConfig.from_dict({**base, "adversarial_epsilon": 5.0, "adversarial_consistency": -1.0})
    with pytest.raises(ConfigError, match="adversarial_consistency needs adversarial training"):
        TrainConfig.from_dict({**base, "adversarial_consistency": 1.0})


def test_train_with_adversarial_training_writes_a_plain_classifier(tmp_path: Path) -> None:
    """The training option end to end: the run's model is the classifier (NormalizedEmbedding,
    statistics of its final table), it loads and predicts; the best-epoch checkpoint holds the
    training wrapper."""
    from bilstm_attention import load_model
    from bilstm_attention.cli import main

    reviews = write_reviews(tmp_path / "reviews.csv", 160)
    run = tmp_path / "run"
    args = train_args(reviews, run, "--normalize-embeddings", "--adversarial-epsilon", "2", "--epochs", "2")
    assert main(args) == 0
    info = json.loads((run / "run.json").read_text())
    assert info["train_config"]["fit"]["adversarial_epsilon"] == 2.0
    assert info["classifier_config"]["normalize_embeddings"] is True
    model = load_model(run)
    keras_model = model.model
    embedding = keras_model.get_layer("embedding")
    assert isinstance(embedding, NormalizedEmbedding)
    mean, scale = embedding.statistics()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(embedding.mean), keras.ops.convert_to_numpy(mean), atol=1e-6)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(embedding.scale), keras.ops.convert_to_numpy(scale), atol=1e-5
    )
    vocabulary = json.loads((run / "vocabulary.json").read_text())
    counts = np.array(vocabulary["counts"][: embedding.input_dim], dtype="float64")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(embedding.frequencies)[: len(counts)], counts / counts.sum(), atol=1e-6
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. an optimizer state that does not fit the model
        keras.saving.load_model(run / "model.keras")
    probabilities = model.predict(["great wonderful movie", "awful boring plot"])
    assert probabilities.shape[0] == 2
    checkpoint = keras.saving.load_model(next((run / "checkpoints").glob("*.keras")), compile=False)
    assert isinstance(checkpoint, AdversarialTraining)
