"""The package's layout: modules moved into features/, inference/, evaluation/ and training/
keep their old import paths for one release, as the very same module objects."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

from bilstm_attention._moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_import_path_is_the_moved_module_and_warns(old: str) -> None:
    new = importlib.import_module(MOVED[old])
    saved = sys.modules.pop(old, None)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = importlib.import_module(old)
        assert module is new  # one module: a monkeypatch through either path is seen by both
        assert any(issubclass(w.category, DeprecationWarning) and MOVED[old] in str(w.message) for w in caught)
    finally:
        if saved is not None:
            sys.modules[old] = saved


def test_former_modules_that_became_packages_keep_their_names() -> None:
    from bilstm_attention.features import FeatureSpec, truncate
    from bilstm_attention.features.inputs import FeatureSpec as spec_class
    from bilstm_attention.features.inputs import truncate as truncate_function
    from bilstm_attention.inference import (
        Explanation,
        SentimentModel,
        check_evaluation_data,
        load_model,
        sentiment_model,
    )

    assert FeatureSpec is spec_class and truncate is truncate_function
    assert SentimentModel is sentiment_model.SentimentModel and load_model is sentiment_model.load_model
    assert Explanation is sentiment_model.Explanation
    assert check_evaluation_data is sentiment_model.check_evaluation_data


def test_no_package_module_imports_an_old_path() -> None:
    """The package itself uses the new paths (an old one would warn in every user's process)."""
    code = (
        "import warnings, importlib, pkgutil\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "import bilstm_attention\n"
        "for name in ['bilstm_attention.cli', 'bilstm_attention.training.trainer',\n"
        "             'bilstm_attention.inference.sentiment_model', 'bilstm_attention.evaluation.benchmark',\n"
        "             'bilstm_attention.serving.app', 'bilstm_attention.inference.export']:\n"
        "    importlib.import_module(name)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]
