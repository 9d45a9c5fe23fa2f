"""Shared data preparation for the research scripts (validation figures only).

Loads a dataset with the package's loader (the benchmark's split), tokenizes it once (the
package's encoded-array cache; set ``BILSTM_ATTENTION_CACHE``), cuts reviews like the tuned
recipe (``head_tail``) and learns the word2vec start of the embedding on the training text.
The test split is never touched here.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bilstm_attention import data as data_lib
from bilstm_attention.embeddings import Word2VecConfig, pretrain_embeddings
from bilstm_attention.features.inputs import clip_vocabulary, truncate
from bilstm_attention.tokenizers import get_tokenizer
from bilstm_attention.tokenizers.vocabulary import Vocabulary

DATA_DIR = os.environ.get("BILSTM_ATTENTION_DATA", "../shared/datasets")
PATHS = {"steam": f"{DATA_DIR}/steam/steam.partial.txt"}
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Prepared:
    train_ids: list[np.ndarray]
    train_labels: np.ndarray
    val_ids: list[np.ndarray]
    val_labels: np.ndarray
    vocab_size: int
    token_counts: np.ndarray  # training-set frequency of every id (for normalised embeddings)
    seconds: dict[str, float]
    unlabeled_ids: list[np.ndarray] | None = None


def _char_units(texts: list[str]) -> list[list[str]]:
    """Syllable/character units; a space becomes the token '▁' (runs collapsed)."""
    out = []
    for text in texts:
        text = " ".join(text.split())
        out.append(["▁" if ch == " " else ch for ch in text])
    return out


def prepare(
    dataset: str,
    tokenizer: str,
    tokenizer_options: dict[str, Any],
    *,
    vocab_size: int = 30_000,
    max_length: int = 80,
    truncation: str = "head_tail",
    train_subset: int | None = None,
    word2vec: bool = True,
    embedding_dim: int = 128,
    seed: int = 1337,
) -> tuple[Prepared, np.ndarray | None]:
    """Return the encoded train/validation data and the word2vec embedding matrix (or None)."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    splits = data_lib.load_dataset(dataset, data_dir=DATA_DIR, path=PATHS.get(dataset))
    seconds["load"] = time.perf_counter() - started
    started = time.perf_counter()
    if tokenizer == "char":
        vocabulary = Vocabulary.build(_char_units(splits.train.texts), max_size=vocab_size, min_count=2)
        train_all = vocabulary.encode_batch(_char_units(splits.train.texts))
        val_all = vocabulary.encode_batch(_char_units(splits.validation.texts))
        train_labels, val_labels = splits.train.labels, splits.validation.labels
    else:
        tok = get_tokenizer(tokenizer, **tokenizer_options)
        encoded = data_lib.encode_dataset(splits, tok, vocab_size, progress=False)
        vocabulary = encoded.vocabulary
        train_all, val_all = encoded.train.ids, encoded.validation.ids
        train_labels, val_labels = encoded.train.labels, encoded.validation.labels
    seconds["tokenize"] = time.perf_counter() - started
    size = min(vocab_size, len(vocabulary))
    train_ids = clip_vocabulary(train_all, size)
    val_ids = clip_vocabulary(val_all, size)
    train_labels = np.asarray(train_labels)
    if train_subset and train_subset < len(train_ids):
        rng = np.random.RandomState(seed)
        keep = np.sort(rng.choice(len(train_ids), train_subset, replace=False))
        train_ids = [train_ids[i] for i in keep]
        train_labels = train_labels[keep]
    counts = np.bincount(np.concatenate(train_ids), minlength=size).astype(np.float64)[:size]
    matrix = None
    if word2vec:
        started = time.perf_counter()
        rng = np.random.RandomState(seed)
        initial = rng.uniform(-0.05, 0.05, size=(size, embedding_dim)).astype("float32")
        matrix, _found = pretrain_embeddings(train_ids, initial, Word2VecConfig(), seed=seed, progress=False)
        seconds["word2vec"] = time.perf_counter() - started
    prepared = Prepared(
        truncate(train_ids, max_length, truncation),
        train_labels,
        truncate(val_ids, max_length, truncation),
        np.asarray(val_labels),
        size,
        counts,
        seconds,
    )
    return prepared, matrix


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def save_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1, default=float), encoding="utf-8")
    tmp.replace(path)
    return path
