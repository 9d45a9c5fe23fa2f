"""One training loop for every dataset, in named stages.

:func:`train` (and :func:`resume`) run these stages in order; each is a function of this
module taking and returning typed values, so a notebook or a test can run them one by one:

1. :func:`prepare_data`     load the splits, fill the dataset's defaults, tokenize (cached)
2. :func:`build_features`   n-gram vocabulary, truncation, model inputs of every split
3. :func:`start_run`        write what the run needs to be loaded and resumed (``run.json``,
                            tokenizer, vocabulary, n-grams)
4. :func:`build_model`      build the classifier; word2vec pretraining of its embedding,
                            language-model pretraining of its embedding and first BiLSTM
5. :func:`fit`              Keras ``fit`` with checkpoints, resume state, early stopping;
                            with ``ngrams.teacher_weight`` NB-LR is fitted first
                            (:func:`fit_ngram_model`) and the BiLSTM learns the soft targets
                            of :func:`teacher_targets` (distillation from NB-LR); with
                            ``fit.distill_from`` it also learns the unlabeled reviews, fitted to
                            a finished run's probabilities (:func:`distillation_reviews`)
6. :func:`fit_ngram_part`   the ensemble stage: NB-LR on the n-grams (with
                            ``ngrams.self_training``, fitted again with the unlabeled reviews it
                            labels), averaged with the BiLSTM (only with ``ngrams.model == "nblr"``)
7. :func:`evaluate`         test metrics (and each ensemble part's on its own)
8. :func:`write_run`        the model and the reports: ``model.keras``, ``history.json``,
                            ``metrics.json``
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import keras
import numpy as np
import tensorflow as tf

from bilstm_attention import data as data_lib
from bilstm_attention.data import DatasetSpec, DatasetSplits, EncodedSplits
from bilstm_attention.errors import ConfigError, ModelLoadError
from bilstm_attention.evaluation.metrics import classification_report
from bilstm_attention.features.inputs import FeatureSpec, ModelInputs
from bilstm_attention.features.nblr import (
    NBLogisticRegression,
    best_mix_weight,
    fit_nblr,
    ngram_matrix,
    out_of_fold_probabilities,
    self_train_nblr,
)
from bilstm_attention.features.ngrams import CharNgramVocabulary, NgramVocabulary
from bilstm_attention.features.pipeline import training_dataset
from bilstm_attention.features.word2vec import pretrain_embeddings
from bilstm_attention.fileio import save_keras_model, write_json
from bilstm_attention.inference.prediction import predict_probabilities
from bilstm_attention.model import (
    EMBEDDING_LAYER_NAME,
    ClassifierConfig,
    NormalizedEmbedding,
    build_classifier,
    compile_classifier,
    ensemble_classifier,
    ensemble_parts,
)
from bilstm_attention.run_dir import RUN_FORMAT_VERSION, RunDirectory
from bilstm_attention.tokenizers import Tokenizer, Vocabulary, get_tokenizer
from bilstm_attention.training import distributed
from bilstm_attention.training.adversarial import AdversarialTraining
from bilstm_attention.training.config import DEFAULT_VOCAB_SIZE, TrainConfig
from bilstm_attention.training.devices import make_strategy
from bilstm_attention.training.schedules import schedule_callback
from bilstm_attention.version import __version__

#: What a stage records in :attr:`RunResult.timings`: seconds, counts and flags.
Timings = dict[str, Any]


@dataclass
class RunResult:
    """What :func:`train` produced.

    Attributes:
        run_dir: the run directory.
        test_metrics: accuracy, precision, recall, F1, confusion matrix on the test split.
        history: per-epoch metrics (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ...).
        timings: seconds spent loading, tokenizing, per epoch and on test prediction.
        counts: examples per split.
        ensemble: with ``ngrams.model="nblr"``: the averaging weight, the NB-LR ``C`` and the
            validation/test accuracy of each part on its own.
        process: in distributed training, ``(process_id, num_processes)``; the processes
            other than 0 stop after ``fit`` (empty ``test_metrics``; process 0 writes ``run_dir``).
        weights_sha256: in distributed training, the digest of the BiLSTM's weights after
            ``fit``: the same in every process.
    """

    run_dir: Path
    test_metrics: dict[str, Any]
    history: dict[str, list[float]]
    timings: Timings = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    ensemble: dict[str, Any] | None = None
    process: tuple[int, int] | None = None
    weights_sha256: str | None = None


@dataclass
class PreparedData:
    """Stage 1's result: the data as token ids.

    Attributes:
        config: the configuration with the dataset's defaults filled in (what ``run.json`` holds).
        splits: the raw texts and labels of train / validation / test.
        tokenizer: the tokenizer the ids come from (saved with the run).
        encoded: the token ids of every split (full length, before truncation).
    """

    config: TrainConfig
    splits: DatasetSplits
    tokenizer: Tokenizer
    encoded: EncodedSplits

    @property
    def spec(self) -> DatasetSpec:
        """The dataset's registry entry (or the one made for a user's file)."""
        return self.splits.spec

    @property
    def vocabulary(self) -> Vocabulary:
        """The token vocabulary (with n-grams: the larger one the n-grams are built from)."""
        return self.encoded.vocabulary

    @property
    def num_classes(self) -> int:
        """How many classes the labels have."""
        return len(self.spec.class_names)


@dataclass
class Features:
    """Stage 2's result: what the model is fed.

    Attributes:
        spec: how token ids become model inputs (saved in ``run.json``).
        train: model inputs of the training split (validation, test likewise).
        ngrams: the n-gram vocabulary, or ``None`` without n-grams.
    """

    spec: FeatureSpec
    train: ModelInputs
    validation: ModelInputs
    test: ModelInputs
    ngrams: NgramVocabulary | CharNgramVocabulary | None = None

    @property
    def pad_to(self) -> int | None:
        """The fixed padded length (the seed recipe) or ``None`` (per-batch padding)."""
        return self.spec.pad_to


@dataclass
class EnsembleFit:
    """Stage 6's result: the NB-LR model next to the BiLSTM and what was chosen.

    Attributes:
        model: the ensemble as one Keras model (:func:`~bilstm_attention.model.ensemble_classifier`:
            the BiLSTM and the NB-LR weights, averaged); what ``model.keras`` holds.
        nblr: the fitted NB-weighted logistic regression.
        components: the averaging weight, ``C`` and each part's validation accuracy (the
            test accuracies are added by :func:`evaluate`); reported in ``metrics.json``.
    """

    model: keras.Model
    nblr: NBLogisticRegression
    components: dict[str, Any]


@dataclass
class UnlabeledReviews:
    """The dataset's unlabeled reviews (IMDB's ``unsup``), read once for every stage that uses them.

    Attributes:
        texts: the reviews.
        ids: their full token ids, numbered with the run's vocabulary.
    """

    texts: list[str]
    ids: list[np.ndarray]


@dataclass
class Teacher:
    """What the BiLSTM learns from with ``ngrams.teacher_weight`` (:func:`teacher_targets`).

    Attributes:
        nblr: NB-LR fitted on all of train (the ensemble's part, fitted before the BiLSTM).
        targets: the soft target of each training review.
        out_of_fold_accuracy: accuracy of NB-LR's out-of-fold probabilities on the training labels.
    """

    nblr: NBLogisticRegression
    targets: np.ndarray
    out_of_fold_accuracy: float


@dataclass
class DistillationSet:
    """The unlabeled reviews the BiLSTM also learns from with ``fit.distill_from``
    (:func:`distillation_reviews`).

    Attributes:
        tokens: their BiLSTM inputs, truncated as the training reviews are.
        targets: the teacher run's probability of the positive class for each.
        report: what ``metrics.json`` records of it (the teacher, how many reviews, the
            share the teacher calls positive, its accuracy on this run's validation split).
    """

    tokens: list[np.ndarray]
    targets: np.ndarray
    report: dict[str, Any]


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time of every epoch (``self.seconds``)."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


class EmbeddingStatisticsRefresh(keras.callbacks.Callback):
    """Recomputes a :class:`NormalizedEmbedding`'s stored statistics from its table before
    validation and at the end of each epoch.

    Placed after ``keras.callbacks.SwapEMAWeights``: the averaged table is then scored and
    checkpointed with its own statistics (the stored ones are those of the last training
    step's table), as the saved model will use them."""

    def __init__(self, embedding: NormalizedEmbedding) -> None:
        super().__init__()
        self.embedding = embedding

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.embedding.update_statistics()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.embedding.update_statistics()


class _Stopwatch:
    """``with _Stopwatch(timings, "load_seconds"):`` records the block's wall time."""

    def __init__(self, timings: Timings, key: str) -> None:
        self.timings, self.key = timings, key

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.key] = time.perf_counter() - self._start


# --- entry points ----------------------------------------------------------------------


def train(config: TrainConfig, run_dir: str | Path, *, verbose: int | None = None) -> RunResult:
    """Train a classifier and write a self-contained run directory.

    Args:
        config: what to train.
        run_dir: the run directory; it must not exist or must be empty (nothing is
            overwritten: :class:`~bilstm_attention.errors.RunDirectoryExistsError`).
        verbose: Keras progress: 1 = bar, 2 = one line per epoch (default: bar on a terminal).

    With ``config.runtime.distributed`` this process joins the multi-process job named by the
    ``KERAS_DISTRIBUTION_*`` variables (:mod:`bilstm_attention.training.distributed`); process
    0 writes ``run_dir``, the others train in a scratch directory that is removed.

    Returns:
        A :class:`RunResult`.
    """
    cluster = distributed.join(config)
    if cluster is not None and not cluster.writes_run:
        with tempfile.TemporaryDirectory(prefix=f"bilstm-attention-process{cluster.process_id}-") as scratch:
            run = RunDirectory(Path(scratch) / "run")
            run.create(resume=False)
            result = _run(config, run, resume=False, verbose=verbose, cluster=cluster)
        return dataclasses.replace(result, run_dir=Path(run_dir))
    run = RunDirectory(Path(run_dir))
    run.create(resume=False)
    return _run(config, run, resume=False, verbose=verbose, cluster=cluster)


def resume(run_dir: str | Path, *, verbose: int | None = None) -> RunResult:
    """Continue an interrupted run from its last finished epoch, with its stored configuration.

    ``run.json`` may hold the configuration in the nested form or in the flat one of
    versions before 0.2.

    Raises:
        ModelLoadError: ``run_dir`` holds no run to resume.
        RunFinishedError: the run finished already (its ``metrics.json`` exists);
            nothing in it is changed.
    """
    run = RunDirectory(Path(run_dir))
    if run.run_json.is_file() and TrainConfig.from_dict(run.read_run_json()["train_config"]).runtime.distributed:
        raise ConfigError(
            f"{run.root} was trained by several processes (--distributed); resuming one is not supported: "
            "train it again"
        )
    run.create(resume=True)  # refuses a run that finished (RunFinishedError)
    config = TrainConfig.from_dict(run.read_run_json()["train_config"])
    return _run(config, run, resume=True, verbose=verbose)


def _run(
    config: TrainConfig,
    run: RunDirectory,
    *,
    resume: bool,
    verbose: int | None,
    cluster: distributed.Cluster | None = None,
) -> RunResult:
    strategy = make_strategy(config.runtime.strategy)
    keras.utils.set_random_seed(config.runtime.seed)
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    timings: Timings = {}

    prepared = prepare_data(config, timings, verbose=verbose)
    features = build_features(prepared, timings)
    classifier_config = classifier_config_for(prepared, features)
    unlabeled = reviews_to_label(prepared, timings, verbose=verbose)
    distillation = distillation_reviews(prepared, features, unlabeled, timings, verbose=verbose)
    if not resume:
        start_run(run, prepared, features, classifier_config)
    model = build_model(
        prepared,
        features,
        classifier_config,
        strategy,
        timings,
        pretrain=not (resume and run.backup_dir.exists()),
        unlabeled=unlabeled,
        verbose=verbose,
    )
    teacher = None
    if config.ngrams.teacher_weight is not None:
        nblr = fit_ngram_model(prepared, features, timings, unlabeled=unlabeled, verbose=verbose)
        teacher = teacher_targets(prepared, features, nblr, timings, verbose=verbose)
    fit(
        model,
        classifier_config,
        prepared,
        features,
        run,
        timings,
        resume=resume,
        verbose=verbose,
        shard=cluster.shard if cluster is not None else None,
        targets=teacher.targets if teacher is not None else None,
        distillation=distillation,
    )
    if cluster is not None:
        digest = distributed.weights_digest(model)
        model = distributed.local_copy(model, classifier_config)
        if not cluster.writes_run:
            history = _history_from_csv(run.history_csv)
            return RunResult(run.root, {}, history, timings, process=cluster.shard, weights_sha256=digest)
    ensemble = (
        fit_ngram_part(model, prepared, features, timings, teacher=teacher, unlabeled=unlabeled, verbose=verbose)
        if config.ngrams.ensemble
        else None
    )
    if ensemble is not None:
        model = ensemble.model
        if distillation is not None:
            ensemble.components["distillation"] = distillation.report
    test_metrics = evaluate(model, prepared, features, ensemble, timings)
    result = write_run(run, model, prepared, features, test_metrics, timings, ensemble)
    if cluster is not None:
        result = dataclasses.replace(result, process=cluster.shard, weights_sha256=digest)
    return result


# --- 1. prepare the data -----------------------------------------------------------------


def load_splits(config: TrainConfig) -> DatasetSplits:
    """Load the train / validation / test texts of ``config.data`` (a registry dataset or a file)."""
    data = config.data
    if data.file is not None:
        return data_lib.load_file(
            data.file,
            text_column=data.text_column,
            label_column=data.label_column,
            label_map=data.label_map,
            language=data.language,
            encoding=data.encoding,
            sep=data.sep,
            validation_fraction=data.validation_fraction,
            seed=config.runtime.seed,
            limit=data.limit,
        )
    assert data.dataset is not None  # TrainConfig.validate: exactly one of dataset and file
    return data_lib.load_dataset(
        data.dataset,
        data_dir=data.data_dir,
        path=data.path,
        validation_fraction=data.validation_fraction,
        limit=data.limit,
    )


def resolve_defaults(config: TrainConfig, spec: DatasetSpec) -> TrainConfig:
    """Fill the ``None`` text settings of ``config`` from the dataset's registry entry.

    Raises:
        ConfigError: no tokenizer is given and the data has no default (a user's file
            without ``language``).
    """
    text = config.text
    tokenizer = text.tokenizer or spec.tokenizer
    if tokenizer is None:
        raise ConfigError(
            f"no tokenizer for {spec.name!r}: pass --tokenizer (english, kiwi, okt, mecab, syllable, whitespace) "
            "or --language en|ko"
        )
    return dataclasses.replace(
        config,
        text=dataclasses.replace(
            text,
            tokenizer=tokenizer,
            tokenizer_options=text.tokenizer_options or dict(spec.tokenizer_options),
            vocab_size=text.vocab_size or spec.vocab_size or DEFAULT_VOCAB_SIZE,
            max_length=text.max_length or spec.max_length,
        ),
    )


def prepare_data(config: TrainConfig, timings: Timings, *, verbose: int = 2) -> PreparedData:
    """Stage 1: load the splits, fill the dataset's defaults into ``config`` and tokenize.

    With n-grams, tokens are numbered with ``ngrams.token_vocab_size`` ids (the n-grams see
    rare words too; the BiLSTM is cut to ``text.vocab_size`` in :func:`build_features`).
    Records ``load_seconds``, ``tokenize_seconds`` and ``tokenize_from_cache``.

    Raises:
        ConfigError: ``ngrams.self_training`` or ``fit.distill_from`` on data without unlabeled
            reviews (before tokenizing).
    """
    with _Stopwatch(timings, "load_seconds"):
        splits = load_splits(config)
    wanting_unlabeled = _options_reading_unlabeled(config)
    if wanting_unlabeled and not _has_unlabeled_reviews(config, splits.spec):
        _no_unlabeled_reviews(config, splits.spec, wanting_unlabeled[0])
    config = resolve_defaults(config, splits.spec)
    text = config.text
    assert text.tokenizer is not None and text.vocab_size is not None  # resolve_defaults
    tokenizer = get_tokenizer(text.tokenizer, **text.tokenizer_options)
    token_vocab_size = max(text.vocab_size, config.ngrams.token_vocab_size) if config.ngrams.order else text.vocab_size
    with _Stopwatch(timings, "tokenize_seconds"):
        encoded = data_lib.encode_dataset(
            splits, tokenizer, token_vocab_size, min_count=text.min_count, cache_dir=config.runtime.cache_dir
        )
    timings["tokenize_from_cache"] = bool(encoded.from_cache)
    return PreparedData(config, splits, tokenizer, encoded)


# --- 2. build the features ---------------------------------------------------------------


def build_features(prepared: PreparedData, timings: Timings) -> Features:
    """Stage 2: the n-gram vocabulary (built on train only) and every split's model inputs.

    Records ``ngram_vocabulary_seconds`` when there are n-grams.

    Raises:
        ConfigError: the NB-LR ensemble on data with more than two classes.
    """
    config = prepared.config
    ngram_config = config.ngrams
    ngrams = None
    train_ngrams = None  # the training texts' character n-grams, counted when the table is built
    if ngram_config.order:
        sizes = {"order": ngram_config.order, "max_size": ngram_config.vocab_size, "min_count": ngram_config.min_count}
        with _Stopwatch(timings, "ngram_vocabulary_seconds"):
            if ngram_config.unit == "char":
                ngrams, train_ngrams = CharNgramVocabulary.build_and_encode(prepared.splits.train.texts, **sizes)
            else:
                ngrams = NgramVocabulary.build(prepared.encoded.train.ids, base=len(prepared.vocabulary) + 1, **sizes)
    if ngram_config.ensemble and prepared.num_classes != 2:
        raise ConfigError(f"ngram_model 'nblr' needs two classes; {prepared.spec.name!r} has {prepared.num_classes}")
    assert config.text.vocab_size is not None  # resolve_defaults
    spec = FeatureSpec(
        max_length=config.text.max_length,
        truncation=config.text.truncation,
        deep_vocab_size=min(config.text.vocab_size, len(prepared.vocabulary)),
        pad_to=config.text.max_length if config.fit.pad_to_max_length else None,
        ngrams=ngrams,
    )
    encoded = prepared.encoded
    return Features(
        spec,
        train=(
            spec.inputs(encoded.train.ids, prepared.splits.train.texts)
            if train_ngrams is None
            else ModelInputs(spec.tokens(encoded.train.ids), train_ngrams)
        ),
        validation=spec.inputs(encoded.validation.ids, prepared.splits.validation.texts),
        test=spec.inputs(encoded.test.ids, prepared.splits.test.texts),
        ngrams=ngrams,
    )


def classifier_config_for(prepared: PreparedData, features: Features) -> ClassifierConfig:
    """The classifier's configuration with the sizes the data decides filled in."""
    config = prepared.config
    joint = features.ngrams is not None and not config.ngrams.ensemble
    return dataclasses.replace(
        config.classifier,
        vocab_size=features.spec.deep_vocab_size,
        num_classes=prepared.num_classes,
        max_length=features.pad_to if features.pad_to is not None else config.classifier.max_length,
        ngram_vocab_size=len(features.ngrams) if joint and features.ngrams is not None else 0,
    )


# --- 3. start the run directory ------------------------------------------------------------


def start_run(
    run: RunDirectory, prepared: PreparedData, features: Features, classifier_config: ClassifierConfig
) -> None:
    """Stage 3: write ``run.json`` (configuration in the nested form, dataset facts, features),
    the tokenizer, the vocabulary and the n-gram table: what loading and resuming need."""
    spec = prepared.spec
    write_json(
        run.run_json,
        {
            "format_version": RUN_FORMAT_VERSION,
            "package_version": __version__,
            "train_config": prepared.config.to_dict(),
            "classifier_config": classifier_config.to_dict(),
            "dataset": {
                "name": spec.name,
                "language": spec.language,
                "class_names": list(spec.class_names),
                "fingerprint": prepared.splits.fingerprint,
            },
            "features": features.spec.to_json(),
        },
    )
    write_json(run.tokenizer_json, prepared.tokenizer.get_config())
    prepared.vocabulary.save(run.vocabulary_json)
    if features.ngrams is not None:
        features.ngrams.save(run.ngrams_file)


# --- 4. build the model --------------------------------------------------------------------


def build_model(
    prepared: PreparedData,
    features: Features,
    classifier_config: ClassifierConfig,
    strategy: tf.distribute.Strategy,
    timings: Timings,
    *,
    pretrain: bool = True,
    unlabeled: UnlabeledReviews | None = None,
    verbose: int = 2,
) -> keras.Model:
    """Stage 4: build the classifier under ``strategy`` and, with ``pretrain``, start it from
    what the training (and unlabeled) reviews teach without labels (``unlabeled``: the
    unlabeled reviews if they were read already, else they are read here when needed):

    - with ``word2vec`` settings, its embedding from word2vec vectors (records
      ``pretrain_seconds`` and ``pretrained_vectors``; reading and tokenizing the unlabeled
      reviews, ``unlabeled_tokenize_seconds``);
    - then, with ``language_model`` settings, its embedding and first BiLSTM from forward and
      backward language models (:mod:`bilstm_attention.training.language_model`; records
      ``language_model_seconds``, ``language_model_loss``, ``language_model_tokens`` and
      ``language_model_from_cache``).

    A resumed run restores its weights instead (``pretrain=False``). A
    :class:`NormalizedEmbedding` gets the vocabulary's training counts as its frequencies."""
    config = prepared.config
    with strategy.scope():
        model = build_classifier(classifier_config)
    embedding = model.get_layer(EMBEDDING_LAYER_NAME)
    if isinstance(embedding, NormalizedEmbedding):
        embedding.set_frequencies(token_counts(prepared.vocabulary, embedding.input_dim))
    if not pretrain or (config.word2vec is None and config.language_model is None):
        return model
    wants_unlabeled = any(
        settings is not None and settings.use_unlabeled for settings in (config.word2vec, config.language_model)
    )
    if unlabeled is None and wants_unlabeled:
        with _Stopwatch(timings, "unlabeled_tokenize_seconds"):
            unlabeled = unlabeled_reviews(prepared, verbose=verbose)
    unlabeled_token_ids = unlabeled.ids if unlabeled is not None and wants_unlabeled else []
    if config.word2vec is not None:
        with _Stopwatch(timings, "pretrain_seconds"):
            extra = unlabeled_token_ids if config.word2vec.use_unlabeled else []
            timings["pretrained_vectors"] = pretrain_embedding(model, prepared, extra, verbose=verbose)
    if config.language_model is not None:
        from bilstm_attention.training.language_model import pretrain_encoder

        extra = (
            features.spec.tokens(unlabeled_token_ids)
            if config.language_model.use_unlabeled and unlabeled_token_ids
            else []
        )
        # the language models' heads and optimizer go where the classifier's variables are
        with _Stopwatch(timings, "language_model_seconds"), strategy.scope():
            report = pretrain_encoder(
                model,
                [*features.train.tokens, *extra],
                config.language_model,
                cache_dir=config.runtime.cache_dir or data_lib.default_cache_dir(),
                seed=config.runtime.seed,
                verbose=verbose,
            )
        timings["language_model_loss"] = report.loss
        timings["language_model_tokens"] = report.tokens
        timings["language_model_from_cache"] = report.from_cache
    return model


def unlabeled_reviews(prepared: PreparedData, *, verbose: int = 2) -> UnlabeledReviews:
    """The dataset's unlabeled reviews (IMDB's ``unsup``; none for the other datasets and for a
    user's file) and their token ids, numbered with the run's vocabulary."""
    config = prepared.config
    spec = prepared.spec
    if not _has_unlabeled_reviews(config, spec):
        return UnlabeledReviews([], [])
    texts = list(
        data_lib.load_unlabeled(
            spec.name, data_dir=config.data.data_dir, path=config.data.path, limit=config.data.limit
        )
    )
    ids = prepared.vocabulary.encode_batch(prepared.tokenizer.tokenize_batch(texts, progress=verbose == 1))
    return UnlabeledReviews(texts, ids)


def reviews_to_label(prepared: PreparedData, timings: Timings, *, verbose: int = 2) -> UnlabeledReviews | None:
    """With ``ngrams.self_training`` or ``fit.distill_from``, the unlabeled reviews NB-LR or the
    teacher run will label (read before any training, so that a dataset without them fails at
    once); ``None`` without either.

    Raises:
        ConfigError: either asked of a dataset (or a user's file) with no unlabeled reviews.
    """
    config = prepared.config
    wanting_unlabeled = _options_reading_unlabeled(config)
    if not wanting_unlabeled:
        return None
    with _Stopwatch(timings, "unlabeled_tokenize_seconds"):
        unlabeled = unlabeled_reviews(prepared, verbose=verbose)
    if not unlabeled.ids:
        _no_unlabeled_reviews(config, prepared.spec, wanting_unlabeled[0])
    return unlabeled


def _options_reading_unlabeled(config: TrainConfig) -> list[str]:
    """The flat names of the settings given that read the unlabeled reviews."""
    settings = {"nblr_self_training": config.ngrams.self_training, "distill_from": config.fit.distill_from}
    return [name for name, value in settings.items() if value is not None]


def _has_unlabeled_reviews(config: TrainConfig, spec: DatasetSpec) -> bool:
    return bool(spec.label_rule.unlabeled) and config.data.file is None


def _no_unlabeled_reviews(config: TrainConfig, spec: DatasetSpec, option: str) -> NoReturn:
    source = "a user's file" if config.data.file is not None else f"dataset {spec.name!r}"
    raise ConfigError(
        f"{option} needs unlabeled reviews, and {source} has none "
        "(IMDB's unsup reviews are the only ones the registry knows)"
    )


def pretrain_embedding(
    model: keras.Model, prepared: PreparedData, unlabeled: list[np.ndarray] | None = None, *, verbose: int = 2
) -> int:
    """Put word2vec vectors learned on the training reviews (and ``unlabeled``, the token ids
    of unlabeled ones) into the model's ``embedding`` layer; returns how many tokens got one."""
    config = prepared.config
    settings = config.word2vec
    assert settings is not None
    layer = model.get_layer(EMBEDDING_LAYER_NAME)
    matrix, found = pretrain_embeddings(
        [*prepared.encoded.train.ids, *(unlabeled or [])],
        keras.ops.convert_to_numpy(layer.embeddings),
        settings,
        seed=config.runtime.seed,
        progress=verbose == 1,
    )
    layer.embeddings.assign(matrix)
    if isinstance(layer, NormalizedEmbedding):
        layer.update_statistics()
    return found


def token_counts(vocabulary: Vocabulary, size: int) -> list[int]:
    """The vocabulary's training counts for ids ``0 .. size - 1`` (0 where it has none)."""
    counts = list(vocabulary.counts or [])[:size]
    return counts + [0] * (size - len(counts))


# --- 5. fit --------------------------------------------------------------------------------


def _history_from_csv(path: Path) -> dict[str, list[float]]:
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    history: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if key != "epoch":
                history.setdefault(key, []).append(float(value))
    return history


def fit(
    model: keras.Model,
    classifier_config: ClassifierConfig,
    prepared: PreparedData,
    features: Features,
    run: RunDirectory,
    timings: Timings,
    *,
    resume: bool = False,
    verbose: int = 2,
    shard: tuple[int, int] | None = None,
    targets: np.ndarray | None = None,
    distillation: DistillationSet | None = None,
) -> None:
    """Stage 5: ``model.fit`` on length-bucketed batches with the run's callbacks: resume
    state (``BackupAndRestore``), best-epoch checkpoint, ``history.csv``, early stopping,
    TensorBoard; with ``fit.reduce_lr_factor`` the learning rate falls after each epoch that is
    not the best so far, with ``fit.lr_schedule`` "cosine" it follows
    :func:`~bilstm_attention.training.schedules.cosine_learning_rate`. With early stopping the best epoch's weights are restored at the end.
    With ``fit.adversarial_epsilon`` the model is fitted through :class:`AdversarialTraining`
    (same weights, compiled as ``classifier_config`` says). ``shard``: this process's rows of
    every batch in distributed training. ``targets``: what the training reviews are fitted to
    instead of their labels (the soft targets of :func:`teacher_targets`). ``distillation``:
    unlabeled reviews trained on next to them, fitted to a teacher's probabilities
    (:func:`distillation_reviews`). Records ``epoch_seconds``."""
    config = prepared.config
    encoded = prepared.encoded
    joint = features.ngrams is not None and not config.ngrams.ensemble
    batching: dict[str, Any] = {
        "batch_size": config.fit.batch_size,
        "seed": config.runtime.seed,
        "bucketing": config.fit.bucketing,
        "pad_to": features.pad_to,
        "shard": shard,
    }
    train_tokens = features.train.tokens
    train_targets = encoded.train.labels if targets is None else targets
    if distillation is not None:  # never with the joint branch (TrainConfig.validate)
        train_tokens = [*train_tokens, *distillation.tokens]
        train_targets = np.concatenate([train_targets.astype(np.float32), distillation.targets])
    train_data = training_dataset(
        train_tokens,
        train_targets,
        ngram_ids=features.train.ngrams if joint else None,
        **batching,
    )
    val_data = training_dataset(
        features.validation.tokens,
        encoded.validation.labels,
        ngram_ids=features.validation.ngrams if joint else None,
        **batching,
    )

    history_so_far = _history_from_csv(run.history_csv) if resume else {}
    best_so_far = max(history_so_far.get("val_accuracy", []), default=None)
    timer = EpochTimer()
    callbacks: list[keras.callbacks.Callback] = [
        # saves the weights being trained (and the averages in the optimizer) before the swap
        keras.callbacks.BackupAndRestore(str(run.backup_dir), double_checkpoint=True),
    ]
    if classifier_config.ema_momentum is not None:
        # validation and the best-epoch checkpoint see the moving averages of the weights
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
        embedding = model.get_layer(EMBEDDING_LAYER_NAME)
        if isinstance(embedding, NormalizedEmbedding):
            callbacks.append(EmbeddingStatisticsRefresh(embedding))
    if config.fit.reduce_lr_factor is not None:
        # before the CSV log, which then records the rate each epoch trained with
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_accuracy", mode="max", factor=config.fit.reduce_lr_factor, patience=0, verbose=verbose
            )
        )
    schedule = schedule_callback(config.fit.lr_schedule, classifier_config.learning_rate, config.fit.epochs)
    if schedule is not None:
        callbacks.append(schedule)  # before the CSV log, as above
    callbacks += [
        keras.callbacks.ModelCheckpoint(
            str(run.best_checkpoint),
            monitor="val_accuracy",
            mode="max",
            save_best_only=True,
            initial_value_threshold=best_so_far,
        ),
        keras.callbacks.CSVLogger(str(run.history_csv), append=resume),
        timer,
    ]
    if config.fit.patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=config.fit.patience)
        )
    if config.runtime.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run.log_dir), write_graph=False))

    trainee = model
    if config.fit.adversarial_epsilon is not None:
        # the optimizer's variables go where the model's are (tf.distribute on TensorFlow)
        strategy = getattr(model, "distribute_strategy", None)
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            trainee = AdversarialTraining(
                model,
                epsilon=config.fit.adversarial_epsilon,
                weight=config.fit.adversarial_weight,
                consistency=config.fit.adversarial_consistency,
            )
            compile_classifier(trainee, classifier_config)
            # the saved classifier carries the optimizer state that training built
            compile_classifier(model, classifier_config, optimizer=trainee.optimizer)

    run.best_checkpoint.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # bucketed datasets have no known length: Keras learns it in the first epoch and
        # warns that the input "ran out of data", which is expected here
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        trainee.fit(
            train_data,
            validation_data=val_data,
            epochs=config.fit.epochs,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,
        )
    timings["epoch_seconds"] = timer.seconds
    if config.fit.patience is not None and run.best_checkpoint.is_file():
        _restore_best(model, run.best_checkpoint)
    embedding = model.get_layer(EMBEDDING_LAYER_NAME)
    if isinstance(embedding, NormalizedEmbedding):
        # the stored statistics are those of the last training step's table, before its update
        embedding.update_statistics()


