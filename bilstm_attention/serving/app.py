"""The Starlette application, the micro-batcher and the uvicorn runner (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bilstm_attention._optional import require
from bilstm_attention.errors import BilstmAttentionError
from bilstm_attention.serving.config import ServerConfig
from bilstm_attention.version import __version__

require("starlette", "serve")
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class RequestError(Exception):
    """A client error: answered with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class MicroBatcher:
    """Gathers concurrent prediction requests into one model call.

    A request's texts wait at most ``wait_seconds`` for other requests; as soon as
    ``max_batch`` texts are waiting (or the wait is over) they go to ``predict`` in one call,
    run in ``executor`` (one worker thread, so the event loop keeps answering), and every
    request gets its own rows back.

    Args:
        predict: texts -> one row of probabilities per text (``SentimentModel.predict``).
        max_batch: most texts per call (a single larger request goes alone).
        wait_seconds: how long the first request of a batch waits for company.
        executor: where ``predict`` runs.
    """

    def __init__(
        self,
        predict: Callable[[list[str]], np.ndarray],
        *,
        max_batch: int,
        wait_seconds: float,
        executor: ThreadPoolExecutor,
    ) -> None:
        self._predict = predict
        self.max_batch = max_batch
        self.wait_seconds = wait_seconds
        self._executor = executor
        self._queue: asyncio.Queue[tuple[list[str], asyncio.Future[np.ndarray]]] | None = None
        self._task: asyncio.Task[None] | None = None
        #: model calls made and texts predicted so far (reported by ``/health``)
        self.calls = 0
        self.texts = 0

    async def start(self) -> None:
        """Start the batching task on the running event loop."""
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop the batching task; waiting requests fail."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while self._queue is not None and not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(RuntimeError("the server is shutting down"))

    async def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities for ``texts`` (rows as ``SentimentModel.predict`` returns them)."""
        if self._queue is None:
            raise RuntimeError("MicroBatcher.start() was not called")
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        await self._queue.put((list(texts), future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            count = len(batch[0][0])
            deadline = loop.time() + self.wait_seconds
            while count < self.max_batch:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), timeout)
                except asyncio.TimeoutError:
                    break
                batch.append(item)
                count += len(item[0])
            batch = [(texts, future) for texts, future in batch if not future.done()]  # clients gone
            if not batch:
                continue
            texts = [text for request_texts, _ in batch for text in request_texts]
            try:
                rows = await loop.run_in_executor(self._executor, self._predict, texts)
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.calls += 1
            self.texts += len(texts)
            start = 0
            for request_texts, future in batch:
                if not future.done():
                    future.set_result(rows[start : start + len(request_texts)])
                start += len(request_texts)


def create_app(model: Any, config: ServerConfig | None = None, *, name: str | None = None) -> Starlette:
    """The Starlette application serving ``model`` (a loaded ``SentimentModel``).

    Args:
        model: from :func:`bilstm_attention.load_model`.
        config: limits and batching (defaults: :class:`ServerConfig`).
        name: what ``/health`` calls the model (default: the run directory's name).
    """
    config = config or ServerConfig()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bilstm-attention-model")
    batcher = MicroBatcher(
        model.predict, max_batch=config.max_batch, wait_seconds=config.batch_wait_ms / 1000, executor=executor
    )
    class_names = list(model.class_names)
    dataset = model.run_info.get("dataset") or {}

    async def read_json(request: Request) -> Any:
        limit = config.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                raise RequestError(400, f"invalid Content-Length header {declared!r}") from None
            if size > limit:
                raise RequestError(413, f"request body of {size} bytes is over the limit of {limit} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise RequestError(413, f"request body is over the limit of {limit} bytes")
        if not body:
            raise RequestError(400, "request body is empty; send JSON")
        try:
            return json.loads(bytes(body).decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise RequestError(400, f"request body is not UTF-8: {exc}") from None
        except json.JSONDecodeError as exc:
            raise RequestError(400, f"request body is not valid JSON: {exc}") from None

    def check_text(text: Any, where: str) -> str:
        if not isinstance(text, str):
            raise RequestError(422, f"{where} must be a string, got {_json_type(text)}")
        if not text.strip():
            raise RequestError(422, f"{where} is empty")
        if len(text) > config.max_chars:
            raise RequestError(413, f"{where} has {len(text)} characters; the limit is {config.max_chars}")
        return text

    def field(payload: Any, key: str, example: str) -> Any:
        if not isinstance(payload, dict):
            raise RequestError(422, f"the body must be a JSON object like {example}, got {_json_type(payload)}")
        if key not in payload:
            raise RequestError(422, f"the body has no {key!r} field; send {example}")
        return payload[key]

    async def predict(request: Request) -> JSONResponse:
        texts = field(await read_json(request), "texts", '{"texts": ["a review", ...]}')
        if not isinstance(texts, list):
            raise RequestError(422, f"'texts' must be a list of strings, got {_json_type(texts)}")
        if not texts:
            raise RequestError(422, "'texts' is empty; send at least one text")
        if len(texts) > config.max_texts:
            raise RequestError(413, f"'texts' has {len(texts)} texts; the limit is {config.max_texts} per request")
        texts = [check_text(text, f"texts[{index}]") for index, text in enumerate(texts)]
        probabilities = np.asarray(await batcher.predict(texts))
        return JSONResponse({"predictions": [_prediction(row, class_names) for row in probabilities]})

    async def explain(request: Request) -> JSONResponse:
        text = check_text(field(await read_json(request), "text", '{"text": "a review"}'), "'text'")
        explanation = await asyncio.get_running_loop().run_in_executor(executor, model.explain, text)
        return JSONResponse(explanation.to_dict())

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "model": name,
                "dataset": dataset.get("name"),
                "language": dataset.get("language"),
                "class_names": class_names,
                "package_version": __version__,
                "limits": {
                    "max_texts": config.max_texts,
                    "max_chars": config.max_chars,
                    "max_body_bytes": config.max_body_bytes,
                },
                "batching": {
                    "max_batch": config.max_batch,
                    "batch_wait_ms": config.batch_wait_ms,
                    "model_calls": batcher.calls,
                    "texts_predicted": batcher.texts,
                },
            }
        )

    async def request_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestError)
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    async def package_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await batcher.start()
        try:
            yield
        finally:
            await batcher.stop()
            executor.shutdown(wait=False, cancel_futures=True)

    app = Starlette(
        routes=[
            Route("/predict", predict, methods=["POST"]),
            Route("/explain", explain, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        exception_handlers={
            RequestError: request_error,
            BilstmAttentionError: package_error,
            HTTPException: http_error,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    return app


def run_server(run: str | os.PathLike[str], config: ServerConfig | None = None) -> None:
    """Load the run at ``run`` and serve it with uvicorn until interrupted (Ctrl-C, SIGTERM).

    Raises:
        ModelLoadError: the run directory is missing, incomplete or corrupted.
        MissingDependencyError: Starlette or uvicorn is not installed.
    """
    uvicorn = require("uvicorn", "serve")
    from bilstm_attention.inference.sentiment_model import load_model

    config = config or ServerConfig()
    model = load_model(run)
    model.predict(["warm up"])  # build the prediction graph before the first request
    app = create_app(model, config, name=Path(run).name)
    server = uvicorn.Server(
        uvicorn.Config(app, host=config.host, port=config.port, log_level="info", timeout_graceful_shutdown=5)
    )
    server.run()


def _prediction(row: np.ndarray, class_names: list[str]) -> dict[str, Any]:
    row = np.asarray(row, dtype=np.float64)
    if row.ndim == 0 or row.size == 1:
        positive = float(row.reshape(-1)[0])
        return {"label": class_names[int(positive >= 0.5)], "probability": round(positive, 6)}
    return {"label": class_names[int(row.argmax())], "probabilities": [round(float(p), 6) for p in row]}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
