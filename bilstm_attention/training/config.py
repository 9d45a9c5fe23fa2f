"""Configuration of a training run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from bilstm_attention.config_base import DictConfig
from bilstm_attention.embeddings import Word2VecConfig
from bilstm_attention.errors import ConfigError
from bilstm_attention.model.config import ClassifierConfig
from bilstm_attention.training.devices import STRATEGY_CHOICES
from bilstm_attention.features import TRUNCATION_CHOICES


#: How the optional n-gram features are used (see TrainConfig.ngram_model).
NGRAM_MODEL_CHOICES: tuple[str, ...] = ("joint", "nblr")

#: Vocabulary size for a user's file when none is given.
DEFAULT_VOCAB_SIZE = 30_000


@dataclass
class TrainConfig(DictConfig):
    """What to train on and how. ``None`` means "the dataset's default from datasets.yaml".

    Attributes:
        dataset: a registry name (``bilstm-attention datasets list``), or ``None`` with ``file``.
        data_dir: where the dataset's upstream files are (else ``BILSTM_ATTENTION_DATA``,
            then the user cache, then a download).
        path: an explicit file in the dataset's upstream format (e.g. a partial copy).
        file: a user's own CSV/TSV instead of a registry dataset.
        text_column: the text column of ``file``.
        label_column: the label column of ``file``.
        label_map: maps the raw labels of ``file`` to class ids, e.g. ``{"pos": 1, "neg": 0}``.
        language: ``en`` or ``ko``: the language of ``file`` (picks its default tokenizer).
        encoding: the text encoding of ``file`` (e.g. ``cp949``).
        sep: the separator of ``file`` (one character, or ``tab``; default from its extension).
        tokenizer: tokenizer name (``english``, ``kiwi``, ``okt``, ``mecab``, ``whitespace``).
        tokenizer_options: options of the tokenizer.
        vocab_size: vocabulary size including the padding and OOV ids (default: the
            dataset's, else :data:`DEFAULT_VOCAB_SIZE`).
        min_count: tokens seen fewer times in train are out of vocabulary.
        max_length: reviews are cut to this many tokens (see ``truncation``).
        truncation: ``head``, ``tail`` or ``head_tail``.
        pad_to_max_length: pad every batch to ``max_length`` (the seed tutorial's fixed
            ``pad_sequences(maxlen=...)``); off, batches are padded to their longest review.
        bucketing: batch reviews of similar length together (off: random batches).
        ngram_order: longest n-gram of the optional linear bag-of-n-grams branch (0 = off,
            2 = uni+bigrams, 3 = up to trigrams; see :mod:`bilstm_attention.ngrams`).
        ngram_vocab_size: the most n-grams the branch keeps (by document frequency).
        ngram_min_count: n-grams in fewer training reviews are dropped.
        ngram_model: how the n-grams are used: ``joint`` (a linear branch trained with the
            BiLSTM, summed into its logits) or ``nblr`` (a Naive-Bayes-weighted logistic
            regression fitted on its own, whose probability is averaged with the BiLSTM's;
            the weight is chosen on validation; two classes only; see :mod:`bilstm_attention.nblr`).
        nblr_c: the regularisation strengths ``C`` tried for ``nblr`` (best on validation).
        nblr_alpha: the Naive Bayes smoothing of ``nblr``.
        ngram_token_vocab_size: with the n-gram branch, tokens are numbered with a vocabulary
            this large (so n-grams see rare words); the BiLSTM still sees only the
            ``vocab_size`` most frequent ones (the rest as out-of-vocabulary).
        word2vec: pretrain the embeddings with word2vec on the training reviews (and the
            dataset's unlabeled ones) before training (``None``: random initialisation).
        classifier: the model's sizes and rates (``vocab_size``/``num_classes`` are filled in).
        batch_size: reviews per training batch.
        epochs: the most epochs to train.
        patience: stop after this many epochs without a better validation accuracy and keep
            the best epoch's weights (``None``: train every epoch, keep the last).
        validation_fraction: share of train held out for validation (default: registry).
        limit: use a small deterministic subset (smoke tests, notebooks).
        seed: seeds Python, NumPy, TensorFlow and the shuffling.
        strategy: ``default`` or ``mirrored``.
        tensorboard: write TensorBoard logs under the run directory.
        cache_dir: the encoded-dataset cache (default: ``BILSTM_ATTENTION_CACHE`` or the
            user cache directory).
    """

    dataset: str | None = None
    data_dir: str | None = None
    path: str | None = None
    file: str | None = None
    text_column: str | None = None
    label_column: str | None = None
    label_map: dict[str, int] | None = None
    language: str | None = None
    encoding: str = "utf-8"
    sep: str | None = None
    tokenizer: str | None = None
    tokenizer_options: dict[str, Any] = field(default_factory=dict)
    vocab_size: int | None = None
    min_count: int = 1
    max_length: int | None = None
    truncation: str = "head"
    pad_to_max_length: bool = False
    bucketing: bool = True
    ngram_order: int = 0
    ngram_vocab_size: int = 1_000_000
    ngram_min_count: int = 2
    ngram_token_vocab_size: int = 200_000
    ngram_model: str = "joint"
    nblr_c: list[float] = field(default_factory=lambda: [0.1, 0.3, 1.0])
    nblr_alpha: float = 1.0
    word2vec: Word2VecConfig | None = None
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    batch_size: int = 256
    epochs: int = 3
    patience: int | None = 2
    validation_fraction: float | None = None
    limit: int | None = None
    seed: int = 1337
    strategy: str = "default"
    tensorboard: bool = True
    cache_dir: str | None = None

    config_kind: ClassVar[str] = "training"

    def __post_init__(self) -> None:
        if isinstance(self.classifier, dict):
            self.classifier = ClassifierConfig.from_dict(self.classifier)
        if isinstance(self.word2vec, dict):
            self.word2vec = Word2VecConfig.from_dict(self.word2vec)
        self.validate()

    def validate(self) -> None:
        """Check every field; raises :class:`ConfigError` naming the first bad one."""
        if (self.dataset is None) == (self.file is None):
            raise ConfigError("give exactly one of dataset (a registry name) and file (your own CSV/TSV)")
        if self.file is not None and (not self.text_column or not self.label_column):
            raise ConfigError("file needs text_column and label_column")
        if self.truncation not in TRUNCATION_CHOICES:
            raise ConfigError(f"unknown truncation {self.truncation!r}; choose one of: {', '.join(TRUNCATION_CHOICES)}")
        if self.strategy not in STRATEGY_CHOICES:
            raise ConfigError(f"unknown strategy {self.strategy!r}; choose one of: {', '.join(STRATEGY_CHOICES)}")
        for name in ("batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.ngram_model not in NGRAM_MODEL_CHOICES:
            raise ConfigError(
                f"unknown ngram_model {self.ngram_model!r}; choose one of: {', '.join(NGRAM_MODEL_CHOICES)}"
            )
        if self.ngram_model == "nblr" and not self.ngram_order:
            raise ConfigError("ngram_model 'nblr' needs ngram_order 1, 2 or 3")
        if not self.nblr_c or any(not isinstance(c, (int, float)) or isinstance(c, bool) or c <= 0 for c in self.nblr_c):
            raise ConfigError(f"nblr_c must be a list of positive numbers, got {self.nblr_c!r}")
        if not isinstance(self.nblr_alpha, (int, float)) or self.nblr_alpha <= 0:
            raise ConfigError(f"nblr_alpha must be positive, got {self.nblr_alpha!r}")
        if self.word2vec is not None and not isinstance(self.word2vec, Word2VecConfig):
            raise ConfigError(f"word2vec must be a mapping of word2vec settings or null, got {self.word2vec!r}")
        if not 0 <= self.ngram_order <= 3:
            raise ConfigError(f"ngram_order must be 0 (off), 1, 2 or 3, got {self.ngram_order}")
        for name in ("ngram_vocab_size", "ngram_min_count", "ngram_token_vocab_size", "min_count"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("vocab_size", "max_length", "limit", "patience"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be positive, got {value}")
        if self.pad_to_max_length and self.max_length is None and self.dataset is None:
            raise ConfigError("pad_to_max_length needs max_length")
