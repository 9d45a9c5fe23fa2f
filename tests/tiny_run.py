"""A tiny trained run directory for tests that need a real model (seconds to train).

Not a test module: ``test_reliability.py`` and ``test_properties.py`` import it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

POSITIVE = {"en": ["great", "wonderful", "loved", "superb"], "ko": ["최고", "재밌어요", "좋아요", "감동"]}
NEGATIVE = {"en": ["awful", "boring", "hated", "dull"], "ko": ["최악", "지루해요", "별로", "실망"]}
FILLER = {
    "en": ["the", "a", "movie", "film", "plot", "actor", "scene", "story", "it", "was", "and", "of"],
    "ko": ["영화", "배우", "연기", "스토리", "정말", "너무", "그냥", "이", "그", "진짜"],
}


def write_reviews(path: Path, rows: int, language: str = "en", seed: int = 0) -> Path:
    """A small CSV (review, sentiment pos/neg) whose cue words make the task easy."""
    rng = np.random.default_rng(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"])
        for index in range(rows):
            positive = index % 2 == 0
            cues = rng.choice((POSITIVE if positive else NEGATIVE)[language], size=2)
            words = list(rng.choice(FILLER[language], size=int(rng.integers(3, 12)))) + list(cues)
            rng.shuffle(words)
            writer.writerow([" ".join(words), "pos" if positive else "neg"])
    return path


def train_args(reviews: Path, output: Path, *extra: str, tokenizer: str = "whitespace") -> list[str]:
    """``bilstm-attention train`` arguments for a tiny, one-epoch model."""
    return [
        "train",
        "--file",
        str(reviews),
        "--text-column",
        "review",
        "--label-column",
        "sentiment",
        "--label-map",
        "neg=0,pos=1",
        "--tokenizer",
        tokenizer,
        "--vocab-size",
        "60",
        "--embedding-dim",
        "8",
        "--lstm-units",
        "4",
        "--attention-units",
        "4",
        "--dense-units",
        "4",
        "--lstm-dropout",
        "0",
        "--dense-dropout",
        "0",
        "--learning-rate",
        "0.01",
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--output",
        str(output),
        "--no-tensorboard",
        *extra,
    ]


def make_run(directory: Path, *, language: str = "en", rows: int = 120, extra: tuple[str, ...] = ()) -> Path:
    """Train a tiny run in ``directory/run-<language>`` with the current code; returns it."""
    from bilstm_attention.cli import main

    reviews = write_reviews(directory / f"reviews-{language}.csv", rows, language)
    run = directory / f"run-{language}"
    tokenizer = "kiwi" if language == "ko" else "whitespace"
    assert main(train_args(reviews, run, "--language", language, *extra, tokenizer=tokenizer)) == 0
    return run


_RUNS: dict[str, Path] = {}


def shared_runs(tmp_path_factory) -> dict[str, Path]:
    """An English (whitespace) and a Korean (kiwi, 40 token ids) tiny run, trained once per
    test session whichever test module asks first."""
    if not _RUNS:
        directory = tmp_path_factory.mktemp("tiny-runs")
        _RUNS["en"] = make_run(directory, language="en")
        _RUNS["ko"] = make_run(directory, language="ko", extra=("--vocab-size", "40"))
    return dict(_RUNS)
