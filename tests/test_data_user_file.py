"""A user's own CSV/TSV file: load_file, with the same checks as the registry datasets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "data"))
import bilstm_data_fixtures as fx

from bilstm_attention.data import load_file, parse_label_map
from bilstm_attention.errors import ConfigError, DataError

FIXTURES = fx.HERE


def all_texts(splits):
    return splits.train.texts + splits.validation.texts + splits.test.texts


def test_csv_with_quotes_commas_newlines_and_a_label_map():
    splits = load_file(FIXTURES / "reviews.csv", "review", "sentiment", label_map={"neg": 0, "pos": 1})
    assert splits.class_names == ("neg", "pos")
    assert splits.report.rows == {"all": 8}
    texts = all_texts(splits)
    assert "Great film, really great" in texts
    assert 'A "classic" of the genre' in texts
    assert "Boring.\nTwo hours I won't get back" in texts
    assert splits.report.before_validation["test"] == {"neg": 1, "pos": 1, "total": 2}
    assert splits.name == "file:reviews" and splits.spec.language == "unknown"


def test_tsv_with_integer_labels_and_literal_quotes():
    splits = load_file(FIXTURES / "reviews.tsv", "text", "label", language="ko", validation_fraction=0)
    assert splits.class_names == ("0", "1")
    assert '정말 재미있어요 "강추"' in all_texts(splits)
    assert splits.spec.tokenizer == "kiwi"
    assert len(splits.train) + len(splits.test) == 6


def test_columns_by_index_without_header(tmp_path):
    path = tmp_path / "plain.tsv"
    path.write_text("1\tgood\n0\tbad\n1\tnice\n0\tawful\n", encoding="utf-8")
    splits = load_file(path, 1, 0, header=False, class_names=["negative", "positive"], validation_fraction=0)
    assert sorted(all_texts(splits)) == ["awful", "bad", "good", "nice"]
    assert splits.class_names == ("negative", "positive")
    with pytest.raises(ConfigError, match=r"text column 'text': without a header, columns are 0-based indices"):
        load_file(path, "text", 0, header=False)


def test_separate_test_file(tmp_path):
    train = FIXTURES / "reviews.tsv"
    test = tmp_path / "test.tsv"
    test.write_text("text\tlabel\n재밌다\t1\n노잼\t0\n", encoding="utf-8")
    splits = load_file(train, "text", "label", test_path=test, validation_fraction=0)
    assert splits.test.texts == ["재밌다", "노잼"] and len(splits.train) == 6
    bad_test = tmp_path / "bad_test.tsv"
    bad_test.write_text("text\tlabel\n재밌다\t7\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad_test\.tsv, line 2: label '7' is not in the label map"):
        load_file(train, "text", "label", test_path=bad_test)


def test_file_fingerprint_follows_content_and_options(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes((FIXTURES / "reviews.csv").read_bytes())
    a = load_file(path, "review", "sentiment", label_map={"neg": 0, "pos": 1})
    b = load_file(path, "review", "sentiment", label_map={"neg": 0, "pos": 1})
    assert a.fingerprint == b.fingerprint
    c = load_file(path, "review", "sentiment", label_map={"neg": 1, "pos": 0})
    assert c.fingerprint != a.fingerprint
    path.write_bytes(path.read_bytes().replace(b"Awful", b"Dreadful"))
    assert load_file(path, "review", "sentiment", label_map={"neg": 0, "pos": 1}).fingerprint != a.fingerprint


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "error", "message"),
    [
        (
            "r.csv",
            "text,label\ngood,1\nbad,0\n",
            {"text_column": "review", "label_column": "label"},
            DataError,
            r"r\.csv: no text column 'review'; the header has: text, label",
        ),
        (
            "r.csv",
            "text,label\ngood,1\nbad,0\n",
            {"text_column": "text", "label_column": "stars"},
            DataError,
            r"r\.csv: no label column 'stars'; the header has: text, label",
        ),
        (
            "r.csv",
            "text,label\ngood,1\nbad,0,extra\n",
            {},
            DataError,
            r"r\.csv, line 3: expected 2 comma-separated fields, found 3: 'bad,0,extra'",
        ),
        (
            "r.csv",
            'text,label\ngood,1\n"unclosed,0\nfine,1\n',
            {},
            DataError,
            r"r\.csv, line 4: malformed row \(unexpected end of data\); check the quoting",
        ),
        (
            "r.csv",
            "text,label\ngood,1\nbad,2\n",
            {"label_map": {"0": 0, "1": 1}},
            DataError,
            r"r\.csv, line 3: label '2' is not in the label map \(expected one of '0', '1'\)",
        ),
        (
            "r.csv",
            "text,label\ngood,pos\nbad,neg\n",
            {},
            DataError,
            (
                r"r\.csv, line 2: label 'pos' is not a class index \(0, 1, \.\.\.\); pass a label map, e\.g\. "
                r"label_map=\{'neg': 0, 'pos': 1\} \(CLI --label-map neg=0,pos=1\)"
            ),
        ),
        (
            "r.csv",
            "text,label\ngood,1\nbad,3\n",
            {},
            DataError,
            r"r\.csv: the labels are 1, 3; they must be the class indices 0\.\.K-1 with K >= 2",
        ),
        ("r.csv", "text,label\ngood,1\n  ,0\n", {}, DataError, r"r\.csv, line 3: empty review text"),
        ("r.csv", "text,label\n", {}, DataError, r"r\.csv has no data rows"),
        ("r.tsv", "text\tlabel\ngood\t1\n\nbad\t0\n", {}, DataError, r"r\.tsv, line 3: empty line"),
        (
            "r.dat",
            "text,label\ngood,1\n",
            {},
            ConfigError,
            r"cannot tell the separator of r\.dat from its extension; pass sep=','",
        ),
        (
            "r.csv",
            "text,label\ngood,1\n",
            {"label_map": {"pos": 1}},
            ConfigError,
            r"label_map must map onto the class indices 0\.\.K-1 \(K >= 2\), got \[1\]",
        ),
        ("r.csv", "text,label\ngood,1\n", {"encoding": "klingon"}, ConfigError, r"unknown encoding 'klingon'"),
    ],
)
def test_bad_user_files(tmp_path, name, content, kwargs, error, message):
    path = write(tmp_path, name, content)
    options = {"text_column": "text", "label_column": "label", **kwargs}
    with pytest.raises(error, match=message):
        load_file(path, **options)


def test_non_utf8_user_file_and_its_encoding(tmp_path):
    path = write(tmp_path, "korean.csv", "text,label\n좋아요,1\n별로예요,0\n최고,1\n최악,0\n", encoding="cp949")
    with pytest.raises(
        DataError,
        match=r"korean\.csv, line 2: not valid utf-8 \(byte 0xc1 at column 1\); "
        r"save the file as UTF-8 or pass its encoding",
    ):
        load_file(path, "text", "label")
    splits = load_file(path, "text", "label", encoding="cp949", validation_fraction=0)
    assert sorted(all_texts(splits)) == sorted(["좋아요", "별로예요", "최고", "최악"])


def test_empty_texts_can_be_dropped_and_counted(tmp_path):
    path = write(tmp_path, "r.csv", "text,label\ngood,1\n,0\nbad,0\nnice,1\n")
    splits = load_file(path, "text", "label", empty_text="drop")
    assert splits.report.dropped == {"all": {"empty text": 1}}


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv does not exist"):
        load_file(tmp_path / "nope.csv", "text", "label")


def test_parse_label_map():
    assert parse_label_map("neg=0, pos=1") == {"neg": 0, "pos": 1}
    assert parse_label_map("a=b=1,c=0") == {"a=b": 1, "c": 0}
    with pytest.raises(ConfigError, match=r"--label-map: expected RAW=CLASS_INDEX pairs like 'neg=0,pos=1', got 'pos'"):
        parse_label_map("pos")
    with pytest.raises(ConfigError, match=r"--label-map is empty"):
        parse_label_map(" , ")


@pytest.mark.parametrize(
    ("content", "kwargs", "found"),
    [
        (
            "text,label\ngood,pos\nfine,pos\nnice,pos\ngreat,pos\n",
            {"label_map": {"neg": 0, "pos": 1}},
            r"only the class 'pos' \(3 reviews\)",
        ),
        ("text,label\ngood,0\nfine,0\nnice,0\ngreat,0\n", {}, r"only the class '0' \(3 reviews\)"),
    ],
)
def test_a_file_with_a_single_class_is_refused(tmp_path, content, kwargs, found):
    path = write(tmp_path, "one_class.csv", content)
    with pytest.raises(
        DataError,
        match=rf"one_class\.csv: the training data has {found}; "
        r"a classifier needs at least two classes \(check the label column",
    ):
        load_file(path, "text", "label", **kwargs)


def test_a_user_file_gets_the_registry_default_max_length():
    from bilstm_attention.data.registry import default_registry

    splits = load_file(FIXTURES / "reviews.csv", "review", "sentiment", label_map={"neg": 0, "pos": 1})
    assert splits.spec.max_length == default_registry().defaults["user_file_max_length"] == 400


def test_a_whole_file_is_one_evaluation_split():
    splits = load_file(FIXTURES / "reviews.csv", "review", "sentiment", label_map={"neg": 0, "pos": 1}, split="all")
    assert len(splits.test) == 8 and len(splits.train) == len(splits.validation) == 0
    assert sorted(splits.test.texts) == sorted(
        all_texts(load_file(FIXTURES / "reviews.csv", "review", "sentiment", label_map={"neg": 0, "pos": 1}))
    )
    assert splits.test.labels.tolist().count(1) == 4 and splits.settings["split"] == "all"
    assert splits.report.notes == ["test = every row of reviews.csv (8 reviews)"]
    with pytest.raises(ConfigError, match=r"split must be 'holdout' or 'all', got 'half'"):
        load_file(FIXTURES / "reviews.csv", "review", "sentiment", split="half")
    with pytest.raises(ConfigError, match=r"split='all' reads one file whole; it cannot be combined with test_path"):
        load_file(FIXTURES / "reviews.csv", "review", "sentiment", split="all", limit=4)


def test_the_language_of_a_file_can_be_detected():
    from bilstm_attention.data import detect_language

    english = load_file(
        FIXTURES / "reviews.csv", "review", "sentiment", label_map={"neg": 0, "pos": 1}, language="auto"
    )
    assert english.spec.language == "en" and english.spec.tokenizer == "english"
    assert english.report.checks == ["language detected: en (Hangul 0% of the letters of the first 8 reviews)"]
    korean = load_file(FIXTURES / "reviews.tsv", "text", "label", language="auto")
    assert korean.spec.language == "ko" and korean.spec.tokenizer == "kiwi"
    assert detect_language(["영화 정말 좋아요 OK", "재미없다"]) == ("ko", pytest.approx(11 / 13))
    assert detect_language(["12345", ":-)"]) == (None, 0.0)
    with pytest.raises(ConfigError, match=r"language must be 'en', 'ko' or 'auto', got 'fr'"):
        load_file(FIXTURES / "reviews.csv", "review", "sentiment", language="fr")


def test_errors_name_the_options_that_fix_them(tmp_path):
    korean = write(tmp_path, "korean.csv", "text,label\n좋아요,1\n별로예요,0\n", encoding="cp949")
    with pytest.raises(DataError, match=r"pass its encoding \(encoding='cp949', CLI --encoding cp949\)"):
        load_file(korean, "text", "label")
    tabs = write(tmp_path, "tabs.csv", "text\tlabel\ngood\t1\nbad\t0\n")
    with pytest.raises(
        DataError,
        match=r"tabs\.csv: no text column 'text'; the header has: text\tlabel "
        r"\(the header is one field holding a tab: pass the separator, sep=\.\.\., "
        r"CLI --sep\)",
    ):
        load_file(tabs, "text", "label")
    assert len(all_texts(load_file(tabs, "text", "label", sep="\t", validation_fraction=0))) == 2
    with pytest.raises(ConfigError, match=r"pass sep=',' or sep='\\t' \(CLI --sep , or --sep tab\)"):
        load_file(write(tmp_path, "r.dat", "text,label\ngood,1\n"), "text", "label")
