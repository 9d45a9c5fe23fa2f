"""Configuration of a training run: :class:`TrainConfig` and its groups.

A :class:`TrainConfig` is made of groups, each its own dataclass:

============  ====================  ======================================================
group         class                 what it holds
============  ====================  ======================================================
``data``      :class:`DataConfig`   which data: a registry dataset or a user's file, limit,
                                    validation share
``text``      :class:`TextConfig`   tokenizer, vocabulary, review length and truncation
``ngrams``    :class:`NgramConfig`  the optional bag-of-n-grams part (joint branch or NB-LR)
``fit``       :class:`FitConfig`    batches, epochs, early stopping
``runtime``   :class:`RuntimeConfig`  seed, distribution strategy, TensorBoard, cache
``word2vec``  ``Word2VecConfig``    word2vec pretraining of the embedding (``None``: off)
``language_model`` ``LanguageModelConfig`` language-model pretraining of the embedding and
                                    the first BiLSTM (``None``: off)
``classifier`` ``ClassifierConfig`` the model's sizes and rates
============  ====================  ======================================================

Every field of a group carries ``metadata`` (see :func:`option`): its help text, its *flat
name* and, where the type alone does not say it, how a command-line value is parsed. The
flat name is the field's name in the single-level form of the configuration, which is

- the ``train`` command's flag (``ngrams.order`` -> ``ngram_order`` -> ``--ngram-order``;
  the flags are generated from these fields by :mod:`bilstm_attention.cli.train_cmd`),
- the key used in ``recipes.yaml``'s ``train`` sections,
- the form ``run.json`` had before 0.2 (:meth:`TrainConfig.from_dict` reads both).

Flat names are stable: renaming one breaks recipes and old runs, so a new field gets a new
name and an old one keeps its name.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from bilstm_attention.config_base import DictConfig
from bilstm_attention.errors import ConfigError
from bilstm_attention.features.inputs import TRUNCATION_CHOICES
from bilstm_attention.features.ngrams import MAX_CHAR_ORDER, MAX_ORDER, NGRAM_UNITS
from bilstm_attention.features.word2vec import Word2VecConfig
from bilstm_attention.model.config import ClassifierConfig

#: How the optional n-gram features are used (see :attr:`NgramConfig.model`).
NGRAM_MODEL_CHOICES: tuple[str, ...] = ("joint", "nblr")
#: Flat names of the settings that only the NB-LR part has (``ngram_model: nblr``): a recipe's
#: values of these are dropped when flags turn that part off (``train_config_from_args``).
NBLR_ONLY_SETTINGS: tuple[str, ...] = ("nblr_teacher_weight", "nblr_self_training")

#: ``tf.distribute`` strategies :func:`~bilstm_attention.training.make_strategy` knows.
STRATEGY_CHOICES: tuple[str, ...] = ("default", "mirrored")
#: How the learning rate changes over the epochs (``--lr-schedule``).
LR_SCHEDULE_CHOICES: tuple[str, ...] = ("constant", "cosine")
#: Which of a teacher run's predictions ``--distill-from`` fits the unlabeled reviews to (``--distill-part``).
DISTILL_PART_CHOICES: tuple[str, ...] = ("model", "bilstm")

#: Vocabulary size for a user's file when none is given (registry datasets have their own
#: in datasets.yaml).
DEFAULT_VOCAB_SIZE = 30_000

#: Languages a user's file may be in (each picks its default tokenizer in datasets.yaml).
LANGUAGE_CHOICES: tuple[str, ...] = ("en", "ko")


def option(
    default: Any = None,
    help: str = "",
    *,
    flat: str | None = None,
    parse: Callable[[str], Any] | None = None,
    choices: tuple[str, ...] | None = None,
    metavar: str | None = None,
    default_factory: Callable[[], Any] | None = None,
    shared: bool = False,
) -> Any:
    """A dataclass field with the metadata the command line and the flat form are built from.

    Args:
        default: the default value (or give ``default_factory``).
        help: one line for ``--help``.
        flat: the field's stable flat name (flag, recipes.yaml key, pre-0.2 run.json key);
            default: the field's own name.
        parse: turns the command-line string into the value (default: from the field's
            type: ``int``, ``float``, ``str``, a switch for ``bool``).
        choices: the accepted values.
        metavar: the value's name in ``--help``.
        default_factory: a callable making the default (lists, dicts).
        shared: the flag is also offered by ``evaluate`` (data selection only).
    """
    metadata = {"help": help, "flat": flat, "parse": parse, "choices": choices, "metavar": metavar, "shared": shared}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


# --- command-line value parsers ------------------------------------------------------------


def int_list(value: str) -> list[int]:
    """Parse ``"64,64"`` into ``[64, 64]`` (``""`` gives ``[]``)."""
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"expected comma-separated integers such as 64,64, got {value!r}") from None


def float_list(value: str) -> list[float]:
    """Parse ``"0.1,0.3,1"`` into ``[0.1, 0.3, 1.0]``."""
    try:
        return [float(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"expected comma-separated numbers such as 0.1,0.3,1, got {value!r}") from None


def parse_label_map(value: str) -> dict[str, int]:
    """Parse ``"pos=1,neg=0"`` (:func:`bilstm_attention.data.parse_label_map`) or a JSON
    object into a label map."""
    from bilstm_attention.data import parse_label_map as parse_pairs

    value = value.strip()
    try:
        if value.startswith("{"):
            return {str(key).strip(): int(label) for key, label in json.loads(value).items()}
        return parse_pairs(value)
    except (ValueError, TypeError, AttributeError, ConfigError) as exc:
        detail = f": {exc}" if isinstance(exc, ConfigError) else ""
        raise ValueError(
            f"expected a label map such as 'pos=1,neg=0' or '{{\"pos\": 1}}', got {value!r}{detail}"
        ) from None


def json_object(value: str) -> dict[str, Any]:
    """Parse a JSON object such as ``'{"stem": true}'``."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValueError(f"expected a JSON object such as '{{\"stem\": true}}', got {value!r}")
    return parsed


