"""Optional dependencies: import one, or fail with the extra that installs it.

``pip install bilstm-attention`` installs only Keras and NumPy (the attention layers). The
rest comes with extras::

    train   TensorFlow, TensorBoard, PyYAML, tqdm, psutil, gensim, scikit-learn, SciPy
            (datasets, training, evaluation, prediction, the tuned recipe, export)
    korean  kiwipiepy and python-mecab-ko (Korean tokenizers)
    plots   matplotlib (attention heatmaps as pictures)
    serve   TensorFlow, Starlette and uvicorn (the HTTP server)
    all     all of the above

Example:
    >>> tf = require("tensorflow", "train")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from types import ModuleType

from bilstm_attention.errors import MissingDependencyError

#: Extra -> what it is for, used in the error message.
EXTRAS: dict[str, str] = {
    "train": "datasets, training, evaluation, prediction and export",
    "korean": "the Korean tokenizers",
    "plots": "attention heatmaps as pictures",
    "serve": "the HTTP server",
    "tfds": "loading datasets through tensorflow-datasets",
}

#: Import name -> distribution name where they differ (for the message).
_DISTRIBUTIONS: dict[str, str] = {
    "yaml": "pyyaml",
    "sklearn": "scikit-learn",
    "mecab": "python-mecab-ko",
    "tensorflow_datasets": "tensorflow-datasets",
}


def install_hint(extra: str) -> str:
    """The command that installs ``extra``: ``pip install "bilstm-attention[extra]"``."""
    return f'pip install "bilstm-attention[{extra}]"'


#: Top-level import name -> the extra that installs it (for :func:`missing_extra`).
MODULE_EXTRAS: dict[str, str] = {
    "tensorflow": "train",
    "tensorboard": "train",
    "yaml": "train",
    "tqdm": "train",
    "psutil": "train",
    "gensim": "train",
    "sklearn": "train",
    "scipy": "train",
    "kiwipiepy": "korean",
    "mecab": "korean",
    "matplotlib": "plots",
    "starlette": "serve",
    "uvicorn": "serve",
    "tensorflow_datasets": "tfds",
}


def missing_extra(exc: ImportError) -> str | None:
    """For an ``ImportError`` of an optional dependency, a message naming the extra to
    install; ``None`` for any other import error."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    extra = MODULE_EXTRAS.get(name)
    if extra is None:
        return None
    package = _DISTRIBUTIONS.get(name, name)
    return (
        f"the Python package {package!r} is needed for {EXTRAS[extra]} but is not installed; "
        f"install it with: {install_hint(extra)}"
    )


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` (e.g. ``"tensorflow"`` or ``"matplotlib.pyplot"``) and return it.

    Raises:
        MissingDependencyError: the module (or one it needs) is not installed; the message
            names the package, what it is needed for and the extra that installs it.
    """
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        package = _DISTRIBUTIONS.get(top, top)
        raise MissingDependencyError(
            f"the Python package {package!r} is needed for {EXTRAS[extra]} but cannot be imported "
            f"({exc}); install it with: {install_hint(extra)}"
        ) from exc