def _restore_best(model: keras.Model, checkpoint: Path) -> None:
    """Copy the weights of the best-epoch checkpoint (the classifier, or the
    :class:`AdversarialTraining` around it) into ``model``."""
    best = keras.saving.load_model(checkpoint, compile=False)
    if isinstance(best, AdversarialTraining):
        best = best.classifier
    model.set_weights(best.get_weights())


# --- 6. fit the n-gram part (the ensemble) ---------------------------------------------------


def fit_ngram_model(
    prepared: PreparedData,
    features: Features,
    timings: Timings,
    *,
    unlabeled: UnlabeledReviews | None = None,
    verbose: int = 2,
) -> NBLogisticRegression:
    """NB-LR on the training split's n-grams, ``C`` chosen on validation; with
    ``ngrams.self_training``, fitted again with the ``unlabeled`` reviews it labels
    (:func:`~bilstm_attention.features.nblr.self_train_nblr`; read here if not given). It does
    not depend on the BiLSTM: stage 6 fits it, or, with ``ngrams.teacher_weight``, the trainer
    fits it before stage 5. Records ``nblr_seconds`` (and ``nblr_self_training_seconds``)."""
    config = prepared.config
    encoded = prepared.encoded
    assert features.ngrams is not None and features.train.ngrams is not None and features.validation.ngrams is not None
    num_features = len(features.ngrams)
    train_features = ngram_matrix(features.train.ngrams, num_features)
    validation_features = ngram_matrix(features.validation.ngrams, num_features)
    settings = {"c_values": config.ngrams.nblr_c, "alpha": config.ngrams.nblr_alpha, "progress": verbose == 1}
    with _Stopwatch(timings, "nblr_seconds"):
        nblr = fit_nblr(
            train_features, encoded.train.labels, validation_features, encoded.validation.labels, **settings
        )
    if config.ngrams.self_training is None:
        return nblr
    if unlabeled is None:
        unlabeled = reviews_to_label(prepared, timings, verbose=verbose)
    assert unlabeled is not None
    with _Stopwatch(timings, "nblr_self_training_seconds"):
        unlabeled_ngrams = features.spec.ngram_ids(unlabeled.ids, unlabeled.texts)
        assert unlabeled_ngrams is not None
        return self_train_nblr(
            nblr,
            train_features,
            encoded.train.labels,
            ngram_matrix(unlabeled_ngrams, num_features),
            validation_features,
            encoded.validation.labels,
            confidence=config.ngrams.self_training,
            **settings,
        )


