"""``bilstm-attention train``: train a classifier on a registry dataset or your own file.

The configuration flags are generated from the fields of
:class:`~bilstm_attention.training.TrainConfig`'s groups (their ``metadata``: help text,
flat name, choices, parser; see :mod:`bilstm_attention.training.config`), of
:class:`~bilstm_attention.features.word2vec.Word2VecConfig` (``--word2vec-<field>``), of
:class:`~bilstm_attention.training.config.LanguageModelConfig` (``--language-model-<field>``) and of
:class:`~bilstm_attention.model.ClassifierConfig` (help from its docstring). A new field
therefore gets its flag, its recipes.yaml key and its place in ``run.json`` by itself.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import time
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bilstm_attention.errors import ConfigError
from bilstm_attention.model.config import QUERY_CHOICES, ClassifierConfig
from bilstm_attention.training.config import (
    GROUPS,
    LANGUAGE_CHOICES,
    NBLR_ONLY_SETTINGS,
    OPTIONAL_GROUPS,
    TrainConfig,
    flat_defaults,
    flat_name,
    float_list,
    int_list,
    json_object,
    parse_label_map,
)
from bilstm_attention.training.recipes import DEFAULT_RECIPE, RECIPES

#: Compatibility names of the value parsers (they moved to bilstm_attention.training.config).
label_map = parse_label_map

#: ClassifierConfig fields the trainer fills in from the data (no flag).
CLASSIFIER_FILLED_IN: tuple[str, ...] = ("vocab_size", "num_classes", "max_length", "ngram_vocab_size")

#: Choices of ClassifierConfig fields (the attention syntax is checked by the config itself).
_CLASSIFIER_CHOICES: dict[str, tuple[str, ...]] = {"query": QUERY_CHOICES}

_GROUP_TITLES: dict[str, str] = {
    "data": "data",
    "text": "text (tokenization and review length)",
    "ngrams": "n-grams (a bag-of-n-grams part next to the BiLSTM)",
    "fit": "fit",
    "runtime": "runtime",
}


def _for_argparse(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wrap a value parser so that its message reaches the user (argparse hides a ValueError's)."""

    def parse_argument(value: str) -> Any:
        try:
            return parse(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse_argument.__name__ = getattr(parse, "__name__", "value")
    return parse_argument


def _unwrap_optional(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if (
        typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType", None))
        and len(args) == 1
    ):
        return args[0]
    return annotation


def _parser_for(annotation: Any) -> Callable[[str], Any] | None:
    """The command-line parser of a field type (``None`` for a switch, ``bool``)."""
    annotation = _unwrap_optional(annotation)
    if annotation is bool:
        return None
    if annotation in (int, float, str):
        return annotation
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list and args == (int,):
        return _for_argparse(int_list)
    if origin is list and args == (float,):
        return _for_argparse(float_list)
    if origin is dict:
        return _for_argparse(json_object)
    raise TypeError(f"no command-line parser for fields of type {annotation!r}")  # a new field type: add one


def docstring_help(cls: type) -> dict[str, str]:
    """The ``Attributes:`` section of a dataclass's docstring, as field name -> one-line text."""
    helps: dict[str, str] = {}
    section = (cls.__doc__ or "").split("Attributes:", 1)
    if len(section) < 2:
        return helps
    current = None
    for line in section[1].splitlines():
        match = re.match(r"^\s{8}(\w+): (.*)$", line)
        if match:
            current = match.group(1)
            helps[current] = match.group(2).strip()
        elif current and line.startswith(" " * 12) and line.strip():
            helps[current] += " " + line.strip()
        elif line.strip() and not line.startswith(" " * 8):
            break
    return {name: text.replace("``", "").replace("%", "%%") for name, text in helps.items()}


@dataclasses.dataclass(frozen=True)
class Flag:
    """One generated command-line flag.

    Attributes:
        dest: the ``argparse`` destination (the flat name; ``<group>_<field>`` for the
            optional groups, e.g. ``word2vec_epochs``; the field name for the classifier).
        section: ``data``/``text``/``ngrams``/``fit``/``runtime``, ``word2vec``,
            ``language_model`` or ``classifier``.
        field: the dataclass field it sets.
    """

    dest: str
    section: str
    field: str

    @property
    def option(self) -> str:
        """The flag as typed, e.g. ``--ngram-order``."""
        return "--" + self.dest.replace("_", "-")


def _add_flag(
    group: argparse._ArgumentGroup,
    flag: Flag,
    annotation: Any,
    *,
    help_text: str,
    default: Any,
    parse: Callable[[str], Any] | None = None,
    choices: tuple[str, ...] | None = None,
    metavar: str | None = None,
) -> None:
    kwargs: dict[str, Any] = {"dest": flag.dest, "default": default, "help": help_text or None}
    parser = _for_argparse(parse) if parse is not None else _parser_for(annotation)
    if parser is None:
        kwargs["action"] = argparse.BooleanOptionalAction
    else:
        kwargs["type"] = parser
        if choices:
            kwargs["choices"] = choices
        if metavar:
            kwargs["metavar"] = metavar
    group.add_argument(flag.option, **kwargs)


def add_group_flags(
    parser: argparse.ArgumentParser,
    section: str,
    *,
    default: Any = argparse.SUPPRESS,
    only_shared: bool = False,
    title: str | None = None,
) -> list[Flag]:
    """Add a flag for every field of the TrainConfig group ``section`` (from its metadata)."""
    cls = GROUPS[section]
    hints = typing.get_type_hints(cls)
    group = parser.add_argument_group(title or _GROUP_TITLES[section])
    flags = []
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        meta = item.metadata
        if only_shared and not meta.get("shared"):
            continue
        flag = Flag(flat_name(item), section, item.name)
        _add_flag(
            group,
            flag,
            hints[item.name],
            help_text=meta.get("help", ""),
            default=default,
            parse=meta.get("parse"),
            choices=meta.get("choices"),
            metavar=meta.get("metavar"),
        )
        flags.append(flag)
    return flags


#: The optional groups' command-line titles and the help of their on/off switch.
_OPTIONAL_GROUP_HELP: dict[str, tuple[str, str]] = {
    "word2vec": (
        "word2vec (pretraining of the embedding)",
        "start the embedding from word2vec vectors learned on the training (and unlabeled) reviews",
    ),
    "language_model": (
        "language model (pretraining of the embedding and the first BiLSTM)",
        "pretrain the embedding and the first BiLSTM as forward and backward language models on the "
        "training (and unlabeled) reviews, after word2vec; cached by data and settings",
    ),
}


def _add_optional_group_flags(parser: argparse.ArgumentParser, section: str) -> list[Flag]:
    """``--<section>`` / ``--no-<section>`` and ``--<section>-<field>`` for an optional group."""
    cls = OPTIONAL_GROUPS[section]
    title, switch_help = _OPTIONAL_GROUP_HELP[section]
    option = section.replace("_", "-")
    group = parser.add_argument_group(title)
    group.add_argument(
        f"--{option}",
        dest=section,
        action=argparse.BooleanOptionalAction,
        default=argparse.SUPPRESS,
        help=f"{switch_help} (any --{option}-* flag implies it)",
    )
    hints = typing.get_type_hints(cls)
    helps = docstring_help(cls)
    flags = []
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        flag = Flag(f"{section}_{item.name}", section, item.name)
        _add_flag(group, flag, hints[item.name], help_text=helps.get(item.name, ""), default=argparse.SUPPRESS)
        flags.append(flag)
    return flags


def _add_classifier_flags(parser: argparse.ArgumentParser) -> list[Flag]:
    group = parser.add_argument_group("model (ClassifierConfig)")
    hints = typing.get_type_hints(ClassifierConfig)
    helps = docstring_help(ClassifierConfig)
    flags = []
    for item in dataclasses.fields(ClassifierConfig):
        if item.name in CLASSIFIER_FILLED_IN:
            continue
        flag = Flag(item.name, "classifier", item.name)
        _add_flag(
            group,
            flag,
            hints[item.name],
            help_text=helps.get(item.name, ""),
            default=argparse.SUPPRESS,
            choices=_CLASSIFIER_CHOICES.get(item.name),
        )
        flags.append(flag)
    return flags


def add_data_arguments(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """``--dataset/--file`` and their companions (shared by ``train`` and ``evaluate``):
    the :class:`~bilstm_attention.training.DataConfig` fields marked ``shared``. Unset flags are ``None``."""
    add_group_flags(parser, "data", default=None, only_shared=True)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a classifier and write a run directory",
        description=f"Train a BiLSTM-attention classifier. On a registry dataset, the options left out "
        f"come from the --recipe (default: {DEFAULT_RECIPE}, this package's best configuration on "
        "validation data; seed: the tutorials'), which layers over the dataset's settings in "
        "datasets.yaml. On your own --file, from the configuration's defaults.",
    )
    parser.add_argument(
        "--recipe",
        choices=RECIPES,
        help=f"start from a named recipe of the dataset (default: {DEFAULT_RECIPE}; seed: the tutorials'; "
        "none: no recipe, the configuration's defaults); flags override it",
    )
    parser.add_argument("--output", "-o", help="run directory to create (default: runs/<dataset>-<time>)")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in --output")
    flags = [flag for section in GROUPS for flag in add_group_flags(parser, section)]
    for section in OPTIONAL_GROUPS:
        flags += _add_optional_group_flags(parser, section)
    flags += _add_classifier_flags(parser)
    parser.set_defaults(func=run, config_flags=flags)


def generated_flags() -> list[Flag]:
    """Every configuration flag of ``train`` (for documentation and tests)."""
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    subparser = parser._subparsers._group_actions[0].choices["train"]  # type: ignore[union-attr]
    return list(subparser.get_default("config_flags"))


def train_config_from_args(args: argparse.Namespace) -> TrainConfig:
    """A :class:`TrainConfig` from the recipe overridden by the flags given.

    On a registry dataset the recipe is ``--recipe`` or :data:`~bilstm_attention.training.recipes.DEFAULT_RECIPE`;
    on a user's file there is none. A flag that turns the recipe's NB-LR part off (``--ngram-model
    joint``) drops its NB-LR-only settings too (distillation, self-training).

    Raises:
        ConfigError: ``--recipe`` without ``--dataset``, or a bad setting (named).
    """
    from bilstm_attention.training.recipes import recipe_config

    given = vars(args)
    dataset = given.get("dataset")
    recipe = given.get("recipe")
    if recipe and not dataset:
        raise ConfigError("--recipe needs --dataset (recipes belong to registry datasets)")
    if dataset:
        values = recipe_config(dataset, recipe or DEFAULT_RECIPE).to_flat_dict()
    else:
        values = flat_defaults()
    flags: list[Flag] = given.get("config_flags", [])
    classifier = dict(values.pop("classifier"))
    optional: dict[str, dict[str, Any]] = {section: {} for section in OPTIONAL_GROUPS}
    flags_given = set()
    for flag in flags:
        if flag.dest not in given:
            continue
        value = given[flag.dest]
        flags_given.add(flag.dest)
        if flag.section == "classifier":
            classifier[flag.field] = value
        elif flag.section in optional:
            optional[flag.section][flag.field] = value
        else:
            values[flag.dest] = value
    if values.get("ngram_model") != "nblr":
        # the recipe's settings of its NB-LR part go with it (a flag given for them still errs)
        for name in NBLR_ONLY_SETTINGS:
            if name not in flags_given:
                values[name] = None
    for section, settings in optional.items():
        option = section.replace("_", "-")
        if given.get(section) is False:
            if settings:
                raise ConfigError(f"--no-{option} cannot be combined with --{option}-* settings")
            values[section] = None
        elif given.get(section) or settings:
            values[section] = {**(values.get(section) or {}), **settings}
    values["classifier"] = classifier
    return TrainConfig.from_dict(values)


def default_run_dir(name: str) -> Path:
    """``runs/<name>-<YYYYmmdd-HHMMSS>`` under the current directory."""
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def detect_file_language(config: TrainConfig) -> TrainConfig:
    """``config`` with the language of its ``file`` detected from the text (printed), for a
    user who gave neither ``--language`` nor ``--tokenizer``."""
    from bilstm_attention import data

    source = config.data
    splits = data.load_file(
        source.file,
        source.text_column,
        source.label_column,
        label_map=source.label_map,
        encoding=source.encoding,
        sep=source.sep,
        split="all",
        language="auto",
    )
    if splits.spec.language not in LANGUAGE_CHOICES:
        raise ConfigError(
            f"cannot tell the language of {source.file} (its reviews contain no letters): "
            "pass --tokenizer (english, kiwi, okt, mecab, syllable, whitespace) or --language en|ko"
        )
    print(
        f"{source.file}: {splits.report.checks[0]}; tokenizer {splits.spec.tokenizer} "
        "(pass --language or --tokenizer to choose)"
    )
    return config.replace(language=splits.spec.language)


def run(args: argparse.Namespace) -> int:
    from bilstm_attention import training

    if args.resume:
        if not args.output:
            raise ConfigError("--resume needs --output, the run directory to continue")
        result = training.resume(args.output)
    else:
        config = train_config_from_args(args)
        if config.data.file is not None and config.data.language is None and config.text.tokenizer is None:
            config = detect_file_language(config)
        name = config.data.dataset or Path(str(config.data.file)).stem
        result = training.train(config, args.output or default_run_dir(name))
    if result.process is not None:
        process_id, processes = result.process
        print(f"process {process_id} of {processes}: weights sha256 {result.weights_sha256}")
        if not result.test_metrics:
            print(f"process {process_id} finished its part of training; process 0 writes {result.run_dir}")
            return 0
    metrics = result.test_metrics
    print(
        f"run directory: {result.run_dir}\n"
        f"test accuracy {metrics['accuracy']:.4f}  F1 {metrics['f1']:.4f}  "
        f"({metrics['examples']} reviews, {len(result.timings.get('epoch_seconds', []))} epochs this session)"
    )
    return 0
