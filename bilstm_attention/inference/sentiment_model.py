"""A trained classifier with its tokenizer: raw strings in, probabilities and attention out."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from bilstm_attention.errors import ConfigError, DataError, ModelLoadError
from bilstm_attention.features.inputs import TRUNCATION_CHOICES, FeatureSpec, ModelInputs, kept_slices
from bilstm_attention.features.ngrams import load_ngram_vocabulary
from bilstm_attention.inference.prediction import compiled_predictor, padded_batch, predict_probabilities
from bilstm_attention.model import NGRAM_INPUT_NAME, TOKEN_INPUT_NAME, attention_model, ensemble_parts
from bilstm_attention.run_dir import RunDirectory
from bilstm_attention.tokenizers import Tokenizer, TokenizerDependencyError, Vocabulary, tokenizer_from_config
from bilstm_attention.tokenizers.base import clean_text


@dataclass(frozen=True)
class Explanation:
    """Which tokens a prediction attended to.

    Attributes:
        text: the input text.
        tokens: the tokens the model saw (after truncation), as the tokenizer produced them.
        known: whether each token is in the vocabulary (unknown ones were read as ``[UNK]``).
        weights: attention weight of each token (they sum to 1).
        probability: the predicted probability of the positive class (two classes) or of
            ``label``.
        label: the predicted class name.
        bilstm_probability: for an ensemble (the tuned recipe: BiLSTM averaged with NB-LR),
            the BiLSTM's own probability, the part the attention belongs to; else ``None``.
        bilstm_weight: the BiLSTM's share of the ensemble's probability (1.0 without one).
    """

    text: str
    tokens: list[str]
    known: list[bool]
    weights: list[float]
    probability: float
    label: str
    bilstm_probability: float | None = None
    bilstm_weight: float = 1.0

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` tokens with the largest attention weight."""
        order = np.argsort(self.weights)[::-1][:k]
        return [(self.tokens[i], float(self.weights[i])) for i in order]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return {
            "text": self.text,
            "label": self.label,
            "probability": self.probability,
            "bilstm_probability": self.bilstm_probability,
            "bilstm_weight": self.bilstm_weight,
            "tokens": [{"token": t, "weight": w, "known": k} for t, w, k in zip(self.tokens, self.weights, self.known)],
        }


