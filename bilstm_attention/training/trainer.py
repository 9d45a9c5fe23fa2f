"""One training loop for every dataset: data -> tokens -> tf.data -> fit -> run directory."""

from __future__ import annotations

import csv
import dataclasses
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from bilstm_attention import data as data_lib
from bilstm_attention.errors import ConfigError
from bilstm_attention.features import FeatureSpec
from bilstm_attention.fileio import save_keras_model, write_json
from bilstm_attention.metrics import classification_report
from bilstm_attention.embeddings import pretrain_embeddings
from bilstm_attention.model import build_classifier, ensemble_classifier, ensemble_parts
from bilstm_attention.nblr import NBLogisticRegression, best_mix_weight, fit_nblr, ngram_matrix
from bilstm_attention.ngrams import NgramVocabulary
from bilstm_attention.prediction import predict_probabilities
from bilstm_attention.run_dir import RUN_FORMAT_VERSION, RunDirectory
from bilstm_attention.tokenizers import get_tokenizer
from bilstm_attention.training.config import DEFAULT_VOCAB_SIZE, TrainConfig
from bilstm_attention.training.devices import make_strategy
from bilstm_attention.pipeline import training_dataset
from bilstm_attention.version import __version__


@dataclass
class RunResult:
    """What :func:`train` produced.

    Attributes:
        run_dir: the run directory.
        test_metrics: accuracy, precision, recall, F1, confusion matrix on the test split.
        history: per-epoch metrics (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ...).
        timings: seconds spent loading, tokenizing, per epoch and on test prediction.
        counts: examples per split.
        ensemble: with ``ngram_model="nblr"``: the averaging weight, the NB-LR ``C`` and the
            validation/test accuracy of each part on its own.
    """

    run_dir: Path
    test_metrics: dict[str, Any]
    history: dict[str, list[float]]
    timings: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    ensemble: dict[str, Any] | None = None


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


def _load_splits(config: TrainConfig) -> Any:
    if config.file is not None:
        return data_lib.load_file(
            config.file,
            text_column=config.text_column,
            label_column=config.label_column,
            label_map=config.label_map,
            language=config.language,
            encoding=config.encoding,
            sep=config.sep,
            validation_fraction=config.validation_fraction,
            seed=config.seed,
            limit=config.limit,
        )
    return data_lib.load_dataset(
        config.dataset,
        data_dir=config.data_dir,
        path=config.path,
        validation_fraction=config.validation_fraction,
        limit=config.limit,
    )


def resolve_defaults(config: TrainConfig, spec: Any) -> TrainConfig:
    """Fill the ``None`` fields of ``config`` from the dataset's registry entry.

    Raises:
        ConfigError: no tokenizer is given and the data has no default (a user's file
            without ``language``).
    """
    tokenizer = config.tokenizer or spec.tokenizer
    if tokenizer is None:
        raise ConfigError(
            f"no tokenizer for {spec.name!r}: pass --tokenizer (english, kiwi, okt, mecab, whitespace) "
            "or --language en|ko"
        )
    return dataclasses.replace(
        config,
        tokenizer=tokenizer,
        tokenizer_options=config.tokenizer_options or dict(spec.tokenizer_options),
        vocab_size=config.vocab_size or spec.vocab_size or DEFAULT_VOCAB_SIZE,
        max_length=config.max_length or spec.max_length,
    )


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


def train(config: TrainConfig, run_dir: str | Path, *, verbose: int | None = None) -> RunResult:
    """Train a classifier and write a self-contained run directory.

    Args:
        config: what to train.
        run_dir: the run directory; it must not exist or must be empty (nothing is
            overwritten: :class:`~bilstm_attention.errors.RunDirectoryExistsError`).
        verbose: Keras progress: 1 = bar, 2 = one line per epoch (default: bar on a terminal).

    Returns:
        A :class:`RunResult`.
    """
    run = RunDirectory(Path(run_dir))
    run.create(resume=False)
    return _run(config, run, resume=False, verbose=verbose)


def resume(run_dir: str | Path, *, verbose: int | None = None) -> RunResult:
    """Continue an interrupted run from its last finished epoch, with its stored configuration.

    Raises:
        ModelLoadError: ``run_dir`` holds no run to resume.
    """
    run = RunDirectory(Path(run_dir))
    run.create(resume=True)
    config = TrainConfig.from_dict(run.read_run_json()["train_config"])
    return _run(config, run, resume=True, verbose=verbose)


