"""``evaluate``, ``predict`` and ``explain``: commands that use a trained run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bilstm_attention.cli.train_cmd import add_data_arguments
from bilstm_attention.errors import ConfigError

#: Tokens drawn by ``explain`` (text and heatmap) unless --max-tokens says otherwise.
DEFAULT_SHOWN_TOKENS = 300


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    evaluate = subparsers.add_parser(
        "evaluate",
        help="accuracy, precision/recall/F1 and confusion matrix of a run on a dataset",
        description="Evaluate a trained run on the test split of a dataset (default: the one it was trained on) "
        "or on every row of your own file (--file).",
    )
    evaluate.add_argument("--model", required=True, help="run directory written by `train`")
    add_data_arguments(evaluate, required=False)
    evaluate.add_argument(
        "--split",
        choices=("train", "validation", "test"),
        help="split of --dataset to score (default test); a --file is scored whole",
    )
    evaluate.add_argument("--batch-size", type=int, default=256)
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument(
        "--allow-other-language",
        action="store_true",
        help="evaluate on data in another language than the model was trained on (refused by default)",
    )
    evaluate.set_defaults(func=run_evaluate)

    predict = subparsers.add_parser(
        "predict",
        help="classify texts (arguments, or one per line on stdin or in --file); JSON lines out",
        description="Classify raw texts. Give them as arguments, or one per line on standard input or "
        'in --file; one JSON line comes out per text (a blank line gives a line with "error"). '
        "Texts that start with '-' go after `--`: predict --model RUN -- \"-_-\"",
    )
    predict.add_argument("--model", required=True, help="run directory written by `train`")
    predict.add_argument(
        "texts", nargs="*", help="texts to classify (default: read stdin); put them after `--` if one starts with '-'"
    )
    predict.add_argument("--file", help="read the texts from this UTF-8 file, one per line ('-': stdin)")
    predict.add_argument("--batch-size", type=int, default=256)
    predict.set_defaults(func=run_predict)

    explain = subparsers.add_parser(
        "explain",
        help="show which tokens a prediction attended to (optionally as a heatmap picture)",
        description="Print the tokens of a text with their attention weights; --out writes a heatmap (.png, .svg, .pdf or .html). "
        "A text that starts with '-' goes after `--`: explain --model RUN -- \"-_-\"",
    )
    explain.add_argument("--model", required=True, help="run directory written by `train`")
    explain.add_argument("text", help="the text to explain (after `--` if it starts with '-')")
    explain.add_argument("--out", help="heatmap file to write (.png, .svg, .pdf, .html); never overwritten")
    explain.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        help=f"show at most this many tokens, those with the most attention, in reading order "
        f"(default {DEFAULT_SHOWN_TOKENS}; --json always has them all)",
    )
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
            args.file,
            text_column=args.text_column,
            label_column=args.label_column,
            label_map=args.label_map,
            language=args.language,
            encoding=args.encoding or "utf-8",
            sep=args.sep,
            split="all",
        )
    name = args.dataset or trained_on["name"]
    return data.load_dataset(name, data_dir=args.data_dir, path=args.path, limit=args.limit)


def run_evaluate(args: argparse.Namespace) -> int:
    from bilstm_attention.evaluation.metrics import classification_report
    from bilstm_attention.inference.sentiment_model import check_evaluation_data, load_model

    model = load_model(args.model)
    splits = _evaluation_splits(args, model.run_info["dataset"])
    check_evaluation_data(model, splits.spec, allow_other_language=args.allow_other_language)
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


def _read_lines(path: str) -> list[str]:
    """Lines of a file ('-': stdin) as text; bytes that are not UTF-8 become U+FFFD."""
    if path == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
    else:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"--file {path}: cannot read it ({exc.strerror or exc})") from exc
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    return text.splitlines()


def run_predict(args: argparse.Namespace) -> int:
    from bilstm_attention.evaluation.metrics import predicted_labels
    from bilstm_attention.inference.sentiment_model import load_model
    from bilstm_attention.tokenizers.base import clean_text

    if args.texts and args.file:
        raise ConfigError("give the texts as arguments or with --file, not both")
    texts = list(args.texts) if args.texts else _read_lines(args.file or "-")
    texts = [clean_text(text) for text in texts]  # lone surrogates (undecodable bytes) -> U+FFFD
    kept = [i for i, text in enumerate(texts) if text.strip()]
    if not kept:
        raise ConfigError("no text to classify: give texts as arguments, with --file, or one per line on stdin")
    model = load_model(args.model)
    probabilities = model.predict([texts[i] for i in kept], batch_size=args.batch_size)
    labels = predicted_labels(probabilities)
    results = {i: (probability, label) for i, probability, label in zip(kept, probabilities, labels)}
    for index, text in enumerate(texts):  # one line out per text in, blank ones included
        if index not in results:
            record: dict[str, Any] = {"text": text, "label": None, "error": "blank text: nothing to classify"}
        else:
            probability, label = results[index]
            record = {"text": text, "label": model.class_names[label]}
            if probability.ndim == 0:
                record["probability"] = round(float(probability), 6)
            else:
                record["probabilities"] = [round(float(p), 6) for p in probability]
        print(_json_line(record))
    return 0


#: Characters that str.splitlines() (and JavaScript) read as line breaks though JSON leaves them raw.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _json_line(record: dict[str, Any]) -> str:
    """One JSON line: no character in it reads as a line break to any line splitter."""
    return json.dumps(record, ensure_ascii=False).translate(_LINE_BREAKS)


def run_explain(args: argparse.Namespace) -> int:
    from bilstm_attention.inference.sentiment_model import load_model
    from bilstm_attention.inference.visualize import save_heatmap, shown_tokens
    from bilstm_attention.tokenizers.base import clean_text

    text = clean_text(args.text)
    if not text.strip():
        raise ConfigError("the text to explain is empty")
    shown = DEFAULT_SHOWN_TOKENS if args.max_tokens is None else args.max_tokens
    if shown < 1:
        raise ConfigError(f"--max-tokens must be positive, got {args.max_tokens}")
    if args.out:
        out = Path(args.out)
        if out.exists():
            raise ConfigError(f"{out} exists; choose another --out (nothing was overwritten)")
    explanation = load_model(args.model).explain(text)
    if args.json:
        print(json.dumps(explanation.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(f"{explanation.label} ({explanation.probability:.4f})")
        for token, weight in shown_tokens(explanation, shown):
            print(f"{weight:8.4f}  {'#' * int(round(weight * 50)):<50}  {token}")
        if len(explanation.tokens) > shown:
            print(
                f"({shown} of {len(explanation.tokens)} tokens shown, those with the most attention; "
                "--max-tokens N shows more, --json all)"
            )
    if args.out:
        print(f"heatmap: {save_heatmap(explanation, args.out, max_tokens=shown)}", file=sys.stderr)
    return 0
