"""Training end to end through the command line: run directory, evaluate, predict, explain,
resume after a kill, the mirrored strategy, and every error the commands promise."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tiny_run import train_args as tiny_train_args
from tiny_run import write_reviews as write_tiny_reviews

from bilstm_attention.cli import main

POSITIVE = ["great", "wonderful", "loved", "superb", "excellent"]
NEGATIVE = ["awful", "boring", "hated", "terrible", "dull"]
FILLER = "the a movie film plot actor scene story it was and of to in this that with".split()


def write_reviews(path: Path, rows: int, seed: int = 0) -> Path:
    """A small, easy sentiment CSV: each review holds a few cue words among filler."""
    rng = np.random.default_rng(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"])
        for index in range(rows):
            positive = index % 2 == 0
            cues = rng.choice(POSITIVE if positive else NEGATIVE, size=2)
            words = list(rng.choice(FILLER, size=int(rng.integers(4, 30)))) + list(cues)
            rng.shuffle(words)
            writer.writerow([" ".join(words), "pos" if positive else "neg"])
    return path


@pytest.fixture(scope="module")
def reviews_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_reviews(tmp_path_factory.mktemp("data") / "reviews.csv", 600)


def train_args(reviews: Path, output: Path, *extra: str) -> list[str]:
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
        "whitespace",
        "--vocab-size",
        "200",
        "--embedding-dim",
        "16",
        "--lstm-units",
        "8",
        "--attention-units",
        "8",
        "--dense-units",
        "8",
        "--lstm-dropout",
        "0",
        "--dense-dropout",
        "0",
        "--learning-rate",
        "0.01",
        "--batch-size",
        "32",
        "--output",
        str(output),
        "--no-tensorboard",
        *extra,
    ]


@pytest.fixture(scope="module")
def trained_run(reviews_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("runs") / "tiny"
    # two BiLSTM layers, as the seed recipe (the other runs here have one: it traces faster)
    extra = ("--lstm-units", "8,8", "--epochs", "6", "--patience", "3", "--tensorboard")
    assert main(train_args(reviews_csv, run, *extra)) == 0
    return run


def test_train_writes_a_complete_run_directory(trained_run: Path) -> None:
    for name in ("run.json", "tokenizer.json", "vocabulary.json", "model.keras", "history.json", "metrics.json"):
        assert (trained_run / name).is_file(), name
    assert (trained_run / "checkpoints" / "best.keras").is_file()
    assert any((trained_run / "logs").rglob("*tfevents*"))
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.9  # the cue words make the task easy
    assert len(metrics["timings"]["epoch_seconds"]) >= 1
    history = json.loads((trained_run / "history.json").read_text())
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history)


def test_load_model_predicts_and_explains_raw_text(trained_run: Path) -> None:
    from bilstm_attention import load_model

    model = load_model(trained_run)
    probabilities = model.predict(["the movie was great and superb", "boring and awful plot"])
    assert probabilities.shape == (2,)
    assert probabilities[0] > 0.5 > probabilities[1]
    explanation = model.explain("the plot was awful and the actor dull")
    assert explanation.tokens == "the plot was awful and the actor dull".split()
    assert sum(explanation.weights) == pytest.approx(1.0, abs=1e-4)
    top_tokens = [token for token, _ in explanation.top(2)]
    assert set(top_tokens) & {"awful", "dull"}  # attention finds the cue words
    assert explanation.label == "0" or explanation.label in ("neg", "negative")
    assert explanation.bilstm_probability is None and explanation.bilstm_weight == 1.0  # not an ensemble
    # without NB-LR the whole model is the BiLSTM part
    texts = ["the movie was great and superb", "boring and awful plot"]
    np.testing.assert_array_equal(model.predict_bilstm(texts), probabilities)


def test_korean_run_over_syllables_saves_its_tokenizer_and_predicts(tmp_path: Path) -> None:
    from bilstm_attention import load_model

    reviews = write_tiny_reviews(tmp_path / "reviews-ko.csv", 120, "ko")
    run = tmp_path / "run"
    options = ("--tokenizer-options", '{"spaces": "mark", "max_repeat": 2}', "--epochs", "2")
    assert main(tiny_train_args(reviews, run, *options, tokenizer="syllable")) == 0
    saved = json.loads((run / "tokenizer.json").read_text())
    assert (saved["name"], saved["spaces"], saved["max_repeat"]) == ("syllable", "mark", 2)
    vocabulary = json.loads((run / "vocabulary.json").read_text())
    assert "▁" in json.dumps(vocabulary, ensure_ascii=False)  # the space mark is a token
    model = load_model(run)
    assert model.tokenizer.tokenize("최고 ㅋㅋㅋ") == ["최", "고", "▁", "ㅋ", "ㅋ"]
    probabilities = model.predict(["정말 최고 좋아요 감동", "너무 최악 지루해요 실망"])
    assert probabilities.shape == (2,) and np.all((probabilities >= 0) & (probabilities <= 1))


def test_evaluate_predict_explain_commands(
    trained_run: Path, reviews_csv: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(trained_run),
                "--file",
                str(reviews_csv),
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
    assert report["accuracy"] > 0.9 and len(report["confusion_matrix"]) == 2
    assert report["examples"] == 600 and report["split"] == "all"  # the whole file, not a test slice
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(trained_run),
                "--file",
                str(reviews_csv),
                "--text-column",
                "review",
                "--label-column",
                "sentiment",
                "--label-map",
                "neg=0,pos=1",
            ]
        )
        == 0
    )
    assert f"{reviews_csv}: every row scored, 600 reviews" in capsys.readouterr().out
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(trained_run),
                "--file",
                str(reviews_csv),
                "--text-column",
                "review",
                "--label-column",
                "sentiment",
                "--label-map",
                "neg=0,pos=1",
                "--limit",
                "10",
            ]
        )
        == 2
    )
    assert (
        "--split and --limit do not apply to --file: evaluate scores every row of the file" in capsys.readouterr().err
    )

    assert main(["predict", "--model", str(trained_run), "loved it, excellent", "dull and terrible"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == ["loved it, excellent", "dull and terrible"]
    assert lines[0]["probability"] > 0.5 > lines[1]["probability"]

    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("great film\n\nawful film\n"))
    assert main(["predict", "--model", str(trained_run)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in records] == ["great film", "", "awful film"]  # one line out per line in
    assert records[1]["label"] is None and records[0]["label"] and records[2]["label"]

    picture = tmp_path / "heatmap.png"
    assert main(["explain", "--model", str(trained_run), "the film was wonderful", "--out", str(picture)]) == 0
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = capsys.readouterr().out
    assert "wonderful" in out
    page = tmp_path / "heatmap.html"
    assert main(["explain", "--model", str(trained_run), "a dull <b>film</b>", "--out", str(page)]) == 0
    assert "&lt;b&gt;film&lt;/b&gt;" in page.read_text() or "dull" in page.read_text()

    # an existing --out is never overwritten
    before = picture.read_bytes()
    assert main(["explain", "--model", str(trained_run), "great", "--out", str(picture)]) == 2
    assert "exists" in capsys.readouterr().err
    assert picture.read_bytes() == before


def test_existing_run_directory_is_never_overwritten(trained_run: Path, reviews_csv: Path, capsys) -> None:
    before = {p: p.stat().st_mtime_ns for p in trained_run.rglob("*") if p.is_file()}
    assert main(train_args(reviews_csv, trained_run, "--epochs", "1")) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in trained_run.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--dataset", "no-such-dataset", "--output", "{tmp}/r"], "no-such-dataset"),
        (
            [
                "train",
                "--file",
                "{csv}",
                "--text-column",
                "review",
                "--label-column",
                "sentiment",
                "--label-map",
                "neg=0,pos=1",
                "--attention",
                "luong:cosine",
                "--output",
                "{tmp}/r",
            ],
            "unknown attention 'luong:cosine'",
        ),
        (
            [
                "train",
                "--file",
                "{csv}",
                "--text-column",
                "review",
                "--label-column",
                "sentiment",
                "--label-map",
                "neg=0,pos=1",
                "--tokenizer",
                "nonesuch",
                "--output",
                "{tmp}/r",
            ],
            "nonesuch",
        ),
        (
            [
                "train",
                "--file",
                "{digits}",
                "--text-column",
                "review",
                "--label-column",
                "sentiment",
                "--output",
                "{tmp}/r",
            ],
            "its reviews contain no letters): pass --tokenizer",
        ),
        (
            [
                "train",
                "--file",
                "{csv}",
                "--text-column",
                "review",
                "--label-column",
                "stars",
                "--tokenizer",
                "whitespace",
                "--output",
                "{tmp}/r",
            ],
            "stars",
        ),
        (["train", "--resume", "--output", "{tmp}/missing"], "cannot resume"),
        (["train", "--resume"], "--resume needs --output"),
        (["train", "--recipe", "seed", "--file", "{csv}"], "--recipe needs --dataset"),
        (["predict", "--model", "{tmp}/missing", "hello"], "does not exist"),
        (["evaluate", "--model", "{tmp}", "--dataset", "imdb"], "not a run directory"),
    ],
)
def test_errors_are_one_line_messages(argv, message, reviews_csv: Path, tmp_path: Path, capsys) -> None:
    digits = tmp_path / "digits.csv"
    digits.write_text("review,sentiment\n" + "".join(f"{i} {i * 7}!,{i % 2}\n" for i in range(20)))
    argv = [a.format(tmp=tmp_path, csv=reviews_csv, digits=digits) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_python_api_argument_errors(trained_run: Path, tmp_path: Path) -> None:
    from bilstm_attention import load_model
    from bilstm_attention.errors import ConfigError
    from bilstm_attention.inference.visualize import save_heatmap

    model = load_model(trained_run)
    with pytest.raises(ConfigError, match="wrap it in a list"):
        model.predict("one string")
    with pytest.raises(ConfigError, match="explain takes one string, got list"):
        model.explain(["a", "b"])
    explanation = model.explain("great film")
    with pytest.raises(ConfigError, match="must end in .png, .svg, .pdf or .html"):
        save_heatmap(explanation, tmp_path / "heatmap.jpg")
    (tmp_path / "taken.html").write_text("mine")
    with pytest.raises(ConfigError, match="taken.html exists"):
        save_heatmap(explanation, tmp_path / "taken.html")
    assert (tmp_path / "taken.html").read_text() == "mine"


def test_empty_input_to_predict_and_explain(trained_run: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("\n  \n"))
    assert main(["predict", "--model", str(trained_run)]) == 2
    assert "no text to classify" in capsys.readouterr().err
    assert main(["explain", "--model", str(trained_run), "   "]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(trained_run), "--file", "reviews.csv"]) == 2
    assert "--file needs --text-column and --label-column" in capsys.readouterr().err


def _copy_run(run: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(run, target)
    return target


def test_corrupted_or_foreign_model_files_are_reported(trained_run: Path, tmp_path: Path, capsys) -> None:
    corrupted = _copy_run(trained_run, tmp_path / "corrupted")
    (corrupted / "model.keras").write_bytes(b"not a zip file")
    assert main(["predict", "--model", str(corrupted), "great"]) == 2
    err = capsys.readouterr().err
    assert "model.keras is not the file training wrote" in err  # the manifest's digest
    assert (corrupted / "model.keras").read_bytes() == b"not a zip file"  # left as it was

    foreign = _copy_run(trained_run, tmp_path / "foreign")
    info = json.loads((foreign / "run.json").read_text())
    info["format_version"] = 99
    (foreign / "run.json").write_text(json.dumps(info))
    assert main(["predict", "--model", str(foreign), "great"]) == 2
    assert "run format version 99" in capsys.readouterr().err

    no_features = _copy_run(trained_run, tmp_path / "no_features")
    info = json.loads((no_features / "run.json").read_text())
    del info["features"]
    (no_features / "run.json").write_text(json.dumps(info))
    assert main(["predict", "--model", str(no_features), "great"]) == 2
    assert "no valid 'features' section" in capsys.readouterr().err

    no_ngrams = _copy_run(trained_run, tmp_path / "no_ngrams")
    info = json.loads((no_ngrams / "run.json").read_text())
    info["features"]["ngrams"] = True
    (no_ngrams / "run.json").write_text(json.dumps(info))
    assert main(["predict", "--model", str(no_ngrams), "great"]) == 2
    assert "ngrams.npz is missing" in capsys.readouterr().err

    broken = _copy_run(trained_run, tmp_path / "broken")
    (broken / "run.json").write_text("{ truncated")
    assert main(["predict", "--model", str(broken), "great"]) == 2
    assert "run.json is corrupted" in capsys.readouterr().err


def _cli(*argv: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "bilstm_attention", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


def _history_column(run: Path, name: str) -> list[float]:
    """One column of a run's ``history.csv``, an entry per epoch."""
    with (run / "history.csv").open(newline="") as handle:
        return [float(row[name]) for row in csv.DictReader(handle)]