def _run(config: TrainConfig, run: RunDirectory, *, resume: bool, verbose: int | None) -> RunResult:
    strategy = make_strategy(config.strategy)
    keras.utils.set_random_seed(config.seed)
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2

    timings: dict[str, Any] = {}
    started = time.perf_counter()
    splits = _load_splits(config)
    timings["load_seconds"] = time.perf_counter() - started
    spec = splits.spec
    config = resolve_defaults(config, spec)

    tokenizer = get_tokenizer(config.tokenizer, **config.tokenizer_options)
    started = time.perf_counter()
    token_vocab_size = max(config.vocab_size, config.ngram_token_vocab_size) if config.ngram_order else config.vocab_size
    encoded = data_lib.encode_dataset(
        splits, tokenizer, token_vocab_size, min_count=config.min_count, cache_dir=config.cache_dir
    )
    timings["tokenize_seconds"] = time.perf_counter() - started
    timings["tokenize_from_cache"] = bool(encoded.from_cache)

    vocabulary = encoded.vocabulary
    pad_to = config.max_length if config.pad_to_max_length else None
    ngrams = None
    if config.ngram_order:
        started = time.perf_counter()
        ngrams = NgramVocabulary.build(
            encoded.train.ids,
            order=config.ngram_order,
            base=len(vocabulary) + 1,
            max_size=config.ngram_vocab_size,
            min_count=config.ngram_min_count,
        )
        timings["ngram_vocabulary_seconds"] = time.perf_counter() - started
    ensemble = ngrams is not None and config.ngram_model == "nblr"
    if ensemble and len(spec.class_names) != 2:
        raise ConfigError(f"ngram_model 'nblr' needs two classes; {spec.name!r} has {len(spec.class_names)}")
    features = FeatureSpec(
        max_length=config.max_length,
        truncation=config.truncation,
        deep_vocab_size=min(config.vocab_size, len(vocabulary)),
        pad_to=pad_to,
        ngrams=ngrams,
    )
    train_inputs = features.inputs(encoded.train.ids)
    val_inputs = features.inputs(encoded.validation.ids)
    test_inputs = features.inputs(encoded.test.ids)
    num_classes = len(spec.class_names)
    classifier_config = dataclasses.replace(
        config.classifier,
        vocab_size=features.deep_vocab_size,
        num_classes=num_classes,
        max_length=pad_to if pad_to is not None else config.classifier.max_length,
        ngram_vocab_size=len(ngrams) if ngrams is not None and not ensemble else 0,
    )

    if not resume:
        write_json(
            run.run_json,
            {
                "format_version": RUN_FORMAT_VERSION,
                "package_version": __version__,
                "train_config": config.to_dict(),
                "classifier_config": classifier_config.to_dict(),
                "dataset": {
                    "name": spec.name,
                    "language": spec.language,
                    "class_names": list(spec.class_names),
                    "fingerprint": splits.fingerprint,
                },
                "features": features.to_json(),
            },
        )
        write_json(run.tokenizer_json, tokenizer.get_config())
        vocabulary.save(run.vocabulary_json)
        if ngrams is not None:
            ngrams.save(run.ngrams_file)

    batching = {"batch_size": config.batch_size, "seed": config.seed, "bucketing": config.bucketing, "pad_to": pad_to}
    joint = ngrams is not None and not ensemble
    train_data = training_dataset(
        train_inputs.tokens, encoded.train.labels, ngram_ids=train_inputs.ngrams if joint else None, **batching
    )
    val_data = training_dataset(
        val_inputs.tokens, encoded.validation.labels, ngram_ids=val_inputs.ngrams if joint else None, **batching
    )

    with strategy.scope():
        model = build_classifier(classifier_config)
    if config.word2vec is not None and not (resume and run.backup_dir.exists()):
        started = time.perf_counter()
        counts_pretrained = _pretrain_embeddings(model, config, spec, encoded, tokenizer, vocabulary, verbose)
        timings["pretrain_seconds"] = time.perf_counter() - started
        timings["pretrained_vectors"] = counts_pretrained

    history_so_far = _history_from_csv(run.history_csv) if resume else {}
    best_so_far = max(history_so_far.get("val_accuracy", []), default=None)
    timer = EpochTimer()
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.BackupAndRestore(str(run.backup_dir), double_checkpoint=True),
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
    if config.patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=config.patience)
        )
    if config.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run.log_dir), write_graph=False))

    run.best_checkpoint.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # bucketed datasets have no known length: Keras learns it in the first epoch and
        # warns that the input "ran out of data", which is expected here
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        model.fit(
            train_data, validation_data=val_data, epochs=config.epochs, callbacks=callbacks, verbose=verbose, shuffle=False
        )
    timings["epoch_seconds"] = timer.seconds

    if config.patience is not None and run.best_checkpoint.is_file():
        _restore_best(model, run.best_checkpoint)
    components: dict[str, Any] = {}
    if ensemble:
        started = time.perf_counter()
        model, nblr, components = _fit_ensemble(
            model, config, train_inputs, val_inputs, encoded, pad_to, len(ngrams)
        )
        timings["nblr_seconds"] = time.perf_counter() - started
    save_keras_model(model, run.model_file)

    started = time.perf_counter()
    if ensemble:
        probabilities, deep_probabilities = predict_probabilities(
            _with_deep_output(model), test_inputs.tokens, batch_size=config.batch_size, pad_to=pad_to,
            ngram_ids=test_inputs.ngrams,
        )
        components["deep_test_accuracy"] = classification_report(
            encoded.test.labels, deep_probabilities, num_classes
        )["accuracy"]
    else:
        probabilities = predict_probabilities(
            model, test_inputs.tokens, batch_size=config.batch_size, pad_to=pad_to, ngram_ids=test_inputs.ngrams
        )
    timings["test_predict_seconds"] = time.perf_counter() - started
    test_metrics = classification_report(encoded.test.labels, probabilities, num_classes)
    if ensemble:
        test_features = ngram_matrix(test_inputs.ngrams, len(ngrams))
        components["nblr_test_accuracy"] = classification_report(
            encoded.test.labels, nblr.predict_proba(test_features), num_classes
        )["accuracy"]
    history = _history_from_csv(run.history_csv)
    counts = {
        "train": len(train_inputs),
        "validation": len(val_inputs),
        "test": len(test_inputs),
        "vocabulary": len(vocabulary),
        "ngrams": len(ngrams) if ngrams is not None else 0,
    }
    write_json(run.history_json, history)
    report: dict[str, Any] = {"test": test_metrics, "timings": timings, "counts": counts}
    if components:
        report["ensemble"] = components
    write_json(run.metrics_json, report)
    run.write_manifest()  # digests of the files above, checked by load_model; releases the lock
    return RunResult(run.root, test_metrics, history, timings, counts, ensemble=components or None)


