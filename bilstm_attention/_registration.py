"""Register this package's Keras classes for deserialisation as soon as Keras is imported.

``keras.saving.load_model`` finds custom layers only in its registry, which a class joins when
the module defining it runs ``@keras.saving.register_keras_serializable``. Importing those
modules from ``bilstm_attention/__init__.py`` would register them, but it would import
TensorFlow too (tens of seconds on a busy machine) and make ``bilstm-attention --help`` and
``datasets list`` that slow. Instead ``import bilstm_attention``

* imports the layer modules at once when Keras is already imported (cheap then), or
* puts a one-shot finder at the front of ``sys.meta_path`` that lets the normal import of
  ``keras`` run and then imports the layer modules, the moment anything imports Keras.

Either way no Keras model can be loaded in the process before the classes are registered.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Any

#: Modules whose import registers every serialisable class of the package.
REGISTERING_MODULES: tuple[str, ...] = (
    "bilstm_attention.layers",
    "bilstm_attention.model.blocks",
    "bilstm_attention.training.adversarial",
)

_lock = threading.Lock()
_registered = False


def register_now() -> None:
    """Import the modules that register the package's Keras classes (imports Keras)."""
    global _registered
    if _registered:
        return
    for name in REGISTERING_MODULES:
        importlib.import_module(name)
    _registered = True


def _register_quietly() -> None:
    try:
        register_now()
    except Exception as exc:
        warnings.warn(
            f"bilstm_attention could not register its Keras layers ({type(exc).__name__}: {exc}); "
            "import bilstm_attention.layers before loading a model that uses them",
            RuntimeWarning,
            stacklevel=2,
        )


class _LoaderThenRegister(importlib.abc.Loader):
    """Wraps the loader of ``keras``: runs it, then registers this package's classes."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        # keras is complete (and in sys.modules): importing the layer modules only adds them
        _register_quietly()

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, ...
        return getattr(self._loader, name)


class _KerasImportFinder(importlib.abc.MetaPathFinder):
    """A one-shot finder for the top-level ``keras`` package (see the module docstring)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "keras":
            return None
        _remove_finder()
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None  # the usual ModuleNotFoundError
        if spec.loader is None:
            return spec
        spec.loader = _LoaderThenRegister(spec.loader)
        return spec


_finder = _KerasImportFinder()


def _remove_finder() -> None:
    with _lock:
        if _finder in sys.meta_path:
            sys.meta_path.remove(_finder)


def register_when_keras_is_imported() -> None:
    """Register now if Keras is imported, else as soon as it is (idempotent)."""
    if _registered:
        return
    if "keras" in sys.modules:
        _register_quietly()
        return
    with _lock:
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
