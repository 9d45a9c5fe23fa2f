"""Using a trained run: load it, predict, explain, draw the attention, export it.

- :mod:`~bilstm_attention.inference.sentiment_model`: :func:`load_model` ->
  :class:`SentimentModel` (``predict``, ``explain``; checks a run before trusting it);
- :mod:`~bilstm_attention.inference.prediction`: the compiled forward pass and batched
  prediction in length order;
- :mod:`~bilstm_attention.inference.visualize`: attention heatmaps (matplotlib, HTML);
- :mod:`~bilstm_attention.inference.export`: a run -> TensorFlow SavedModel.

:func:`load_model`, :class:`SentimentModel`, :class:`Explanation` and
:func:`check_evaluation_data` are importable from here (this was the module
``bilstm_attention.inference`` before it became a package); they are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bilstm_attention._lazy import lazy_exports

_LAZY: dict[str, str] = {
    name: "bilstm_attention.inference.sentiment_model"
    for name in ("Explanation", "SentimentModel", "check_evaluation_data", "load_model")
}

__all__ = ["Explanation", "SentimentModel", "check_evaluation_data", "load_model"]

if TYPE_CHECKING:  # pragma: no cover
    from bilstm_attention.inference.sentiment_model import (
        Explanation,
        SentimentModel,
        check_evaluation_data,
        load_model,
    )

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
