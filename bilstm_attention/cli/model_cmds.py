"""``evaluate``, ``predict`` and ``explain``: commands that use a trained run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bilstm_attention.cli.train_cmd import add_data_arguments
from bilstm_attention.errors import ConfigError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    evaluate = subparsers.add_parser(
        "evaluate",
        help="accuracy, precision/recall/F1 and confusion matrix of a run on a dataset",
        description="Evaluate a trained run on the test split of a dataset (default: the one it was trained on) "
        "or on every row of your own file (--file).",
    )
    evaluate.add_argument("--model", required=True, help="run directory written by `train`")
    add_data_arguments(evaluate, required=False)
    evaluate.add_argument("--split", choices=("train", "validation", "test"),
                          help="split of --dataset to score (default test); a --file is scored whole")
    evaluate.add_argument("--batch-size", type=int, default=256)
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.set_defaults(func=run_evaluate)

    predict = subparsers.add_parser(
        "predict",
        help="classify texts (arguments, or one per line on stdin); JSON lines out",
        description="Classify raw texts. Give them as arguments, or one per line on standard input.",
    )
    predict.add_argument("--model", required=True, help="run directory written by `train`")
    predict.add_argument("texts", nargs="*", help="texts to classify (default: read stdin)")
    predict.add_argument("--batch-size", type=int, default=256)
    predict.set_defaults(func=run_predict)

    explain = subparsers.add_parser(
        "explain",
        help="show which tokens a prediction attended to (optionally as a heatmap picture)",
        description="Print the tokens of a text with their attention weights; --out writes a heatmap (.png, .svg, .pdf or .html).",
    )
    explain.add_argument("--model", required=True, help="run directory written by `train`")
    explain.add_argument("text", help="the text to explain")
    explain.add_argument("--out", help="heatmap file to write (.png, .svg, .pdf, .html); never overwritten")
    explain.add_argument("--json", action="store_true", help="print the explanation as JSON")
    explain.set_defaults(func=run_explain)


def _evaluation_splits(args: argparse.Namespace, trained_on: dict[str, Any]) -> Any:
    from bilstm_attention import data

    if args.file:
        if not args.text_column or not args.label_column:
            raise ConfigError("--file needs --text-column and --label-column")
        if args.split is not None or args.limit is not None:
            raise ConfigError("--split and --limit do not apply to --file: evaluate scores every row of the file")
        return data.load_file(
            args.file, text_column=args.text_column, label_column=args.label_column, label_map=args.label_map,
            language=args.language, encoding=args.encoding or "utf-8", sep=args.sep, split="all",
        )
    name = args.dataset or trained_on["name"]
    return data.load_dataset(name, data_dir=args.data_dir, path=args.path, limit=args.limit)


def run_evaluate(args: argparse.Namespace) -> int:
    from bilstm_attention.inference import load_model
    from bilstm_attention.metrics import classification_report

    model = load_model(args.model)
    splits = _evaluation_splits(args, model.run_info["dataset"])
    split_name = "all" if args.file else args.split or "test"
    split = splits.test if args.file else getattr(splits, split_name)
    probabilities = model.predict(split.texts, batch_size=args.batch_size, progress=True)
    report = classification_report(split.labels, probabilities, len(model.class_names))
    report["split"] = split_name
    report["dataset"] = splits.spec.name
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if args.file:
        print(f"{args.file}: every row scored, {report['examples']:,} reviews")
    else:
        print(f"{report['dataset']} / {split_name}: {report['examples']} reviews")
    print(f"accuracy  {report['accuracy']:.4f}")
    print(f"precision {report['precision']:.4f}\nrecall    {report['recall']:.4f}\nF1        {report['f1']:.4f}")
    names = model.class_names
    width = max(len(n) for n in names) + 2
    print("confusion matrix (rows: true, columns: predicted)")
    print(" " * width + "".join(f"{n:>{width}}" for n in names))
    for name, row in zip(names, report["confusion_matrix"]):
        print(f"{name:>{width}}" + "".join(f"{v:>{width}}" for v in row))
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from bilstm_attention.inference import load_model
    from bilstm_attention.metrics import predicted_labels

    texts = list(args.texts) if args.texts else [line.rstrip("\n") for line in sys.stdin]
    texts = [text for text in texts if text.strip()]
    if not texts:
        raise ConfigError("no text to classify: give texts as arguments or one per line on stdin")
    model = load_model(args.model)
    probabilities = model.predict(texts, batch_size=args.batch_size)
    labels = predicted_labels(probabilities)
    for text, probability, label in zip(texts, probabilities, labels):
        if probability.ndim == 0:
            record = {"text": text, "label": model.class_names[label], "probability": round(float(probability), 6)}
        else:
            record = {"text": text, "label": model.class_names[label], "probabilities": [round(float(p), 6) for p in probability]}
        print(json.dumps(record, ensure_ascii=False))
    return 0


def run_explain(args: argparse.Namespace) -> int:
    from bilstm_attention.inference import load_model
    from bilstm_attention.visualize import save_heatmap

    if not args.text.strip():
        raise ConfigError("the text to explain is empty")
    if args.out:
        from pathlib import Path

        out = Path(args.out)
        if out.exists():
            raise ConfigError(f"{out} exists; choose another --out (nothing was overwritten)")
    explanation = load_model(args.model).explain(args.text)
    if args.json:
        print(json.dumps(explanation.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(f"{explanation.label} ({explanation.probability:.4f})")
        for token, weight in zip(explanation.tokens, explanation.weights):
            print(f"{weight:8.4f}  {'#' * int(round(weight * 50)):<50}  {token}")
    if args.out:
        print(f"heatmap: {save_heatmap(explanation, args.out)}", file=sys.stderr)
    return 0
