"""The encoded-array cache: hits, misses, keys, corrupted files, killed writers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "data"))
import bilstm_data_fixtures as fx

from bilstm_attention.data import encode_dataset, load_dataset
from bilstm_attention.errors import ConfigError, DataWarning

FIXTURES = fx.HERE
REPO = Path(__file__).resolve().parents[1]


class CountingTokenizer:
    """Whitespace tokenizer with the Tokenizer interface, counting the texts it tokenized."""

    def __init__(self, lowercase: bool = False) -> None:
        self.lowercase = lowercase
        self.calls = 0

    def tokenize(self, text: str) -> list[str]:
        return (text.lower() if self.lowercase else text).split()

    def tokenize_batch(self, texts, progress=True):
        self.calls += len(texts)
        return [self.tokenize(t) for t in texts]

    def get_config(self):
        return {"name": "counting", "lowercase": self.lowercase, "versions": {"test": "1"}}


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return fx.write_registry(tmp_path_factory.mktemp("reg") / "r.yaml", fx.registry_data()).get("tiny_nsmc")


@pytest.fixture()
def splits(spec):
    return load_dataset(spec, FIXTURES, progress=False, download=False)


def cache_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.npz"))


def test_miss_then_hit_gives_identical_arrays(splits, tmp_path):
    tokenizer = CountingTokenizer()
    first = encode_dataset(splits, tokenizer, 50, cache_dir=tmp_path, progress=False)
    assert not first.from_cache and tokenizer.calls == 18
    second = encode_dataset(splits, tokenizer, 50, cache_dir=tmp_path, progress=False)
    assert second.from_cache and tokenizer.calls == 18  # nothing tokenized again
    assert second.key == first.key and second.cache_path == first.cache_path
    for name in ("train", "validation", "test"):
        a, b = getattr(first, name), getattr(second, name)
        assert len(a) == len(getattr(splits, name))
        assert all(x.dtype == np.int32 and np.array_equal(x, y) for x, y in zip(a.ids, b.ids))
        assert np.array_equal(a.labels, b.labels) and b.labels.dtype == np.int64
    assert second.vocabulary.tokens == first.vocabulary.tokens
    assert cache_files(tmp_path) == [first.cache_path]


def test_vocabulary_comes_from_train_only(splits, tmp_path):
    encoded = encode_dataset(splits, CountingTokenizer(), 1000, cache_dir=tmp_path, progress=False)
    train_tokens = {t for text in splits.train.texts for t in text.split()}
    assert set(encoded.vocabulary.tokens[2:]) == train_tokens
    only_in_test = [i for i, text in enumerate(splits.test.texts) if not set(text.split()) & train_tokens]
    assert only_in_test and all((encoded.test.ids[i] == 1).all() for i in only_in_test)  # 1 = OOV


def test_key_covers_tokenizer_vocabulary_and_split_settings(spec, splits, tmp_path):
    base = encode_dataset(splits, CountingTokenizer(), 50, cache_dir=tmp_path, progress=False)
    keys = {base.key}
    keys.add(encode_dataset(splits, CountingTokenizer(), 60, cache_dir=tmp_path, progress=False).key)
    keys.add(encode_dataset(splits, CountingTokenizer(), 50, min_count=2, cache_dir=tmp_path, progress=False).key)
    keys.add(encode_dataset(splits, CountingTokenizer(lowercase=True), 50, cache_dir=tmp_path, progress=False).key)
    reseeded = load_dataset(spec, FIXTURES, progress=False, download=False, seed=99)
    keys.add(encode_dataset(reseeded, CountingTokenizer(), 50, cache_dir=tmp_path, progress=False).key)
    limited = load_dataset(spec, FIXTURES, progress=False, download=False, limit=4)
    keys.add(encode_dataset(limited, CountingTokenizer(), 50, cache_dir=tmp_path, progress=False).key)
    # six encodings; the vocabulary settings share one token cache file, the others have their own
    assert len(keys) == 6 and len(cache_files(tmp_path)) == 4


def test_another_vocabulary_reuses_the_cached_tokens(splits, tmp_path):
    from bilstm_attention.tokenizers import Vocabulary

    tokenizer = CountingTokenizer()
    first = encode_dataset(splits, tokenizer, 1000, cache_dir=tmp_path, progress=False)
    assert tokenizer.calls == 18
    for vocab_size, min_count in ((5, 1), (8, 2), (1000, 1)):
        again = encode_dataset(splits, tokenizer, vocab_size, min_count=min_count, cache_dir=tmp_path, progress=False)
        assert again.from_cache and tokenizer.calls == 18  # the tokenizer was not called again
        assert again.cache_path == first.cache_path
        # the same vocabulary and ids as building them from freshly tokenized text
        expected = Vocabulary.build([t.split() for t in splits.train.texts], vocab_size, min_count=min_count)
        assert again.vocabulary.tokens == expected.tokens and again.vocabulary.counts == expected.counts
        assert len(again.vocabulary) <= vocab_size
        for name in ("train", "validation", "test"):
            texts = getattr(splits, name).texts
            assert all(
                np.array_equal(ids, expected.encode(text.split())) for ids, text in zip(getattr(again, name).ids, texts)
            )


def test_real_tokenizer_by_name_and_by_config(splits, tmp_path):
    from bilstm_attention.tokenizers import get_tokenizer

    by_name = encode_dataset(splits, "whitespace", 50, cache_dir=tmp_path, progress=False)
    by_config = encode_dataset(splits, get_tokenizer("whitespace").get_config(), 50, cache_dir=tmp_path, progress=False)
    assert not by_name.from_cache and by_config.from_cache
    with pytest.raises(ConfigError, match=r"tokenizer must be a Tokenizer, a tokenizer name or a config dict"):
        encode_dataset(splits, 42, 50, cache_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"vocab_size must be an integer >= 3"):
        encode_dataset(splits, "whitespace", 2, cache_dir=tmp_path)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_unreadable_cache_file_is_ignored_with_a_warning_and_rewritten(splits, tmp_path, damage):
    first = encode_dataset(splits, CountingTokenizer(), 50, cache_dir=tmp_path, progress=False)
    data = first.cache_path.read_bytes()
    first.cache_path.write_bytes(
        {"garbage": b"not a zip file at all", "truncated": data[: len(data) // 2], "empty": b""}[damage]
    )
    tokenizer = CountingTokenizer()
    with pytest.warns(DataWarning, match=r"ignoring the unreadable cache file .*\.npz .*; it will be rewritten"):
        again = encode_dataset(splits, tokenizer, 50, cache_dir=tmp_path, progress=False)
    assert not again.from_cache and tokenizer.calls == 18
    assert encode_dataset(splits, tokenizer, 50, cache_dir=tmp_path, progress=False).from_cache


def test_a_cache_file_holding_another_key_is_not_trusted(splits, tmp_path):
    cased = encode_dataset(splits, CountingTokenizer(), 60, cache_dir=tmp_path, progress=False)
    lower = encode_dataset(splits, CountingTokenizer(lowercase=True), 60, cache_dir=tmp_path, progress=False)
    assert lower.cache_path != cased.cache_path
    lower.cache_path.write_bytes(cased.cache_path.read_bytes())
    tokenizer = CountingTokenizer(lowercase=True)
    with pytest.warns(DataWarning, match=r"its key or format version does not match"):
        again = encode_dataset(splits, tokenizer, 60, cache_dir=tmp_path, progress=False)
    assert not again.from_cache and tokenizer.calls == 18 and again.vocabulary.tokens == lower.vocabulary.tokens


def test_a_cache_file_of_the_previous_format_is_not_misread(splits, tmp_path):
    import bilstm_attention.data.encode as encode

    first = encode_dataset(splits, CountingTokenizer(), 60, cache_dir=tmp_path, progress=False)
    with np.load(first.cache_path) as data:
        arrays = dict(data)
    meta = json.loads(bytes(arrays["meta"]).decode())
    meta["format"] = encode.CACHE_FORMAT_VERSION - 1
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(first.cache_path, "wb") as handle:
        np.savez(handle, **arrays)
    tokenizer = CountingTokenizer()
    with pytest.warns(DataWarning, match=r"its key or format version does not match"):
        again = encode_dataset(splits, tokenizer, 60, cache_dir=tmp_path, progress=False)
    assert not again.from_cache and tokenizer.calls == 18


def test_leftover_temporary_files_are_never_read(splits, tmp_path):
    fresh = tmp_path / ".tiny_nsmc-0123.npz.abcd.tmp"
    fresh.write_bytes(b"half-written by a killed run")
    stale = tmp_path / ".tiny_nsmc-4567.npz.efgh.tmp"
    stale.write_bytes(b"very old")
    old = time.time() - 3 * 24 * 3600
    os.utime(stale, (old, old))
    encoded = encode_dataset(splits, CountingTokenizer(), 50, cache_dir=tmp_path, progress=False)
    assert not encoded.from_cache
    assert fresh.exists() and not stale.exists()  # stale leftovers are cleaned up


def test_a_killed_writer_leaves_no_cache_that_is_read_as_valid(spec, splits, tmp_path):
    registry_file = tmp_path / "r.yaml"
    fx.write_registry(registry_file, fx.registry_data())
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(FIXTURES)!r})
        from bilstm_attention.data import encode_dataset, load_dataset, load_registry
        import bilstm_attention.data.store as store

        def killed(handle, arrays):
            handle.write(b"PK\\x03\\x04 the first bytes of an npz")
            handle.flush()
            os._exit(9)  # the process dies in the middle of writing

        store._save_arrays = killed
        spec = load_registry({str(registry_file)!r}).get("tiny_nsmc")
        splits = load_dataset(spec, {str(FIXTURES)!r}, progress=False, download=False)
        encode_dataset(splits, "whitespace", 50, cache_dir={str(tmp_path / "cache")!r}, progress=False)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 9, result.stderr
    cache_dir = tmp_path / "cache"
    assert cache_files(cache_dir) == []
    assert [p.name for p in cache_dir.iterdir() if p.name.endswith(".tmp")]  # only the temporary file
    first = encode_dataset(splits, "whitespace", 50, cache_dir=cache_dir, progress=False)
    assert not first.from_cache
    assert encode_dataset(splits, "whitespace", 50, cache_dir=cache_dir, progress=False).from_cache


def test_use_cache_false_writes_nothing(splits, tmp_path):
    encoded = encode_dataset(splits, CountingTokenizer(), 50, cache_dir=tmp_path, progress=False, use_cache=False)
    assert not encoded.from_cache and encoded.cache_path is None and list(tmp_path.iterdir()) == []


def test_default_cache_dir_follows_the_environment(splits, tmp_path, monkeypatch):
    monkeypatch.setenv("BILSTM_ATTENTION_CACHE", str(tmp_path / "env-cache"))
    encoded = encode_dataset(splits, CountingTokenizer(), 50, progress=False)
    assert encoded.cache_path.parent == tmp_path / "env-cache" / "encoded"