def teacher_targets(
    prepared: PreparedData, features: Features, nblr: NBLogisticRegression, timings: Timings, *, verbose: int = 2
) -> Teacher:
    """The soft targets the BiLSTM is fitted to with ``ngrams.teacher_weight`` ``W``:
    ``(1 - W) * label + W * p``, ``p`` NB-LR's out-of-fold probability of each training review
    (``ngrams.teacher_folds`` folds at the ``C`` validation chose). Records ``teacher_seconds``."""
    config = prepared.config
    weight = config.ngrams.teacher_weight
    assert weight is not None and features.ngrams is not None and features.train.ngrams is not None
    labels = prepared.encoded.train.labels
    with _Stopwatch(timings, "teacher_seconds"):
        probabilities = out_of_fold_probabilities(
            ngram_matrix(features.train.ngrams, len(features.ngrams)),
            labels,
            C=nblr.C,
            alpha=config.ngrams.nblr_alpha,
            folds=config.ngrams.teacher_folds,
            seed=config.runtime.seed,
            progress=verbose == 1,
        )
    return Teacher(
        nblr,
        ((1.0 - weight) * labels + weight * probabilities).astype(np.float32),
        float(((probabilities >= 0.5) == labels).mean()),
    )


def distillation_reviews(
    prepared: PreparedData,
    features: Features,
    unlabeled: UnlabeledReviews | None,
    timings: Timings,
    *,
    verbose: int = 2,
) -> DistillationSet | None:
    """With ``fit.distill_from``, the unlabeled reviews with the probability the teacher run's
    model gives each (``fit.distill_part``: the whole saved model, with an ensemble its average,
    or its BiLSTM part alone); the BiLSTM is fitted to them next to the training reviews
    (knowledge distillation, Hinton et al. 2015, on unlabeled data). ``None`` without it.
    Records ``distillation_seconds``.

    The teacher must have been trained on this run's splits (same dataset, data fingerprint,
    validation fraction and limit): one trained on other splits may have learned this run's
    validation reviews, and choosing the epoch and the average on them would then mean nothing.

    Raises:
        ConfigError: the run cannot be loaded, or was trained on other data or splits, or has
            other than two classes (the message names ``distill_from``).
    """
    config = prepared.config
    path = config.fit.distill_from
    if path is None:
        return None
    assert unlabeled is not None  # reviews_to_label reads them for distill_from
    from bilstm_attention.inference.sentiment_model import load_model

    with _Stopwatch(timings, "distillation_seconds"):
        try:
            teacher = load_model(path)
        except ModelLoadError as exc:
            raise ConfigError(f"distill_from {path!r}: {exc}") from exc
        _check_teacher_data(path, teacher.run_info, prepared)
        if len(teacher.class_names) != 2:
            raise ConfigError(
                f"distill_from {path!r}: the run has {len(teacher.class_names)} classes; distillation "
                "fits one probability per review, so it needs two"
            )
        predict = teacher.predict_bilstm if config.fit.distill_part == "bilstm" else teacher.predict
        targets = predict(unlabeled.texts, batch_size=config.fit.batch_size, progress=verbose == 1)
        validation = prepared.splits.validation
        validation_probabilities = predict(list(validation.texts), batch_size=config.fit.batch_size)
    labels = prepared.encoded.validation.labels
    report = {
        "teacher_run": str(path),
        "teacher_part": config.fit.distill_part,
        "reviews": len(targets),
        "teacher_positive_share": float((targets >= 0.5).mean()),
        "teacher_validation_accuracy": float(((validation_probabilities >= 0.5) == labels).mean()),
    }
    return DistillationSet(features.spec.tokens(unlabeled.ids), targets.astype(np.float32), report)


