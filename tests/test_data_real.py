"""The real datasets in ../shared/datasets (skipped with a reason when they are absent):
the counts of the issue's "Done when", loaded through the same code as downloaded files."""

from __future__ import annotations

import time
import warnings
from collections import Counter

import pytest

from bilstm_attention.data import encode_dataset, get_spec, load_dataset
from bilstm_attention.errors import DataWarning

REBUILT_IMDB = "8ca9a397f12a87154520eef6eb03c839171bff2f038ad251ffe431c04ee0a9e5"
UPSTREAM_IMDB = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"


@pytest.fixture(scope="module")
def isolated_cache(tmp_path_factory):
    """Module-scoped fixtures run before conftest's per-test cache isolation: isolate here."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BILSTM_ATTENTION_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        yield


@pytest.fixture(scope="module")
def imdb(shared_datasets, isolated_cache):
    started = time.perf_counter()
    with pytest.warns(
        DataWarning,
        match=rf"aclImdb_v1\.tar\.gz: sha256 {REBUILT_IMDB} differs from upstream's "
        rf"{UPSTREAM_IMDB}; accepted because its structure checks pass",
    ):
        splits = load_dataset("imdb", shared_datasets, progress=False, download=False)
    print(f"\nIMDB full load from the tarball: {time.perf_counter() - started:.1f} s")
    return splits


@pytest.fixture(scope="module")
def nsmc(shared_datasets, isolated_cache):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # byte-exact: no warning
        return load_dataset("nsmc", shared_datasets, progress=False, download=False)


def test_imdb_counts(imdb):
    report = imdb.report
    assert report.rows == {"train": 25_000, "test": 25_000}
    assert report.before_validation == {
        "train": {"negative": 12_500, "positive": 12_500, "total": 25_000},
        "test": {"negative": 12_500, "positive": 12_500, "total": 25_000},
    }
    assert report.final["train"] == {"negative": 11_250, "positive": 11_250, "total": 22_500}
    assert report.final["validation"] == {"negative": 1_250, "positive": 1_250, "total": 2_500}
    # whole movies (aclImdb's train/urls_*.txt), as test's movies are not train's
    assert (
        "validation: whole movies, 351 of 3,456, none of them in train (train and test share no movie)" in report.notes
    )
    assert len(imdb.test) == 25_000
    assert not any("<br" in text.lower() for text in imdb.train.texts[:2000])
    assert imdb.source_files[0].matches_upstream is False and imdb.source_files[0].digest == REBUILT_IMDB


def test_imdb_limit_reads_a_balanced_subset(imdb, shared_datasets):
    with pytest.warns(DataWarning, match=rf"sha256 {REBUILT_IMDB} differs from upstream's {UPSTREAM_IMDB}; accepted"):
        small = load_dataset("imdb", shared_datasets, limit=200, progress=False, download=False)
    assert small.report.before_validation["train"] == {"negative": 100, "positive": 100, "total": 200}
    assert small.report.before_validation["test"] == {"negative": 25, "positive": 25, "total": 50}
    assert set(small.test.texts) <= set(imdb.test.texts)


def test_nsmc_counts_and_upstream_labels(nsmc, shared_datasets):
    report = nsmc.report
    assert report.rows == {"train": 150_000, "test": 50_000}
    assert report.dropped == {"train": {"empty text": 5}, "test": {"empty text": 3}}
    assert report.before_validation["train"] == {"negative": 75_170, "positive": 74_825, "total": 149_995}
    assert report.before_validation["test"] == {"negative": 24_826, "positive": 25_171, "total": 49_997}
    assert (len(nsmc.train), len(nsmc.validation), len(nsmc.test)) == (134_995, 15_000, 49_997)
    # the labels are upstream's: the same (text, label) pairs as a plain reading of the file
    for name, parts in (("ratings_train.txt", (nsmc.train, nsmc.validation)), ("ratings_test.txt", (nsmc.test,))):
        lines = (shared_datasets / "nsmc" / name).read_text(encoding="utf-8").split("\n")[1:-1]
        expected = Counter((f[1], int(f[2])) for f in (line.split("\t") for line in lines) if f[1].strip())
        got = Counter((t, int(y)) for part in parts for t, y in zip(part.texts, part.labels))
        assert got == expected
    assert all(s.matches_upstream for s in nsmc.source_files)


def test_nsmc_second_encoding_comes_from_the_cache(nsmc, tmp_path):
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        encoded = encode_dataset(nsmc, "whitespace", 20_000, cache_dir=tmp_path, progress=False)
        timings.append((time.perf_counter() - started, encoded.from_cache))
    print(f"\nNSMC whitespace encoding: first {timings[0][0]:.1f} s, second {timings[1][0]:.1f} s (cache)")
    assert [from_cache for _, from_cache in timings] == [False, True]
    assert len(encoded.train) == 134_995


def test_steam_partial_copy_through_an_explicit_path(shared_datasets):
    path = shared_datasets / "steam" / "steam.partial.txt"
    with pytest.warns(
        DataWarning,
        match=r"steam\.partial\.txt is not the upstream steam\.txt \(git_blob "
        r"23ea6d3c0f17bdf346a462e6f7e0e7c5b2130339, upstream "
        r"358da9142ab212ed3018e5bf53d099a166a31395\)",
    ):
        splits = load_dataset("steam", path=path, progress=False)
    assert splits.report.rows == {"all": 30_008}
    before = splits.report.before_validation
    assert before["train"]["total"] + before["test"]["total"] == 30_008
    assert before["train"]["positive"] + before["test"]["positive"] == 15_033
    assert before["test"]["total"] == 7_502  # 25 %, stratified
    assert splits.report.skipped_lines == {}


def test_shopping_preview_with_the_label_rule(shared_datasets):
    path = shared_datasets / "naver_shopping" / "naver_shopping.preview.txt"
    with pytest.warns(DataWarning, match=r"naver_shopping\.preview\.txt is not the upstream naver_shopping\.txt"):
        splits = load_dataset("naver_shopping", path=path, progress=False, validation_fraction=0)
    assert splits.report.rows == {"all": 10}
    texts = dict(
        zip(splits.train.texts + splits.test.texts, [*splits.train.labels.tolist(), *splits.test.labels.tolist()])
    )
    ratings = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        rating, text = line.split("\t")
        ratings[text] = int(rating)
    assert {text: int(ratings[text] >= 4) for text in ratings} == texts
    assert sum(texts.values()) == 3  # three 5-star reviews; 2s and 1s are negative
    assert get_spec("naver_shopping").label_rule.drop == ("3",)
