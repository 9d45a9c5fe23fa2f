"""Smoke runs of the benchmark on small slices of every available real dataset.

They check that a report has every field with sane values, not how fast anything is
(speed and accuracy are measured by the benchmark itself, see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")

from bilstm_attention.cli import main
from bilstm_attention.errors import ConfigError
from bilstm_attention.evaluation.benchmark import REPORT_FIELDS, markdown_row, results_table
from bilstm_attention.training.recipes import recipe_config


def check_report(report: dict, dataset: str, recipe: str) -> None:
    missing = [name for name in REPORT_FIELDS if name not in report]
    assert not missing, missing
    assert report["dataset"] == dataset and report["recipe"] == recipe
    assert 0.0 <= report["test_accuracy"] <= 1.0 and 0.0 <= report["test_f1"] <= 1.0
    assert report["epochs_run"] == len(report["epoch_seconds"]) >= 1
    for name in (
        "seconds_per_epoch",
        "train_reviews_per_second",
        "inference_reviews_per_second",
        "latency_ms_median",
        "peak_rss_mb",
        "tokenize_seconds",
    ):
        assert math.isfinite(report[name]) and report[name] > 0, name
    assert report["machine"]["logical_cores"] >= 1
    assert report["runtime"]["backend"] in ("tensorflow", "jax")
    assert len(report["runtime"]["load_average"]) == 3 and len(report["runtime"]["load_average_after"]) == 3
    assert report["runtime"]["tf_intra_op_threads"] >= 0 and report["latency_ms_first"] > 0
    assert {"python", "tensorflow", "keras", "bilstm-attention"} <= set(report["versions"])
    assert report["command"]
    row = markdown_row(report)
    assert row.startswith(f"| {dataset} | {recipe} |") and row.count("|") == 13


def test_imdb_seed_and_tuned_side_by_side(shared_datasets: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "results"
    assert (
        main(
            [
                "benchmark",
                "--dataset",
                "imdb",
                "--data-dir",
                str(shared_datasets),
                "--limit",
                "60",
                "--epochs",
                "1",
                "--output-dir",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "tuned/seed wall time per epoch" in printed
    for recipe in ("seed", "tuned"):
        report = json.loads((out / f"imdb-{recipe}-limit60.json").read_text())
        check_report(report, "imdb", recipe)
        assert report["tuned_to_seed_epoch_time_ratio"] > 0
    seed = json.loads((out / "imdb-seed-limit60.json").read_text())
    assert seed["config"]["pad_to_max_length"] and seed["config"]["max_length"] == 500

    # the RESULTS.md table takes full-data reports, and marks what was not measured
    (out / "imdb-seed.json").write_text(json.dumps(seed))
    table = results_table(out, ["imdb", "steam"])
    assert markdown_row(seed) in table
    assert "| imdb | tuned | not measured |" in table and "| steam | seed | not measured |" in table
    assert f"- imdb / seed: `{seed['command']}`" in table
    assert "| imdb | tuned - seed" not in table  # no comparison without both rows

    tuned = json.loads((out / "imdb-tuned-limit60.json").read_text())
    assert set(tuned["ensemble"]) >= {"deep_weight", "nblr_C", "deep_test_accuracy", "nblr_test_accuracy"}
    (out / "imdb-tuned.json").write_text(json.dumps(tuned))
    table = results_table(out, ["imdb", "steam"])
    ratio = f"{tuned['tuned_to_seed_epoch_time_ratio']:.2f}"
    gain = f"{100 * (tuned['test_accuracy'] - seed['test_accuracy']):+.2f}"
    assert f"| imdb | {gain} | {ratio} | {100 * tuned['ensemble']['deep_test_accuracy']:.2f} |" in table
    (out / "imdb-tuned.json").write_text(json.dumps({**tuned, "command": "another run"}))
    assert f"| imdb | {gain} | {ratio} (different runs) |" in results_table(out, ["imdb"])


@pytest.mark.parametrize(
    ("dataset", "path"),
    [
        ("nsmc", None),
        # Steam's tuned recipe on the partial file is trained by the steam notebook's test, and the
        # Korean benchmark report is checked by NSMC's case: in the slow run only
        pytest.param("steam", "steam/steam.partial.txt", marks=pytest.mark.slow, id="steam"),
        # the same recipe as NSMC's on a 10-line preview file: in the slow run only
        pytest.param(
            "naver_shopping", "naver_shopping/naver_shopping.preview.txt", marks=pytest.mark.slow, id="naver_shopping"
        ),
    ],
)
def test_korean_tuned_recipe_smoke(dataset: str, path: str | None, shared_datasets: Path, tmp_path: Path) -> None:
    from bilstm_attention.evaluation.benchmark import run_recipe

    report = run_recipe(
        dataset,
        "tuned",
        data_dir=str(shared_datasets),
        path=str(shared_datasets / path) if path else None,
        limit=60,
        epochs=1,
        verbose=0,
    )
    check_report(report, dataset, "tuned")


def test_recipes_are_complete_training_configurations() -> None:
    seed = recipe_config("nsmc", "seed")
    assert seed.text.tokenizer == "okt" and seed.text.max_length == 30 and seed.text.min_count == 3
    assert seed.classifier.lstm_units == [64, 64] and seed.classifier.attention == "bahdanau"
    assert recipe_config("shopping", "seed").data.dataset == "naver_shopping"  # aliases resolve
    with pytest.raises(ConfigError, match="unknown recipe 'fast'"):
        recipe_config("imdb", "fast")


def test_save_speed_report_records_the_context_of_the_figures(tmp_path: Path, capsys) -> None:
    from bilstm_attention.evaluation.benchmark import save_speed_report

    path = tmp_path / "speed.json"
    save_speed_report(path, {"reviews_per_second": {"graph": 1234.5}}, (1.5, 1.25, 1.0))
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["reviews_per_second"] == {"graph": 1234.5}
    assert report["load_average_before"] == [1.5, 1.25, 1.0] and len(report["load_average_after"]) == 3
    assert report["runtime"]["backend"] and report["machine"]["logical_cores"] >= 1
    assert "keras" in report["versions"] and report["command"] and report["finished_at"]
    printed = capsys.readouterr().out
    assert '"graph": 1234.5' in printed and f"saved {path}" in printed and '"machine"' not in printed
