"""The ``bilstm-attention`` command line.

Each command group lives in its own module exposing ``add_parser(subparsers)``; handlers
import Keras only when they need it, so ``--help`` and ``datasets list`` start fast, and so
that ``--backend tensorflow|jax`` (or ``KERAS_BACKEND``) can choose the Keras backend first.
Errors this package raises for bad input print as ``error: <message>`` with exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from bilstm_attention.backend import BACKENDS, select_backend
from bilstm_attention.version import __version__


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose "unrecognized arguments" error explains ``--``: a text such
    as ``-_-`` given to ``predict``/``explain`` reads as an option otherwise."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        if "unrecognized arguments: -" in message or "expected one argument" in message or "required: text" in message:
            message += (
                "\n(a text that starts with '-' goes after `--`, e.g. "
                'bilstm-attention predict --model RUN -- "-_-"; or use predict --file)'
            )
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every command registered."""
    from bilstm_attention.cli import benchmark_cmd, datasets_cmd, export_cmd, model_cmds, serve_cmd, train_cmd

    parser = _Parser(
        prog="bilstm-attention",
        description="BiLSTM-attention sentiment classifiers for English and Korean reviews.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend to run on (default: $KERAS_BACKEND, else Keras's own default, tensorflow); "
        "it must come before the command: bilstm-attention --backend jax train ...",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    train_cmd.add_parser(subparsers)
    model_cmds.add_parser(subparsers)
    benchmark_cmd.add_parser(subparsers)
    datasets_cmd.add_parser(subparsers)
    export_cmd.add_parser(subparsers)
    serve_cmd.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from bilstm_attention.errors import BilstmAttentionError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        select_backend(args.backend)  # before any command imports keras
        return int(args.func(args) or 0)
    except BilstmAttentionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:  # an optional dependency imported outside require()
        from bilstm_attention._optional import missing_extra

        message = missing_extra(exc)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
