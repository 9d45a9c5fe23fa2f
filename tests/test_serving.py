"""Deploying a run: ``export`` (TensorFlow SavedModel) and ``serve`` (JSON over HTTP).

The SavedModel is reloaded with ``tf.saved_model.load`` in a fresh process; the server is
started as a real process on 127.0.0.1 and spoken to with a real HTTP client (urllib).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from test_train_cli import train_args, write_reviews

from bilstm_attention.cli import main

TEXTS = ["great superb film", "dull awful film", "the movie was wonderful and the plot excellent"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two tiny runs: the plain classifier, and the tuned recipe's kind of model: the BiLSTM
    averaged with NB-LR over n-grams (two inputs, three explain outputs)."""
    root = tmp_path_factory.mktemp("serving")
    reviews = write_reviews(root / "reviews.csv", 240)
    plain, ngram = root / "plain", root / "ngram"
    assert main(train_args(reviews, plain, "--epochs", "1", "--batch-size", "64")) == 0
    assert (
        main(
            train_args(
                reviews,
                ngram,
                "--epochs",
                "1",
                "--batch-size",
                "64",
                "--ngram-order",
                "2",
                "--ngram-model",
                "nblr",
                "--ngram-min-count",
                "1",
                "--max-length",
                "6",
                "--truncation",
                "head_tail",
            )
        )
        == 0
    )
    return {"plain": plain, "ngram": ngram}


# --- export ------------------------------------------------------------------------------