def _epochs_logged(run: Path) -> int:
    history = run / "history.csv"
    return max(0, len(history.read_text().splitlines()) - 1) if history.is_file() else 0


def test_killed_run_resumes_from_its_last_epoch(reviews_csv: Path, tmp_path: Path) -> None:
    run = tmp_path / "killed"
    # with the cosine schedule, so that the resumed epochs show the rates they would have had
    process = _cli(*train_args(reviews_csv, run, "--epochs", "8", "--patience", "0", "--lr-schedule", "cosine"))
    deadline = time.time() + 240
    while _epochs_logged(run) < 2 and process.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, "training finished before it could be interrupted:\n" + process.stdout.read()
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = _epochs_logged(run)
    assert 2 <= done_before < 8
    assert not (run / "metrics.json").exists()

    resumed = _cli("train", "--resume", "--output", str(run))
    output, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, output
    history = (run / "history.csv").read_text().splitlines()[1:]
    epochs = [int(line.split(",")[0]) for line in history]
    assert epochs == list(range(8)), epochs  # each epoch exactly once: resumed, not restarted
    rates = _history_column(run, "learning_rate")
    assert rates == pytest.approx([0.01 * (1 + math.cos(math.pi * epoch / 8)) / 2 for epoch in range(8)], rel=1e-4)
    assert (run / "metrics.json").is_file() and (run / "model.keras").is_file()
    assert not (run / "checkpoints" / "backup").exists()  # resume state removed after success


