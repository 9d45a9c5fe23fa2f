"""``bilstm-attention train``: train a classifier on a registry dataset or your own file."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from bilstm_attention.errors import ConfigError

#: CLI flag -> (field of ClassifierConfig, parser of the value)
_CLASSIFIER_FLAGS: dict[str, Any] = {
    "attention": str,
    "attention_units": int,
    "attention_dropout": float,
    "query": str,
    "embedding_dim": int,
    "embedding_dropout": float,
    "lstm_dropout": float,
    "dense_dropout": float,
    "learning_rate": float,
    "ngram_dropout": float,
}


def int_list(value: str) -> list[int]:
    """Parse ``"64,64"`` into ``[64, 64]`` (``""`` gives ``[]``)."""
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 64,64, got {value!r}") from None


def label_map(value: str) -> dict[str, int]:
    """Parse ``"pos=1,neg=0"`` (:func:`bilstm_attention.data.parse_label_map`) or a JSON
    object into a label map."""
    from bilstm_attention.data import parse_label_map

    value = value.strip()
    try:
        if value.startswith("{"):
            return {str(key).strip(): int(label) for key, label in json.loads(value).items()}
        return parse_label_map(value)
    except (ValueError, TypeError, AttributeError, ConfigError) as exc:
        detail = f": {exc}" if isinstance(exc, ConfigError) else ""
        raise argparse.ArgumentTypeError(
            f"expected a label map such as 'pos=1,neg=0' or '{{\"pos\": 1}}', got {value!r}{detail}"
        ) from None


def add_data_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """``--dataset/--file`` and their companions (shared by train, evaluate, benchmark)."""
    source = parser.add_argument_group("data")
    source.add_argument("--dataset", help="registry dataset name (see `bilstm-attention datasets list`)")
    source.add_argument("--data-dir", help="directory with the upstream files (else $BILSTM_ATTENTION_DATA, the cache, a download)")
    source.add_argument("--path", help="explicit file in the dataset's upstream format (e.g. a partial copy)")
    source.add_argument("--file", help="your own CSV/TSV file instead of a registry dataset")
    source.add_argument("--text-column", help="text column of --file")
    source.add_argument("--label-column", help="label column of --file")
    source.add_argument("--label-map", type=label_map, help="raw label -> class id for --file, e.g. 'pos=1,neg=0'")
    source.add_argument("--language", choices=("en", "ko"), help="language of --file (picks its default tokenizer; "
                        "default: detected from its text when --tokenizer is not given either)")
    source.add_argument("--encoding", help="text encoding of --file (default utf-8; e.g. cp949)")
    source.add_argument("--sep", help="separator of --file: one character, or 'tab' (default: from the extension, "
                        ".csv comma, .tsv/.txt tab)")
    source.add_argument("--limit", type=int, help="use a small deterministic subset of N training reviews")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a classifier and write a run directory",
        description="Train a BiLSTM-attention classifier. Options left out take the dataset's "
        "defaults from datasets.yaml (or the --recipe's).",
    )
    add_data_arguments(parser, required=True)
    parser.add_argument("--recipe", help="start from a named recipe of the dataset (seed or tuned); flags override it")
    parser.add_argument("--output", "-o", help="run directory to create (default: runs/<dataset>-<time>)")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in --output")
    text = parser.add_argument_group("text")
    text.add_argument("--tokenizer", help="english, whitespace, kiwi, okt or mecab")
    text.add_argument("--vocab-size", type=int)
    text.add_argument("--min-count", type=int, help="tokens seen fewer times in train are out of vocabulary")
    text.add_argument("--max-length", type=int, help="cut reviews to this many tokens")
    text.add_argument("--truncation", choices=("head", "tail", "head_tail"))
    text.add_argument("--pad-to-max-length", action="store_true", default=None, help="pad every batch to --max-length (the seed tutorial's way)")
    text.add_argument("--no-bucketing", dest="bucketing", action="store_false", default=None, help="do not group reviews of similar length")
    text.add_argument("--ngram-order", type=int, help="add a linear bag-of-n-grams branch with n-grams up to this length (0: off)")
    text.add_argument("--ngram-vocab-size", type=int, help="the most n-grams that branch keeps")
    text.add_argument("--ngram-min-count", type=int, help="n-grams in fewer training reviews are dropped")
    text.add_argument(
        "--ngram-model", choices=("joint", "nblr"),
        help="joint: n-gram weights trained with the BiLSTM; nblr: an NB-weighted logistic regression "
        "averaged with it (two classes)",
    )
    text.add_argument(
        "--word2vec", action=argparse.BooleanOptionalAction, default=None,
        help="start the embedding from word2vec vectors learned on the training (and unlabeled) reviews",
    )
    text.add_argument("--word2vec-epochs", type=int, help="word2vec passes over the text (implies --word2vec)")
    model = parser.add_argument_group("model")
    model.add_argument("--attention", help="bahdanau, bahdanau:normalized, luong:dot|scaled_dot|general|concat|location")
    model.add_argument("--attention-units", type=int)
    model.add_argument("--attention-dropout", type=float)
    model.add_argument("--query", choices=("final_state", "learned"))
    model.add_argument("--embedding-dim", type=int)
    model.add_argument("--embedding-dropout", type=float)
    model.add_argument("--lstm-units", type=int_list, help="units per BiLSTM layer, e.g. 64,64")
    model.add_argument("--lstm-dropout", type=float)
    model.add_argument("--dense-units", type=int_list, help="hidden dense sizes of the head, e.g. 20")
    model.add_argument("--dense-dropout", type=float)
    model.add_argument("--ngram-dropout", type=float, help="dropout on the n-gram weights")
    model.add_argument("--learning-rate", type=float)
    fit = parser.add_argument_group("fit")
    fit.add_argument("--epochs", type=int)
    fit.add_argument("--batch-size", type=int)
    fit.add_argument("--patience", type=int, help="early-stopping patience in epochs (0: off)")
    fit.add_argument("--validation-fraction", type=float)
    fit.add_argument("--seed", type=int)
    fit.add_argument("--strategy", choices=("default", "mirrored"))
    fit.add_argument("--tensorboard", action=argparse.BooleanOptionalAction, default=None, help="write TensorBoard logs (default: on)")
    parser.set_defaults(func=run)


def train_config_from_args(args: argparse.Namespace) -> Any:
    """A :class:`TrainConfig` from the recipe (if any) overridden by the flags given."""
    from bilstm_attention.recipes import recipe_config
    from bilstm_attention.training import TrainConfig

    if args.recipe and not args.dataset:
        raise ConfigError("--recipe needs --dataset (recipes belong to registry datasets)")
    values: dict[str, Any] = recipe_config(args.dataset, args.recipe).to_dict() if args.recipe else {}
    classifier: dict[str, Any] = dict(values.pop("classifier", {}))
    for flag in ("dataset", "data_dir", "path", "file", "text_column", "label_column", "label_map", "language",
                 "encoding", "sep",
                 "limit", "tokenizer", "vocab_size", "min_count", "max_length", "ngram_order", "ngram_vocab_size", "ngram_min_count", "truncation", "pad_to_max_length",
                 "bucketing", "epochs", "batch_size", "validation_fraction", "seed", "strategy", "tensorboard"):
        value = getattr(args, flag, None)
        if value is not None:
            values[flag] = value
    if getattr(args, "ngram_model", None) is not None:
        values["ngram_model"] = args.ngram_model
    word2vec = getattr(args, "word2vec", None)
    epochs = getattr(args, "word2vec_epochs", None)
    if word2vec is False:
        values["word2vec"] = None
    elif word2vec or epochs is not None:
        settings = dict(values.get("word2vec") or {})
        if epochs is not None:
            settings["epochs"] = epochs
        values["word2vec"] = settings
    if getattr(args, "patience", None) is not None:
        values["patience"] = args.patience or None
    for flag in (*_CLASSIFIER_FLAGS, "lstm_units", "dense_units"):
        value = getattr(args, flag, None)
        if value is not None:
            classifier[flag] = value
    values["classifier"] = classifier
    return TrainConfig.from_dict(values)


def detect_file_language(config: Any) -> Any:
    """``config`` with the language of its ``file`` detected from the text (printed), for a
    user who gave neither ``--language`` nor ``--tokenizer``."""
    import dataclasses

    from bilstm_attention import data

    splits = data.load_file(config.file, config.text_column, config.label_column, label_map=config.label_map,
                            encoding=config.encoding, sep=config.sep, split="all", language="auto")
    if splits.spec.language not in ("en", "ko"):
        raise ConfigError(f"cannot tell the language of {config.file} (its reviews contain no letters): "
                          "pass --tokenizer (english, kiwi, okt, mecab, whitespace) or --language en|ko")
    print(f"{config.file}: {splits.report.checks[0]}; tokenizer {splits.spec.tokenizer} "
          "(pass --language or --tokenizer to choose)")
    return dataclasses.replace(config, language=splits.spec.language)


def default_run_dir(name: str) -> Path:
    """``runs/<name>-<YYYYmmdd-HHMMSS>`` under the current directory."""
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def run(args: argparse.Namespace) -> int:
    from bilstm_attention import training

    if args.resume:
        if not args.output:
            raise ConfigError("--resume needs --output, the run directory to continue")
        result = training.resume(args.output)
    else:
        config = train_config_from_args(args)
        if config.file is not None and config.language is None and config.tokenizer is None:
            config = detect_file_language(config)
        name = config.dataset or Path(config.file).stem
        result = training.train(config, args.output or default_run_dir(name))
    metrics = result.test_metrics
    print(
        f"run directory: {result.run_dir}\n"
        f"test accuracy {metrics['accuracy']:.4f}  F1 {metrics['f1']:.4f}  "
        f"({metrics['examples']} reviews, {len(result.timings.get('epoch_seconds', []))} epochs this session)"
    )
    return 0
