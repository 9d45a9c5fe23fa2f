"""Run directories written by bilstm-attention 0.1.0 (flat ``train_config`` in run.json) still
load, predict, explain, evaluate and resume.

The fixtures in tests/fixtures/runs were written by the 0.1.0 command line (see the README
there); ``v0.1-expected.json`` holds what 0.1.0 predicted and explained for three texts.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from bilstm_attention.cli import main

RUNS = Path(__file__).parent / "fixtures" / "runs"
EXPECTED = json.loads((RUNS / "v0.1-expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["v0.1-wide", "v0.1-ensemble"])
def test_old_run_predicts_and_explains_as_before(name: str) -> None:
    from bilstm_attention import load_model

    model = load_model(RUNS / name)
    expected = EXPECTED[name]
    np.testing.assert_allclose(model.predict(EXPECTED["texts"]), expected["probabilities"], rtol=1e-4, atol=1e-6)
    explanation = model.explain(EXPECTED["texts"][2])
    assert explanation.tokens == expected["explain_tokens"]
    np.testing.assert_allclose(explanation.weights, expected["explain_weights"], rtol=1e-4, atol=1e-6)
    assert explanation.label == expected["label"]


@pytest.mark.parametrize("name", ["v0.1-wide", "v0.1-ensemble"])
def test_old_flat_train_config_reads_into_the_nested_one(name: str) -> None:
    from bilstm_attention.training import TrainConfig

    flat = json.loads((RUNS / name / "run.json").read_text(encoding="utf-8"))["train_config"]
    assert "ngram_order" in flat and "data" not in flat  # really the old flat form
    config = TrainConfig.from_dict(flat)
    assert config.data.file == "v0.1-reviews.csv" and config.data.label_map == {"neg": 0, "pos": 1}
    assert config.text.tokenizer == "whitespace" and config.text.vocab_size == 200
    assert config.ngrams.order == 2 and config.ngrams.min_count == 1
    assert config.fit.batch_size == 32 and config.runtime.tensorboard is False
    assert config.ngrams.model == ("nblr" if name == "v0.1-ensemble" else "joint")
    assert config.classifier.embedding_dim == 16
    # the flat form of the nested config is what 0.1.0 wrote, plus the options added since
    # (reading user files: encoding, separator; adversarial training; weight averaging;
    # language-model pretraining; learning-rate decay on a plateau; weight decay; character
    # n-grams; distillation from NB-LR; the learning-rate schedule; word dropout; NB-LR
    # self-training; distillation from a finished run) at their defaults
    added_since = {
        "encoding": "utf-8",
        "sep": None,
        "adversarial_epsilon": None,
        "adversarial_weight": 1.0,
        "adversarial_consistency": 0.0,
        "distributed": False,
        "language_model": None,
        "reduce_lr_factor": None,
        "lr_schedule": "constant",
        "ngram_unit": "token",
        "nblr_teacher_weight": None,
        "nblr_teacher_folds": 5,
        "nblr_self_training": None,
        "distill_from": None,
        "distill_part": "model",
    }
    classifier = {
        **flat["classifier"],
        "normalize_embeddings": False,
        "ema_momentum": None,
        "weight_decay": None,
        "token_dropout": 0.0,
        "attention_heads": 1,
    }
    assert config.to_flat_dict() == {**flat, **added_since, "classifier": classifier}
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_old_run_evaluates_from_the_command_line(capsys) -> None:
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(RUNS / "v0.1-ensemble"),
                "--file",
                str(RUNS / "v0.1-reviews.csv"),
                "--text-column",
                "review",
                "--label-column",
                "sentiment",
                "--label-map",
                "neg=0,pos=1",
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    # a file given to evaluate is scored whole (every one of its 300 rows)
    assert report["examples"] == 300 and report["split"] == "all" and report["accuracy"] > 0.9


def test_interrupted_old_run_resumes_with_its_flat_config(tmp_path: Path, monkeypatch) -> None:
    run = tmp_path / "old"
    shutil.copytree(RUNS / "v0.1-wide", run)
    shutil.copy(RUNS / "v0.1-reviews.csv", tmp_path / "v0.1-reviews.csv")
    for name in ("model.keras", "metrics.json", "history.json"):
        (run / name).unlink()  # as if killed before the end
    (run / "history.csv").write_text((run / "history.csv").read_text().splitlines()[0] + "\n")
    before = (run / "run.json").read_bytes()
    monkeypatch.chdir(tmp_path)  # the stored file path is relative
    assert main(["train", "--resume", "--output", str(run)]) == 0
    assert (run / "run.json").read_bytes() == before  # the old run.json is kept as it was
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["examples"] == 76 and len(metrics["timings"]["epoch_seconds"]) == 3


def test_finished_old_run_is_not_resumed(tmp_path: Path, capsys) -> None:
    run = shutil.copytree(RUNS / "v0.1-wide", tmp_path / "done")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert main(["train", "--resume", "--output", str(run)]) == 2
    assert "finished already" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
