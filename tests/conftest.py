"""Shared pytest fixtures.

The real datasets live in ``../shared/datasets`` beside the repository (or wherever
``BILSTM_ATTENTION_TEST_DATA`` points). Tests that need them use the
``shared_datasets`` fixture, which skips with a clear reason when they are absent.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before anything imports TensorFlow
# Keep every test's dataset cache (including module- and session-scoped fixtures') out of
# the user's real cache directory.
_OWN_CACHE = None if "BILSTM_ATTENTION_CACHE" in os.environ else tempfile.mkdtemp(prefix="bilstm-attention-test-cache-")
if _OWN_CACHE is not None:
    os.environ["BILSTM_ATTENTION_CACHE"] = _OWN_CACHE


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _OWN_CACHE is not None:
        shutil.rmtree(_OWN_CACHE, ignore_errors=True)


REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _shared_datasets_dir() -> Path:
    override = os.environ.get("BILSTM_ATTENTION_TEST_DATA")
    if override:
        return Path(override)
    return REPO_ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """Directory with the real upstream dataset files; skips the test when absent."""
    path = _shared_datasets_dir()
    if not path.is_dir():
        pytest.skip(f"real datasets not found at {path} (set BILSTM_ATTENTION_TEST_DATA)")
    return path


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Directory with the small hand-written test fixtures."""
    return FIXTURES
