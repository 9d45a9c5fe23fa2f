"""Failures found by trying bad input: each test reproduces one, then checks the fix.

Where the failure is about a new process or two processes, the test runs subprocesses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tiny_run

REPO = Path(__file__).resolve().parents[1]


def _python(code: str, *, timeout: float = 300, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )


# ----------------------------------------------------------------- 1. layers registered by import


def test_saved_attention_model_loads_after_only_importing_the_package(tmp_path: Path) -> None:
    path = tmp_path / "attention.keras"
    saved = _python(f"""
        import keras
        from bilstm_attention import BahdanauAttention, LuongAttention
        tokens = keras.Input(shape=(None,), dtype="int32")
        x = keras.layers.Embedding(50, 8, mask_zero=True)(tokens)
        seq, fh, _, bh, _ = keras.layers.Bidirectional(
            keras.layers.LSTM(4, return_sequences=True, return_state=True))(x)
        query = keras.layers.Concatenate()([fh, bh])
        c1, _ = BahdanauAttention(4)(seq, query)
        c2, _ = LuongAttention(score="general")(seq, query)
        out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Concatenate()([c1, c2]))
        keras.Model(tokens, out).save({str(path)!r})
    """)
    assert saved.returncode == 0, saved.stderr
    # a fresh process: the package is imported, none of its layer classes are named
    loaded = _python(f"""
        import bilstm_attention
        import keras
        model = keras.saving.load_model({str(path)!r}, safe_mode=True)
        print(sorted(type(layer).__name__ for layer in model.layers if "Attention" in type(layer).__name__))
    """)
    assert loaded.returncode == 0, loaded.stderr
    assert "['BahdanauAttention', 'LuongAttention']" in loaded.stdout
    # keras imported first, then the package: registered at once
    loaded = _python(f"""
        import keras
        import bilstm_attention
        keras.saving.load_model({str(path)!r}, safe_mode=True)
        print("ok")
    """)
    assert loaded.returncode == 0 and "ok" in loaded.stdout, loaded.stderr


def test_every_serialisable_class_of_the_package_is_registered_by_importing_it() -> None:
    """Not only the attention layers: the classifier's blocks (NormalizedEmbedding,
    LearnedQuery, MaskedSum, WeightedAverage) and the adversarial training model too, in a
    fresh process where none of their modules was imported by name."""
    names = [
        "BahdanauAttention",
        "LuongAttention",
        "NormalizedEmbedding",
        "LearnedQuery",
        "MaskedSum",
        "WeightedAverage",
        "AdversarialTraining",
    ]
    # also when the first import is a module that imports the classifier while Keras loads
    # (the registration must not meet a half-imported module: no warning, all registered)
    for first in ("bilstm_attention", "bilstm_attention.features.pipeline"):
        result = _python(f"""
            import warnings
            warnings.simplefilter("error", RuntimeWarning)
            import {first}
            import keras
            for name in {names!r}:
                print(name, keras.saving.get_registered_object("bilstm_attention>" + name) is not None)
        """)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [word for name in names for word in (name, "True")], result.stderr


def test_importing_the_package_does_not_import_keras() -> None:
    """The registration waits for Keras, so the command line's data commands stay fast."""
    result = _python("""
        import sys, bilstm_attention
        print("keras" in sys.modules, "tensorflow" in sys.modules)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


# ----------------------------------------------------------------- 2. a run directory is claimed atomically

_CLAIM = """
    import sys, time
    from pathlib import Path
    from bilstm_attention.run_dir import RunDirectory
    start, root = float(sys.argv[1]), Path(sys.argv[2])
    while time.time() < start:
        pass
    try:
        RunDirectory(root).create(resume=False)
    except Exception as exc:
        print(f"refused {type(exc).__name__}: {exc}", flush=True)
    else:
        (root / "run.json").write_text("{}")
        print("claimed", flush=True)
        time.sleep(float(sys.argv[3]))
"""


def _claimers(root: Path, count: int, hold: float = 0.0) -> list[subprocess.Popen]:
    import time

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.time() + 1.5  # every process is waiting by then
    return [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_CLAIM), str(start), str(root), str(hold)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("attempt", range(3))
def test_processes_starting_a_run_in_the_same_directory_at_once_one_wins(tmp_path: Path, attempt: int) -> None:
    root = tmp_path / "run"
    outputs = [process.communicate(timeout=60) for process in _claimers(root, 4)]
    lines = [out.strip() for out, err in outputs]
    assert all(line for line in lines), [err for _, err in outputs]
    assert sum(line == "claimed" for line in lines) == 1, lines
    refused = [line for line in lines if line != "claimed"]
    assert all(line.startswith("refused RunDirectoryExistsError") for line in refused), refused
    assert all("choose another --output" in line for line in refused)


def test_resume_is_refused_while_another_process_trains_there(tmp_path: Path) -> None:
    from bilstm_attention.errors import RunInUseError
    from bilstm_attention.run_dir import RunDirectory

    root = tmp_path / "run"
    (holder,) = _claimers(root, 1, hold=30)
    try:
        assert holder.stdout.readline().strip() == "claimed"
        with pytest.raises(RunInUseError, match=r"another process is training in .*run \(pid \d+"):
            RunDirectory(root).create(resume=True)
    finally:
        holder.kill()
        holder.wait()
    RunDirectory(root).create(resume=True)  # the lock went with the process
    RunDirectory(root).release()


@pytest.mark.slow
def test_two_train_commands_with_the_same_output_at_once(tmp_path: Path) -> None:
    from tiny_run import train_args, write_reviews

    reviews = write_reviews(tmp_path / "reviews.csv", 120)
    run = tmp_path / "run"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bilstm_attention", *train_args(reviews, run)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(process.wait(timeout=900), process.stdout.read()) for process in processes]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(out for code, out in results if code == 2)
    assert "error: run directory" in refused and "Traceback" not in refused
    from bilstm_attention import load_model

    load_model(run)  # one run's files, consistent with its manifest


# ----------------------------------------------------------------- tiny trained runs (English and Korean)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("tensorflow")
    from tiny_run import shared_runs

    return shared_runs(tmp_path_factory)


def _copy(run: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(run, target)
    return target


def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


# ----------------------------------------------------------------- 3. explained tokens are capped


def test_a_long_review_gives_a_heatmap_of_bounded_size(tmp_path: Path) -> None:
    from PIL import Image

    from bilstm_attention.inference.sentiment_model import Explanation
    from bilstm_attention.inference.visualize import MAX_SHOWN_TOKENS, save_heatmap, shown_tokens

    count = 20_000
    weights = [1.0 / count] * count
    weights[17_000] = 0.5  # one token near the end stands out
    tokens = [f"w{i}" for i in range(count)]
    tokens[3] = "x" * 5_000  # and one token is 5,000 characters long
    explanation = Explanation("...", tokens, [True] * count, weights, 0.7, "pos")
    shown = shown_tokens(explanation)
    assert len([t for t, _ in shown if t != "…"]) == MAX_SHOWN_TOKENS
    assert ("w17000", 0.5) in shown and shown[-1] == ("…", 0.0)
    assert max(len(t) for t, _ in shown) <= 40
    picture = save_heatmap(explanation, tmp_path / "long.png", max_tokens=60)  # drawing 300 takes ~10 s here
    width, height = Image.open(picture).size
    assert width < 2_500 and height < 4_000, (width, height)
    assert picture.stat().st_size < 2_000_000
    html = tmp_path / "long.html"
    save_heatmap(explanation, html)
    assert html.read_text().count("<span") == len(shown)


def test_explain_command_shows_at_most_max_tokens(runs: dict[str, Path], capsys) -> None:
    from bilstm_attention.cli import main

    text = " ".join(["the film was dull"] * 300) + " great"
    assert main(["explain", "--model", str(runs["en"]), "--max-tokens", "50", text]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) <= 1 + 50 + 50 + 2
    # the run keeps the first max_length tokens (user files are capped at 400 by default)
    kept = json.loads((runs["en"] / "run.json").read_text(encoding="utf-8"))["features"]["max_length"]
    assert out[-1].startswith(f"(50 of {min(1201, kept or 1201)} tokens shown")
    assert main(["explain", "--model", str(runs["en"]), "--max-tokens", "0", "great"]) == 2
    assert "--max-tokens must be positive" in capsys.readouterr().err


# ----------------------------------------------------------------- 4. text that is not UTF-8


INVALID = b"\xff\xfe\xed\xa0\x80 \xc3(  "  # not UTF-8: lone bytes and an encoded surrogate


@pytest.mark.parametrize("language", ["en", "ko"])
def test_argument_and_stdin_that_are_not_utf8_are_classified(
    runs: dict[str, Path], language: str, monkeypatch, capsys
) -> None:
    import io

    from bilstm_attention.cli import main

    cue = "최고" if language == "ko" else "great"
    argument = os.fsdecode(INVALID + cue.encode())  # what Python puts in sys.argv for these bytes
    assert "\udcff" in argument
    assert main(["predict", "--model", str(runs[language]), argument]) == 0
    (record,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["text"].startswith("\ufffd") and record["text"].endswith(cue) and 0 <= record["probability"] <= 1

    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(INVALID + cue.encode() + b"\n" + cue.encode() + b"\n"))
    )
    assert main(["predict", "--model", str(runs[language])]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"].endswith(cue) for r in records] == [True, True]

    assert main(["explain", "--model", str(runs[language]), argument]) == 0
    assert cue in capsys.readouterr().out


def test_every_tokenizer_reads_lone_surrogates_the_same_way() -> None:
    from bilstm_attention.tokenizers import get_tokenizer
    from bilstm_attention.tokenizers.base import clean_text

    assert clean_text("a\udcffb") == "a\ufffdb"
    assert clean_text("\ud83d\ude00") == "\U0001f600"  # a UTF-16 pair joins into its character
    assert clean_text("plain 한국어") == "plain 한국어"
    for name in ("english", "whitespace", "kiwi"):
        tokenizer = get_tokenizer(name)
        assert tokenizer.tokenize("good\udcff film") == tokenizer.tokenize("good\ufffd film"), name
        assert tokenizer.tokenize_batch(["좋다\ud800", "x"], progress=False) == tokenizer.tokenize_batch(
            ["좋다\ufffd", "x"], progress=False
        ), name


# ----------------------------------------------------------------- 5. a run's files must agree


def test_runs_record_a_manifest_of_their_files(runs: dict[str, Path]) -> None:
    from bilstm_attention.run_dir import RunDirectory, file_digest

    manifest = json.loads((runs["en"] / "manifest.json").read_text())
    assert {"run.json", "tokenizer.json", "vocabulary.json", "model.keras", "metrics.json"} <= set(manifest["files"])
    entry = manifest["files"]["model.keras"]
    assert entry == {
        "size": (runs["en"] / "model.keras").stat().st_size,
        "sha256": file_digest(runs["en"] / "model.keras"),
    }
    assert RunDirectory(runs["en"]).verify_manifest() is True


def test_model_file_from_another_run_is_refused(runs: dict[str, Path], tmp_path: Path, capsys) -> None:
    from bilstm_attention.cli import main

    run = _copy(runs["en"], tmp_path / "swapped")
    (run / "model.keras").write_bytes((runs["ko"] / "model.keras").read_bytes())
    assert main(["predict", "--model", str(run), "great"]) == 2
    err = capsys.readouterr().err
    assert "model.keras is not the file training wrote" in err and "copied from another run" in err
    (run / "manifest.json").unlink()  # a run from before manifests: the shape checks still catch it
    assert main(["predict", "--model", str(run), "great"]) == 2
    err = capsys.readouterr().err
    ko_ids = json.loads((runs["ko"] / "run.json").read_text())["features"]["deep_vocab_size"]
    en_ids = json.loads((runs["en"] / "run.json").read_text())["features"]["deep_vocab_size"]
    assert ko_ids != en_ids
    assert f"its embedding reads {ko_ids} token ids, the run's vocabulary {en_ids} " in err and "Traceback" not in err


MANIFEST_MESSAGE = "run.json is not the file training wrote"


@pytest.mark.parametrize(
    ("edit", "message", "before_model"),
    [
        (
            lambda d: d["dataset"].update(class_names=["pos"]),
            "class_names must list at least 2 distinct class names",
            True,
        ),
        (
            lambda d: d["dataset"].update(class_names=["a", "b", "c"]),
            r"it outputs 1 unit\(s\), 3 classes \['a', 'b', 'c'\] need 3",
            False,
        ),
        (
            lambda d: d["features"].update(max_length="abc"),
            "max_length must be a positive integer or null, got 'abc'",
            True,
        ),
        (lambda d: d["features"].update(max_length=-5), "max_length must be a positive integer or null, got -5", True),
        (
            lambda d: d["features"].update(deep_vocab_size=5),
            "its embedding reads \\d+ token ids, the run's vocabulary 5 ",
            False,
        ),
        (
            lambda d: d["features"].update(deep_vocab_size=10_000),
            "reads 10000 token ids but vocabulary.json holds",
            True,
        ),
        (lambda d: d["features"].update(truncation="middle"), "truncation must be one of", True),
        (
            lambda d: d["train_config"]["text"].update(tokenizer="kiwi"),
            "describes the 'whitespace' tokenizer but the run was trained with 'kiwi'",
            True,
        ),
    ],
)
def test_run_json_that_disagrees_with_the_other_files_is_refused(
    runs, tmp_path: Path, capsys, edit, message, before_model
) -> None:
    """Checks of the files themselves come before the manifest's digests (their messages say
    more); checks that need the Keras model come after (the digest already refuses)."""
    from bilstm_attention.cli import main

    run = _copy(runs["en"], tmp_path / "edited")
    _edit_json(run / "run.json", edit)
    for manifest in (True, False):  # with a manifest, and as a run from before manifests
        if not manifest:
            (run / "manifest.json").unlink()
        assert main(["predict", "--model", str(run), "great"]) == 2
        err = capsys.readouterr().err
        expected = message if before_model or not manifest else re.escape(MANIFEST_MESSAGE)
        assert err.startswith("error: ") and re.search(expected, err) and "Traceback" not in err, err


def test_other_edits_are_caught_by_the_manifest(runs, tmp_path: Path, capsys) -> None:
    from bilstm_attention.cli import main

    run = _copy(runs["en"], tmp_path / "edited")
    _edit_json(run / "run.json", lambda d: d["dataset"].update(name="imdb", language="en"))
    assert main(["predict", "--model", str(run), "great"]) == 2
    assert "run.json is not the file training wrote" in capsys.readouterr().err
    run = _copy(runs["en"], tmp_path / "tokenizer")
    _edit_json(run / "tokenizer.json", lambda d: d.update(lowercase=not d["lowercase"]))
    assert main(["predict", "--model", str(run), "great"]) == 2
    assert "tokenizer.json is not the file training wrote" in capsys.readouterr().err
    run = _copy(runs["en"], tmp_path / "tokenizer-name")
    (run / "tokenizer.json").write_text(json.dumps({"name": "english", "lowercase": True, "keep_punctuation": True}))
    (run / "manifest.json").unlink()
    assert main(["predict", "--model", str(run), "great"]) == 2
    assert "describes the 'english' tokenizer but the run was trained with 'whitespace'" in capsys.readouterr().err


def test_a_damaged_model_file_is_reported_as_damaged(runs, tmp_path: Path, capsys) -> None:
    from bilstm_attention.cli import main

    run = _copy(runs["en"], tmp_path / "damaged")
    data = (run / "model.keras").read_bytes()
    (run / "model.keras").write_bytes(data[: len(data) // 2])
    assert main(["predict", "--model", str(run), "great"]) == 2
    assert "model.keras is not the file training wrote" in capsys.readouterr().err
    (run / "manifest.json").unlink()
    assert main(["predict", "--model", str(run), "great"]) == 2
    err = capsys.readouterr().err
    assert "model.keras is damaged: it is not a complete .keras (zip) file" in err
    assert "restore the file or train again" in err and "File not found" not in err


def test_a_run_without_manifest_still_loads(runs, tmp_path: Path) -> None:
    from bilstm_attention import load_model

    run = _copy(runs["en"], tmp_path / "old")
    (run / "manifest.json").unlink()
    (run / ".lock").unlink(missing_ok=True)
    model = load_model(run)
    assert model.predict(["great superb", "awful dull"]).shape == (2,)


def test_korean_model_is_not_evaluated_on_english_data_by_accident(runs, tmp_path: Path, capsys) -> None:
    from tiny_run import write_reviews

    from bilstm_attention.cli import main

    english = write_reviews(tmp_path / "english.csv", 40, "en")
    argv = [
        "evaluate",
        "--model",
        str(runs["ko"]),
        "--file",
        str(english),
        "--text-column",
        "review",
        "--label-column",
        "sentiment",
        "--label-map",
        "neg=0,pos=1",
        "--language",
        "en",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        "the model was trained on 'file:reviews-ko' (ko) and 'file:english' is in en" in err
        and "Pass --allow-other-language" in err
    )
    assert main([*argv, "--allow-other-language", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["examples"] > 0


# ----------------------------------------------------------------- 8. resume, '-' texts, blank lines


def test_resume_of_a_finished_run_says_it_is_finished(runs, tmp_path: Path, capsys) -> None:
    from bilstm_attention.cli import main

    run = _copy(runs["en"], tmp_path / "finished")
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert main(["train", "--resume", "--output", str(run)]) == 2
    err = capsys.readouterr().err
    assert "the run in" in err and "finished already" in err and "nothing was trained again" in err
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_texts_that_look_like_options(runs, tmp_path: Path, capsys) -> None:
    from bilstm_attention.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "--model", str(runs["en"]), "-_-"])
    assert exit_info.value.code == 2
    assert "goes after `--`" in capsys.readouterr().err
    assert main(["predict", "--model", str(runs["en"]), "--", "-_-", "--great"]) == 0
    assert [json.loads(line)["text"] for line in capsys.readouterr().out.splitlines()] == ["-_-", "--great"]
    texts = tmp_path / "texts.txt"
    texts.write_text("-_-\n\n--version\n", encoding="utf-8")
    assert main(["predict", "--model", str(runs["en"]), "--file", str(texts)]) == 0
    assert [json.loads(line)["text"] for line in capsys.readouterr().out.splitlines()] == ["-_-", "", "--version"]
    assert main(["explain", "--model", str(runs["en"]), "--", "-_-"]) == 0
    assert main(["predict", "--model", str(runs["en"]), "--file", str(tmp_path / "missing.txt")]) == 2
    assert "--file" in capsys.readouterr().err


def test_blank_stdin_lines_keep_one_output_line_per_input_line(runs, monkeypatch, capsys) -> None:
    import io

    from bilstm_attention.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO("great film\n\n   \nawful film\n"))
    assert main(["predict", "--model", str(runs["en"])]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in records] == ["great film", "", "   ", "awful film"]
    assert records[1] == {"text": "", "label": None, "error": "blank text: nothing to classify"}
    assert records[0]["label"] is not None and records[3]["label"] is not None


def test_a_failed_start_does_not_block_the_directory(tmp_path: Path) -> None:
    """A start that fails before writing anything (bad data) leaves only its claim, which the
    next attempt with the same directory takes over, in this process or another."""
    from bilstm_attention.errors import RunDirectoryExistsError
    from bilstm_attention.run_dir import RunDirectory

    root = tmp_path / "run"
    (first,) = _claimers(root, 1)  # claims, writes run.json, exits
    assert first.communicate(timeout=60)[0].strip() == "claimed"
    (root / "run.json").unlink()  # as if it had failed before writing anything
    RunDirectory(root).create(resume=False)
    RunDirectory(root).create(resume=False)  # again in the same process (a notebook retry)
    (root / "run.json").write_text("{}")
    RunDirectory(root).release()
    with pytest.raises(RunDirectoryExistsError, match="exists and is not empty"):
        RunDirectory(root).create(resume=False)
