"""Data-parallel training over several processes (and hosts) with ``keras.distribution``.

``bilstm-attention train ... --distributed`` (``RuntimeConfig.distributed``) runs one process
per worker, each started with the same command and the ``keras.distribution`` environment
variables::

    KERAS_DISTRIBUTION_JOB_ADDRESSES=10.0.0.1:1234   # the coordinator (process 0) host:port
    KERAS_DISTRIBUTION_NUM_PROCESSES=2
    KERAS_DISTRIBUTION_PROCESS_ID=0                  # 0 .. N-1, a different one per process

How it works:

* It runs on the JAX backend: :func:`start` calls ``keras.distribution.initialize`` (JAX's
  multi-process runtime; CPU collectives through gloo) and sets a ``DataParallel``
  distribution over every process's devices: the weights are replicated, each batch is split
  over the processes and the gradients are averaged every step. The TensorFlow backend's
  ``MultiWorkerMirroredStrategy`` does not work with Keras 3 ``fit`` (keras-team/keras issue
  20585, open), so ``--distributed`` on TensorFlow is refused with that reason.
* Every process reads the data and builds the same shuffled, length-bucketed batches (same
  seed); process ``i`` keeps rows ``i, i + N, i + 2N, ...`` of each batch
  (:func:`~bilstm_attention.features.pipeline.training_dataset`'s ``shard``), so the processes always
  agree on a batch's padded length. A batch's last ``len % N`` rows are left out.
* Process 0 writes the run directory; the others train in a scratch directory and stop after
  ``fit`` (the n-gram part, the test evaluation and the run files are process 0's).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from bilstm_attention.errors import ConfigError

#: The environment variables read by ``keras.distribution.initialize``.
ADDRESSES_VARIABLE = "KERAS_DISTRIBUTION_JOB_ADDRESSES"
PROCESSES_VARIABLE = "KERAS_DISTRIBUTION_NUM_PROCESSES"
PROCESS_ID_VARIABLE = "KERAS_DISTRIBUTION_PROCESS_ID"

#: Why TensorFlow cannot do it (shown to the user).
TENSORFLOW_REASON = (
    "multi-process training needs the JAX backend (--backend jax): tf.distribute's "
    "MultiWorkerMirroredStrategy does not work with Keras 3 fit (keras-team/keras issue 20585)"
)


@dataclass(frozen=True)
class Cluster:
    """This process's place in a multi-process training job.

    Attributes:
        addresses: ``host:port`` of the coordinator (process 0), comma-separated list allowed.
        num_processes: how many processes train together.
        process_id: this process's number, ``0 .. num_processes - 1``.
    """

    addresses: str
    num_processes: int
    process_id: int

    @property
    def writes_run(self) -> bool:
        """Process 0 writes the run directory."""
        return self.process_id == 0

    @property
    def shard(self) -> tuple[int, int]:
        """``(index, count)`` of this process's rows in every batch."""
        return self.process_id, self.num_processes


def cluster_from_environment(environ: dict[str, str] | None = None) -> Cluster:
    """Read the cluster from the ``KERAS_DISTRIBUTION_*`` variables.

    Raises:
        ConfigError: a variable is missing or not a valid value, naming it.
    """
    env = os.environ if environ is None else environ
    missing = [name for name in (ADDRESSES_VARIABLE, PROCESSES_VARIABLE, PROCESS_ID_VARIABLE) if not env.get(name)]
    if missing:
        raise ConfigError(
            f"--distributed needs the environment variables {', '.join(missing)} (the coordinator's host:port, "
            "the number of processes and this process's id; see the README's multi-process section)"
        )
    numbers = {}
    for name in (PROCESSES_VARIABLE, PROCESS_ID_VARIABLE):
        try:
            numbers[name] = int(env[name])
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {env[name]!r}") from None
    processes, process_id = numbers[PROCESSES_VARIABLE], numbers[PROCESS_ID_VARIABLE]
    if processes < 1:
        raise ConfigError(f"{PROCESSES_VARIABLE} must be at least 1, got {processes}")
    if not 0 <= process_id < processes:
        raise ConfigError(f"{PROCESS_ID_VARIABLE} must be between 0 and {processes - 1}, got {process_id}")
    return Cluster(env[ADDRESSES_VARIABLE], processes, process_id)


def start(cluster: Cluster) -> None:
    """Join the job and make Keras split batches over its processes (JAX backend only).

    Call it before any model is built.

    Raises:
        ConfigError: the backend is not JAX.
    """
    import keras

    if keras.backend.backend() != "jax":
        raise ConfigError(f"{TENSORFLOW_REASON}; Keras runs on {keras.backend.backend()!r}")
    import jax

    try:  # CPU collectives between processes (GPUs/TPUs bring their own)
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except (AttributeError, ValueError):  # pragma: no cover - older/newer JAX without the option
        pass
    keras.distribution.initialize(
        job_addresses=cluster.addresses, num_processes=cluster.num_processes, process_id=cluster.process_id
    )
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False))


def join(config: Any) -> Cluster | None:
    """With ``config.runtime.distributed`` (a :class:`~bilstm_attention.training.TrainConfig`),
    read the cluster from the environment and :func:`start`; else ``None``."""
    if not config.runtime.distributed:
        return None
    cluster = cluster_from_environment()
    start(cluster)
    return cluster


def local_copy(model: Any, classifier_config: Any) -> Any:
    """After a distributed ``fit``: leave the job's distribution and return a single-process
    classifier with ``model``'s weights (for the n-gram part, the evaluation and saving, which
    process 0 does alone). Not compiled: the training state stays with the job."""
    import keras

    from bilstm_attention.model import build_classifier

    weights = model.get_weights()
    keras.distribution.set_distribution(None)
    local = build_classifier(classifier_config, compile=False)
    local.set_weights(weights)
    return local


def weights_digest(model: Any) -> str:
    """sha256 of the model's weights: equal in every process of a job when they agree."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(weight.tobytes())
    return digest.hexdigest()
