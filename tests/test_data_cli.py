"""``bilstm-attention datasets list | verify | prepare``: exit codes and messages."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "data"))
import bilstm_data_fixtures as fx

from bilstm_attention.cli import datasets_cmd

FIXTURES = fx.HERE


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bilstm-attention")
    datasets_cmd.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture()
def fake_nsmc(tmp_path):
    """A data dir whose nsmc files are the tiny fixtures: not upstream, wrong structure."""
    return fx.data_dir_with(
        tmp_path,
        {
            "nsmc/ratings_train.txt": FIXTURES / "tiny_nsmc" / "ratings_train.txt",
            "nsmc/ratings_test.txt": FIXTURES / "tiny_nsmc" / "ratings_test.txt",
        },
    )


def test_list(capsys, fake_nsmc):
    assert run(["datasets", "list", "--data-dir", str(fake_nsmc)]) == 0
    out = capsys.readouterr().out
    for name in ("imdb", "nsmc", "steam", "naver_shopping"):
        assert name in out
    assert "stratified 75%/25%, seed 42" in out
    assert f"found {fake_nsmc / 'nsmc' / 'ratings_train.txt'}" in out


def test_list_json(capsys, tmp_path):
    assert run(["datasets", "list", "--json", "--data-dir", str(tmp_path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    nsmc = next(r for r in rows if r["name"] == "nsmc")
    assert nsmc["local"] == "missing" and nsmc["tokenizer"] == "mecab" and nsmc["seed_tokenizer"] == "okt"


def test_list_points_at_non_upstream_files(capsys, tmp_path):
    data = fx.data_dir_with(tmp_path, {"steam/steam.partial.txt": FIXTURES / "tiny_steam.txt"})
    assert run(["datasets", "list", "--data-dir", str(data)]) == 0
    assert f"other file {data / 'steam' / 'steam.partial.txt'} (not the upstream file; load it with path=" in (
        capsys.readouterr().out
    )


def test_verify_fails_naming_the_offending_files(capsys, fake_nsmc):
    assert run(["datasets", "verify", "nsmc", "--data-dir", str(fake_nsmc)]) == 1
    captured = capsys.readouterr()
    train = fake_nsmc / "nsmc" / "ratings_train.txt"
    assert "nsmc: FAILED" in captured.out
    assert f"[failed] {train}" in captured.out
    assert "differs from upstream (e03b7d14e9e41be8d464a28057cd25d7396c53e67aa7fd5f7e552c59b0ee2940)" in captured.out
    assert "structure checks fail: train: 13 rows, expected 150,000" in captured.out
    assert (
        f"error: verification failed for nsmc: {train} (failed); {fake_nsmc / 'nsmc' / 'ratings_test.txt'} (failed)"
        in captured.err
    )


def test_verify_reports_a_malformed_file_with_its_line(capsys, tmp_path):
    data = fx.data_dir_with(
        tmp_path,
        {
            "nsmc/ratings_train.txt": b"id\tdocument\tlabel\n1\tgood\t1\n2\tbad\n",
            "nsmc/ratings_test.txt": FIXTURES / "tiny_nsmc" / "ratings_test.txt",
        },
    )
    assert run(["datasets", "verify", "nsmc", "--data-dir", str(data)]) == 1
    out = capsys.readouterr().out
    assert f"[failed] {data / 'nsmc' / 'ratings_train.txt'}" in out
    assert "ratings_train.txt, line 3: expected 3 tab-separated fields (id, document, label), found 2" in out


def test_verify_missing_files(capsys, tmp_path):
    assert run(["datasets", "verify", "steam", "--data-dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "[missing] steam.txt" in captured.out
    assert f"looked in {tmp_path / 'steam' / 'steam.txt'}" in captured.out
    assert "error: verification failed for steam: steam.txt (missing)" in captured.err


def test_verify_json(capsys, fake_nsmc):
    assert run(["datasets", "verify", "nsmc", "--json", "--data-dir", str(fake_nsmc)]) == 1
    report = json.loads(capsys.readouterr().out)[0]
    assert report["ok"] is False and [f["status"] for f in report["files"]] == ["failed", "failed"]


def test_unknown_dataset_is_exit_code_2(capsys):
    assert run(["datasets", "verify", "imbd"]) == 2
    assert "error: unknown dataset 'imbd'; available: imdb, nsmc, steam, naver_shopping" in capsys.readouterr().err


def test_through_the_main_entry_point(capsys, tmp_path):
    from bilstm_attention.cli import main

    assert main(["datasets", "verify", "steam", "--data-dir", str(tmp_path)]) == 1
    assert main(["datasets", "list", "--json"]) == 0


def test_verify_real_nsmc_and_prepare_finds_present_files(capsys, shared_datasets):
    assert run(["datasets", "verify", "nsmc", "--data-dir", str(shared_datasets)]) == 0
    out = capsys.readouterr().out
    assert "nsmc: OK" in out and out.count("matches upstream") == 2
    assert "train: dropped {'empty text': 5}" in out
    assert run(["datasets", "prepare", "nsmc", "--data-dir", str(shared_datasets), "--no-progress"]) == 0
    assert f"present    {shared_datasets / 'nsmc' / 'ratings_train.txt'}" in capsys.readouterr().out


@pytest.mark.slow
def test_verify_real_imdb_accepts_the_rebuilt_tarball(capsys, shared_datasets):
    assert run(["datasets", "verify", "imdb", "--data-dir", str(shared_datasets)]) == 0
    out = capsys.readouterr().out
    assert "[accepted]" in out and "8ca9a397f12a87154520eef6eb03c839171bff2f038ad251ffe431c04ee0a9e5" in out
    assert "train 25,000 rows, test 25,000 rows, unlabeled 50,000 rows" in out