def _pretrain_embeddings(
    model: keras.Model, config: TrainConfig, spec: Any, encoded: Any, tokenizer: Any, vocabulary: Any, verbose: int
) -> int:
    """Start the embedding from word2vec vectors learned on train (+ unlabeled) reviews."""
    assert config.word2vec is not None
    id_lists = list(encoded.train.ids)
    if config.word2vec.use_unlabeled and spec.label_rule.unlabeled and config.file is None:
        texts = data_lib.load_unlabeled(spec.name, data_dir=config.data_dir, path=config.path, limit=config.limit)
        id_lists += vocabulary.encode_batch(tokenizer.tokenize_batch(texts, progress=verbose == 1))
    layer = model.get_layer("embedding")
    matrix, found = pretrain_embeddings(
        id_lists, layer.get_weights()[0], config.word2vec, seed=config.seed, progress=verbose == 1
    )
    layer.set_weights([matrix])
    return found


def _fit_ensemble(
    model: keras.Model,
    config: TrainConfig,
    train_inputs: Any,
    val_inputs: Any,
    encoded: Any,
    pad_to: int | None,
    num_features: int,
) -> tuple[keras.Model, NBLogisticRegression, dict[str, Any]]:
    """Fit NB-LR on the n-grams, pick the averaging weight on validation, wrap both in one model.

    Returns the ensemble model, the NB-LR model and what was chosen (with validation accuracies).
    """
    nblr = fit_nblr(
        ngram_matrix(train_inputs.ngrams, num_features),
        encoded.train.labels,
        validation_features := ngram_matrix(val_inputs.ngrams, num_features),
        encoded.validation.labels,
        c_values=config.nblr_c,
        alpha=config.nblr_alpha,
    )
    deep_val = predict_probabilities(model, val_inputs.tokens, batch_size=config.batch_size, pad_to=pad_to)
    linear_val = nblr.predict_proba(validation_features)
    weight, accuracy = best_mix_weight(deep_val, linear_val, encoded.validation.labels)
    labels = encoded.validation.labels
    components = {
        "deep_weight": weight,
        "nblr_C": nblr.C,
        "nblr_validation_accuracy_by_C": {str(c): a for c, a in nblr.validation_accuracy.items()},
        "deep_validation_accuracy": float(((deep_val >= 0.5) == labels).mean()),
        "nblr_validation_accuracy": float(((linear_val >= 0.5) == labels).mean()),
        "ensemble_validation_accuracy": accuracy,
        "deep_weight_chosen_by": "validation log-loss",
    }
    return ensemble_classifier(model, nblr.weights, nblr.bias, weight), nblr, components


def _with_deep_output(ensemble: keras.Model) -> keras.Model:
    """The ensemble model with the BiLSTM's own probability as a second output."""
    parts = ensemble_parts(ensemble)
    assert parts is not None
    return keras.Model(ensemble.inputs, [ensemble.output, parts[1]])


def _restore_best(model: keras.Model, checkpoint: Path) -> None:
    """Copy the weights of the best-epoch checkpoint into ``model``."""
    best = keras.saving.load_model(checkpoint, compile=False)
    model.set_weights(best.get_weights())
