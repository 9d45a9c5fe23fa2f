"""A trained classifier with its tokenizer: raw strings in, probabilities and attention out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from bilstm_attention.errors import ConfigError, DataError, ModelLoadError
from bilstm_attention.features import FeatureSpec, ModelInputs, kept_slices
from bilstm_attention.model import NGRAM_INPUT_NAME, TOKEN_INPUT_NAME, attention_model, ensemble_parts
from bilstm_attention.ngrams import NgramVocabulary
from bilstm_attention.prediction import compiled_predictor, padded_batch, predict_probabilities
from bilstm_attention.run_dir import RunDirectory
from bilstm_attention.tokenizers import Tokenizer, TokenizerDependencyError, Vocabulary, tokenizer_from_config


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
            "tokens": [
                {"token": t, "weight": w, "known": k}
                for t, w, k in zip(self.tokens, self.weights, self.known)
            ],
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

    @property
    def pad_to(self) -> int | None:
        """The fixed padded length the model was trained with (``None``: any length)."""
        return self.features.pad_to

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> ModelInputs:
        """Model inputs for ``texts``, prepared as in training."""
        if isinstance(texts, str):
            raise ConfigError("texts must be a list of strings, not one string (wrap it in a list)")
        token_lists = self.tokenizer.tokenize_batch(list(texts), progress=progress)
        return self.features.inputs(self.vocabulary.encode_batch(token_lists))

    def predict_inputs(self, inputs: ModelInputs, *, batch_size: int = 256) -> np.ndarray:
        """Probabilities for inputs from :meth:`encode`."""
        return predict_probabilities(
            self.model, inputs.tokens, batch_size=batch_size, pad_to=self.pad_to, ngram_ids=inputs.ngrams
        )

    def predict(self, texts: Sequence[str], *, batch_size: int = 256, progress: bool = False) -> np.ndarray:
        """Probabilities: shape ``(n,)`` (positive class) for two classes, else ``(n, classes)``."""
        return self.predict_inputs(self.encode(texts, progress=progress), batch_size=batch_size)

    def predict_labels(self, texts: Sequence[str], *, batch_size: int = 256) -> list[str]:
        """Predicted class names."""
        from bilstm_attention.metrics import predicted_labels

        return [self.class_names[i] for i in predicted_labels(self.predict(texts, batch_size=batch_size))]

    def explain(self, text: str) -> Explanation:
        """Tokens of ``text`` with the attention weight the model gave each."""
        if not isinstance(text, str):
            raise ConfigError(f"explain takes one string, got {type(text).__name__}")
        tokens = self.tokenizer.tokenize(text)
        inputs = self.features.inputs(self.vocabulary.encode_batch([tokens]))
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


def load_model(path: str | Path) -> SentimentModel:
    """Load a trained classifier from its run directory (or its ``model.keras`` inside one).

    Raises:
        ModelLoadError: the directory is missing, not a run, from an incompatible version, or
            a file in it is corrupted. Nothing in the directory is modified.
    """
    path = Path(path)
    run = RunDirectory(path.parent if path.suffix == ".keras" else path)
    info = run.read_run_json()
    for required in (run.model_file, run.tokenizer_json, run.vocabulary_json):
        if not required.is_file():
            raise ModelLoadError(
                f"{run.root} is incomplete: {required.name} is missing (did the training run finish?)"
            )
    try:
        tokenizer = tokenizer_from_config(json.loads(run.tokenizer_json.read_text(encoding="utf-8")))
    except TokenizerDependencyError:
        raise  # says what to install
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"{run.tokenizer_json} is corrupted or from another version: {exc}") from exc
    vocabulary = Vocabulary.load(run.vocabulary_json)
    settings = info.get("features")
    if not isinstance(settings, dict):
        raise ModelLoadError(f"{run.run_json} has no valid 'features' section (corrupted?)")
    ngrams = None
    if settings.get("ngrams"):
        if not run.ngrams_file.is_file():
            raise ModelLoadError(f"{run.root} is incomplete: {run.ngrams_file.name} is missing")
        try:
            ngrams = NgramVocabulary.load(run.ngrams_file)
        except DataError as exc:
            raise ModelLoadError(str(exc)) from exc
    try:
        features = FeatureSpec(
            max_length=settings["max_length"],
            truncation=settings["truncation"],
            deep_vocab_size=int(settings["deep_vocab_size"]),
            pad_to=settings.get("pad_to"),
            ngrams=ngrams,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"{run.run_json}: invalid 'features' section ({exc})") from exc
    try:
        import bilstm_attention.layers  # noqa: F401  (registers the layers for deserialisation)
        import bilstm_attention.model  # noqa: F401

        model = keras.saving.load_model(run.model_file, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged zip/h5/json
        raise ModelLoadError(f"{run.model_file} could not be loaded (corrupted or from another version): {exc}") from exc
    return SentimentModel(
        model,
        tokenizer,
        vocabulary,
        features,
        class_names=info["dataset"]["class_names"],
        run_info=info,
    )
