"""The whole command-line pipeline on the backend of ``KERAS_BACKEND`` (run by
``tests/test_backends.py`` with ``KERAS_BACKEND=jax``).

Usage: ``python pipeline_check.py REVIEWS.csv OTHER_RUN OUT_DIR``

1. ``train`` a tiny run (1 epoch, TensorBoard on) into ``OUT_DIR/run``; ``evaluate``,
   ``predict``, ``explain`` it;
2. ``--strategy mirrored`` must fail with a one-line error naming the backend;
3. load ``OTHER_RUN`` (trained on the other backend) and this run with ``load_model`` and
   write both runs' probabilities for :data:`TEXTS` to ``OUT_DIR/probabilities.json``.

Prints ``PIPELINE CHECK OK <backend>`` at the end; any failure raises.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

from bilstm_attention.cli import main

TEXTS = ["the movie was great and superb", "boring and awful plot", "loved it", "a dull film"]


def train_args(reviews: str, output: Path, *extra: str, one_shape: bool = True) -> list[str]:
    """A tiny model; with ``one_shape`` every batch is padded to 32 tokens and (160 reviews)
    each split is one batch, so that JAX compiles each step once."""
    shape = ["--max-length", "32", "--pad-to-max-length", "--no-bucketing"] if one_shape else ["--max-length", "40"]
    return [
        "train",
        "--file",
        reviews,
        "--text-column",
        "review",
        "--label-column",
        "sentiment",
        "--label-map",
        "neg=0,pos=1",
        "--tokenizer",
        "whitespace",
        "--vocab-size",
        "100",
        "--embedding-dim",
        "8",
        "--lstm-units",
        "4",
        "--attention-units",
        "4",
        "--dense-units",
        "4",
        "--learning-rate",
        "0.01",
        *shape,
        "--batch-size",
        "256",
        "--epochs",
        "1",
        "--output",
        str(output),
        *extra,
    ]


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def check(reviews: str, other_run: str, out_dir: str) -> None:
    import keras

    backend = keras.backend.backend()
    assert backend == os.environ["KERAS_BACKEND"], backend
    out = Path(out_dir)
    run = out / "run"

    code, stdout, stderr = run_cli(*train_args(reviews, run, "--tensorboard"))
    assert code == 0, stderr
    assert "test accuracy" in stdout, stdout
    assert any((run / "logs").rglob("*tfevents*")), "no TensorBoard events"
    for name in ("run.json", "model.keras", "metrics.json", "history.json", "checkpoints/best.keras"):
        assert (run / name).is_file(), name

    code, stdout, stderr = run_cli(
        "evaluate",
        "--model",
        str(run),
        "--file",
        reviews,
        "--text-column",
        "review",
        "--label-column",
        "sentiment",
        "--label-map",
        "neg=0,pos=1",
        "--json",
    )
    assert code == 0, stderr
    assert json.loads(stdout)["examples"] > 0

    code, stdout, stderr = run_cli("predict", "--model", str(run), *TEXTS[:2])
    assert code == 0, stderr
    assert [json.loads(line)["text"] for line in stdout.splitlines()] == TEXTS[:2]

    picture = out / "heatmap.png"
    code, stdout, stderr = run_cli("explain", "--model", str(run), TEXTS[1], "--out", str(picture))
    assert code == 0, stderr
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    code, stdout, stderr = run_cli(*train_args(reviews, out / "mirrored", "--strategy", "mirrored"))
    assert code == 2, (code, stderr)
    assert "strategy 'mirrored'" in stderr and f"runs on '{backend}'" in stderr, stderr
    print("cli ok", flush=True)

    from bilstm_attention import load_model

    probabilities = {}
    for name, path in (("this", run), ("other", Path(other_run))):
        model = load_model(path)
        probabilities[name] = [float(p) for p in model.predict(TEXTS)]
        explanation = model.explain(TEXTS[0])
        assert abs(sum(explanation.weights) - 1.0) < 1e-4, explanation.weights
    (out / "probabilities.json").write_text(json.dumps(probabilities), encoding="utf-8")
    print("PIPELINE CHECK OK", backend)


if __name__ == "__main__":
    check(*sys.argv[1:4])
