"""Property-based tests over the text inputs of the tokenizers, predict and explain: any
Unicode string (lone surrogates, control and bidi characters, very long strings included)
gives a result or a clear error, never a traceback."""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tiny_run

#: Every code point, surrogates (category Cs) included.
ANY_CHARACTER = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
SPECIAL = st.sampled_from(
    [
        "\u202e",
        "\u2066",
        "\u2069",
        "\u200f",
        "\u200b",
        "\ufeff",
        "\x00",
        "\x1b[31m",
        "\r",
        "\n",
        "\t",
        "\u2028",
        "\ud83d",
        "\ude00",
        "\udcff",
        "\U0001f600",
        "-_-",
        "--",
        "-",
        "ㅋㅋ",
        "재밌어요",
        "great",
        "<br />",
        "&amp;",
        "$x$",
        "$\\frac$",
        "\\",
        "'s",
        "\uffff",
        "\U0010ffff",
        "\u0301",
        "ᆫ다",
    ]
)
TEXTS = st.one_of(
    st.text(ANY_CHARACTER, max_size=80),
    st.lists(st.one_of(SPECIAL, st.text(ANY_CHARACTER, max_size=4)), max_size=25).map("".join),
    st.builds(
        lambda piece, times: piece * times,
        st.lists(SPECIAL, min_size=1, max_size=3).map(" ".join),
        st.integers(200, 2_000),
    ),
)
PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def _valid_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize("name", ["english", "whitespace", "kiwi"])
@PROPERTY
@given(text=TEXTS)
def test_tokenizers_take_any_string(name: str, text: str) -> None:
    from bilstm_attention.tokenizers import get_tokenizer

    tokenizer = get_tokenizer(name)
    tokens = tokenizer.tokenize(text)
    assert isinstance(tokens, list) and all(isinstance(t, str) and t and _valid_utf8(t) for t in tokens)
    assert tokenizer.tokenize_batch([text, "x"], progress=False)[0] == tokens


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("tensorflow")
    from tiny_run import shared_runs

    return shared_runs(tmp_path_factory)


@pytest.fixture(scope="module")
def models(runs: dict[str, Path]) -> dict:
    from bilstm_attention import load_model

    return {language: load_model(run) for language, run in runs.items()}


@pytest.mark.parametrize("language", ["en", "ko"])
@PROPERTY
@given(texts=st.lists(TEXTS, min_size=1, max_size=4))
def test_predict_takes_any_strings(models: dict, language: str, texts: list[str]) -> None:
    probabilities = models[language].predict(texts)
    assert probabilities.shape == (len(texts),)
    assert all(0.0 <= float(p) <= 1.0 and math.isfinite(float(p)) for p in probabilities)


@pytest.mark.parametrize("language", ["en", "ko"])
@PROPERTY
@given(text=TEXTS)
def test_explain_takes_any_string(models: dict, language: str, text: str) -> None:
    from bilstm_attention.inference.visualize import heatmap_html, shown_tokens

    explanation = models[language].explain(text)
    assert len(explanation.tokens) == len(explanation.weights) == len(explanation.known) >= 1
    assert math.isclose(sum(explanation.weights), 1.0, abs_tol=1e-3) or explanation.tokens == [""]
    assert explanation.label in models[language].class_names
    json.dumps(explanation.to_dict(), ensure_ascii=False).encode("utf-8")
    assert len(shown_tokens(explanation, 20)) <= 2 * 20 + 1
    heatmap_html(explanation, standalone=True).encode("utf-8")


@settings(PROPERTY, max_examples=12)  # each example runs the whole command (loads the run)
@given(texts=st.lists(TEXTS, min_size=1, max_size=3))
def test_predict_command_takes_any_arguments(runs: dict[str, Path], texts: list[str]) -> None:
    from bilstm_attention.cli import main

    run = str(runs["en"])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["predict", "--model", run, "--", *texts])
    if all(not text.strip() for text in texts):
        assert code == 2 and err.getvalue().startswith("error: no text to classify")
        return
    assert code == 0, err.getvalue()
    records = [json.loads(line) for line in out.getvalue().splitlines()]  # U+2028 etc. are escaped
    assert len(records) == len(texts)  # one line out per text in
    for record in records:
        assert _valid_utf8(record["text"])
        assert record["label"] is None or 0.0 <= record["probability"] <= 1.0
