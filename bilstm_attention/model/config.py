"""Configuration of the BiLSTM-attention classifier."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from bilstm_attention.config_base import DictConfig
from bilstm_attention.errors import ConfigError

#: Attention specifications accepted by :func:`parse_attention` (``kind`` or ``kind:variant``).
ATTENTION_CHOICES: tuple[str, ...] = (
    "bahdanau",
    "bahdanau:normalized",
    "luong:dot",
    "luong:scaled_dot",
    "luong:general",
    "luong:concat",
    "luong:location",
)

QUERY_CHOICES: tuple[str, ...] = ("final_state", "learned")


def parse_attention(spec: str) -> tuple[str, str | None]:
    """Split an attention specification such as ``"luong:general"`` into ``(kind, variant)``.

    ``"luong"`` alone means ``"luong:general"``.

    Raises:
        ConfigError: for a specification that is not one of :data:`ATTENTION_CHOICES`.
    """
    normalized = spec.strip().lower()
    if normalized == "luong":
        normalized = "luong:general"
    if normalized not in ATTENTION_CHOICES:
        raise ConfigError(f"unknown attention {spec!r}; choose one of: {', '.join(ATTENTION_CHOICES)}")
    kind, _, variant = normalized.partition(":")
    return kind, variant or None


@dataclass
class ClassifierConfig(DictConfig):
    """Every size and rate of the classifier built by :func:`build_classifier`.

    The defaults are the seed tutorial's IMDB model: Embedding 128, two BiLSTM layers of 64
    units with input dropout 0.5, Bahdanau attention with 64 units whose query is the
    concatenated final forward/backward states, Dense 20 (ReLU) + dropout 0.5, sigmoid.

    Attributes:
        vocab_size: number of token ids, including 0 (padding) and 1 (out of vocabulary).
        num_classes: 2 gives one sigmoid unit, more gives a softmax.
        embedding_dim: size of the token embeddings.
        embedding_dropout: dropout on whole embedding channels (``SpatialDropout1D``).
        token_dropout: word dropout (Iyyer et al. 2015): while training, each token's whole
            vector is zeroed with this probability (the others scaled by ``1 / (1 - rate)``),
            so the model cannot lean on any single word; applied after the embedding (and after
            an adversarial perturbation of it).
        normalize_embeddings: standardise the token vectors with the tokens' training
            frequencies (:class:`~bilstm_attention.model.blocks.NormalizedEmbedding`); needed by
            adversarial training (``--adversarial-epsilon``), which perturbs them.
        lstm_units: units of each BiLSTM layer (per direction); one entry per layer.
        lstm_dropout: input dropout inside each LSTM (Keras ``dropout=``).
        attention: ``"bahdanau"``, ``"bahdanau:normalized"`` or ``"luong:<score>"``
            (see :data:`ATTENTION_CHOICES`).
        attention_units: hidden size of the additive (Bahdanau / Luong concat) score.
        attention_dropout: dropout on the attention weights while training.
        query: ``"final_state"`` (concatenated final forward/backward hidden states of the
            last BiLSTM, as in the seed) or ``"learned"`` (one trained query vector).
        attention_heads: number of attention poolings, each with its own trained query
            (needs ``query="learned"``); their contexts are concatenated for the head (Lin et
            al. 2017's multi-hop attention), and ``explain`` shows the mean of their weights.
        max_length: fixed sequence length; required only by ``luong:location``.
        dense_units: sizes of the hidden dense layers of the head.
        dense_dropout: dropout after each hidden dense layer.
        ngram_vocab_size: input size of the optional linear bag-of-n-grams branch (0 = off).
            When on, the model takes a second input ``ngram_ids`` (the ids of the distinct
            n-grams of each review, see :mod:`bilstm_attention.features.ngrams`) and adds the sum of
            their learned weights to the logit: a "wide and deep" model whose wide part is
            NBSVM/fastText-like and whose deep part is the BiLSTM with attention.
        ngram_dropout: dropout on the n-gram weights while training.
        learning_rate: Adam learning rate.
        clipnorm: gradient clipping norm (``None`` = off).
        ema_momentum: keep an exponential moving average of the weights (Polyak averaging)
            with this momentum, e.g. 0.99; validation, the best-epoch checkpoint and the saved
            model use the averaged weights (``None`` = off).
        weight_decay: decoupled weight decay (AdamW, Loshchilov & Hutter 2019): each step
            every weight except the biases shrinks by ``learning_rate * weight_decay`` of
            itself, e.g. 0.05 (``None`` = off, plain Adam). With ``normalize_embeddings`` the
            table's scale cancels out, so the decay acts on the other layers only.
    """

    vocab_size: int = 10_000
    num_classes: int = 2
    embedding_dim: int = 128
    embedding_dropout: float = 0.0
    token_dropout: float = 0.0
    normalize_embeddings: bool = False
    lstm_units: list[int] = field(default_factory=lambda: [64, 64])
    lstm_dropout: float = 0.5
    attention: str = "bahdanau"
    attention_units: int = 64
    attention_dropout: float = 0.0
    query: str = "final_state"
    attention_heads: int = 1
    max_length: int | None = None
    dense_units: list[int] = field(default_factory=lambda: [20])
    dense_dropout: float = 0.5
    ngram_vocab_size: int = 0
    ngram_dropout: float = 0.0
    learning_rate: float = 1e-3
    clipnorm: float | None = None
    ema_momentum: float | None = None
    weight_decay: float | None = None

    config_kind: ClassVar[str] = "classifier"

    def __post_init__(self) -> None:
        self.lstm_units = [int(u) for u in self.lstm_units]
        self.dense_units = [int(u) for u in self.dense_units]
        self.validate()

    def validate(self) -> None:
        """Check every field; raises :class:`ConfigError` naming the first bad one."""
        if self.vocab_size < 3:
            raise ConfigError(f"vocab_size must be at least 3 (padding, OOV, one token), got {self.vocab_size}")
        if self.num_classes < 2:
            raise ConfigError(f"num_classes must be at least 2, got {self.num_classes}")
        for name in ("embedding_dim", "attention_units"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if not self.lstm_units or any(u < 1 for u in self.lstm_units):
            raise ConfigError(f"lstm_units must be a non-empty list of positive sizes, got {self.lstm_units}")
        if any(u < 1 for u in self.dense_units):
            raise ConfigError(f"dense_units must hold positive sizes, got {self.dense_units}")
        if self.ngram_vocab_size < 0:
            raise ConfigError(f"ngram_vocab_size must be >= 0, got {self.ngram_vocab_size}")
        for name in (
            "embedding_dropout",
            "token_dropout",
            "lstm_dropout",
            "attention_dropout",
            "dense_dropout",
            "ngram_dropout",
        ):
            rate = getattr(self, name)
            if not 0.0 <= rate < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {rate}")
        _kind, variant = parse_attention(self.attention)
        if self.query not in QUERY_CHOICES:
            raise ConfigError(f"unknown query {self.query!r}; choose one of: {', '.join(QUERY_CHOICES)}")
        if self.attention_heads < 1:
            raise ConfigError(f"attention_heads must be at least 1, got {self.attention_heads}")
        if self.attention_heads > 1 and self.query != "learned":
            raise ConfigError(
                f"attention_heads {self.attention_heads} needs query 'learned' (one trained query per head); "
                f"the {self.query!r} query is a single vector"
            )
        if variant == "location" and not self.max_length:
            raise ConfigError("attention 'luong:location' needs a fixed max_length (sequences padded to it)")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.ema_momentum is not None and not 0.0 < self.ema_momentum < 1.0:
            raise ConfigError(f"ema_momentum must be in (0, 1), got {self.ema_momentum}")
        if self.weight_decay is not None and not 0.0 < self.weight_decay < 1.0:
            raise ConfigError(f"weight_decay must be in (0, 1) (or not given), got {self.weight_decay}")