RELOAD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    results = {}
    for path, inputs_file in zip(sys.argv[1::2], sys.argv[2::2]):
        inputs = {k: tf.constant(np.asarray(v, dtype=np.int32)) for k, v in json.load(open(inputs_file)).items()}
        loaded = tf.saved_model.load(path)
        serve = loaded.signatures["serving_default"](**inputs)
        explain = loaded.signatures["explain"](**inputs)
        results[path] = {
            "signatures": sorted(loaded.signatures),
            "probabilities": serve["probabilities"].numpy().tolist(),
            "explain": {k: v.numpy().tolist() for k, v in explain.items()},
        }
    print(json.dumps(results))
    """
)
EXPORT_TEXTS = [*TEXTS, "film " + TEXTS[2] + " unknownword"]


def _padded(sequences: list[np.ndarray]) -> list[list[int]]:
    width = max(len(seq) for seq in sequences)
    return [[int(i) for i in seq] + [0] * (width - len(seq)) for seq in sequences]


@pytest.fixture(scope="module")
def exported(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both runs exported with the CLI, then reloaded together in one fresh process."""
    from bilstm_attention import load_model

    root = tmp_path_factory.mktemp("exported")
    found: dict[str, Any] = {}
    argv: list[str] = []
    for kind, run in runs.items():
        out = root / kind
        assert main(["export", "--model", str(run), "--out", str(out)]) == 0
        encoded = load_model(run).encode(EXPORT_TEXTS)
        feed: dict[str, Any] = {"token_ids": _padded(encoded.tokens)}
        if encoded.ngrams is not None:
            feed["ngram_ids"] = _padded(encoded.ngrams)
        (root / f"{kind}.json").write_text(json.dumps(feed))
        argv += [str(out), str(root / f"{kind}.json")]
        found[kind] = {"out": out, "lengths": [len(seq) for seq in encoded.tokens]}
    done = subprocess.run(
        [sys.executable, "-c", RELOAD, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    reloaded = json.loads(done.stdout.strip().splitlines()[-1])
    for kind in runs:
        found[kind]["reloaded"] = reloaded[str(found[kind]["out"])]
    found["root"] = root
    return found


@pytest.mark.parametrize("kind", ["plain", "ngram"])
def test_exported_saved_model_gives_the_same_probabilities_in_a_fresh_process(
    kind: str, runs: dict[str, Path], exported: dict[str, Any]
) -> None:
    from bilstm_attention import load_model

    out: Path = exported[kind]["out"]
    assert (out / "saved_model.pb").is_file() and (out / "variables").is_dir()
    for name in ("tokenizer.json", "vocabulary.json", "serving.json", "README.md"):
        assert (out / name).is_file(), name
    assert (out / "vocabulary.json").read_bytes() == (runs[kind] / "vocabulary.json").read_bytes()
    assert (out / "ngrams.npz").is_file() == (kind == "ngram")
    description = json.loads((out / "serving.json").read_text())
    assert description["default_signature"] == "serve"
    assert description["class_names"] == ["neg", "pos"]
    assert description["preprocessing"]["raw_string_signature"] is False
    expected_inputs = ["token_ids", "ngram_ids"] if kind == "ngram" else ["token_ids"]
    assert list(description["signatures"]["serve"]["inputs"]) == expected_inputs
    assert ("ngram_ids" in (out / "README.md").read_text()) == (kind == "ngram")
    # nothing but the two exports and their input files: no temporary folder left
    assert sorted(p.name for p in exported["root"].iterdir()) == ["ngram", "ngram.json", "plain", "plain.json"]

    result = exported[kind]["reloaded"]
    assert result["signatures"] == ["explain", "serve", "serving_default"]
    model = load_model(runs[kind])
    expected = model.predict(EXPORT_TEXTS)
    np.testing.assert_allclose(np.asarray(result["probabilities"])[:, 0], expected, atol=1e-5)
    np.testing.assert_allclose(np.asarray(result["explain"]["probabilities"])[:, 0], expected, atol=1e-5)
    weights = np.asarray(result["explain"]["attention_weights"])
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    lengths = exported[kind]["lengths"]
    for row, length in zip(weights, lengths):
        assert np.all(row[length:] == 0.0)  # padding gets no attention
    explanation = model.explain(EXPORT_TEXTS[0])
    np.testing.assert_allclose(weights[0, : lengths[0]], explanation.weights, atol=1e-5)
    explain_outputs = ["attention_weights", "probabilities"] + (["bilstm_probability"] if kind == "ngram" else [])
    assert sorted(result["explain"]) == sorted(explain_outputs)
    assert sorted(description["signatures"]["explain"]["outputs"]) == sorted(explain_outputs)
    if kind == "ngram":  # the ensemble's BiLSTM part, which the attention belongs to
        assert abs(result["explain"]["bilstm_probability"][0][0] - explanation.bilstm_probability) < 1e-5


def test_export_never_overwrites_and_reports_bad_runs(runs: dict[str, Path], tmp_path: Path, capsys) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    assert main(["export", "--model", str(runs["plain"]), "--out", str(existing)]) == 2
    assert f"error: {existing} already exists; choose another --out" in capsys.readouterr().err
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]

    missing = tmp_path / "no-such-run"
    assert main(["export", "--model", str(missing), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(missing) in err
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"]


# --- serve -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, body: bytes | None = None, method: str | None = None, timeout: float = 60) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _post(url: str, payload: Any) -> tuple[int, Any]:
    return _request(url, json.dumps(payload).encode("utf-8"))


@pytest.fixture(scope="module")
def server(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """``bilstm-attention serve`` on 127.0.0.1 with small limits; yields its base URL."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w+")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bilstm_attention",
            "serve",
            "--model",
            str(runs["plain"]),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--max-texts",
            "4",
            "--max-chars",
            "200",
            "--max-body-bytes",
            "3000",
            "--batch-wait-ms",
            "300",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"server exited with {process.returncode}:\n{log.read()[-3000:]}")
            try:
                if _request(f"{url}/health", timeout=5)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not start within 240 s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        log.close()


def test_server_predicts_explains_and_reports_health(server: str, runs: dict[str, Path]) -> None:
    from bilstm_attention import load_model

    status, health = _request(f"{server}/health")
    assert status == 200
    assert health["status"] == "ok" and health["class_names"] == ["neg", "pos"] and health["model"] == "plain"
    assert health["limits"] == {"max_texts": 4, "max_chars": 200, "max_body_bytes": 3000}

    status, body = _post(f"{server}/predict", {"texts": TEXTS})
    assert status == 200
    expected = load_model(runs["plain"]).predict(TEXTS)
    got = [p["probability"] for p in body["predictions"]]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert [p["label"] for p in body["predictions"]] == ["pos" if p >= 0.5 else "neg" for p in expected]

    status, body = _post(f"{server}/explain", {"text": "a dull film"})
    assert status == 200
    assert [t["token"] for t in body["tokens"]] == ["a", "dull", "film"]
    assert abs(sum(t["weight"] for t in body["tokens"]) - 1.0) < 1e-5
    assert body["label"] in ("neg", "pos")


def test_concurrent_requests_are_batched(server: str) -> None:
    before = _request(f"{server}/health")[1]["batching"]
    results: list[tuple[int, Any]] = []
    barrier = threading.Barrier(6)

    def client(index: int) -> None:
        barrier.wait(timeout=30)
        results.append(_post(f"{server}/predict", {"texts": [TEXTS[index % 3], TEXTS[(index + 1) % 3]]}))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 6 and all(status == 200 and len(body["predictions"]) == 2 for status, body in results)
    after = _request(f"{server}/health")[1]["batching"]
    assert after["texts_predicted"] - before["texts_predicted"] == 12
    assert after["model_calls"] - before["model_calls"] < 6  # some requests shared a model call


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/predict", b'{"texts": ["good", ', 400, "request body is not valid JSON"),
        ("/predict", b"", 400, "request body is empty"),
        ("/predict", b"\xff\xfe", 400, "request body is not UTF-8"),
        ("/predict", b'["good"]', 422, 'the body must be a JSON object like {"texts"'),
        ("/predict", b'{"text": "good"}', 422, "the body has no 'texts' field"),
        ("/predict", b'{"texts": "good"}', 422, "'texts' must be a list of strings, got a string"),
        ("/predict", b'{"texts": []}', 422, "'texts' is empty"),
        ("/predict", b'{"texts": ["good", 3]}', 422, "texts[1] must be a string, got a number"),
        ("/predict", b'{"texts": ["good", "   "]}', 422, "texts[1] is empty"),
        ("/predict", b'{"texts": ["a", "b", "c", "d", "e"]}', 413, "'texts' has 5 texts; the limit is 4"),
        ("/predict", json.dumps({"texts": ["x" * 201]}).encode(), 413, "texts[0] has 201 characters; the limit is 200"),
        ("/predict", json.dumps({"texts": ["good"], "pad": "x" * 4000}).encode(), 413, "over the limit of 3000 bytes"),
        ("/explain", b'{"text": null}', 422, "'text' must be a string, got null"),
        ("/explain", b'{"texts": ["good"]}', 422, "the body has no 'text' field"),
        ("/explain", b'{"text": ""}', 422, "'text' is empty"),
    ],
    ids=[
        "bad-json",
        "empty-body",
        "not-utf8",
        "not-object",
        "no-texts",
        "texts-string",
        "texts-empty",
        "text-number",
        "text-blank",
        "too-many-texts",
        "text-too-long",
        "body-too-large",
        "explain-null",
        "explain-no-text",
        "explain-empty",
    ],
)
def test_bad_requests_get_clear_4xx_errors_and_the_server_keeps_running(
    server: str, path: str, body: bytes, status: int, message: str
) -> None:
    got_status, got = _request(f"{server}{path}", body, method="POST")
    assert got_status == status
    assert message in got["error"]
    assert _request(f"{server}/health")[0] == 200
    assert _post(f"{server}/predict", {"texts": ["great"]})[0] == 200


def test_unknown_routes_and_methods(server: str) -> None:
    assert _request(f"{server}/nowhere")[0] == 404
    status, body = _request(f"{server}/predict")  # GET
    assert status == 405 and body["error"] == "Method Not Allowed"


def test_serve_reports_a_bad_run_and_bad_options(tmp_path: Path, capsys) -> None:
    assert main(["serve", "--model", str(tmp_path / "missing"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(tmp_path / "missing") in err
    assert main(["serve", "--model", str(tmp_path), "--port", "70000"]) == 2
    assert "error: --port must be between 0 and 65535, got 70000" in capsys.readouterr().err
    assert main(["serve", "--model", str(tmp_path), "--max-texts", "0"]) == 2
    assert "error: max_texts must be a positive integer, got 0" in capsys.readouterr().err
