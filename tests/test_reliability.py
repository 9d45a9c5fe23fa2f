"""Failures found by trying bad input: each test reproduces one, then checks the fix.

Where the failure is about a new process or two processes, the test runs subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _python(code: str, *, timeout: float = 300, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


# ----------------------------------------------------------------- 1. layers registered by import


def test_saved_attention_model_loads_after_only_importing_the_package(tmp_path: Path) -> None:
    path = tmp_path / "attention.keras"
    saved = _python(f"""
        import keras
        from bilstm_attention import BahdanauAttention, LuongAttention
        tokens = keras.Input(shape=(None,), dtype="int32")
        x = keras.layers.Embedding(50, 8, mask_zero=True)(tokens)
        seq, fh, _, bh, _ = keras.layers.Bidirectional(
            keras.layers.LSTM(4, return_sequences=True, return_state=True))(x)
        query = keras.layers.Concatenate()([fh, bh])
        c1, _ = BahdanauAttention(4)(seq, query)
        c2, _ = LuongAttention(score="general")(seq, query)
        out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Concatenate()([c1, c2]))
        keras.Model(tokens, out).save({str(path)!r})
    """)
    assert saved.returncode == 0, saved.stderr
    # a fresh process: the package is imported, none of its layer classes are named
    loaded = _python(f"""
        import bilstm_attention
        import keras
        model = keras.saving.load_model({str(path)!r}, safe_mode=True)
        print(sorted(type(layer).__name__ for layer in model.layers if "Attention" in type(layer).__name__))
    """)
    assert loaded.returncode == 0, loaded.stderr
    assert "['BahdanauAttention', 'LuongAttention']" in loaded.stdout
    # keras imported first, then the package: registered at once
    loaded = _python(f"""
        import keras
        import bilstm_attention
        keras.saving.load_model({str(path)!r}, safe_mode=True)
        print("ok")
    """)
    assert loaded.returncode == 0 and "ok" in loaded.stdout, loaded.stderr


def test_importing_the_package_does_not_import_keras() -> None:
    """The registration waits for Keras, so the command line's data commands stay fast."""
    result = _python("""
        import sys, bilstm_attention
        print("keras" in sys.modules, "tensorflow" in sys.modules)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