def _check_teacher_data(path: str, run_info: dict[str, Any], prepared: PreparedData) -> None:
    """The teacher run must have read the same data and split it the same way."""
    dataset = run_info.get("dataset", {})
    data = run_info.get("train_config", {}).get("data", {})
    ours = prepared.config.data
    differences = [
        what
        for what, theirs, mine in (
            ("dataset", dataset.get("name"), prepared.spec.name),
            ("data fingerprint", dataset.get("fingerprint"), prepared.splits.fingerprint),
            ("validation_fraction", data.get("validation_fraction"), ours.validation_fraction),
            ("limit", data.get("limit"), ours.limit),
        )
        if theirs != mine
    ]
    if differences:
        raise ConfigError(
            f"distill_from {path!r} was trained on other data or splits ({', '.join(differences)} differ): "
            "its model may have learned this run's validation reviews; give a run of the same dataset and splits"
        )


def fit_ngram_part(
    model: keras.Model,
    prepared: PreparedData,
    features: Features,
    timings: Timings,
    *,
    teacher: Teacher | None = None,
    unlabeled: UnlabeledReviews | None = None,
    verbose: int = 2,
) -> EnsembleFit:
    """Stage 6, with ``ngrams.model == "nblr"``: fit NB-LR on the n-grams (:func:`fit_ngram_model`,
    with the ``unlabeled`` reviews for self-training, unless the ``teacher``'s NB-LR was fitted
    already) and the weight of the average ``w * BiLSTM + (1 - w) * NB-LR`` (lowest validation
    log-loss), and both as one Keras model. Records ``mix_seconds``."""
    config = prepared.config
    encoded = prepared.encoded
    nblr = (
        teacher.nblr
        if teacher is not None
        else fit_ngram_model(prepared, features, timings, unlabeled=unlabeled, verbose=verbose)
    )
    assert features.ngrams is not None and features.validation.ngrams is not None
    with _Stopwatch(timings, "mix_seconds"):
        validation_features = ngram_matrix(features.validation.ngrams, len(features.ngrams))
        deep_val = predict_probabilities(
            model, features.validation.tokens, batch_size=config.fit.batch_size, pad_to=features.pad_to
        )
        linear_val = nblr.predict_proba(validation_features)
        labels = encoded.validation.labels
        weight, accuracy = best_mix_weight(deep_val, linear_val, labels)
        ensemble = ensemble_classifier(model, nblr.weights, nblr.bias, weight)
    components = {
        "deep_weight": weight,
        "nblr_C": nblr.C,
        "nblr_validation_accuracy_by_C": {str(c): a for c, a in nblr.validation_accuracy.items()},
        "deep_validation_accuracy": float(((deep_val >= 0.5) == labels).mean()),
        "nblr_validation_accuracy": float(((linear_val >= 0.5) == labels).mean()),
        "ensemble_validation_accuracy": accuracy,
        "deep_weight_chosen_by": "validation log-loss",
    }
    if nblr.self_training is not None:
        components["nblr_self_training"] = dataclasses.asdict(nblr.self_training)
    if teacher is not None:
        components["teacher_weight"] = config.ngrams.teacher_weight
        components["teacher_out_of_fold_accuracy"] = teacher.out_of_fold_accuracy
    return EnsembleFit(ensemble, nblr, components)


