"""Choosing the Keras backend (TensorFlow or JAX) this package runs on.

Keras 3 reads its backend once, when ``keras`` is first imported (from ``KERAS_BACKEND``,
else ``~/.keras/keras.json``, else TensorFlow). Every layer, model and command of this
package is written with ``keras.ops`` and ``tf.data`` input pipelines, so it runs on either
backend; a ``.keras`` file saved on one loads on the other.

Pick the backend before anything imports ``keras``::

    from bilstm_attention.backend import select_backend
    select_backend("jax")          # or: KERAS_BACKEND=jax python ...
    import bilstm_attention as ba  # now uses JAX

On the command line: ``bilstm-attention --backend jax train ...``.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from bilstm_attention.errors import ConfigError

#: Backends this package is written for and tested on.
BACKENDS: tuple[str, ...] = ("tensorflow", "jax")

#: Backend -> (Python package it needs, how to install it).
_REQUIREMENTS: dict[str, tuple[str, str]] = {
    "tensorflow": ("tensorflow", "pip install tensorflow"),
    "jax": ("jax", "pip install 'bilstm-attention[jax]'"),
}


def _check_name(name: str, where: str) -> str:
    backend = name.strip().lower()
    if backend not in BACKENDS:
        raise ConfigError(f"unknown Keras backend {name!r} ({where}); choose one of: {', '.join(BACKENDS)}")
    return backend


def _keras_backend_if_imported() -> str | None:
    """The backend of the already imported ``keras`` (None if keras is not imported yet)."""
    if "keras" not in sys.modules:
        return None
    import keras

    return str(keras.backend.backend())


def select_backend(name: str | None = None) -> str:
    """Make Keras use the backend ``name`` (``"tensorflow"`` or ``"jax"``) and return it.

    With ``name=None`` the backend comes from ``KERAS_BACKEND`` (checked the same way), or
    is whatever Keras would pick on its own. Call this before anything imports ``keras``:
    it sets ``KERAS_BACKEND`` for this process and the processes it starts.

    Raises:
        ConfigError: ``name`` is not a supported backend; its package is not installed (the
            message names the pip extra); or ``keras`` was already imported with another
            backend (Keras cannot switch backends inside a running process).
    """
    if name is None:
        from_env = os.environ.get("KERAS_BACKEND")
        if not from_env:
            current = _keras_backend_if_imported()
            return current if current is not None else _keras_default()
        backend = _check_name(from_env, "from the environment variable KERAS_BACKEND")
    else:
        backend = _check_name(name, "--backend")
    current = _keras_backend_if_imported()
    if current is not None:
        if current != backend:
            raise ConfigError(
                f"Keras was already imported with the {current!r} backend in this process, so it cannot "
                f"switch to {backend!r}; choose the backend before importing keras (set KERAS_BACKEND={backend} "
                "in the environment, or call bilstm_attention.backend.select_backend first)"
            )
        return backend
    package, install = _REQUIREMENTS[backend]
    if importlib.util.find_spec(package) is None:
        raise ConfigError(f"the {backend!r} backend needs the {package!r} package, which is not installed: {install}")
    os.environ["KERAS_BACKEND"] = backend
    return backend


def _keras_default() -> str:
    """The backend Keras picks without ``KERAS_BACKEND``: ``~/.keras/keras.json`` or TensorFlow."""
    import json

    config_dir = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(config_dir, "keras.json"), encoding="utf-8") as handle:
            return str(json.load(handle).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def current_backend() -> str:
    """The Keras backend in use (importing ``keras`` if it is not imported yet)."""
    import keras

    return str(keras.backend.backend())
