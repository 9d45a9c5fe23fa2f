"""Delimited upstream formats (NSMC, Steam, shopping) and every bad-input case, on small
fixtures described by a test registry (tests/fixtures/data)."""

from __future__ import annotations

import dataclasses
import importlib.machinery
import shutil
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "data"))
import bilstm_data_fixtures as fx

from bilstm_attention.data import load_dataset
from bilstm_attention.errors import (
    ChecksumError,
    ConfigError,
    DataError,
    DatasetNotFoundError,
    DataWarning,
)

FIXTURES = fx.HERE


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return fx.write_registry(tmp_path_factory.mktemp("registry") / "datasets.yaml", fx.registry_data())


def load_quietly(*args, **kwargs):
    """Load, failing on any warning (the fixtures are byte-exact)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_dataset(*args, progress=False, download=False, **kwargs)


# ------------------------------------------------------------------------------ NSMC-like


def test_nsmc_format_upstream_split_and_counted_empty_documents(registry):
    splits = load_quietly(registry.get("tiny_nsmc"), FIXTURES)
    report = splits.report
    assert report.rows == {"train": 13, "test": 7}
    assert report.dropped == {"train": {"empty text": 1}, "test": {"empty text": 1}}
    assert report.before_validation["train"] == {"negative": 6, "positive": 6, "total": 12}
    assert report.before_validation["test"] == {"negative": 3, "positive": 3, "total": 6}
    # validation: 25 % of each class of train, cut deterministically out of train
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (8, 4, 6)
    assert splits.validation.class_counts() == [2, 2]
    everything = splits.train.texts + splits.validation.texts
    assert '사이몬페그의 익살스런 연기가 돋보였던 영화!"스파이더맨"에서 늙어보이기만 했던' in everything
    assert '"그냥 그래요' in everything  # quoting=none: a leading quote is text
    assert splits.test.texts[0] == "굳 ㅋ" and splits.test.labels[0] == 1
    assert splits.train.labels.dtype == np.int64
    assert all(s.matches_upstream for s in splits.source_files)
    assert "dropped from train: 1 (empty text)" in splits.summary()


def test_loading_is_deterministic_and_fingerprinted(registry):
    first = load_quietly(registry.get("tiny_nsmc"), FIXTURES)
    second = load_quietly(registry.get("tiny_nsmc"), FIXTURES)
    assert first.train.texts == second.train.texts and first.validation.texts == second.validation.texts
    assert first.fingerprint == second.fingerprint and len(first.fingerprint) == 64
    other_seed = load_quietly(registry.get("tiny_nsmc"), FIXTURES, seed=123)
    assert other_seed.fingerprint == first.fingerprint  # same data ...
    assert other_seed.settings != first.settings  # ... other split settings (both go into cache keys)
    no_validation = load_quietly(registry.get("tiny_nsmc"), FIXTURES, validation_fraction=0)
    assert len(no_validation.validation) == 0 and len(no_validation.train) == 12


# ----------------------------------------------------------------------------- Steam-like


def test_steam_known_defect_is_skipped_only_in_the_byte_exact_file(registry, tmp_path):
    splits = load_quietly(registry.get("tiny_steam"), FIXTURES)
    assert splits.report.skipped_lines == {"all": [9]}
    assert splits.report.rows == {"all": 15}
    assert splits.report.before_validation["test"] == {"negative": 2, "positive": 2, "total": 4}
    assert len(splits.train) + len(splits.validation) + len(splits.test) == 15
    # the same line in a file that is not byte-identical is an error naming file and line
    tampered = tmp_path / "tiny_steam.txt"
    tampered.write_bytes((FIXTURES / "tiny_steam.txt").read_bytes().replace("재미없음".encode(), "별로".encode()))
    with pytest.raises(
        DataError, match=r"tiny_steam\.txt, line 9: expected 2 tab-separated fields \(label, text\), found 1"
    ):
        load_dataset(registry.get("tiny_steam"), tmp_path, download=False, progress=False)


def test_steam_split_does_not_depend_on_line_order(registry, tmp_path):
    lines = (FIXTURES / "tiny_steam.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    del lines[8]  # the defect line
    shuffled = tmp_path / "shuffled.txt"
    shuffled.write_text("".join(reversed(lines)), encoding="utf-8")
    with pytest.warns(DataWarning):
        reordered = load_dataset(registry.get("tiny_steam"), path=shuffled, progress=False)
    original = load_quietly(registry.get("tiny_steam"), FIXTURES)
    assert sorted(reordered.test.texts) == sorted(original.test.texts)
    assert sorted(reordered.validation.texts) == sorted(original.validation.texts)


def test_explicit_path_loads_a_partial_copy_with_a_warning_naming_both_digests(registry, tmp_path):
    partial = tmp_path / "steam.partial.txt"
    lines = (FIXTURES / "tiny_steam.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    partial.write_text("".join(lines[:8] + lines[9:14]), encoding="utf-8")
    expected = registry.get("tiny_steam").file("all").checksum.value
    with pytest.warns(
        DataWarning,
        match=rf"steam\.partial\.txt is not the upstream tiny_steam\.txt \(git_blob "
        rf"{fx.git_blob_of(partial)}, upstream {expected}\)",
    ):
        splits = load_dataset(registry.get("tiny_steam"), path=partial, progress=False)
    assert splits.report.rows == {"all": 13}
    assert not splits.source_files[0].matches_upstream


# -------------------------------------------------------------------------- shopping-like


def test_shopping_label_rule_drops_rating_3_and_counts_it(registry):
    splits = load_quietly(registry.get("tiny_shop"), FIXTURES)
    assert splits.report.dropped == {"all": {"rating 3": 1}}
    total = splits.report.before_validation
    assert total["train"]["total"] + total["test"]["total"] == 11
    assert total["train"]["positive"] + total["test"]["positive"] == 6  # ratings 4 and 5
    texts = dict(
        zip(
            splits.train.texts + splits.validation.texts + splits.test.texts,
            np.concatenate([splits.train.labels, splits.validation.labels, splits.test.labels]),
        )
    )
    assert texts["배공빠르고 굿"] == 1 and texts["다시는 안 삽니다"] == 0
    assert "그냥 그래요 보통입니다" not in texts


# ------------------------------------------------------------------------- bad input


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


NSMC_HEAD = "id\tdocument\tlabel\n"


@pytest.mark.parametrize(
    ("dataset", "content", "message"),
    [
        (
            "tiny_nsmc",
            NSMC_HEAD + "1\t좋아요\t1\n2\t별로\t0\n3\t이 줄은 필드가 둘\n",
            r"bad\.txt, line 4: expected 3 tab-separated fields \(id, document, label\), found 2: '3\\t이 줄은 필드가 둘'",
        ),
        (
            "tiny_nsmc",
            NSMC_HEAD + "1\t좋아요\t1\n2\t별로\t0\t추가\n",
            r"bad\.txt, line 3: expected 3 tab-separated fields \(id, document, label\), found 4",
        ),
        (
            "tiny_nsmc",
            "id\tdoc\tlabel\n1\t좋아요\t1\n",
            r"bad\.txt, line 1: expected the header tab-separated id, document, label, found 'id\\tdoc\\tlabel'",
        ),
        (
            "tiny_nsmc",
            NSMC_HEAD + "1\t좋아요\t1\n2\t별로\t2\n",
            r"bad\.txt, line 3: label '2' is outside the label rule of tiny_nsmc \(expected one of 0, 1\)",
        ),
        ("tiny_nsmc", "", r"bad\.txt is empty; expected the header id, document, label"),
        ("tiny_steam", "1\t좋아요\n0\t\n", r"bad\.txt, line 2: empty review text in column 'text'"),
        ("tiny_steam", "1\t좋아요\n0\t   \n", r"bad\.txt, line 2: empty review text"),
        ("tiny_steam", "1\t좋아요\n\n0\t별로\n", r"bad\.txt, line 2: empty line; expected 2 tab-separated fields"),
        ("tiny_steam", "1\t좋아요\nx\t별로\n", r"bad\.txt, line 2: label 'x' is outside the label rule of tiny_steam"),
        (
            "tiny_shopping",
            "5\t좋아요\n7\t이상한 별점\n",
            r"bad\.txt, line 2: rating '7' is outside the label rule of tiny_shopping \(expected one of 1, 2, 4, 5 \(3 dropped\)\)",
        ),
    ],
)
def test_bad_rows_name_file_line_and_expectation(registry, tmp_path, dataset, content, message):
    bad = write(tmp_path / "bad.txt", content)
    spec = registry.get(dataset)
    if len(spec.files) > 1:
        test_file = write(tmp_path / "test.txt", NSMC_HEAD + "9\t괜찮아요\t1\n")
        path = {"train": bad, "test": test_file}
    else:
        path = bad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(DataError, match=message):
            load_dataset(spec, path=path, progress=False)


def test_non_utf8_file_names_line_and_byte(registry, tmp_path):
    bad = tmp_path / "cp949.txt"
    bad.write_bytes("1\t좋아요\n".encode() + "0\t별로예요\n".encode("cp949"))
    with pytest.raises(
        DataError,
        match=r"cp949\.txt, line 2: not valid utf-8 \(byte 0xba at column 3\); "
        r"save the file as UTF-8",
    ):
        load_dataset(registry.get("tiny_steam"), path=bad, progress=False)


def test_crlf_line_ends_and_a_byte_order_mark_are_accepted(registry, tmp_path):
    text = "\ufeff1\t좋아요\r\n0\t별로\r\n1\t최고\r\n0\t최악\r\n"
    path = write(tmp_path / "crlf.txt", text)
    with pytest.warns(DataWarning):
        splits = load_dataset(registry.get("tiny_steam"), path=path, progress=False)
    texts = splits.train.texts + splits.validation.texts + splits.test.texts
    assert sorted(texts) == sorted(["좋아요", "별로", "최고", "최악"])


def test_local_copy_with_other_bytes_but_same_structure_is_accepted_with_a_warning(registry, tmp_path):
    data_dir = fx.data_dir_with(
        tmp_path,
        {
            "tiny_nsmc/ratings_train.txt": (FIXTURES / "tiny_nsmc/ratings_train.txt")
            .read_bytes()
            .replace("짜증나네요".encode(), "짜증나요".encode()),
            "tiny_nsmc/ratings_test.txt": FIXTURES / "tiny_nsmc/ratings_test.txt",
        },
    )
    path = data_dir / "tiny_nsmc" / "ratings_train.txt"
    expected = registry.get("tiny_nsmc").file("train").checksum.value
    with pytest.warns(
        DataWarning,
        match=rf"ratings_train\.txt: sha256 {fx.sha256_of(path)} differs from "
        rf"upstream's {expected}; accepted because its structure checks pass",
    ):
        splits = load_dataset(registry.get("tiny_nsmc"), data_dir, download=False, progress=False)
    assert [s.matches_upstream for s in splits.source_files] == [False, True]


def test_local_copy_failing_the_structure_checks_is_a_checksum_error(registry, tmp_path):
    lines = (FIXTURES / "tiny_nsmc/ratings_train.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    data_dir = fx.data_dir_with(
        tmp_path,
        {
            "tiny_nsmc/ratings_train.txt": "".join(lines[:-1]).encode(),
            "tiny_nsmc/ratings_test.txt": FIXTURES / "tiny_nsmc/ratings_test.txt",
        },
    )
    actual = fx.sha256_of(data_dir / "tiny_nsmc/ratings_train.txt")
    expected = registry.get("tiny_nsmc").file("train").checksum.value
    with pytest.raises(
        ChecksumError,
        match=rf"ratings_train\.txt: sha256 {actual} differs from upstream \({expected}\) "
        r"and its structure checks fail: train: 12 rows, expected 13",
    ):
        load_dataset(registry.get("tiny_nsmc"), data_dir, download=False, progress=False)


def test_missing_file_says_which_file_where_it_looked_and_how_to_provide_it(registry, tmp_path, monkeypatch):
    monkeypatch.setenv("BILSTM_ATTENTION_DATA", str(tmp_path / "env-data"))
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset(registry.get("tiny_nsmc"), tmp_path / "nowhere", download=False, progress=False)
    message = str(info.value)
    assert "dataset 'tiny_nsmc': file ratings_train.txt is missing (downloading is disabled)" in message
    assert str(tmp_path / "nowhere" / "tiny_nsmc" / "ratings_train.txt") in message
    assert str(tmp_path / "env-data" / "tiny_nsmc" / "ratings_train.txt") in message
    assert "download it from http://127.0.0.1:9/ratings_train.txt" in message
    assert "--data-dir" in message and "$BILSTM_ATTENTION_DATA" in message


def test_resolution_order_data_dir_then_environment_then_cache(registry, tmp_path, monkeypatch):
    env_dir = fx.data_dir_with(tmp_path / "env", {"tiny_steam.txt": FIXTURES / "tiny_steam.txt"})
    monkeypatch.setenv("BILSTM_ATTENTION_DATA", str(env_dir))
    from_env = load_quietly(registry.get("tiny_steam"), tmp_path / "empty")
    assert from_env.source_files[0].path == env_dir / "tiny_steam.txt"
    explicit = fx.data_dir_with(tmp_path / "explicit", {"tiny_steam/tiny_steam.txt": FIXTURES / "tiny_steam.txt"})
    assert (
        load_quietly(registry.get("tiny_steam"), explicit).source_files[0].path
        == explicit / "tiny_steam/tiny_steam.txt"
    )
    monkeypatch.delenv("BILSTM_ATTENTION_DATA")
    cache = Path(__import__("os").environ["BILSTM_ATTENTION_CACHE"]) / "datasets" / "tiny_steam"
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "tiny_steam.txt", cache / "tiny_steam.txt")
    try:
        assert load_quietly(registry.get("tiny_steam")).source_files[0].path == cache / "tiny_steam.txt"
    finally:
        (cache / "tiny_steam.txt").unlink()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"limit": 1}, ConfigError, r"limit must be an integer >= 2 \(one review per class\), got 1"),
        ({"limit": 2.5}, ConfigError, r"limit must be an integer"),
        ({"validation_fraction": 1.0}, ConfigError, r"validation_fraction must be a number in \[0, 1\), got 1\.0"),
        ({"seed": -1}, ConfigError, r"seed must be a non-negative integer, got -1"),
        ({"source": "web"}, ConfigError, r"source must be one of auto, files, tfds, got 'web'"),
        ({"unlabeled": True}, ConfigError, r"dataset 'tiny_nsmc' has no unlabeled reviews"),
        (
            {"path": FIXTURES / "tiny_nsmc" / "ratings_train.txt"},
            ConfigError,
            r"tiny_nsmc has 2 files \(train, test\); pass a folder holding ratings_train\.txt and ratings_test\.txt",
        ),
        ({"path": FIXTURES / "nope.txt"}, DatasetNotFoundError, r"path .*nope\.txt does not exist"),
    ],
)
def test_bad_arguments(registry, kwargs, error, message):
    with pytest.raises(error, match=message):
        load_dataset(registry.get("tiny_nsmc"), FIXTURES, progress=False, download=False, **kwargs)


def test_multi_file_dataset_from_a_folder_or_a_mapping(registry):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        by_folder = load_dataset(registry.get("tiny_nsmc"), path=FIXTURES / "tiny_nsmc", progress=False)
        by_mapping = load_dataset(
            registry.get("tiny_nsmc"),
            path={"train": FIXTURES / "tiny_nsmc/ratings_train.txt", "test": FIXTURES / "tiny_nsmc/ratings_test.txt"},
            progress=False,
        )
    assert by_folder.train.texts == by_mapping.train.texts
    assert by_folder.fingerprint == by_mapping.fingerprint


def test_limit_takes_class_balanced_deterministic_subsets(registry):
    splits = load_quietly(registry.get("tiny_nsmc"), FIXTURES, limit=4, validation_fraction=0)
    assert splits.train.class_counts() == [2, 2]
    assert splits.test.class_counts() == [1, 1]  # ceil(4 * 0.5) = 2, one per class
    again = load_quietly(registry.get("tiny_nsmc"), FIXTURES, limit=4, validation_fraction=0)
    assert again.train.texts == splits.train.texts
    assert splits.settings["limit"] == 4


# --------------------------------------------------------------------------------- tfds


def test_tfds_source_without_the_package_is_a_clear_error(monkeypatch):
    from bilstm_attention.data import get_spec

    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # as if not installed
    with pytest.raises(
        DatasetNotFoundError,
        match=r"source='tfds' needs the optional package tensorflow-datasets, "
        r"which is not installed \(pip install 'bilstm-attention\[tfds\]'\)",
    ):
        load_dataset(get_spec("imdb"), source="tfds", progress=False)
    with pytest.raises(ConfigError, match=r"dataset 'nsmc' has no tensorflow-datasets source"):
        load_dataset(get_spec("nsmc"), source="tfds", progress=False)


def test_tfds_adapter_with_a_stand_in_module(monkeypatch):
    from bilstm_attention.data import get_spec

    class Builder:
        def __init__(self, name):
            assert name == "imdb_reviews"

        def download_and_prepare(self):
            pass

        def as_dataset(self, split, as_supervised):
            assert as_supervised
            data = {
                "train": [(b"Great<br />film", 1), (b"Bad film", 0), (b"Fine", 1), (b"Dull", 0)],
                "test": [(b"Loved it", 1), (b"Hated it", 0)],
            }
            return data[split]

    fake = types.ModuleType("tensorflow_datasets")
    fake.__spec__ = importlib.machinery.ModuleSpec("tensorflow_datasets", None)
    fake.builder = Builder
    fake.as_numpy = lambda dataset: [(text, np.int64(label)) for text, label in dataset]
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake)
    spec = get_spec("imdb")
    # the registry's structure checks apply to tfds too: this stand-in is far too small
    with pytest.raises(
        DataError,
        match=r"tensorflow-datasets imdb_reviews: structure checks failed: "
        r"train: 4 rows, expected 25,000",
    ):
        load_dataset(spec, source="tfds", progress=False)
    counts = {
        "rows": {"train": 4, "test": 2},
        "classes": {"train": {"negative": 2, "positive": 2}, "test": {"negative": 1, "positive": 1}},
    }
    spec = dataclasses.replace(spec, structure=counts)
    splits = load_dataset(spec, source="tfds", progress=False, validation_fraction=0)
    assert splits.train.texts == ["Great\nfilm", "Bad film", "Fine", "Dull"]
    assert splits.train.labels.tolist() == [1, 0, 1, 0]
    assert splits.test.texts == ["Loved it", "Hated it"]
    assert splits.settings["source"] == "tfds"
    assert splits.source_files[0].algorithm == "content-sha256"


def test_a_partial_copy_with_a_single_class_is_refused(registry, tmp_path):
    single = tmp_path / "steam.positive.txt"
    lines = (FIXTURES / "tiny_steam.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    single.write_text("".join(line for line in lines if line.startswith("1\t")), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # not the upstream file: expected
        with pytest.raises(
            DataError,
            match=r"steam\.positive\.txt: the training data has only the class 'positive' "
            r"\(\d+ reviews\); a classifier needs at least two classes",
        ):
            load_dataset(registry.get("tiny_steam"), path=single, progress=False)