# --- 7. evaluate -----------------------------------------------------------------------------


def evaluate(
    model: keras.Model, prepared: PreparedData, features: Features, ensemble: EnsembleFit | None, timings: Timings
) -> dict[str, Any]:
    """Stage 7: the test split's metrics (see :func:`~bilstm_attention.evaluation.metrics.classification_report`).

    For an ensemble, the BiLSTM's and NB-LR's own test accuracies are added to
    ``ensemble.components``. Records ``test_predict_seconds``.
    """
    config = prepared.config
    labels = prepared.encoded.test.labels
    test = features.test
    with _Stopwatch(timings, "test_predict_seconds"):
        if ensemble is not None:
            probabilities, deep_probabilities = predict_probabilities(
                _with_deep_output(model),
                test.tokens,
                batch_size=config.fit.batch_size,
                pad_to=features.pad_to,
                ngram_ids=test.ngrams,
            )
        else:
            probabilities = predict_probabilities(
                model, test.tokens, batch_size=config.fit.batch_size, pad_to=features.pad_to, ngram_ids=test.ngrams
            )
    if ensemble is not None:
        assert features.ngrams is not None and test.ngrams is not None
        ensemble.components["deep_test_accuracy"] = classification_report(
            labels, deep_probabilities, prepared.num_classes
        )["accuracy"]
    test_metrics = classification_report(labels, probabilities, prepared.num_classes)
    if ensemble is not None:
        nblr_probabilities = ensemble.nblr.predict_proba(ngram_matrix(test.ngrams, len(features.ngrams)))
        ensemble.components["nblr_test_accuracy"] = classification_report(
            labels, nblr_probabilities, prepared.num_classes
        )["accuracy"]
    return test_metrics


