"""Serve a trained run over HTTP (``bilstm-attention serve``): JSON in, JSON out.

Needs ``pip install "bilstm-attention[serve]"`` (Starlette and uvicorn).

Endpoints:

- ``POST /predict`` ``{"texts": ["...", ...]}`` -> ``{"predictions": [{"label": ...,
  "probability": ...}, ...]}`` (``probability`` is that of the positive class for two
  classes; with more classes ``"probabilities"`` lists one per class, in ``class_names``
  order).
- ``POST /explain`` ``{"text": "..."}`` -> the explanation (label, probability, tokens with
  their attention weights).
- ``GET /health`` -> ``{"status": "ok", ...}`` with the model's class names, dataset,
  limits and package version.

Errors are JSON ``{"error": "..."}``: 400 for a body that is not JSON, 413 for a body, a
text or a list of texts over the limits, 422 for JSON of the wrong shape (missing or
empty ``texts``, a text that is not a string or is blank), 404/405 for unknown routes or
methods. Concurrent ``/predict`` requests are gathered for a few milliseconds into one
model call (:class:`MicroBatcher`), run in a worker thread so the server keeps answering.
"""

from __future__ import annotations

from bilstm_attention.serving.config import ServerConfig

__all__ = ["MicroBatcher", "ServerConfig", "create_app", "run_server"]


def __getattr__(name: str):  # the web framework is imported only when used
    if name in ("MicroBatcher", "create_app", "run_server"):
        from bilstm_attention.serving import app

        return getattr(app, name)
    raise AttributeError(f"module 'bilstm_attention.serving' has no attribute {name!r}")