def patience_value(value: str) -> int | None:
    """Parse an early-stopping patience: ``0`` turns early stopping off (``None``)."""
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"expected a number of epochs (0: off), got {value!r}") from None
    return number or None


# --- the groups ------------------------------------------------------------------------------


def _positive(group: str, config: Any, *names: str, optional: bool = False) -> None:
    for name in names:
        value = getattr(config, name)
        if optional and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1:
            raise ConfigError(f"{name} must be positive, got {value!r}")


@dataclass
class DataConfig(DictConfig):
    """Which data to train on.

    Give exactly one of ``dataset`` (a registry name) and ``file`` (your own CSV/TSV).
    """

    dataset: str | None = option(None, "registry dataset name (see `bilstm-attention datasets list`)", shared=True)
    data_dir: str | None = option(
        None, "directory with the upstream files (else $BILSTM_ATTENTION_DATA, the cache, a download)", shared=True
    )
    path: str | None = option(None, "explicit file in the dataset's upstream format (e.g. a partial copy)", shared=True)
    file: str | None = option(None, "your own CSV/TSV file instead of a registry dataset", shared=True)
    text_column: str | None = option(None, "text column of --file", shared=True)
    label_column: str | None = option(None, "label column of --file", shared=True)
    label_map: dict[str, int] | None = option(
        None, "raw label -> class id for --file, e.g. 'pos=1,neg=0'", parse=parse_label_map, metavar="MAP", shared=True
    )
    language: str | None = option(
        None,
        "language of --file (picks its default tokenizer; default: detected from its text when "
        "--tokenizer is not given either)",
        choices=LANGUAGE_CHOICES,
        shared=True,
    )
    encoding: str = option("utf-8", "text encoding of --file (e.g. cp949)", shared=True)
    sep: str | None = option(
        None,
        "separator of --file: one character, or 'tab' (default: from the extension, .csv comma, .tsv/.txt tab)",
        shared=True,
    )
    validation_fraction: float | None = option(
        None, "share of train held out for validation (default: datasets.yaml's)"
    )
    limit: int | None = option(None, "use a small deterministic subset of N training reviews", metavar="N", shared=True)

    config_kind: ClassVar[str] = "data"

    def __post_init__(self) -> None:
        _positive("data", self, "limit", optional=True)
        if self.validation_fraction is not None and not 0 < self.validation_fraction < 1:
            raise ConfigError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}")


