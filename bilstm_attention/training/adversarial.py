"""Adversarial training on the embeddings (Miyato, Dai & Goodfellow 2017).

Each training step adds to the clean loss the loss of the same batch with its (normalised)
embedded reviews moved by ``epsilon`` in the direction that raises the loss most, to first
order::

    g     = d loss(x) / d e(x)                      (e: the embedding layer's output)
    r_adv = epsilon * g / ||g||_2                    (norm per review, over all steps and channels)
    total = loss(x) + weight * loss(e(x) + r_adv)    (r_adv a constant: no gradient through it)

With a ``consistency`` weight ``c > 0`` the perturbed pass is also pulled towards the clean
prediction, as virtual adversarial training does (Miyato et al. 2016/2019), with the clean
prediction ``p(x)`` a constant::

    total = loss(x) + weight * (loss(e(x) + r_adv) + c * KL(p(x) || p(e(x) + r_adv)))

It costs nothing extra: both predictions are computed anyway.

It is a training-time regulariser: :class:`AdversarialTraining` wraps a classifier for
``fit`` and shares its weights, so the classifier that is saved, exported and served is the
plain one. The classifier's embedding layer must be a
:class:`~bilstm_attention.model.blocks.NormalizedEmbedding` (``normalize_embeddings=True``):
without normalisation the model could make any fixed-norm perturbation harmless by growing
its vectors.

The step is written for the TensorFlow backend (``tf.GradientTape``) and the JAX backend
(``jax.value_and_grad``); the gradient with respect to the embedding output is taken as the
gradient with respect to a zero perturbation added to it, so both backends compute the same
thing. Both passes run with dropout on (different masks), as in the paper's code.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from bilstm_attention.model.blocks import NormalizedEmbedding
from bilstm_attention.model.names import EMBEDDING_LAYER_NAME, TOKEN_INPUT_NAME

SUPPORTED_BACKENDS: tuple[str, ...] = ("tensorflow", "jax")


def _unpack(data: Any) -> tuple[Any, Any, Any]:
    return keras.utils.unpack_x_y_sample_weight(data)


def _token_ids(x: Any) -> Any:
    return x[TOKEN_INPUT_NAME] if isinstance(x, dict) else x


def adversarial_direction(gradient: Any, token_ids: Any, epsilon: float) -> Any:
    """``epsilon * g / ||g||`` per review, with ``g`` zeroed on padding (id 0)."""
    mask = ops.expand_dims(ops.cast(ops.not_equal(token_ids, 0), gradient.dtype), -1)
    gradient = gradient * mask
    norm = ops.sqrt(ops.sum(ops.square(gradient), axis=(1, 2), keepdims=True) + 1e-12)
    return ops.stop_gradient(epsilon * gradient / norm)


def prediction_divergence(anchor: Any, predicted: Any) -> Any:
    """Mean over the batch of ``KL(anchor || predicted)`` between two predictions: Bernoulli
    distributions for one sigmoid unit (shape ``(batch, 1)``), categorical ones for softmax
    outputs (shape ``(batch, classes)``). Probabilities are clipped to ``[1e-7, 1 - 1e-7]``."""
    p = ops.clip(anchor, 1e-7, 1.0 - 1e-7)
    q = ops.clip(predicted, 1e-7, 1.0 - 1e-7)
    divergence = p * ops.log(p / q)
    if predicted.shape[-1] == 1:
        divergence = divergence + (1.0 - p) * ops.log((1.0 - p) / (1.0 - q))
    return ops.mean(ops.sum(divergence, axis=-1))


def _weighted_sum(clean: Any, adversarial: Any, weight: float) -> Any:
    """``clean + weight * adversarial`` for two TensorFlow gradients of one variable (``None``
    for a variable a loss does not reach; sparse gradients made dense)."""
    import tensorflow as tf

    if adversarial is None:
        return clean
    adversarial = tf.convert_to_tensor(adversarial) * weight
    return adversarial if clean is None else tf.convert_to_tensor(clean) + adversarial


@keras.saving.register_keras_serializable(package="bilstm_attention")
class AdversarialTraining(keras.Model):
    """Trains ``classifier`` with the adversarial loss added; predicts and evaluates as it does.

    Compile this model (not the classifier; e.g. with
    :func:`~bilstm_attention.model.compile_classifier`) and ``fit`` it; the classifier's weights
    are the ones updated. ``evaluate``/``predict`` are the classifier's (no perturbation).

    Args:
        classifier: a model built by :func:`~bilstm_attention.model.build_classifier` with
            ``normalize_embeddings=True`` (its layer ``embedding`` is a NormalizedEmbedding).
        epsilon: L2 norm of each review's perturbation (5.0 in the recipes, on embeddings of
            unit variance per channel).
        weight: weight of the adversarial loss next to the clean loss.
        consistency: weight of ``KL(clean prediction || perturbed prediction)`` added to the
            adversarial loss (0: off, the recipes' setting).

    Raises:
        ValueError: the classifier has no NormalizedEmbedding named ``embedding``, ``epsilon``
            or ``weight`` is not positive, ``consistency`` is negative, or the Keras backend is
            not TensorFlow or JAX.
    """

    def __init__(
        self,
        classifier: keras.Model,
        epsilon: float = 5.0,
        weight: float = 1.0,
        consistency: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        backend = keras.backend.backend()
        if backend not in SUPPORTED_BACKENDS:
            raise ValueError(
                f"adversarial training is written for the {' and '.join(SUPPORTED_BACKENDS)} backends, not {backend!r}"
            )
        if not epsilon > 0 or not weight > 0:
            raise ValueError(f"epsilon and weight must be positive, got {epsilon!r} and {weight!r}")
        if not consistency >= 0:
            raise ValueError(f"consistency must be 0 or positive, got {consistency!r}")
        try:
            embedding = classifier.get_layer(EMBEDDING_LAYER_NAME)
        except ValueError:
            embedding = None
        if not isinstance(embedding, NormalizedEmbedding):
            raise ValueError(
                f"adversarial training needs the classifier's {EMBEDDING_LAYER_NAME!r} layer to be a "
                "NormalizedEmbedding: build it with normalize_embeddings=True"
            )
        self.classifier = classifier
        # built with the classifier (callbacks such as BackupAndRestore need a built model)
        self.built = classifier.built
        self.epsilon = float(epsilon)
        self.weight = float(weight)
        self.consistency = float(consistency)

    @property
    def embedding(self) -> NormalizedEmbedding:
        """The classifier's embedding layer, which the perturbation is added to."""
        return self.classifier.get_layer(EMBEDDING_LAYER_NAME)

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.classifier(inputs, training=training)

    def _zero_perturbation(self, x: Any) -> Any:
        ids = _token_ids(x)
        shape = ops.shape(ids)
        return ops.zeros((shape[0], shape[1], self.embedding.output_dim), dtype="float32")

    def _perturbed_loss(self, anchor: Any, predicted: Any, loss: Any) -> Any:
        """The adversarial loss, plus the consistency term pulling ``predicted`` (the perturbed
        pass) towards ``anchor`` (the clean one, held constant)."""
        if not self.consistency:
            return loss
        return loss + self.consistency * prediction_divergence(ops.stop_gradient(anchor), predicted)

    def _report(self, x: Any, y: Any, y_pred: Any, loss: Any, sample_weight: Any) -> dict[str, Any]:
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def train_step(self, *args: Any) -> Any:
        if keras.backend.backend() == "jax":
            return self._jax_train_step(*args)
        return self._tf_train_step(*args)

    # --- TensorFlow ------------------------------------------------------------------------

    def _tf_train_step(self, data: Any) -> dict[str, Any]:
        import tensorflow as tf

        x, y, sample_weight = _unpack(data)
        variables = self.trainable_variables
        delta = self._zero_perturbation(x)
        # One backward pass of the clean loss gives both its weight gradients and the gradient
        # the perturbation follows (the gradient w.r.t. a zero perturbation), as on JAX; a
        # second pass gives the adversarial loss's weight gradients. Differentiating their sum
        # instead would run the clean backward pass twice.
        with tf.GradientTape() as tape:
            tape.watch(delta)
            with self.embedding.perturbed(delta):
                y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        *gradients, delta_gradient = tape.gradient(loss, [*variables, delta])
        r_adv = adversarial_direction(delta_gradient, _token_ids(x), self.epsilon)
        with tf.GradientTape() as tape:
            with self.embedding.perturbed(r_adv):
                adversarial_pred = self(x, training=True)
            adversarial_loss = self.compute_loss(
                x=x, y=y, y_pred=adversarial_pred, sample_weight=sample_weight, training=True
            )
            adversarial_loss = self._perturbed_loss(y_pred, adversarial_pred, adversarial_loss)
        adversarial_gradients = tape.gradient(adversarial_loss, variables)
        total = [
            _weighted_sum(clean, adversarial, self.weight)
            for clean, adversarial in zip(gradients, adversarial_gradients)
        ]
        self.optimizer.apply_gradients(zip(total, variables))
        return self._report(x, y, y_pred, loss, sample_weight)

    # --- JAX ---------------------------------------------------------------------------------

    def _jax_train_step(self, state: Any, data: Any) -> tuple[dict[str, Any], Any]:
        import jax

        trainable, non_trainable, optimizer_variables, metrics_variables = state
        x, y, sample_weight = _unpack(data)

        def loss_of(trainable: Any, perturbation: Any, non_trainable: Any, anchor: Any = None) -> tuple[Any, Any]:
            with self.embedding.perturbed(perturbation):
                y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x, training=True)
            loss, _ = self.stateless_compute_loss(
                trainable,
                non_trainable,
                metrics_variables,
                x=x,
                y=y,
                y_pred=y_pred,
                sample_weight=sample_weight,
                training=True,
            )
            if anchor is not None:
                loss = self._perturbed_loss(anchor, y_pred, loss)
            return loss, (y_pred, non_trainable)

        value_and_grad = jax.value_and_grad(loss_of, argnums=(0, 1), has_aux=True)
        (loss, (y_pred, non_trainable)), (grads, delta_grad) = value_and_grad(
            trainable, self._zero_perturbation(x), non_trainable
        )
        r_adv = adversarial_direction(delta_grad, _token_ids(x), self.epsilon)
        (_, (_, non_trainable)), (adversarial_grads, _) = value_and_grad(trainable, r_adv, non_trainable, y_pred)
        grads = jax.tree_util.tree_map(lambda clean, adv: clean + self.weight * adv, grads, adversarial_grads)
        trainable, optimizer_variables = self.optimizer.stateless_apply(optimizer_variables, grads, trainable)

        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, metrics_variables))) as scope:
            logs = self._report(x, y, y_pred, loss, sample_weight)
        metrics_variables = [
            scope.get_current_value(variable) if scope.get_current_value(variable) is not None else variable.value
            for variable in self.metrics_variables
        ]
        return logs, (trainable, non_trainable, optimizer_variables, metrics_variables)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        classifier = keras.saving.serialize_keras_object(self.classifier)
        # this model is the one compiled for training; the classifier's own compile settings
        # (an optimizer never used) would only make loading restore an empty optimizer
        classifier.pop("compile_config", None)
        config.update(
            {
                "classifier": classifier,
                "epsilon": self.epsilon,
                "weight": self.weight,
                "consistency": self.consistency,
            }
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> AdversarialTraining:
        config = dict(config)
        classifier = keras.saving.deserialize_keras_object(config.pop("classifier"), custom_objects=custom_objects)
        return cls(classifier, **config)
