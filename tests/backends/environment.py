"""The environment of a test subprocess that imports this checkout on a chosen Keras backend."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the package is imported from here, not from an installed copy).
REPO_ROOT = Path(__file__).resolve().parents[2]


def subprocess_env(backend: str | None = None, **extra: str) -> dict[str, str]:
    """``os.environ`` with this checkout first on ``PYTHONPATH``, TensorFlow's logging quiet,
    ``KERAS_BACKEND`` set to ``backend`` (when given) and the ``extra`` variables."""
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        **extra,
    }
    if backend is not None:
        env["KERAS_BACKEND"] = backend
    return env