@dataclass
class TextConfig(DictConfig):
    """How reviews become token ids. ``None`` means "the dataset's default from datasets.yaml"."""

    tokenizer: str | None = option(None, "english, whitespace, kiwi, okt, mecab or syllable (default: the dataset's)")
    tokenizer_options: dict[str, Any] = option(
        help="options of the tokenizer as a JSON object, e.g. '{\"stem\": true}'",
        parse=json_object,
        metavar="JSON",
        default_factory=dict,
    )
    vocab_size: int | None = option(
        None, "vocabulary size including the padding and OOV ids (default: the dataset's, else 30000)"
    )
    min_count: int = option(1, "tokens seen fewer times in train are out of vocabulary")
    max_length: int | None = option(None, "cut reviews to this many tokens (default: the dataset's)")
    truncation: str = option(
        "head",
        "which part of a long review is kept: head, tail or head_tail (a third + two thirds)",
        choices=TRUNCATION_CHOICES,
    )

    config_kind: ClassVar[str] = "text"

    def __post_init__(self) -> None:
        if self.truncation not in TRUNCATION_CHOICES:
            raise ConfigError(f"unknown truncation {self.truncation!r}; choose one of: {', '.join(TRUNCATION_CHOICES)}")
        _positive("text", self, "min_count")
        _positive("text", self, "vocab_size", "max_length", optional=True)


