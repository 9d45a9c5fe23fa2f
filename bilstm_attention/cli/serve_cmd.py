"""``serve``: a trained run behind a JSON HTTP API (``/predict``, ``/explain``, ``/health``)."""

from __future__ import annotations

import argparse

from bilstm_attention.errors import ConfigError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bilstm_attention.serving.config import ServerConfig

    defaults = ServerConfig()
    serve = subparsers.add_parser(
        "serve",
        help="serve a trained run over HTTP: POST /predict, POST /explain, GET /health (JSON)",
        description=(
            "Serve a trained run as a JSON HTTP API (Starlette + uvicorn). POST /predict "
            '{"texts": [...]}, POST /explain {"text": "..."}, GET /health. Concurrent requests are '
            "batched into one model call."
        ),
    )
    serve.add_argument("--model", required=True, help="run directory written by `train`")
    serve.add_argument("--host", default=defaults.host, help=f"address to listen on (default: {defaults.host})")
    serve.add_argument(
        "--port", type=int, default=defaults.port, help=f"port (default: {defaults.port}; 0 = any free port)"
    )
    serve.add_argument(
        "--max-texts",
        type=int,
        default=defaults.max_texts,
        help=f"most texts in one /predict request (default: {defaults.max_texts})",
    )
    serve.add_argument(
        "--max-chars",
        type=int,
        default=defaults.max_chars,
        help=f"most characters in one text (default: {defaults.max_chars})",
    )
    serve.add_argument(
        "--max-body-bytes",
        type=int,
        default=defaults.max_body_bytes,
        help=f"largest request body in bytes (default: {defaults.max_body_bytes})",
    )
    serve.add_argument(
        "--max-batch",
        type=int,
        default=defaults.max_batch,
        help=f"most texts the batcher sends to the model at once (default: {defaults.max_batch})",
    )
    serve.add_argument(
        "--batch-wait-ms",
        type=float,
        default=defaults.batch_wait_ms,
        help=f"how long the batcher waits for more requests (default: {defaults.batch_wait_ms} ms)",
    )
    serve.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from bilstm_attention.serving import ServerConfig, run_server

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {args.port}")
    config = ServerConfig(
        host=args.host,
        port=args.port,
        max_texts=args.max_texts,
        max_chars=args.max_chars,
        max_body_bytes=args.max_body_bytes,
        max_batch=args.max_batch,
        batch_wait_ms=args.batch_wait_ms,
    )
    run_server(args.model, config)
    return 0