def _with_deep_output(ensemble: keras.Model) -> keras.Model:
    """The ensemble model with the BiLSTM's own probability as a second output."""
    parts = ensemble_parts(ensemble)
    assert parts is not None
    return keras.Model(ensemble.inputs, [ensemble.output, parts[1]])


# --- 8. write the run ------------------------------------------------------------------------


def write_run(
    run: RunDirectory,
    model: keras.Model,
    prepared: PreparedData,
    features: Features,
    test_metrics: dict[str, Any],
    timings: Timings,
    ensemble: EnsembleFit | None,
) -> RunResult:
    """Stage 8: write the trained model (``model.keras``), ``history.json`` and
    ``metrics.json`` (test metrics, timings, counts, the ensemble's choices), each atomically.
    This is the last stage: a run directory with ``metrics.json`` is complete."""
    save_keras_model(model, run.model_file)
    history = _history_from_csv(run.history_csv)
    counts = {
        "train": len(features.train),
        "validation": len(features.validation),
        "test": len(features.test),
        "vocabulary": len(prepared.vocabulary),
        "ngrams": len(features.ngrams) if features.ngrams is not None else 0,
    }
    write_json(run.history_json, history)
    report: dict[str, Any] = {"test": test_metrics, "timings": timings, "counts": counts}
    components = ensemble.components if ensemble is not None else None
    if components:
        report["ensemble"] = components
    write_json(run.metrics_json, report)
    run.write_manifest()  # digests of the files above, checked by load_model; releases the lock
    return RunResult(run.root, test_metrics, history, timings, counts, ensemble=components or None)


__all__ = [
    "EnsembleFit",
    "EpochTimer",
    "Features",
    "PreparedData",
    "RunResult",
    "Timings",
    "build_features",
    "build_model",
    "classifier_config_for",
    "evaluate",
    "fit",
    "fit_ngram_part",
    "load_splits",
    "prepare_data",
    "pretrain_embedding",
    "resolve_defaults",
    "resume",
    "start_run",
    "train",
    "write_run",
]