@dataclass
class NgramConfig(DictConfig):
    """The optional bag-of-n-grams part (see :mod:`bilstm_attention.features.ngrams`, :mod:`bilstm_attention.features.nblr`).

    ``model="joint"`` adds a linear branch trained with the BiLSTM and summed into its
    logits; ``model="nblr"`` fits a Naive-Bayes-weighted logistic regression on its own,
    whose probability is averaged with the BiLSTM's (the weight is chosen on validation;
    two classes only).
    """

    order: int = option(
        0,
        "longest n-gram of the bag-of-n-grams part (0: off, 2: uni+bigrams, 3: up to trigrams; "
        f"up to {MAX_CHAR_ORDER} with --ngram-unit char)",
        flat="ngram_order",
    )
    unit: str = option(
        "token",
        "token: n-grams of the tokenizer's tokens; char: character n-grams of the review with its "
        "spaces removed (for loosely spaced text such as Korean reviews)",
        flat="ngram_unit",
        choices=NGRAM_UNITS,
    )
    vocab_size: int = option(1_000_000, "the most n-grams kept (by document frequency)", flat="ngram_vocab_size")
    min_count: int = option(2, "n-grams in fewer training reviews are dropped", flat="ngram_min_count")
    token_vocab_size: int = option(
        200_000,
        "with n-grams, tokens are numbered with a vocabulary this large (the BiLSTM still sees "
        "only --vocab-size of them)",
        flat="ngram_token_vocab_size",
    )
    model: str = option(
        "joint",
        "joint: n-gram weights trained with the BiLSTM; nblr: an NB-weighted logistic regression "
        "averaged with it (two classes)",
        flat="ngram_model",
        choices=NGRAM_MODEL_CHOICES,
    )
    nblr_c: list[float] = option(
        help="regularisation strengths C tried for nblr (the best on validation is kept)",
        parse=float_list,
        metavar="C,C,...",
        default_factory=lambda: [0.1, 0.3, 1.0],
    )
    nblr_alpha: float = option(1.0, "Naive Bayes smoothing of nblr")
    teacher_weight: float | None = option(
        None,
        "with nblr: train the BiLSTM on (1 - W) * label + W * NB-LR's out-of-fold probability of "
        "each training review (distillation from the n-gram model; 0 < W < 0.5)",
        flat="nblr_teacher_weight",
    )
    teacher_folds: int = option(5, "folds of the out-of-fold NB-LR probabilities", flat="nblr_teacher_folds")
    self_training: float | None = option(
        None,
        "with nblr: NB-LR labels the dataset's unlabeled reviews (IMDB's unsup) and is fitted again "
        "on the training reviews plus those it labels with at least probability P (0.5: all; "
        "self-training)",
        flat="nblr_self_training",
        metavar="P",
    )

    config_kind: ClassVar[str] = "ngrams"

    def __post_init__(self) -> None:
        if self.model not in NGRAM_MODEL_CHOICES:
            raise ConfigError(f"unknown ngram_model {self.model!r}; choose one of: {', '.join(NGRAM_MODEL_CHOICES)}")
        if self.unit not in NGRAM_UNITS:
            raise ConfigError(f"unknown ngram_unit {self.unit!r}; choose one of: {', '.join(NGRAM_UNITS)}")
        longest = MAX_CHAR_ORDER if self.unit == "char" else MAX_ORDER
        if self.model == "nblr" and not self.order:
            raise ConfigError(f"ngram_model 'nblr' needs an ngram_order from 1 to {longest}")
        if not self.nblr_c or any(
            not isinstance(c, (int, float)) or isinstance(c, bool) or c <= 0 for c in self.nblr_c
        ):
            raise ConfigError(f"nblr_c must be a list of positive numbers, got {self.nblr_c!r}")
        if isinstance(self.nblr_alpha, bool) or not isinstance(self.nblr_alpha, (int, float)) or self.nblr_alpha <= 0:
            raise ConfigError(f"nblr_alpha must be positive, got {self.nblr_alpha!r}")
        if not 0 <= self.order <= longest:
            raise ConfigError(
                f"ngram_order must be from 0 (off) to {longest} with ngram_unit {self.unit}, got {self.order}"
            )
        if self.teacher_weight is not None:
            if not self.ensemble:
                raise ConfigError("nblr_teacher_weight needs the NB-LR part: --ngram-model nblr and an --ngram-order")
            if isinstance(self.teacher_weight, bool) or not 0 < self.teacher_weight < 0.5:
                raise ConfigError(
                    f"nblr_teacher_weight must be between 0 and 0.5 (the label keeps the larger share), "
                    f"got {self.teacher_weight!r}"
                )
        if isinstance(self.teacher_folds, bool) or not isinstance(self.teacher_folds, int) or self.teacher_folds < 2:
            raise ConfigError(f"nblr_teacher_folds must be an integer of at least 2, got {self.teacher_folds!r}")
        if self.self_training is not None:
            if not self.ensemble:
                raise ConfigError("nblr_self_training needs the NB-LR part: --ngram-model nblr and an --ngram-order")
            if (
                isinstance(self.self_training, bool)
                or not isinstance(self.self_training, (int, float))
                or not 0.5 <= self.self_training < 1
            ):
                raise ConfigError(
                    f"nblr_self_training must be at least 0.5 and below 1 (the least probability of NB-LR's "
                    f"own label), got {self.self_training!r}"
                )
        for name in ("vocab_size", "min_count", "token_vocab_size"):
            value = getattr(self, name)
            if value < 1:
                raise ConfigError(f"ngram_{name} must be positive, got {value}")

    @property
    def ensemble(self) -> bool:
        """The n-grams are an NB-LR model averaged with the BiLSTM (not a joint branch)."""
        return bool(self.order) and self.model == "nblr"