class SentimentModel:
    """A classifier ready for raw text: tokenizer + vocabulary + Keras model.

    Load one with :func:`load_model`. ``predict`` takes strings; ``explain`` shows the
    attention over one review's tokens.
    """

    def __init__(
        self,
        model: keras.Model,
        tokenizer: Tokenizer,
        vocabulary: Vocabulary,
        features: FeatureSpec,
        *,
        class_names: Sequence[str],
        run_info: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary
        self.features = features
        self.class_names = list(class_names)
        self.run_info = run_info or {}
        self._attention_model: keras.Model | None = None
        self._bilstm_model: keras.Model | None = None

    @property
    def pad_to(self) -> int | None:
        """The fixed padded length the model was trained with (``None``: any length)."""
        return self.features.pad_to

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> ModelInputs:
        """Model inputs for ``texts``, prepared as in training."""
        if isinstance(texts, str):
            raise ConfigError("texts must be a list of strings, not one string (wrap it in a list)")
        texts = list(texts)
        token_lists = self.tokenizer.tokenize_batch(texts, progress=progress)
        return self.features.inputs(self.vocabulary.encode_batch(token_lists), texts)

    def predict_inputs(self, inputs: ModelInputs, *, batch_size: int = 256) -> np.ndarray:
        """Probabilities for inputs from :meth:`encode`."""
        return self._probabilities(self.model, inputs, batch_size)

    def _probabilities(self, model: keras.Model, inputs: ModelInputs, batch_size: int) -> np.ndarray:
        return predict_probabilities(
            model, inputs.tokens, batch_size=batch_size, pad_to=self.pad_to, ngram_ids=inputs.ngrams
        )

    def predict(self, texts: Sequence[str], *, batch_size: int = 256, progress: bool = False) -> np.ndarray:
        """Probabilities: shape ``(n,)`` (positive class) for two classes, else ``(n, classes)``."""
        return self.predict_inputs(self.encode(texts, progress=progress), batch_size=batch_size)

    def predict_bilstm(self, texts: Sequence[str], *, batch_size: int = 256, progress: bool = False) -> np.ndarray:
        """The BiLSTM-attention part's own probabilities, shaped as :meth:`predict`'s: for a run
        that averages it with NB-LR, before the average; for any other run, :meth:`predict`."""
        parts = ensemble_parts(self.model)
        if parts is None:
            return self.predict(texts, batch_size=batch_size, progress=progress)
        if self._bilstm_model is None:
            self._bilstm_model = keras.Model(self.model.inputs, parts[1])
        return self._probabilities(self._bilstm_model, self.encode(texts, progress=progress), batch_size)

    def predict_labels(self, texts: Sequence[str], *, batch_size: int = 256) -> list[str]:
        """Predicted class names."""
        from bilstm_attention.evaluation.metrics import predicted_labels

        return [self.class_names[i] for i in predicted_labels(self.predict(texts, batch_size=batch_size))]

    def explain(self, text: str) -> Explanation:
        """Tokens of ``text`` with the attention weight the model gave each."""
        if not isinstance(text, str):
            raise ConfigError(f"explain takes one string, got {type(text).__name__}")
        text = clean_text(text)  # lone surrogates -> U+FFFD, as the tokenizer sees it
        tokens = self.tokenizer.tokenize(text)
        inputs = self.features.inputs(self.vocabulary.encode_batch([tokens]), [text])
        ids = inputs.tokens[0]
        parts = kept_slices(len(tokens), self.features.max_length, self.features.truncation)
        tokens = [token for part in parts for token in tokens[part]] or [""]
        batch: Any = padded_batch([ids], self.pad_to)
        if inputs.ngrams is not None:
            batch = {TOKEN_INPUT_NAME: batch, NGRAM_INPUT_NAME: padded_batch([inputs.ngrams[0]])}
        if self._attention_model is None:
            self._attention_model = _explainer(self.model)
        # One compiled forward pass (built on the first call), not Model.predict_on_batch.
        probabilities, weights, *bilstm = compiled_predictor(self._attention_model)(batch)
        probabilities = np.asarray(probabilities)[0]
        weights = np.asarray(weights)[0, : len(tokens)]
        if probabilities.shape[-1] == 1:
            positive = float(probabilities[0])
            label_index = int(positive >= 0.5)
            probability = positive
        else:
            label_index = int(np.argmax(probabilities))
            probability = float(probabilities[label_index])
        return Explanation(
            text=text,
            tokens=tokens,
            known=[bool(i != 1) for i in ids[: len(tokens)]],
            weights=[float(w) for w in weights],
            probability=probability,
            label=self.class_names[label_index],
            bilstm_probability=float(np.asarray(bilstm[0]).ravel()[0]) if bilstm else None,
            bilstm_weight=_bilstm_weight(self.model),
        )


def _bilstm_weight(model: keras.Model) -> float:
    parts = ensemble_parts(model)
    return 1.0 if parts is None else parts[0]


def _explainer(model: keras.Model) -> keras.Model:
    """``model`` -> (probabilities, attention weights[, the BiLSTM's probability in an ensemble])."""
    explainer = attention_model(model)
    parts = ensemble_parts(model)
    if parts is None:
        return explainer
    return keras.Model(model.inputs, [*explainer.outputs, parts[1]])


def load_model(path: str | Path, *, check: bool = True) -> SentimentModel:
    """Load a trained classifier from its run directory (or its ``model.keras`` inside one).

    The run's files must agree with one another: each must match the size and sha256 that
    ``manifest.json`` recorded at the end of training (runs written before manifests existed
    skip this), and the model's shapes must fit the vocabulary, the n-gram table and the
    class names, the tokenizer must be the one the run was trained with, and the feature
    settings must be valid. ``check=False`` skips the manifest digests only.

    Raises:
        ModelLoadError: the directory is missing, not a run, from an incompatible version, a
            file in it is corrupted, or its files disagree (the message says which). Nothing
            in the directory is modified.
    """
    path = Path(path)
    run = RunDirectory(path.parent if path.suffix == ".keras" else path)
    info = run.read_run_json()
    for required in (run.model_file, run.tokenizer_json, run.vocabulary_json):
        if not required.is_file():
            raise ModelLoadError(f"{run.root} is incomplete: {required.name} is missing (did the training run finish?)")
    class_names = _class_names(run, info)
    try:
        tokenizer_config = json.loads(run.tokenizer_json.read_text(encoding="utf-8"))
        tokenizer = tokenizer_from_config(tokenizer_config)
    except TokenizerDependencyError:
        raise  # says what to install
    except (ValueError, KeyError, TypeError, AttributeError, OSError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{run.tokenizer_json} is corrupted or from another version: {exc}") from exc
    _check_tokenizer(run, info, tokenizer)
    try:
        vocabulary = Vocabulary.load(run.vocabulary_json)
    except DataError as exc:
        raise ModelLoadError(str(exc)) from exc
    settings = info.get("features")
    if not isinstance(settings, dict):
        raise ModelLoadError(f"{run.run_json} has no valid 'features' section (corrupted?)")
    ngrams = None
    if settings.get("ngrams"):
        if not run.ngrams_file.is_file():
            raise ModelLoadError(f"{run.root} is incomplete: {run.ngrams_file.name} is missing")
        try:
            ngrams = load_ngram_vocabulary(run.ngrams_file)
        except (DataError, ConfigError) as exc:
            raise ModelLoadError(str(exc)) from exc
    try:
        features = FeatureSpec(
            max_length=_optional_positive_int(settings, "max_length"),
            truncation=settings["truncation"],
            deep_vocab_size=_optional_positive_int(settings, "deep_vocab_size", required=True),
            pad_to=_optional_positive_int(settings, "pad_to"),
            ngrams=ngrams,
        )
        if features.truncation not in TRUNCATION_CHOICES:
            raise ValueError(f"truncation must be one of {', '.join(TRUNCATION_CHOICES)}, got {features.truncation!r}")
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"{run.run_json}: invalid 'features' section ({exc})") from exc
    if features.deep_vocab_size > len(vocabulary):
        raise ModelLoadError(
            f"{run.run_json} says the model reads {features.deep_vocab_size} token ids but "
            f"{run.vocabulary_json.name} holds {len(vocabulary)}: the files come from different runs"
        )
    if check:  # after the checks above, whose messages say more than "the file changed"
        run.verify_manifest()
    if not zipfile.is_zipfile(run.model_file):
        raise ModelLoadError(
            f"{run.model_file} is damaged: it is not a complete .keras (zip) file "
            f"({run.model_file.stat().st_size} bytes); restore the file or train again"
        )
    try:
        import bilstm_attention.layers
        import bilstm_attention.model  # noqa: F401

        model = keras.saving.load_model(run.model_file, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged zip/h5/json
        raise ModelLoadError(
            f"{run.model_file} is damaged or is not a model this version can read "
            f"({type(exc).__name__}: {_first_line(exc)}); restore the file or train again"
        ) from exc
    _check_model(run, model, features, class_names)
    return SentimentModel(model, tokenizer, vocabulary, features, class_names=class_names, run_info=info)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else "no details"


def _optional_positive_int(settings: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    """``settings[key]`` as a positive int (or ``None`` when allowed), else ``ValueError``."""
    value = settings[key] if required else settings.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{key} must be a positive integer{'' if required else ' or null'}, got {value!r}")
    return value


def _class_names(run: RunDirectory, info: dict[str, Any]) -> list[str]:
    dataset = info.get("dataset")
    names = dataset.get("class_names") if isinstance(dataset, dict) else None
    if (
        not isinstance(names, list)
        or len(names) < 2
        or not all(isinstance(name, str) for name in names)
        or len(set(names)) != len(names)
    ):
        raise ModelLoadError(
            f"{run.run_json}: dataset.class_names must list at least 2 distinct class names, got {names!r}"
        )
    return names


def _check_tokenizer(run: RunDirectory, info: dict[str, Any], tokenizer: Tokenizer) -> None:
    train_config = info.get("train_config")
    trained_with = None
    if isinstance(train_config, dict):
        # nested since 0.2 (train_config.text.tokenizer), flat in runs of 0.1
        text = train_config.get("text")
        trained_with = text.get("tokenizer") if isinstance(text, dict) else train_config.get("tokenizer")
    if trained_with is not None and trained_with != tokenizer.name:
        raise ModelLoadError(
            f"{run.tokenizer_json.name} describes the {tokenizer.name!r} tokenizer but the run was trained "
            f"with {trained_with!r} ({run.run_json.name}): the files come from different runs"
        )


def _layer(model: keras.Model, name: str) -> Any:
    try:
        return model.get_layer(name)
    except ValueError:
        return None


def _check_model(run: RunDirectory, model: keras.Model, features: FeatureSpec, class_names: list[str]) -> None:
    """The model's shapes must fit the vocabulary, the n-gram table and the class names."""
    where = f"{run.model_file.name} does not fit the rest of {run.root}"
    embedding = _layer(model, "embedding")
    if embedding is None or not hasattr(embedding, "input_dim"):
        raise ModelLoadError(f"{run.model_file} is not a bilstm-attention classifier (no 'embedding' layer)")
    if embedding.input_dim != features.deep_vocab_size:
        raise ModelLoadError(
            f"{where}: its embedding reads {embedding.input_dim} token ids, the run's vocabulary "
            f"{features.deep_vocab_size} (model.keras copied from another run?)"
        )
    units = model.outputs[0].shape[-1]
    expected = 1 if len(class_names) == 2 else len(class_names)
    if units != expected:
        raise ModelLoadError(
            f"{where}: it outputs {units} unit(s), {len(class_names)} classes {class_names} need {expected}"
        )
    input_names = {getattr(tensor, "name", "").split(":")[0] for tensor in model.inputs}
    has_ngram_input = NGRAM_INPUT_NAME in input_names or len(model.inputs) > 1
    if has_ngram_input != (features.ngrams is not None):
        raise ModelLoadError(
            f"{where}: the model {'reads' if has_ngram_input else 'does not read'} n-gram ids but the run "
            f"{'has no' if features.ngrams is None else 'has an'} n-gram table ({run.ngrams_file.name})"
        )
    if features.ngrams is not None:
        table = _layer(model, "ngram_weights") or _layer(model, "nblr_weights")
        if table is not None and table.input_dim != len(features.ngrams):
            raise ModelLoadError(
                f"{where}: its n-gram table has {table.input_dim} rows, {run.ngrams_file.name} {len(features.ngrams)}"
            )


def check_evaluation_data(model: SentimentModel, spec: Any, *, allow_other_language: bool = False) -> None:
    """Refuse to score ``model`` on data it cannot have been meant for.

    Raises:
        ConfigError: the data has another number of classes than the model, or (unless
            ``allow_other_language``) another language than the data the model was trained on.
    """
    trained = model.run_info.get("dataset", {}) if isinstance(model.run_info, dict) else {}
    classes = list(getattr(spec, "class_names", ()) or ())
    if classes and len(classes) != len(model.class_names):
        raise ConfigError(
            f"{spec.name!r} has {len(classes)} classes {classes}, the model {len(model.class_names)} "
            f"{model.class_names}: it cannot be evaluated on it"
        )
    language, data_language = trained.get("language"), getattr(spec, "language", None)
    known = {None, "", "unknown"}
    if not allow_other_language and language not in known and data_language not in known and language != data_language:
        raise ConfigError(
            f"the model was trained on {trained.get('name')!r} ({language}) and {spec.name!r} is in "
            f"{data_language}: its scores would mean nothing. Pass --allow-other-language to evaluate anyway"
        )