def test_learning_rate_falls_after_each_epoch_that_is_not_the_best(reviews_csv: Path, tmp_path: Path) -> None:
    run = tmp_path / "reduce-lr"
    # the plain training step (the cosine test below sets the rate on the adversarial one)
    extra = ("--epochs", "6", "--patience", "0", "--reduce-lr-factor", "0.5")
    assert main(train_args(reviews_csv, run, *extra)) == 0
    rates = _history_column(run, "learning_rate")  # the rate each epoch trained with
    accuracies = _history_column(run, "val_accuracy")
    assert len(rates) == 6
    assert rates[0] == pytest.approx(0.01)
    best = float("-inf")
    for epoch in range(5):
        # an epoch that does not improve on the best validation accuracy halves the next one's rate
        improved = accuracies[epoch] > best + 1e-4  # ReduceLROnPlateau's default min_delta
        best = accuracies[epoch] if improved else best
        expected = rates[epoch] if improved else rates[epoch] * 0.5
        assert rates[epoch + 1] == pytest.approx(expected, rel=1e-5), (epoch, rates, accuracies)
    assert rates[-1] < rates[0], (rates, accuracies)  # the easy task stops improving well before 6 epochs
    saved = json.loads((run / "run.json").read_text())["train_config"]["fit"]
    assert saved["reduce_lr_factor"] == 0.5


