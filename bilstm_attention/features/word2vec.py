"""Word embeddings pretrained on a dataset's own text (word2vec, via gensim).

The tuned recipes start the classifier's ``Embedding`` from word2vec vectors trained on
the training reviews (and, for IMDB, its 50,000 unlabeled ``unsup`` reviews): no test
text and nothing downloaded. Sentences are the reviews' token ids, so a vector is learned
for exactly the vocabulary the classifier uses; out-of-vocabulary ids are left out of the
sentences (as word2vec's own ``min_count`` does with rare words).

Training is single-threaded and seeded (with a fixed hash for the initial vectors), so a
given seed gives the same vectors in every process.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from bilstm_attention._optional import require
from bilstm_attention.config_base import DictConfig
from bilstm_attention.errors import ConfigError


@dataclass
class Word2VecConfig(DictConfig):
    """Settings of the word2vec pretraining (gensim ``Word2Vec``).

    The vector size is the classifier's ``embedding_dim``.

    Attributes:
        epochs: passes over the sentences.
        window: context words on each side.
        min_count: tokens seen fewer times get no pretrained vector (they keep the random
            initialisation).
        negative: negative samples per positive one.
        sample: down-sampling threshold of frequent tokens.
        skip_gram: skip-gram (``True``) or CBOW (``False``; better here and 3x faster).
        use_unlabeled: add the dataset's unlabeled reviews, when it has some (IMDB).
    """

    epochs: int = 5
    window: int = 5
    min_count: int = 3
    negative: int = 5
    sample: float = 1e-4
    skip_gram: bool = False
    use_unlabeled: bool = True

    config_kind: ClassVar[str] = "word2vec"

    def __post_init__(self) -> None:
        for name in ("epochs", "window", "min_count", "negative"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"word2vec {name} must be a positive integer, got {value!r}")
        if not 0 <= self.sample < 1:
            raise ConfigError(f"word2vec sample must be in [0, 1), got {self.sample!r}")


def _stable_hash(text: str) -> int:
    """A hash that does not change between processes (Python's ``hash`` of str does)."""
    return zlib.crc32(text.encode("utf-8"))


def _sentences(id_lists: Sequence[np.ndarray], vocab_size: int) -> list[list[str]]:
    sentences = []
    for ids in id_lists:
        ids = np.asarray(ids)
        kept = ids[(ids > 1) & (ids < vocab_size)]
        if len(kept):
            sentences.append(kept.astype(str).tolist())
    return sentences


def pretrain_embeddings(
    id_lists: Sequence[np.ndarray],
    initial: np.ndarray,
    config: Word2VecConfig,
    *,
    seed: int = 1337,
    progress: bool = True,
) -> tuple[np.ndarray, int]:
    """Train word2vec on token-id sequences and put its vectors into an embedding matrix.

    Args:
        id_lists: token ids of the reviews to learn from (0 = padding and 1 = out of
            vocabulary are skipped).
        initial: the embedding matrix to start from, shape ``(vocab_size, dim)`` (the
            classifier's randomly initialised one); it is not modified.
        config: the word2vec settings.
        seed: seeds the initial vectors and the sampling.
        progress: show a progress bar over the epochs.

    Returns:
        ``(matrix, found)``: a copy of ``initial`` whose rows of tokens with a word2vec
        vector are replaced by it, and how many rows were replaced.

    Raises:
        ConfigError: ``initial`` is not a 2-D matrix, or there is no text to learn from.
    """
    require("gensim", "train")
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec
    from tqdm.auto import tqdm

    initial = np.asarray(initial)
    if initial.ndim != 2:
        raise ConfigError(f"initial embeddings must be a (vocab_size, dim) matrix, got shape {initial.shape}")
    vocab_size, dim = initial.shape
    sentences = _sentences(id_lists, vocab_size)
    if not sentences:
        raise ConfigError("word2vec pretraining got no in-vocabulary tokens to learn from")

    bar = tqdm(total=config.epochs, desc="word2vec", unit="epoch", disable=not progress)

    class _Progress(CallbackAny2Vec):  # type: ignore[misc]
        def on_epoch_end(self, model: Any) -> None:
            bar.update(1)

    try:
        model = Word2Vec(
            sentences=sentences,
            vector_size=dim,
            window=config.window,
            min_count=config.min_count,
            sg=int(config.skip_gram),
            negative=config.negative,
            sample=config.sample,
            epochs=config.epochs,
            workers=1,
            seed=seed,
            hashfxn=_stable_hash,
            callbacks=[_Progress()],
        )
    finally:
        bar.close()
    matrix = initial.copy()
    found = 0
    for key, row in model.wv.key_to_index.items():
        matrix[int(key)] = model.wv.vectors[row]
        found += 1
    return matrix, found
