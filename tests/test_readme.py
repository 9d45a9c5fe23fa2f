"""The README's layer quick start runs as written."""

from __future__ import annotations

import re

import pytest
from conftest import REPO_ROOT

pytest.importorskip("keras")


def test_layers_quick_start_runs() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    layer_block = next(block for block in blocks if "BahdanauAttention(64)" in block)
    namespace: dict = {}
    exec(compile(layer_block, "README.md", "exec"), namespace)
    import numpy as np

    model = namespace["model"]
    probabilities = model.predict_on_batch(np.array([[5, 6, 7, 0, 0]], dtype="int32"))
    assert probabilities.shape == (1, 1)
    assert tuple(namespace["context"].shape) == (None, None, 128)
    assert tuple(namespace["weights"].shape)[-1] is None