def test_cosine_schedule_sets_each_epochs_learning_rate(reviews_csv: Path, tmp_path: Path) -> None:
    from bilstm_attention import load_model

    run = tmp_path / "cosine"
    # with word dropout (Steam's recipe) on the same adversarial path
    extra = ("--epochs", "4", "--patience", "0", "--lr-schedule", "cosine", "--token-dropout", "0.2")
    adversarial = ("--normalize-embeddings", "--adversarial-epsilon", "1")  # the tuned recipe's path
    assert main(train_args(reviews_csv, run, *extra, *adversarial)) == 0
    rates = _history_column(run, "learning_rate")
    assert rates == pytest.approx([0.01, 0.0085355, 0.005, 0.0014645], rel=1e-4)
    saved = json.loads((run / "run.json").read_text())["train_config"]
    assert saved["fit"]["lr_schedule"] == "cosine" and saved["classifier"]["token_dropout"] == 0.2
    model = load_model(run)
    assert model.model.get_layer("token_dropout").rate == 0.2
    # dropout is off at inference: two copies of a review in one batch get the same probability
    first, again = model.predict(["a great film with a sad end", "a great film with a sad end"])
    assert first == again


def test_cosine_schedule_with_reduce_lr_factor_is_refused(reviews_csv: Path, tmp_path: Path, capsys) -> None:
    argv = train_args(reviews_csv, tmp_path / "run", "--lr-schedule", "cosine", "--reduce-lr-factor", "0.5")
    assert main(argv) != 0
    assert "give one of them" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("factor", ["0", "1", "1.5", "-0.5"])
