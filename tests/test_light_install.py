"""The light install: the layers need only Keras and NumPy; everything else comes with an
extra, and a missing one is named in the error."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
import venv
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from bilstm_attention._optional import install_hint, missing_extra, require
from bilstm_attention.errors import BilstmAttentionError, MissingDependencyError

# Makes the listed top-level modules impossible to import, as if they were not installed.
BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = set(sys.argv.pop(1).split(","))
    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, Blocker())
    """
)
HEAVY = "tensorflow,tensorboard,yaml,tqdm,psutil,gensim,sklearn,pandas,kiwipiepy,mecab,matplotlib,starlette,uvicorn"


def _run_blocked(blocked: str, code: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code), blocked],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        env={**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"},
    )


def test_require_imports_or_names_the_extra() -> None:
    assert require("json", "train") is json
    with pytest.raises(
        MissingDependencyError,
        match=re.escape(
            "the Python package 'no_such_module_xyz' is needed for the HTTP server but cannot be imported "
            "(No module named 'no_such_module_xyz'); install it with: pip install \"bilstm-attention[serve]\""
        ),
    ) as info:
        require("no_such_module_xyz", "serve")
    assert isinstance(info.value, BilstmAttentionError) and isinstance(info.value, ImportError)
    with pytest.raises(ValueError, match="unknown extra 'nope'"):
        require("json", "nope")
    assert install_hint("korean") == 'pip install "bilstm-attention[korean]"'


def test_missing_extra_maps_modules_to_extras() -> None:
    message = missing_extra(ModuleNotFoundError("No module named 'yaml'", name="yaml"))
    assert message == (
        "the Python package 'pyyaml' is needed for datasets, training, evaluation, prediction and export "
        'but is not installed; install it with: pip install "bilstm-attention[train]"'
    )
    assert "bilstm-attention[plots]" in missing_extra(ModuleNotFoundError(name="matplotlib.pyplot"))
    assert missing_extra(ModuleNotFoundError("No module named 'foo'", name="foo")) is None


def test_layers_import_without_the_extras() -> None:
    jax = pytest.importorskip("jax")  # the backend used when TensorFlow is "not installed"
    del jax
    done = _run_blocked(
        HEAVY,
        """
        import sys
        import numpy as np
        import bilstm_attention
        from bilstm_attention import BahdanauAttention, LuongAttention
        import keras
        values = keras.ops.convert_to_tensor(np.ones((2, 3, 4), dtype="float32"))
        context, weights = LuongAttention()(values, values[:, 0])
        heavy = sorted(set(sys.argv[1].split(",")) & {m.split(".")[0] for m in sys.modules})
        print(keras.backend.backend(), tuple(context.shape), heavy)
    """.replace("sys.argv[1]", repr(HEAVY)),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[-2] == "jax (2, 4) []"


@pytest.mark.parametrize(
    ("blocked", "argv", "extra", "package"),
    [
        ("yaml", ["datasets", "list"], "train", "pyyaml"),
        ("tensorflow", ["train", "--dataset", "imdb"], "train", "tensorflow"),
        ("starlette", ["serve", "--model", "run"], "serve", "starlette"),
    ],
)
def test_the_command_line_names_the_missing_extra(blocked: str, argv: list[str], extra: str, package: str) -> None:
    pytest.importorskip("jax")
    done = _run_blocked(
        blocked,
        f"""
        import sys
        from bilstm_attention.cli import main
        sys.exit(main({argv!r}))
    """,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    assert done.stderr.startswith(f"error: the Python package {package!r} is needed for ")
    assert done.stderr.rstrip().endswith(f'install it with: pip install "bilstm-attention[{extra}]"'), done.stderr
    assert "Traceback" not in done.stderr


def test_predict_on_jax_needs_no_tensorflow() -> None:
    """Prediction runs the compiled forward pass on NumPy batches (no tf.data), so a run
    predicts on the JAX backend with TensorFlow absent."""
    pytest.importorskip("jax")
    run = REPO_ROOT / "tests" / "fixtures" / "runs" / "v0.1-wide"
    done = _run_blocked(
        "tensorflow",
        f"""
        import json, sys
        from bilstm_attention.cli import main
        code = main(["predict", "--model", {str(run)!r}, "good", "bad"])
        print("tensorflow" in sys.modules)
        sys.exit(code)
    """,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert [json.loads(line)["text"] for line in lines[:2]] == ["good", "bad"]
    assert lines[-1] == "False"


def test_korean_tokenizers_name_the_korean_extra() -> None:
    from bilstm_attention.tokenizers import kiwi, mecab

    assert 'pip install "bilstm-attention[korean]"' in kiwi._MISSING
    assert 'pip install "bilstm-attention[korean]"' in mecab._INSTALL


def test_setup_cfg_keeps_the_base_install_light() -> None:
    import configparser

    setup = configparser.ConfigParser()
    setup.read(REPO_ROOT / "setup.cfg")
    base = {
        line.split(">")[0].split("=")[0].strip() for line in setup["options"]["install_requires"].split("\n") if line
    }
    assert base == {"keras", "numpy"}
    extras = {
        name: {re.split(r"[<>=\[]", line)[0] for line in value.split("\n") if line}
        for name, value in setup["options.extras_require"].items()
    }
    assert {"tensorflow", "pyyaml", "tqdm", "gensim", "scikit-learn"} <= extras["train"]
    assert extras["korean"] == {"kiwipiepy", "python-mecab-ko"}
    assert {"starlette", "uvicorn", "tensorflow"} <= extras["serve"]
    assert extras["train"] | extras["korean"] | extras["plots"] | extras["serve"] == extras["all"]
    assert extras["all"] <= extras["test"]  # the test suite needs everything
    assert extras["train"] | extras["korean"] | extras["plots"] <= extras["notebooks"]  # the Colab notebooks


@pytest.mark.light_install
def test_base_package_alone_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    """``pip install .`` (no extras) + a backend (JAX) runs the README's layer quick start
    and installs neither TensorFlow nor the other extras."""
    started = time.monotonic()
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    environment.update(KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="2", PIP_DISABLE_PIP_VERSION_CHECK="1")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(REPO_ROOT), "jax[cpu]"],
        capture_output=True,
        text=True,
        timeout=900,
        env=environment,
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=True,
    )
    installed = {item["name"].lower() for item in json.loads(listed.stdout)}
    assert {"bilstm-attention", "keras", "numpy", "jax"} <= installed
    assert not installed & {
        "tensorflow",
        "tensorboard",
        "pandas",
        "kiwipiepy",
        "python-mecab-ko",
        "gensim",
        "scikit-learn",
        "matplotlib",
        "pyyaml",
        "starlette",
    }

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = next(
        block for block in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "BahdanauAttention(64)" in block
    )
    check = quick_start + textwrap.dedent("""
        import numpy as np, sys, bilstm_attention
        assert bilstm_attention.__file__.startswith(sys.prefix), bilstm_attention.__file__
        probabilities = model.predict_on_batch(np.array([[5, 6, 7, 0, 0]], dtype="int32"))
        print(keras.backend.backend(), probabilities.shape, tuple(context.shape))
    """)
    done = subprocess.run(
        [str(python), "-c", check], capture_output=True, text=True, timeout=300, env=environment, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "jax (1, 1) (None, None, 128)"
    print(f"light install + quick start: {time.monotonic() - started:.0f} s")
