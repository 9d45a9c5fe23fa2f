"""The IMDB adapter on tiny aclImdb-like archives written by the tests: streaming reads,
extracted folders, limit, unlabeled reviews, safe extraction, truncated and hostile archives."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tarfile
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "data"))
import bilstm_data_fixtures as fx

from bilstm_attention.data import load_dataset, load_unlabeled, safe_extract
from bilstm_attention.data.readers import read_imdb
from bilstm_attention.errors import (
    ChecksumError,
    ConfigError,
    DataError,
    DatasetNotFoundError,
    DataWarning,
    TruncatedArchiveError,
    UnsafeArchiveError,
)


@pytest.fixture()
def archive_dir(tmp_path):
    """``<tmp>/data/tiny_imdb/aclImdb_v1.tar.gz`` and a registry whose sha256 matches it."""
    data_dir = tmp_path / "data"
    (data_dir / "tiny_imdb").mkdir(parents=True)
    archive = fx.build_imdb_tar(data_dir / "tiny_imdb" / "aclImdb_v1.tar.gz")
    registry = fx.write_registry(tmp_path / "datasets.yaml", fx.registry_data(imdb_archive=archive))
    return data_dir, archive, registry.get("tiny_imdb")


def quiet_load(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_dataset(*args, progress=False, download=False, **kwargs)


def test_reads_the_tarball_in_canonical_order_with_line_breaks(archive_dir):
    data_dir, _, spec = archive_dir
    splits = quiet_load(spec, data_dir, validation_fraction=0)
    assert splits.report.before_validation == {
        "train": {"negative": 4, "positive": 4, "total": 8},
        "test": {"negative": 3, "positive": 3, "total": 6},
    }
    assert splits.train.labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert splits.train.texts[0] == "Dull and far too long."
    assert splits.train.texts[4] == "A wonderful film.\n\nI loved it."
    assert splits.train.texts[7] == "Charming and \nfunny."
    assert splits.source_files[0].matches_upstream is True
    assert splits.unlabeled is None


def test_validation_slice_is_stratified(archive_dir):
    data_dir, _, spec = archive_dir
    splits = quiet_load(spec, data_dir)  # registry validation fraction 0.25
    assert splits.validation.class_counts() == [1, 1]
    assert splits.train.class_counts() == [3, 3]
    assert not set(splits.validation.texts) & set(splits.train.texts)


def test_rebuilt_archive_with_other_order_is_accepted_with_both_digests(archive_dir, tmp_path):
    data_dir, archive, spec = archive_dir
    original = quiet_load(spec, data_dir)
    rebuilt = fx.build_imdb_tar(tmp_path / "rebuilt.tar.gz", order="reversed")
    archive.write_bytes(rebuilt.read_bytes())
    with pytest.warns(
        DataWarning,
        match=rf"aclImdb_v1\.tar\.gz: sha256 {fx.sha256_of(archive)} differs from "
        rf"upstream's {spec.file('archive').checksum.value}; accepted because its "
        r"structure checks pass \(train 8 rows, test 6 rows, unlabeled 3 rows\)",
    ):
        again = load_dataset(spec, data_dir, progress=False, download=False)
    assert again.train.texts == original.train.texts and again.test.texts == original.test.texts
    assert again.fingerprint != original.fingerprint  # other bytes, other fingerprint
    memo = json.loads((Path(os.environ["BILSTM_ATTENTION_CACHE"]) / "verified-files.json").read_text())
    assert f"sha256:{fx.sha256_of(archive)}" in memo


def test_archive_missing_a_review_fails_the_structure_checks(archive_dir):
    data_dir, archive, spec = archive_dir
    reviews = {k: list(v) for k, v in fx.IMDB_REVIEWS.items()}
    reviews[("train", "pos")].pop()
    fx.build_imdb_tar(archive, reviews=reviews)
    with pytest.raises(
        ChecksumError,
        match=r"differs from upstream .* and its structure checks fail: train: 7 rows, "
        r"expected 8; train: 3 reviews of class 'positive', expected 4",
    ):
        load_dataset(spec, data_dir, progress=False, download=False)


def test_extracted_folder_gives_the_same_reviews(archive_dir, tmp_path):
    data_dir, archive, spec = archive_dir
    from_archive = quiet_load(spec, data_dir)
    folder_root = tmp_path / "folder-data"
    safe_extract(archive, folder_root / "tiny_imdb" / "extracted", progress=False)
    os.replace(folder_root / "tiny_imdb" / "extracted" / "aclImdb", folder_root / "tiny_imdb" / "aclImdb")
    from_folder = quiet_load(spec, folder_root)
    assert from_folder.train.texts == from_archive.train.texts
    assert from_folder.test.labels.tolist() == from_archive.test.labels.tolist()
    assert from_folder.source_files[0].algorithm == "content-sha256"
    assert from_folder.source_files[0].path == folder_root / "tiny_imdb" / "aclImdb"


def test_unlabeled_reviews(archive_dir):
    data_dir, _, spec = archive_dir
    splits = quiet_load(spec, data_dir, unlabeled=True)
    assert splits.unlabeled == ["An unlabeled review.", "Another one, \nunlabeled.", "Third unlabeled review."]
    assert splits.report.rows["unlabeled"] == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_unlabeled(spec, data_dir, progress=False, download=False) == splits.unlabeled
        assert len(load_unlabeled(spec, data_dir, limit=2, progress=False, download=False)) == 2
    with pytest.raises(ConfigError, match=r"limit must be a positive integer"):
        load_unlabeled(spec, data_dir, limit=0)


def test_limit_reads_only_the_selected_members_and_matches_a_full_read(archive_dir):
    data_dir, archive, spec = archive_dir
    fast = quiet_load(spec, data_dir, limit=4, validation_fraction=0)
    assert fast.train.class_counts() == [2, 2] and fast.test.class_counts() == [1, 1]
    # the same subset when the whole archive is read (a copy whose checksum is unknown)
    slow_spec = dataclasses.replace(spec, files=(dataclasses.replace(spec.files[0], checksum=None),))
    slow = quiet_load(slow_spec, data_dir, limit=4, validation_fraction=0)
    assert slow.train.texts == fast.train.texts and slow.test.texts == fast.test.texts
    # the fast path stops reading once it has the selected reviews
    read = read_imdb(archive, spec, select={("train", "neg"): {0}, ("train", "pos"): {0}}, progress=False)
    assert not read.complete
    assert read.parts["train"].texts == ["Dull and far too long.", "A wonderful film.\n\nI loved it."]


def test_truncated_archive_names_the_file(archive_dir):
    data_dir, archive, spec = archive_dir
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        TruncatedArchiveError,
        match=r"aclImdb_v1\.tar\.gz is truncated or corrupted: reading stopped "
        r"after [\d,]+ members.*Delete it and download it again",
    ):
        load_dataset(spec, data_dir, progress=False, download=False)


def test_corrupted_archive_names_the_file(archive_dir):
    data_dir, archive, spec = archive_dir
    data = bytearray(archive.read_bytes())
    for i in range(60, 160):
        data[i] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(TruncatedArchiveError, match=r"aclImdb_v1\.tar\.gz is truncated or corrupted"):
        load_dataset(spec, data_dir, progress=False, download=False)


def _link(name: str, target: str, kind=tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([("aclImdb/../../evil.txt", b"x")], r"unsafe member 'aclImdb/\.\./\.\./evil\.txt': '\.\.' component"),
        ([("/tmp/absolute-evil.txt", b"x")], r"unsafe member '/tmp/absolute-evil\.txt': absolute path"),
        ([_link("aclImdb/escape", "../../outside")], r"unsafe member 'aclImdb/escape': link pointing outside"),
        ([_link("aclImdb/abs", "/etc/passwd")], r"unsafe member 'aclImdb/abs': link to absolute path '/etc/passwd'"),
        ([_link("aclImdb/hard", "../x", tarfile.LNKTYPE)], r"unsafe member 'aclImdb/hard': link pointing outside"),
    ],
)
def test_hostile_members_are_refused_when_reading_and_extracting(tmp_path, archive_dir, extra, message):
    _, archive, spec = archive_dir
    fx.build_imdb_tar(archive, extra=extra)
    with pytest.raises(UnsafeArchiveError, match=message):
        load_dataset(spec, path=archive, progress=False)
    target = tmp_path / "extract" / "out"
    with pytest.raises(UnsafeArchiveError, match=message):
        safe_extract(archive, target, progress=False)
    assert not target.exists()
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/absolute-evil.txt").exists()
    assert list((tmp_path / "extract").iterdir()) == []  # the temporary folder is gone too


def test_safe_extract_is_atomic_and_refuses_to_overwrite(archive_dir, tmp_path):
    _, archive, _ = archive_dir
    target = safe_extract(archive, tmp_path / "x" / "out", progress=False)
    assert (target / "aclImdb" / "train" / "pos" / "0_9.txt").read_text() == "A wonderful film.<br /><br />I loved it."
    with pytest.raises(ConfigError, match=r"extraction target .*out exists already"):
        safe_extract(archive, target, progress=False)
    truncated = tmp_path / "cut.tar.gz"
    truncated.write_bytes(archive.read_bytes()[:300])
    with pytest.raises(TruncatedArchiveError, match=r"cut\.tar\.gz is truncated or corrupted"):
        safe_extract(truncated, tmp_path / "y" / "out", progress=False)
    assert list((tmp_path / "y").iterdir()) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            [("aclImdb/train/pos/99_3.txt", b"Not that good")],
            r"aclImdb/train/pos/99_3\.txt: rating 3 is outside the label rule \(pos means 7-10\)",
        ),
        (
            [("aclImdb/train/neutral/0_5.txt", b"So-so")],
            r"unexpected folder in 'aclImdb/train/neutral/0_5\.txt' \(expected neg, pos, unsup\)",
        ),
        (
            [("aclImdb/test/neg/50_2.txt", "별로".encode("cp949"))],
            r"aclImdb/test/neg/50_2\.txt is not valid utf-8 \(byte 0xba at offset 0\)",
        ),
        ([("aclImdb/test/neg/51_2.txt", b"  \n")], r"aclImdb/test/neg/51_2\.txt: empty review text"),
        ([("aclImdb/test/neg/0_2.txt", b"again")], r"review id 0 appears twice in test/neg"),
    ],
)
def test_bad_members_name_the_member(archive_dir, extra, message):
    _, archive, spec = archive_dir
    fx.build_imdb_tar(archive, extra=extra)
    with pytest.raises(DataError, match=message):
        load_dataset(spec, path=archive, progress=False)


def test_not_an_archive(tmp_path, archive_dir):
    _, _, spec = archive_dir
    bogus = tmp_path / "aclImdb_v1.tar.gz"
    bogus.write_bytes(b"this is not a tarball")
    with pytest.raises(TruncatedArchiveError, match=r"aclImdb_v1\.tar\.gz is truncated or corrupted"):
        load_dataset(spec, path=bogus, progress=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(
        DatasetNotFoundError,
        match=r"empty is neither aclImdb_v1\.tar\.gz nor an extracted aclImdb/ "
        r"folder \(with train/ and test/\), and contains neither",
    ):
        load_dataset(spec, path=empty, progress=False)


def test_a_parsed_archive_is_served_from_the_cache(archive_dir, monkeypatch, tmp_path):
    from bilstm_attention.data.formats import imdb

    monkeypatch.setenv("BILSTM_ATTENTION_CACHE", str(tmp_path / "own-cache"))
    data_dir, _, spec = archive_dir
    first = quiet_load(spec, data_dir, unlabeled=True)
    cache = Path(os.environ["BILSTM_ATTENTION_CACHE"]) / "parsed"
    assert len(list(cache.glob("tiny_imdb-*.npz"))) == 1

    def no_parsing(*args, **kwargs):
        raise AssertionError("the archive was parsed again")

    monkeypatch.setattr(imdb, "read_imdb", no_parsing)
    again = quiet_load(spec, data_dir, unlabeled=True)
    labelled_only = quiet_load(spec, data_dir)  # served by the read that kept the unlabeled reviews
    limited = quiet_load(spec, data_dir, limit=4)
    assert again.train.texts == first.train.texts and again.test.labels.tolist() == first.test.labels.tolist()
    assert again.unlabeled == first.unlabeled and labelled_only.unlabeled is None
    assert labelled_only.train.texts == first.train.texts and again.fingerprint == first.fingerprint
    assert limited.report.before_validation["train"]["total"] == 4


def test_a_whole_read_without_the_unlabeled_reviews_caches_them_for_a_later_read(archive_dir, monkeypatch, tmp_path):
    """The archive is decompressed in full either way: the first read keeps the unlabeled
    reviews in its cache (not in its result), so a later read that wants them (self-training,
    distillation) does not pass over the archive a second time."""
    from bilstm_attention.data.formats import imdb

    monkeypatch.setenv("BILSTM_ATTENTION_CACHE", str(tmp_path / "own-cache"))
    data_dir, _, spec = archive_dir
    labelled_only = quiet_load(spec, data_dir)
    assert labelled_only.unlabeled is None
    assert len(list((tmp_path / "own-cache" / "parsed").glob("tiny_imdb-*.npz"))) == 1

    def no_parsing(*args, **kwargs):
        raise AssertionError("the archive was parsed again")

    monkeypatch.setattr(imdb, "read_imdb", no_parsing)
    with_unlabeled = quiet_load(spec, data_dir, unlabeled=True)
    assert with_unlabeled.unlabeled == ["An unlabeled review.", "Another one, \nunlabeled.", "Third unlabeled review."]
    assert with_unlabeled.train.texts == labelled_only.train.texts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        assert load_unlabeled(spec, data_dir, progress=False, download=False) == with_unlabeled.unlabeled


def test_an_unreadable_parsed_cache_is_ignored_and_rewritten(archive_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("BILSTM_ATTENTION_CACHE", str(tmp_path / "own-cache"))
    data_dir, _, spec = archive_dir
    first = quiet_load(spec, data_dir)
    (cached,) = (Path(os.environ["BILSTM_ATTENTION_CACHE"]) / "parsed").glob("tiny_imdb-*.npz")
    cached.write_bytes(cached.read_bytes()[:100])
    with pytest.warns(DataWarning, match=r"ignoring the unreadable cache file .*tiny_imdb-.*\.npz"):
        again = load_dataset(spec, data_dir, progress=False, download=False)
    assert again.train.texts == first.train.texts
    assert cached.stat().st_size > 100  # rewritten


def test_limit_on_a_non_upstream_archive_checks_it_in_full_once(archive_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BILSTM_ATTENTION_CACHE", str(tmp_path / "own-cache"))
    data_dir, archive, spec = archive_dir
    fx.build_imdb_tar(archive, order="reversed")  # other bytes, same reviews
    with pytest.warns(DataWarning, match=r"accepted because its structure checks pass \(train 8 rows"):
        first = load_dataset(spec, data_dir, limit=4, progress=False, download=False)
    for cached in (tmp_path / "own-cache" / "parsed").glob("*.npz"):
        cached.unlink()  # force the partial (limit) read
    with pytest.warns(DataWarning, match=r"accepted because its structure checks passed when it was read in full"):
        second = load_dataset(spec, data_dir, limit=4, progress=False, download=False)
    assert second.train.texts == first.train.texts and second.test.texts == first.test.texts
