"""``serve``: a trained run behind a JSON HTTP API (``/predict``, ``/explain``, ``/health``)."""

from __future__ import annotations

import argparse
import dataclasses

from bilstm_attention.cli.train_cmd import docstring_help
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
    # one flag per ServerConfig field, its help from the class docstring: a new setting is one edit
    helps = docstring_help(ServerConfig)
    for item in dataclasses.fields(ServerConfig):
        value = getattr(defaults, item.name)
        serve.add_argument(
            f"--{item.name.replace('_', '-')}",
            type=type(value),
            default=value,
            help=f"{helps.get(item.name, '').rstrip('.')} (default: {value})",
        )
    serve.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from bilstm_attention.serving import ServerConfig, run_server

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {args.port}")
    config = ServerConfig(**{item.name: getattr(args, item.name) for item in dataclasses.fields(ServerConfig)})
    run_server(args.model, config)
    return 0
