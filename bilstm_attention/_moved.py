"""Old import paths of modules that moved or were renamed (kept for one release).

Each old module is a one-line alias: importing it returns the moved module itself (the same
object, so attributes set on one are seen through the other) and warns once.
"""

from __future__ import annotations

import importlib
import sys
import warnings

#: old module -> where it lives now
MOVED: dict[str, str] = {
    "bilstm_attention.ngrams": "bilstm_attention.features.ngrams",
    "bilstm_attention.nblr": "bilstm_attention.features.nblr",
    "bilstm_attention.word2vec": "bilstm_attention.features.word2vec",
    "bilstm_attention.pipeline": "bilstm_attention.features.pipeline",
    "bilstm_attention.prediction": "bilstm_attention.inference.prediction",
    "bilstm_attention.visualize": "bilstm_attention.inference.visualize",
    "bilstm_attention.export": "bilstm_attention.inference.export",
    "bilstm_attention.metrics": "bilstm_attention.evaluation.metrics",
    "bilstm_attention.benchmark": "bilstm_attention.evaluation.benchmark",
    "bilstm_attention.recipes": "bilstm_attention.training.recipes",
    # renamed: "sources" was also an argument name and a dataclass (SourceFile); two registry.py
    "bilstm_attention.data.sources": "bilstm_attention.data.fetch",
    "bilstm_attention.tokenizers.registry": "bilstm_attention.tokenizers.factory",
}


def alias(old: str) -> None:
    """Replace the module ``old`` (being imported) by the module it moved to, with a warning."""
    new = MOVED[old]
    warnings.warn(f"{old} moved to {new}; import it from there", DeprecationWarning, stacklevel=3)
    sys.modules[old] = importlib.import_module(new)
