"""Seeds, thread settings and ``tf.distribute`` strategies.

``tf.distribute`` only drives TensorFlow-backend models: on the JAX backend the ``"default"``
strategy is TensorFlow's no-op default (its scope changes nothing) and ``"mirrored"`` is an
error.
"""

from __future__ import annotations

from bilstm_attention._optional import require
from bilstm_attention.errors import ConfigError
from bilstm_attention.training.config import STRATEGY_CHOICES

tf = require("tensorflow", "train")

__all__ = ["STRATEGY_CHOICES", "make_strategy"]


def make_strategy(name: str, cpu_replicas: int = 2) -> tf.distribute.Strategy:
    """Return the distribution strategy called ``name``.

    ``"mirrored"`` replicates the model on every GPU; on a machine without one it splits
    the CPU into ``cpu_replicas`` logical devices and mirrors over them (data parallelism on
    one host; this must happen before TensorFlow has started, so call it first thing).

    Raises:
        ConfigError: an unknown ``name``; ``"mirrored"`` on a backend other than TensorFlow.
    """
    if name not in STRATEGY_CHOICES:
        raise ConfigError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGY_CHOICES)}")
    if name == "default":
        return tf.distribute.get_strategy()
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ConfigError(
            f"strategy 'mirrored' (tf.distribute.MirroredStrategy) needs the tensorflow backend, but Keras "
            f"runs on {backend!r}; use --strategy default, or --backend tensorflow"
        )
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return tf.distribute.MirroredStrategy()
    cpu = tf.config.list_physical_devices("CPU")[0]
    logical = tf.config.get_logical_device_configuration(cpu)
    if not logical or len(logical) < cpu_replicas:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(cpu_replicas)]
            )
        except RuntimeError as exc:
            raise ConfigError(
                "strategy 'mirrored' needs TensorFlow's CPU split into logical devices before "
                "TensorFlow starts; run training in a fresh process (e.g. the command line)"
            ) from exc
    devices = [device.name for device in tf.config.list_logical_devices("CPU")[:cpu_replicas]]
    return tf.distribute.MirroredStrategy(devices)