@dataclass
class FitConfig(DictConfig):
    """Batches, epochs and early stopping."""

    batch_size: int = option(256, "reviews per training batch")
    epochs: int = option(3, "the most epochs to train")
    patience: int | None = option(
        2,
        "early-stopping patience in epochs; the best epoch is kept (0: off, the last epoch is kept)",
        parse=patience_value,
    )
    bucketing: bool = option(True, "batch reviews of similar length together (--no-bucketing: random batches)")
    pad_to_max_length: bool = option(
        False, "pad every batch to --max-length (the seed tutorial's way) instead of to its longest review"
    )
    adversarial_epsilon: float | None = option(
        None,
        "adversarial training (Miyato et al. 2017): L2 norm of the perturbation of each review's normalised "
        "embeddings (needs --normalize-embeddings; off when not given)",
    )
    adversarial_weight: float = option(1.0, "weight of the adversarial loss next to the clean loss")
    adversarial_consistency: float = option(
        0.0,
        "with adversarial training, also pull the perturbed pass's prediction towards the clean one: "
        "this weight times KL(clean || perturbed) is added to the adversarial loss (0: off)",
    )
    reduce_lr_factor: float | None = option(
        None,
        "multiply the learning rate by this factor (0 < f < 1) after every epoch whose validation accuracy "
        "is not the best so far (Keras ReduceLROnPlateau; give --patience 2 or more so that the lower rate "
        "gets an epoch; off when not given)",
    )
    lr_schedule: str = option(
        "constant",
        "constant: the classifier's learning rate throughout; cosine: epoch e of E trains at "
        "learning_rate * (1 + cos(pi * e / E)) / 2, from the full rate down to a small one in the last epoch "
        "(early stopping with patience 1 may end a run before its low-rate epochs)",
        choices=LR_SCHEDULE_CHOICES,
    )
    distill_from: str | None = option(
        None,
        "a finished run of the same dataset (its directory): its model labels the dataset's unlabeled "
        "reviews (IMDB's unsup), and the BiLSTM is also trained on them, each fitted to that model's "
        "probability (distillation; off when not given)",
        metavar="RUN",
    )
    distill_part: str = option(
        "model",
        "with distill_from, which of the teacher run's predictions the unlabeled reviews are fitted to: "
        "model: its whole model (for an ensemble run, the average with NB-LR); bilstm: its BiLSTM part alone",
        choices=DISTILL_PART_CHOICES,
    )

    config_kind: ClassVar[str] = "fit"

    def __post_init__(self) -> None:
        for name in ("batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        _positive("fit", self, "patience", optional=True)
        if self.adversarial_epsilon is not None and not self.adversarial_epsilon > 0:
            raise ConfigError(f"adversarial_epsilon must be positive (or not given), got {self.adversarial_epsilon!r}")
        if not self.adversarial_weight > 0:
            raise ConfigError(f"adversarial_weight must be positive, got {self.adversarial_weight!r}")
        if isinstance(self.adversarial_consistency, bool) or not self.adversarial_consistency >= 0:
            raise ConfigError(f"adversarial_consistency must be 0 or positive, got {self.adversarial_consistency!r}")
        if self.adversarial_consistency and self.adversarial_epsilon is None:
            raise ConfigError("adversarial_consistency needs adversarial training (--adversarial-epsilon)")
        if self.reduce_lr_factor is not None and (
            isinstance(self.reduce_lr_factor, bool) or not 0 < self.reduce_lr_factor < 1
        ):
            raise ConfigError(f"reduce_lr_factor must be between 0 and 1 (or not given), got {self.reduce_lr_factor!r}")
        if self.lr_schedule not in LR_SCHEDULE_CHOICES:
            raise ConfigError(f"lr_schedule must be one of {', '.join(LR_SCHEDULE_CHOICES)}, got {self.lr_schedule!r}")
        if self.distill_from is not None and (not isinstance(self.distill_from, str) or not self.distill_from.strip()):
            raise ConfigError(f"distill_from must be a run directory, got {self.distill_from!r}")
        if self.distill_part not in DISTILL_PART_CHOICES:
            raise ConfigError(
                f"distill_part must be one of {', '.join(DISTILL_PART_CHOICES)}, got {self.distill_part!r}"
            )
        if self.distill_part != "model" and self.distill_from is None:
            raise ConfigError(f"distill_part {self.distill_part!r} needs a teacher run (distill_from, --distill-from)")
        if self.lr_schedule != "constant" and self.reduce_lr_factor is not None:
            raise ConfigError(
                f"lr_schedule {self.lr_schedule!r} and reduce_lr_factor both set the learning rate; give one of them"
            )


@dataclass
class RuntimeConfig(DictConfig):
    """Where and how the run executes; does not change what is learned (except ``seed``)."""

    seed: int = option(1337, "seeds Python, NumPy, TensorFlow and the shuffling")
    strategy: str = option("default", "tf.distribute strategy", choices=STRATEGY_CHOICES)
    tensorboard: bool = option(True, "write TensorBoard logs under the run directory")
    distributed: bool = option(
        False,
        "data-parallel training over the processes named by KERAS_DISTRIBUTION_JOB_ADDRESSES, "
        "_NUM_PROCESSES and _PROCESS_ID (JAX backend; process 0 writes the run)",
    )
    cache_dir: str | None = option(
        None,
        "the cache of encoded datasets and pretrained language models (default: $BILSTM_ATTENTION_CACHE or "
        "the user cache directory)",
    )

    config_kind: ClassVar[str] = "runtime"

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGY_CHOICES:
            raise ConfigError(f"unknown strategy {self.strategy!r}; choose one of: {', '.join(STRATEGY_CHOICES)}")
        if self.distributed and self.strategy != "default":
            raise ConfigError(
                f"distributed training splits batches over processes itself; it does not combine with "
                f"strategy {self.strategy!r}"
            )


@dataclass
class LanguageModelConfig(DictConfig):
    """Settings of the language-model pretraining of the embedding and first BiLSTM.

    Attributes:
        epochs: passes over the text.
        output_vocab_size: the softmax predicts this many ids (counting padding and the
            out-of-vocabulary id); rarer tokens are targets as out-of-vocabulary. The cost of
            a step grows with it.
        batch_size: reviews per batch.
        learning_rate: Adam's learning rate.
        dropout: dropout on the embedded tokens (the LSTM's own dropout applies too).
        use_unlabeled: add the dataset's unlabeled reviews, when it has some (IMDB).
    """

    epochs: int = 1
    output_vocab_size: int = 8_000
    batch_size: int = 128
    learning_rate: float = 0.002
    dropout: float = 0.1
    use_unlabeled: bool = True

    config_kind: ClassVar[str] = "language_model"

    def __post_init__(self) -> None:
        for name in ("epochs", "output_vocab_size", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"language_model {name} must be a positive integer, got {value!r}")
        if self.output_vocab_size < 3:
            raise ConfigError(f"language_model output_vocab_size must be at least 3, got {self.output_vocab_size}")
        if isinstance(self.learning_rate, bool) or not self.learning_rate > 0:
            raise ConfigError(f"language_model learning_rate must be positive, got {self.learning_rate!r}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"language_model dropout must be in [0, 1), got {self.dropout!r}")


#: The option groups of :class:`TrainConfig`, by attribute name.
GROUPS: dict[str, type[DictConfig]] = {
    "data": DataConfig,
    "text": TextConfig,
    "ngrams": NgramConfig,
    "fit": FitConfig,
    "runtime": RuntimeConfig,
}

#: The optional groups of :class:`TrainConfig` (``None``: that pretraining is off), by
#: attribute name; each is also a flat key holding the whole group.
OPTIONAL_GROUPS: dict[str, type[DictConfig]] = {
    "word2vec": Word2VecConfig,
    "language_model": LanguageModelConfig,
}


def flat_name(item: dataclasses.Field[Any]) -> str:
    """The stable flat name of a group field (its flag, recipes.yaml key and pre-0.2 key)."""
    return item.metadata.get("flat") or item.name


#: flat name -> (group, field), e.g. ``"ngram_order" -> ("ngrams", "order")``.
FLAT_NAMES: dict[str, tuple[str, str]] = {
    flat_name(item): (group, item.name)
    for group, cls in GROUPS.items()
    for item in dataclasses.fields(cls)  # type: ignore[arg-type]
}

T = TypeVar("T", bound="TrainConfig")


@dataclass
class TrainConfig(DictConfig):
    """What to train on and how, in groups (see the module documentation).

    Build one from groups (``TrainConfig(data=DataConfig(dataset="imdb"))``), from a dict
    in the nested or the flat form (:meth:`from_dict`), or change one with :meth:`replace`
    (``config.replace(epochs=1, limit=500)``: flat names or whole groups).

    Attributes:
        data: which data (:class:`DataConfig`).
        text: tokenization and review length (:class:`TextConfig`).
        ngrams: the optional bag-of-n-grams part (:class:`NgramConfig`).
        fit: batches, epochs, early stopping (:class:`FitConfig`).
        runtime: seed, strategy, TensorBoard, cache (:class:`RuntimeConfig`).
        word2vec: pretrain the embedding with word2vec on the training reviews (and the
            dataset's unlabeled ones) before training (``None``: random initialisation).
        language_model: then pretrain the embedding and the first BiLSTM as forward and
            backward language models on the same text (:class:`LanguageModelConfig`;
            ``None``: off).
        classifier: the model's sizes and rates (``vocab_size``/``num_classes`` are filled in).
    """

    data: DataConfig = field(default_factory=DataConfig)
    text: TextConfig = field(default_factory=TextConfig)
    ngrams: NgramConfig = field(default_factory=NgramConfig)
    fit: FitConfig = field(default_factory=FitConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    word2vec: Word2VecConfig | None = None
    language_model: LanguageModelConfig | None = None
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)

    config_kind: ClassVar[str] = "training"

    def __post_init__(self) -> None:
        for name, cls in GROUPS.items():
            value = getattr(self, name)
            if isinstance(value, dict):
                setattr(self, name, cls.from_dict(value))
            elif not isinstance(value, cls):
                raise ConfigError(f"{name} must be a mapping of {name} settings, got {value!r}")
        if isinstance(self.classifier, dict):
            self.classifier = ClassifierConfig.from_dict(self.classifier)
        for name, cls in OPTIONAL_GROUPS.items():
            value = getattr(self, name)
            if isinstance(value, dict):
                setattr(self, name, cls.from_dict(value))
        self.validate()

    def validate(self) -> None:
        """Check what involves more than one group (each group checks its own fields).

        Raises:
            ConfigError: naming the first bad setting.
        """
        data = self.data
        if (data.dataset is None) == (data.file is None):
            raise ConfigError("give exactly one of dataset (a registry name) and file (your own CSV/TSV)")
        if data.file is not None and (not data.text_column or not data.label_column):
            raise ConfigError("file needs text_column and label_column")
        for name, cls in OPTIONAL_GROUPS.items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, cls):
                raise ConfigError(f"{name} must be a mapping of {name} settings or null, got {value!r}")
        if self.fit.adversarial_epsilon is not None and not self.classifier.normalize_embeddings:
            raise ConfigError(
                "adversarial_epsilon needs normalize_embeddings (--normalize-embeddings): the perturbation is "
                "measured against frequency-normalised embeddings"
            )
        if self.fit.distill_from is not None and self.ngrams.order and not self.ngrams.ensemble:
            raise ConfigError(
                "distill_from fits the BiLSTM alone to the teacher's probabilities: it cannot train the joint "
                "n-gram branch (--ngram-model joint); use --ngram-model nblr or --ngram-order 0"
            )
        if self.fit.pad_to_max_length and self.text.max_length is None and data.dataset is None:
            raise ConfigError("pad_to_max_length needs max_length")

    # --- dict forms -------------------------------------------------------------------

    @classmethod
    def from_dict(cls: type[T], values: dict[str, Any]) -> T:
        """Build from the nested form (:meth:`to_dict`), the flat form (:meth:`to_flat_dict`,
        what ``run.json`` held before 0.2 and what recipes.yaml uses) or a mix of both.

        Flat keys are applied after the groups, so ``{"fit": {...}, "epochs": 1}`` trains 1
        epoch.

        Raises:
            ConfigError: an unknown key (named), or a bad value.
        """
        if not isinstance(values, dict):
            raise ConfigError(f"a training configuration must be a mapping, got {values!r}")
        nested: dict[str, Any] = {}
        flat: dict[str, Any] = {}
        unknown = []
        for key, value in values.items():
            if key in GROUPS:
                nested[key] = value.to_dict() if isinstance(value, DictConfig) else value
            elif key in OPTIONAL_GROUPS or key == "classifier":
                nested[key] = value
            elif key in FLAT_NAMES:
                flat[key] = value
            else:
                unknown.append(key)
        if unknown:
            known = sorted([*GROUPS, *OPTIONAL_GROUPS, "classifier", *FLAT_NAMES])
            raise ConfigError(
                f"unknown {cls.config_kind} option(s): {', '.join(sorted(unknown))}; known: {', '.join(known)}"
            )
        for name in GROUPS:
            group = nested.get(name, {})
            if not isinstance(group, dict):
                raise ConfigError(f"{name} must be a mapping of {name} settings, got {group!r}")
            nested[name] = dict(group)
        for key, value in flat.items():
            group_name, field_name = FLAT_NAMES[key]
            nested[group_name][field_name] = value
        return cls(**nested)

    def to_flat_dict(self) -> dict[str, Any]:
        """The single-level form: every group field under its flat name, plus the optional
        groups (``word2vec``, ``language_model``) and ``classifier`` (the pre-0.2
        ``run.json`` form, recipes.yaml's keys)."""
        flat: dict[str, Any] = {}
        for name, cls in GROUPS.items():
            group = getattr(self, name).to_dict()
            for item in dataclasses.fields(cls):  # type: ignore[arg-type]
                flat[flat_name(item)] = group[item.name]
        for name in OPTIONAL_GROUPS:
            value = getattr(self, name)
            flat[name] = value.to_dict() if value is not None else None
        flat["classifier"] = self.classifier.to_dict()
        return flat

    def replace(self: T, **changes: Any) -> T:
        """A copy with ``changes`` applied: flat names (``epochs=1``), groups (``fit=FitConfig(...)``),
        an optional group (``word2vec``, ``language_model``) or ``classifier``.

        Raises:
            ConfigError: an unknown name (named), or a bad value.
        """
        values = self.to_dict()
        for key, value in changes.items():
            if key in GROUPS or key in OPTIONAL_GROUPS or key == "classifier":
                values[key] = value.to_dict() if isinstance(value, DictConfig) else value
            elif key in FLAT_NAMES:
                group_name, field_name = FLAT_NAMES[key]
                values[group_name][field_name] = value
            else:
                raise ConfigError(f"unknown {self.config_kind} option {key!r}")
        return type(self).from_dict(values)

    def __getattr__(self, name: str) -> Any:
        # pre-0.2 flat attributes (config.epochs -> config.fit.epochs), for one release
        if name in FLAT_NAMES:
            group_name, field_name = FLAT_NAMES[name]
            warnings.warn(
                f"TrainConfig.{name} is deprecated; use TrainConfig.{group_name}.{field_name}",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(object.__getattribute__(self, group_name), field_name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def flat_defaults() -> dict[str, Any]:
    """Every group field's default under its flat name (before any dataset or recipe), plus
    the optional groups (``None``) and ``classifier`` (ClassifierConfig's defaults)."""
    values: dict[str, Any] = {}
    for cls in GROUPS.values():
        for item in dataclasses.fields(cls):  # type: ignore[arg-type]
            if item.default_factory is not dataclasses.MISSING:
                values[flat_name(item)] = item.default_factory()
            else:
                values[flat_name(item)] = item.default
    values.update(dict.fromkeys(OPTIONAL_GROUPS))
    values["classifier"] = ClassifierConfig().to_dict()
    return values
