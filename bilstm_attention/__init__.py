"""bilstm_attention: Bahdanau and Luong attention for Keras 3, and a BiLSTM-attention
sentiment classifier for English and Korean reviews.

Quick start::

    import keras
    from bilstm_attention import BahdanauAttention

    tokens = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(10_000, 128, mask_zero=True)(tokens)
    seq, fh, fc, bh, bc = keras.layers.Bidirectional(
        keras.layers.LSTM(64, return_sequences=True, return_state=True))(x)
    query = keras.layers.Concatenate()([fh, bh])
    context, weights = BahdanauAttention(64)(seq, query)  # padding gets weight 0
    probability = keras.layers.Dense(1, activation="sigmoid")(context)
    model = keras.Model(tokens, probability)

Public names are imported lazily, so that ``import bilstm_attention`` (and the command
line's data commands) do not pay for importing TensorFlow until a layer or model is used.
The package's Keras classes are nevertheless registered for deserialisation by
``import bilstm_attention`` alone: at once if Keras is already imported, otherwise the moment
it is (see :mod:`bilstm_attention._registration`), so that::

    import bilstm_attention
    import keras
    keras.saving.load_model("model_with_luong_attention.keras", safe_mode=True)

works in a fresh process, as it does with keras-hub.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bilstm_attention._lazy import lazy_exports
from bilstm_attention._registration import register_when_keras_is_imported
from bilstm_attention.version import __version__

register_when_keras_is_imported()

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "BahdanauAttention": "bilstm_attention.layers",
    "LuongAttention": "bilstm_attention.layers",
    "ClassifierConfig": "bilstm_attention.model",
    "build_classifier": "bilstm_attention.model",
    "NormalizedEmbedding": "bilstm_attention.model",
    "AdversarialTraining": "bilstm_attention.training",
    "TrainConfig": "bilstm_attention.training",
    "train": "bilstm_attention.training",
    "recipe_config": "bilstm_attention.training.recipes",
    "load_model": "bilstm_attention.inference.sentiment_model",
    "SentimentModel": "bilstm_attention.inference.sentiment_model",
    "load_dataset": "bilstm_attention.data",
    "list_datasets": "bilstm_attention.data",
    "get_tokenizer": "bilstm_attention.tokenizers",
    "BilstmAttentionError": "bilstm_attention.errors",
    "export_saved_model": "bilstm_attention.inference.export",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from bilstm_attention.data import list_datasets, load_dataset
    from bilstm_attention.errors import BilstmAttentionError
    from bilstm_attention.inference.export import export_saved_model
    from bilstm_attention.inference.sentiment_model import SentimentModel, load_model
    from bilstm_attention.layers import BahdanauAttention, LuongAttention
    from bilstm_attention.model import ClassifierConfig, NormalizedEmbedding, build_classifier
    from bilstm_attention.tokenizers import get_tokenizer
    from bilstm_attention.training import AdversarialTraining, TrainConfig, train
    from bilstm_attention.training.recipes import recipe_config


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
