"""Data-parallel training over processes (issue 14): two local CPU processes on the JAX
backend train one tiny model together; they agree on the weights, process 0 writes a run
that loads, and it is as accurate as single-process training."""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from backends.environment import subprocess_env
from tiny_run import train_args, write_reviews

from bilstm_attention.errors import ConfigError
from bilstm_attention.features.pipeline import training_dataset
from bilstm_attention.training import TrainConfig
from bilstm_attention.training.distributed import (
    ADDRESSES_VARIABLE,
    PROCESS_ID_VARIABLE,
    PROCESSES_VARIABLE,
    Cluster,
    cluster_from_environment,
    start,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cluster_comes_from_the_keras_distribution_variables() -> None:
    env = {ADDRESSES_VARIABLE: "10.0.0.1:1234", PROCESSES_VARIABLE: "3", PROCESS_ID_VARIABLE: "2"}
    cluster = cluster_from_environment(env)
    assert cluster == Cluster("10.0.0.1:1234", 3, 2)
    assert cluster.shard == (2, 3) and not cluster.writes_run
    with pytest.raises(ConfigError, match=f"needs the environment variables {PROCESS_ID_VARIABLE}"):
        cluster_from_environment({**env, PROCESS_ID_VARIABLE: ""})
    with pytest.raises(ConfigError, match=f"{PROCESS_ID_VARIABLE} must be between 0 and 2, got 3"):
        cluster_from_environment({**env, PROCESS_ID_VARIABLE: "3"})
    with pytest.raises(ConfigError, match=f"{PROCESSES_VARIABLE} must be an integer, got 'two'"):
        cluster_from_environment({**env, PROCESSES_VARIABLE: "two"})


def test_distributed_is_refused_with_a_tf_distribute_strategy_and_on_tensorflow() -> None:
    with pytest.raises(ConfigError, match="does not combine with strategy 'mirrored'"):
        TrainConfig.from_dict({"dataset": "imdb", "distributed": True, "strategy": "mirrored"})
    import keras

    if keras.backend.backend() == "tensorflow":
        with pytest.raises(ConfigError, match="needs the JAX backend.*keras-team/keras issue 20585"):
            start(Cluster("127.0.0.1:1", 2, 0))


def test_each_process_gets_every_other_row_of_the_same_batches() -> None:
    ids = [np.arange(1, 2 + i % 9) for i in range(41)]
    labels = np.arange(41) % 2
    whole = list(training_dataset(ids, labels, batch_size=6, seed=3))
    parts = [list(training_dataset(ids, labels, batch_size=6, seed=3, shard=(i, 2))) for i in range(2)]
    kept = [batch for batch in whole if batch[0].shape[0] >= 2]
    assert len(parts[0]) == len(parts[1]) == len(kept)
    for full, first, second in zip(kept, *parts):
        rows = (full[0].shape[0] // 2) * 2
        np.testing.assert_array_equal(first[0].numpy(), full[0].numpy()[0:rows:2])
        np.testing.assert_array_equal(second[0].numpy(), full[0].numpy()[1:rows:2])
        assert first[0].shape == second[0].shape  # the processes agree on the padded length


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_two_processes_train_one_model(tmp_path: Path) -> None:
    reviews = write_reviews(tmp_path / "reviews.csv", 400)
    run = tmp_path / "run"
    # one padded length (the tiny reviews fit in 16 tokens): JAX compiles each step once
    fixed = ("--max-length", "16", "--pad-to-max-length")
    args = train_args(reviews, run, "--epochs", "4", *fixed, "--distributed")
    env = subprocess_env(**{ADDRESSES_VARIABLE: f"127.0.0.1:{_free_port()}", PROCESSES_VARIABLE: "2"})
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bilstm_attention", "--backend", "jax", *args],
            env={**env, PROCESS_ID_VARIABLE: str(index)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(2)
    ]
    outputs = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=300)
            outputs.append(out)
            assert process.returncode == 0, out[-2000:] + err[-4000:]
    finally:
        for process in processes:
            process.kill()
    digests = [re.search(r"weights sha256 ([0-9a-f]{64})", out) for out in outputs]
    assert all(digests), outputs
    assert digests[0].group(1) == digests[1].group(1)  # the processes agree on the weights
    assert "process 1 finished its part of training; process 0 writes" in outputs[1]
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", outputs[0]).group(1))

    from bilstm_attention import load_model

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = load_model(run)
    assert (run / "manifest.json").is_file()
    assert model.predict(["great wonderful loved", "awful boring dull"]).shape[0] == 2

    # single-process training on the same data, same settings
    from bilstm_attention.cli import main

    single = tmp_path / "single"
    assert main(train_args(reviews, single, "--epochs", "4", *fixed)) == 0
    single_accuracy = json.loads((single / "metrics.json").read_text())["test"]["accuracy"]
    assert accuracy >= single_accuracy - 0.1, (accuracy, single_accuracy)


def test_a_distributed_run_is_not_resumed_and_shards_are_checked(tmp_path: Path) -> None:
    """Resuming needs every process of the job; the CLI says to train again instead."""
    import json

    from bilstm_attention.run_dir import RUN_FORMAT_VERSION
    from bilstm_attention.training import resume

    run = tmp_path / "run"
    run.mkdir()
    config = TrainConfig.from_dict({"dataset": "imdb", "distributed": True})
    (run / "run.json").write_text(
        json.dumps({"format_version": RUN_FORMAT_VERSION, "train_config": config.to_dict()}), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"was trained by several processes \(--distributed\); resuming one"):
        resume(run)
    with pytest.raises(ConfigError, match=r"shard index must be in \[0, 2\), got 2"):
        training_dataset([np.array([1, 2])], np.array([0]), batch_size=2, seed=0, shard=(2, 2))
    with pytest.raises(ConfigError, match=f"{PROCESSES_VARIABLE} must be at least 1, got 0"):
        cluster_from_environment({ADDRESSES_VARIABLE: "h:1", PROCESSES_VARIABLE: "0", PROCESS_ID_VARIABLE: "0"})
