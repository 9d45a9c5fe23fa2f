"""``export``: a trained run as a TensorFlow SavedModel (for TensorFlow Serving)."""

from __future__ import annotations

import argparse
import json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    export = subparsers.add_parser(
        "export",
        help="write a TensorFlow SavedModel (serve/explain signatures) with the tokenizer and vocabulary",
        description=(
            "Export a trained run as a TensorFlow SavedModel for TensorFlow Serving: signature 'serve' "
            "(token ids -> probabilities, the default) and 'explain' (-> probabilities and attention "
            "weights), with tokenizer.json, vocabulary.json and serving.json beside it. --out is never "
            "overwritten."
        ),
    )
    export.add_argument("--model", required=True, help="run directory written by `train`")
    export.add_argument("--out", required=True, help="folder to create (must not exist)")
    export.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from bilstm_attention.inference.export import export_saved_model

    result = export_saved_model(args.model, args.out)
    print(json.dumps({"saved_model": str(result.path), "signatures": list(result.signatures), "inputs": result.inputs}))
    return 0
