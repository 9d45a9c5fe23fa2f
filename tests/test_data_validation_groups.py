"""IMDB's validation slice as whole movies (``split.validation_groups: movie``), on tiny
aclImdb-like archives with ``urls_*.txt`` files written by the tests."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "data"))
import bilstm_data_fixtures as fx

from bilstm_attention.data import load_dataset, safe_extract
from bilstm_attention.errors import DataError

#: (split, folder) -> the movie of review 0, 1, ... (movie "tt0000002" has reviews of both classes)
MOVIES = {
    ("train", "pos"): ["tt0000001"] * 3 + ["tt0000002"] * 2 + ["tt0000003", "tt0000004", "tt0000004", "tt0000005"],
    ("train", "neg"): ["tt0000006"] * 2 + ["tt0000007"] * 3 + ["tt0000008", "tt0000002", "tt0000009", "tt0000010"],
    ("test", "pos"): ["tt0000011", "tt0000012"],
    ("test", "neg"): ["tt0000013", "tt0000013"],
}
MOVIE_OF_TEXT = {
    f"{folder} review {i} of {movie}": movie for (_, folder), movies in MOVIES.items() for i, movie in enumerate(movies)
}


def _reviews() -> dict[tuple[str, str], list[tuple[int, int, str]]]:
    ratings = {"pos": 8, "neg": 2}
    return {
        (split, folder): [(i, ratings[folder], f"{folder} review {i} of {movie}") for i, movie in enumerate(movies)]
        for (split, folder), movies in MOVIES.items()
    }


def _urls(split: str, folder: str, lines: int | None = None) -> tuple[str, bytes]:
    movies = MOVIES[(split, folder)][:lines]
    text = "".join(f"http://www.imdb.com/title/{movie}/usercomments\n" for movie in movies)
    return f"aclImdb/{split}/urls_{folder}.txt", text.encode()


def _dataset(tmp_path: Path, *, urls=None, order: str = "sorted"):
    """A data dir with the archive and the tiny registry, IMDB split by movie."""
    data_dir = tmp_path / "data"
    (data_dir / "tiny_imdb").mkdir(parents=True, exist_ok=True)
    reviews = _reviews()
    if urls is None:
        urls = [_urls(split, folder) for split, folder in MOVIES]
    archive = fx.build_imdb_tar(data_dir / "tiny_imdb" / "aclImdb_v1.tar.gz", reviews=reviews, extra=urls, order=order)
    data = fx.registry_data(imdb_archive=archive)
    entry = data["datasets"]["tiny_imdb"]
    entry["structure"] = fx.imdb_counts(reviews)
    entry["split"]["validation_groups"] = "movie"
    registry = fx.write_registry(tmp_path / "datasets.yaml", data)
    return data_dir, archive, registry.get("tiny_imdb")


def _load(spec, data_dir, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_dataset(spec, data_dir, progress=False, download=False, **kwargs)


def _movies(split) -> set[str]:
    return {MOVIE_OF_TEXT[text] for text in split.texts}


def test_validation_holds_out_whole_movies_within_each_class_quota(tmp_path):
    data_dir, _, spec = _dataset(tmp_path)
    splits = _load(spec, data_dir)  # the tiny registry's validation fraction: 0.25
    assert _movies(splits.validation) and not _movies(splits.validation) & _movies(splits.train)
    negative, positive = splits.validation.class_counts()
    assert 1 <= negative <= 2 and 1 <= positive <= 2  # round(0.25 * 9) = 2 per class at most
    assert len(splits.train) + len(splits.validation) == 18
    (note,) = [n for n in splits.report.notes if n.startswith("validation:")]
    assert note.startswith(f"validation: whole movies, {len(_movies(splits.validation))} of 10, none of them in train")


def test_the_movie_split_does_not_depend_on_the_member_order_or_the_source(tmp_path):
    data_dir, archive, spec = _dataset(tmp_path / "a")
    sorted_read = _load(spec, data_dir)
    other_dir, _, other_spec = _dataset(tmp_path / "b", order="reversed")
    reversed_read = _load(other_spec, other_dir)
    assert reversed_read.validation.texts == sorted_read.validation.texts
    folder_root = tmp_path / "folder-data"
    safe_extract(archive, folder_root / "tiny_imdb" / "extracted", progress=False)
    os.replace(folder_root / "tiny_imdb" / "extracted" / "aclImdb", folder_root / "tiny_imdb" / "aclImdb")
    from_folder = _load(spec, folder_root)
    assert from_folder.validation.texts == sorted_read.validation.texts
    assert any(n.startswith("validation: whole movies") for n in from_folder.report.notes)
    renamed = tmp_path / "my-imdb-copy"  # a folder of any name, given as path=
    os.replace(folder_root / "tiny_imdb" / "aclImdb", renamed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an explicit folder has no checksum to compare
        from_path = load_dataset(spec, path=renamed, progress=False, download=False)
    assert from_path.validation.texts == sorted_read.validation.texts


def test_without_urls_files_validation_is_single_reviews_and_the_report_says_so(tmp_path):
    data_dir, _, spec = _dataset(tmp_path, urls=[_urls("train", "pos")])  # urls_neg.txt missing
    splits = _load(spec, data_dir)
    assert splits.validation.class_counts() == [2, 2]  # the single-review rule's exact quotas
    (note,) = [n for n in splits.report.notes if n.startswith("validation:")]
    assert note.startswith("validation: single reviews, not whole movies: the files read have no movie")


def test_a_urls_file_shorter_than_its_folder_names_the_file_and_the_review(tmp_path):
    urls = [_urls("train", "pos", lines=5), _urls("train", "neg")]
    data_dir, _, spec = _dataset(tmp_path, urls=urls)
    with pytest.raises(
        DataError,
        match=r"aclImdb_v1\.tar\.gz: train/urls_pos\.txt has 5 lines, but review train/pos/8_\*\.txt needs line 9",
    ):
        _load(spec, data_dir)


def test_the_parsed_archive_cache_keeps_the_movies(tmp_path, monkeypatch):
    from bilstm_attention.data.formats import imdb

    monkeypatch.setenv("BILSTM_ATTENTION_CACHE", str(tmp_path / "own-cache"))
    data_dir, _, spec = _dataset(tmp_path)
    first = _load(spec, data_dir)

    def no_parsing(*args, **kwargs):
        raise AssertionError("the archive was parsed again")

    monkeypatch.setattr(imdb, "read_imdb", no_parsing)
    again = _load(spec, data_dir)
    assert again.validation.texts == first.validation.texts
    assert any(n.startswith("validation: whole movies") for n in again.report.notes)


def test_an_unreadable_urls_file_in_a_folder_names_the_file(tmp_path, monkeypatch):
    _, archive, spec = _dataset(tmp_path)
    root = tmp_path / "folder-data"
    safe_extract(archive, root / "tiny_imdb" / "extracted", progress=False)
    os.replace(root / "tiny_imdb" / "extracted" / "aclImdb", root / "tiny_imdb" / "aclImdb")
    real_read = Path.read_bytes

    def read_bytes(self):
        if self.name == "urls_neg.txt":
            raise PermissionError(13, "Permission denied")
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(DataError, match=r"cannot read .*aclImdb/train/urls_neg\.txt: Permission denied"):
        _load(spec, root)


def test_a_cache_whose_movies_do_not_match_its_reviews_is_dropped_and_rewritten(tmp_path, monkeypatch):
    import numpy as np

    from bilstm_attention.data import store
    from bilstm_attention.errors import DataWarning

    monkeypatch.setenv("BILSTM_ATTENTION_CACHE", str(tmp_path / "own-cache"))
    data_dir, _, spec = _dataset(tmp_path)
    first = _load(spec, data_dir)
    (cached,) = (tmp_path / "own-cache" / "parsed").glob("tiny_imdb-*.npz")
    with np.load(cached) as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads(arrays.pop("meta").tobytes())
    arrays["train_groups"], arrays["train_group_offsets"] = store.pack_strings(["tt0000001"] * 3)  # 3 of 18
    store.write_arrays(cached, meta.pop("key"), meta.pop("format"), arrays, meta)
    with pytest.warns(DataWarning, match=r"ignoring the unreadable cache file .*train groups are inconsistent"):
        again = load_dataset(spec, data_dir, progress=False, download=False)
    assert again.validation.texts == first.validation.texts