def test_reduce_lr_factor_outside_zero_one_is_refused(factor: str, reviews_csv: Path, tmp_path: Path, capsys) -> None:
    assert main(train_args(reviews_csv, tmp_path / "run", "--reduce-lr-factor", factor)) != 0
    error = capsys.readouterr().err
    assert "reduce_lr_factor must be between 0 and 1" in error and factor in error
    assert not (tmp_path / "run").exists()


def test_mirrored_strategy_trains_on_two_logical_cpus(reviews_csv: Path, tmp_path: Path) -> None:
    run = tmp_path / "mirrored"
    # one padded shape, so the replicated step is traced once
    process = _cli(
        *train_args(
            reviews_csv,
            run,
            "--epochs",
            "1",
            "--strategy",
            "mirrored",
            "--max-length",
            "40",
            "--pad-to-max-length",
            "--no-bucketing",
        )
    )
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    assert "test accuracy" in output
    assert json.loads((run / "run.json").read_text())["train_config"]["runtime"]["strategy"] == "mirrored"


def test_wide_and_deep_run_trains_saves_and_explains(reviews_csv: Path, tmp_path: Path, capsys) -> None:
    from bilstm_attention import load_model

    run = tmp_path / "ngram"
    assert (
        main(
            train_args(
                reviews_csv,
                run,
                "--epochs",
                "3",
                "--ngram-order",
                "2",
                "--ngram-min-count",
                "1",
                "--ngram-dropout",
                "0.1",
                "--max-length",
                "12",
                "--truncation",
                "head_tail",
            )
        )
        == 0
    )
    assert (run / "ngrams.npz").is_file()
    info = json.loads((run / "run.json").read_text())
    assert info["features"]["ngrams"] and info["classifier_config"]["ngram_vocab_size"] > 10
    assert json.loads((run / "metrics.json").read_text())["test"]["accuracy"] > 0.9
    model = load_model(run)
    long_review = "the film was dull " * 10 + "but the ending was great and superb"
    probabilities = model.predict(["great superb film", "dull awful film", long_review])
    assert probabilities[0] > 0.5 > probabilities[1]
    explanation = model.explain(long_review)
    assert len(explanation.tokens) == 12  # what the BiLSTM saw: head + tail of the review
    assert explanation.tokens[-1] == "superb"
    capsys.readouterr()
    assert main(["predict", "--model", str(run), "superb"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == "superb"


def test_readme_own_data_command_detects_the_language(reviews_csv: Path, capsys) -> None:
    from bilstm_attention.cli.train_cmd import detect_file_language
    from bilstm_attention.training import TrainConfig

    config = TrainConfig.from_dict(
        {
            "file": str(reviews_csv),
            "text_column": "review",
            "label_column": "sentiment",
            "label_map": {"neg": 0, "pos": 1},
        }
    )
    assert detect_file_language(config).data.language == "en"
    assert (
        "language detected: en (Hangul 0% of the letters of the first 600 reviews); tokenizer english"
        in capsys.readouterr().out
    )


def test_train_on_a_korean_cp949_file_with_another_separator(tmp_path: Path, capsys) -> None:
    path = tmp_path / "korean.csv"
    rows = [("정말 최고 재미있어요 강추", "1"), ("완전 별로 지루해요 비추", "0")] * 40
    path.write_bytes(
        ("리뷰;라벨\n" + "".join(f"{text} {i};{label}\n" for i, (text, label) in enumerate(rows))).encode("cp949")
    )
    argv = [
        "train",
        "--file",
        str(path),
        "--text-column",
        "리뷰",
        "--label-column",
        "라벨",
        "--vocab-size",
        "50",
        "--embedding-dim",
        "8",
        "--lstm-units",
        "4",
        "--attention-units",
        "4",
        "--dense-units",
        "4",
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--no-tensorboard",
        "--output",
        str(tmp_path / "run"),
    ]
    assert main(argv[:-2] + ["--output", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert "korean.csv, line 1: not valid utf-8" in err and "(encoding='cp949', CLI --encoding cp949)" in err
    assert main([*argv, "--encoding", "cp949", "--sep", ";"]) == 0
    out = capsys.readouterr().out
    assert "language detected: ko" in out and "tokenizer kiwi" in out
    data = json.loads((tmp_path / "run" / "run.json").read_text())["train_config"]["data"]
    assert data["language"] == "ko" and data["encoding"] == "cp949" and data["sep"] == ";"
