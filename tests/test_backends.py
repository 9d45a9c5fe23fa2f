"""The Keras backend: choosing it (``--backend``, ``KERAS_BACKEND``, ``select_backend``), the
whole command-line pipeline on the other backend (JAX when the tests run on TensorFlow), and
runs saved on one backend loading on the other with the same probabilities."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from backends.environment import subprocess_env
from backends.pipeline_check import TEXTS, train_args

from bilstm_attention import backend as backend_lib
from bilstm_attention.backend import BACKENDS, select_backend
from bilstm_attention.cli import main
from bilstm_attention.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
CURRENT = keras.backend.backend()
OTHER = "jax" if CURRENT == "tensorflow" else "tensorflow"


def test_select_backend_rejects_unknown_names(monkeypatch) -> None:
    with pytest.raises(
        ConfigError, match=r"unknown Keras backend 'torch' \(--backend\); choose one of: tensorflow, jax"
    ):
        select_backend("torch")
    monkeypatch.setenv("KERAS_BACKEND", "numpy")
    with pytest.raises(ConfigError, match="unknown Keras backend 'numpy' .from the environment variable KERAS_BACKEND"):
        select_backend()


def test_select_backend_cannot_switch_after_keras_was_imported(monkeypatch) -> None:
    monkeypatch.setenv("KERAS_BACKEND", CURRENT)
    assert select_backend(CURRENT) == CURRENT
    assert select_backend() == CURRENT
    with pytest.raises(
        ConfigError, match=rf"already imported with the '{CURRENT}' backend .* \(set KERAS_BACKEND={OTHER}"
    ):
        select_backend(OTHER)
    assert os.environ["KERAS_BACKEND"] == CURRENT  # nothing changed


def test_select_backend_names_the_pip_extra_when_jax_is_missing(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "keras")  # as if keras had not been imported yet
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real_find_spec(name, *a)
    )
    with pytest.raises(
        ConfigError, match=r"the 'jax' backend needs the 'jax' package.*pip install 'bilstm-attention\[jax\]'"
    ):
        select_backend("jax")
    assert os.environ["KERAS_BACKEND"] == "tensorflow"
    assert select_backend("tensorflow") == "tensorflow"  # installed: sets the variable
    assert os.environ["KERAS_BACKEND"] == "tensorflow"
    assert backend_lib.BACKENDS == BACKENDS == ("tensorflow", "jax")


def test_cli_backend_option_errors(monkeypatch, capsys) -> None:
    assert main(["--backend", OTHER, "datasets", "list"]) == 2
    assert f"error: Keras was already imported with the '{CURRENT}' backend" in capsys.readouterr().err
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert main(["datasets", "list"]) == 2
    assert (
        "error: unknown Keras backend 'torch' (from the environment variable KERAS_BACKEND)" in capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        main(["--backend", "theano", "datasets", "list"])
    assert "invalid choice: 'theano'" in capsys.readouterr().err
    monkeypatch.setenv("KERAS_BACKEND", CURRENT)
    assert main(["--backend", CURRENT, "datasets", "list"]) == 0


def test_backend_option_is_set_before_keras_is_imported(tmp_path: Path) -> None:
    """In a fresh process ``--backend`` wins over ``KERAS_BACKEND`` (and reaches Keras)."""
    code = (
        "import sys; from bilstm_attention.cli import main\n"
        "assert 'keras' not in sys.modules\n"
        "import bilstm_attention.cli.model_cmds as m\n"
        "m.run_predict = lambda args: print('backend', __import__('keras').backend.backend())\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = subprocess_env("tensorflow")
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    result = subprocess.run(
        [sys.executable, "-c", code, "--backend", "jax", "predict", "--model", "x", "hi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "backend jax" in result.stdout


@pytest.fixture(scope="module")
def reviews(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_train_cli import write_reviews

    return write_reviews(tmp_path_factory.mktemp("data") / "reviews.csv", 160)


@pytest.fixture(scope="module")
def trained_here(reviews: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny run trained on this process's backend (batches padded to their longest review)."""
    run = tmp_path_factory.mktemp("runs") / "here"
    assert main(train_args(str(reviews), run, "--no-tensorboard", one_shape=False)) == 0
    return run


def test_fixed_shapes_pad_batches_to_a_few_lengths_without_changing_predictions(
    trained_here: Path, monkeypatch
) -> None:
    """What the JAX backend gets (padding up to FIXED_LENGTHS) gives the same probabilities."""
    from bilstm_attention import load_model
    from bilstm_attention.features import padding, pipeline

    run = trained_here
    ids = [np.arange(1, n + 1) % 90 + 1 for n in (3, 17, 17, 25, 40)]
    monkeypatch.setattr(pipeline, "fixed_shapes", lambda: True)
    dataset, _ = pipeline.inference_dataset(ids, batch_size=2)
    shapes = [tuple(batch.shape) for batch in dataset]
    assert shapes == [(2, 24), (2, 32), (1, 40)]  # longest 17, 25 and 40 rounded up (40 is a fixed length)
    assert padding.fixed_length(17) == 24 and padding.fixed_length(3) == 16 and padding.fixed_length(62) == 62
    batches = list(pipeline.training_dataset(ids, np.zeros(5), batch_size=8, seed=0, bucketing=False))
    assert batches[0][0].shape == (5, 40) and batches[0][0].numpy().sum() == sum(int(x.sum()) for x in ids)

    model = load_model(run)
    inputs = model.encode(TEXTS + ["the plot " * 30])
    fixed = model.predict_inputs(inputs)
    monkeypatch.setattr(pipeline, "fixed_shapes", lambda: False)
    np.testing.assert_allclose(model.predict_inputs(inputs), fixed, atol=1e-6)


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None or importlib.util.find_spec("tensorflow") is None,
    reason="needs both jax and tensorflow",
)
def test_pipeline_on_the_other_backend_and_runs_load_on_either(
    reviews: Path, trained_here: Path, tmp_path: Path
) -> None:
    """train/evaluate/predict/explain on the other backend in a subprocess; a run trained on
    each backend predicts the same probabilities (1e-5) on both."""
    here = trained_here
    env = subprocess_env(OTHER)
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "tests" / "backends" / "pipeline_check.py"),
            str(reviews),
            str(here),
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert f"PIPELINE CHECK OK {OTHER}" in result.stdout
    there = json.loads((tmp_path / "probabilities.json").read_text())

    from bilstm_attention import load_model

    # trained here, predicted there; trained there, predicted here
    np.testing.assert_allclose(there["other"], load_model(here).predict(TEXTS), atol=1e-5)
    np.testing.assert_allclose(load_model(tmp_path / "run").predict(TEXTS), there["this"], atol=1e-5)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["train_config"]["runtime"]["strategy"] == "default"


def test_benchmark_reports_name_the_backend() -> None:
    from bilstm_attention.evaluation.benchmark import machine_description, versions

    found = versions()
    assert found["keras_backend"] == CURRENT and found["keras"] == keras.__version__
    assert ("jax" in found) == (CURRENT == "jax")
    assert isinstance(machine_description()["gpu"], list)
