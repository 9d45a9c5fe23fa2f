"""Tests of bilstm_attention.tokenizers: English/whitespace rules, Korean analysers, registry,
configs, pickling and the Vocabulary."""

from __future__ import annotations

import itertools
import json
import os
import pickle
import random
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bilstm_attention.errors import ConfigError, DataError
from bilstm_attention.tokenizers import (
    STOPWORD_PRESETS,
    EnglishTokenizer,
    KiwiTokenizer,
    MecabTokenizer,
    OktTokenizer,
    SyllableTokenizer,
    Tokenizer,
    TokenizerDependencyError,
    Vocabulary,
    WhitespaceTokenizer,
    available_tokenizers,
    get_tokenizer,
    tokenizer_from_config,
)
from bilstm_attention.tokenizers import english as english_module
from bilstm_attention.tokenizers import mecab as mecab_module
from bilstm_attention.tokenizers import okt as okt_module

KOREAN_REVIEWS = [
    "아 더빙.. 진짜 짜증나네요 목소리",
    "이 영화 정말 최고의 영화입니다 ㅋㅋㅋ",
    "배우들 연기가 너무 별로였어요 ㅠㅠ",
    "재미없다",
    "",
    "   ",
    "너무재밓었다그래서보는것을추천한다",
    "평점 10점!! 강추합니다 ^^",
]

# ------------------------------------------------------------------------------ English


@pytest.fixture(scope="module")
def english() -> EnglishTokenizer:
    return EnglishTokenizer()


@pytest.mark.parametrize(
    "text",
    [
        "Great<br />film<br/>really<br>good<BR />",
        "Great<br /><br />film<br/>really <br>good",
        "great<br    />film\nreally<br\t/>good",
    ],
)
def test_english_removes_html_line_breaks(english: EnglishTokenizer, text: str) -> None:
    assert english.tokenize(text) == ["great", "film", "really", "good"]


def test_english_strips_other_tags_but_not_lone_angle_brackets(english: EnglishTokenizer) -> None:
    assert english.tokenize('<i>Superb</i> <a href="http://x.y">acting</a></P>') == ["superb", "acting"]
    assert english.tokenize("I <3 it, 2 < 3") == ["i", "3", "it", "2", "3"]


def test_english_lowercases_only_when_asked() -> None:
    assert EnglishTokenizer().tokenize("The BEST Movie") == ["the", "best", "movie"]
    assert EnglishTokenizer(lowercase=False).tokenize("The BEST Movie") == ["The", "BEST", "Movie"]


def test_english_punctuation_split_dropped_and_marks_kept(english: EnglishTokenizer) -> None:
    text = "Wow!!! Really?! A well-made, fun... (sort of) film: 10/10; #1 @home"
    assert english.tokenize(text) == [
        "wow",
        "!",
        "really",
        "?",
        "!",
        "a",
        "well",
        "made",
        "fun",
        "sort",
        "of",
        "film",
        "10",
        "10",
        "1",
        "home",
    ]
    no_marks = EnglishTokenizer(keep_punctuation=False).tokenize(text)
    assert "!" not in no_marks and "?" not in no_marks
    assert no_marks[:5] == ["wow", "really", "a", "well", "made"]
    assert EnglishTokenizer().tokenize("snake_case") == ["snake", "case"]


def test_english_contractions_whole_and_s_split(english: EnglishTokenizer) -> None:
    text = "I don't think it's the film's fault; they'll see, I'm sure. O'Brien can't act, isn't it?"
    assert english.tokenize(text) == [
        "i",
        "don't",
        "think",
        "it",
        "'s",
        "the",
        "film",
        "'s",
        "fault",
        "they'll",
        "see",
        "i'm",
        "sure",
        "o'brien",
        "can't",
        "act",
        "isn't",
        "it",
        "?",
    ]


def test_english_apostrophe_variants_quotes_and_entities(english: EnglishTokenizer) -> None:
    assert english.tokenize("Don\u2019t, didn`t") == ["don't", "didn't"]
    assert english.tokenize("'great' \"movie\" 'sup") == ["great", "movie", "sup"]
    assert english.tokenize("&quot;Tom&#39;s&quot; &amp; Jerry&lt;br /&gt;rock") == ["tom", "'s", "jerry", "rock"]


def test_english_non_ascii_letters_stay_in_words(english: EnglishTokenizer) -> None:
    assert english.tokenize("Amélie was GREAT, naïve & très bien! Don’t") == [
        "amélie",
        "was",
        "great",
        "naïve",
        "très",
        "bien",
        "!",
        "don't",
    ]


def test_english_empty_and_bad_input(english: EnglishTokenizer) -> None:
    assert english.tokenize("") == []
    assert english.tokenize(" \n<br />... ") == []
    with pytest.raises(ConfigError, match="text must be a str"):
        english.tokenize(None)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80), st.booleans())
def test_english_ascii_fast_path_equals_unicode_pattern(text: str, marks: bool) -> None:
    patterns = english_module._PATTERNS
    assert patterns[marks, True].findall(text) == patterns[marks, False].findall(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_english_tokens_are_clean(text: str) -> None:
    tokens = EnglishTokenizer().tokenize(text)
    for token in tokens:
        assert token and not any(c.isspace() for c in token)
        assert token == token.lower()
        assert "<" not in token and ">" not in token


def test_whitespace_tokenizer() -> None:
    assert WhitespaceTokenizer().tokenize("  A  b\tC\n") == ["A", "b", "C"]
    assert WhitespaceTokenizer(lowercase=True).tokenize("A b") == ["a", "b"]
    assert WhitespaceTokenizer().tokenize_batch(["x y", ""], progress=False) == [["x", "y"], []]


def test_tokenize_batch_matches_tokenize_and_shows_progress(english: EnglishTokenizer, capsys) -> None:
    texts = ["One<br />two!", "", "Three's"]
    assert english.tokenize_batch(texts) == [english.tokenize(t) for t in texts]
    assert "tokenizing (english)" in capsys.readouterr().err
    english.tokenize_batch(texts, progress=False)
    assert "tokenizing" not in capsys.readouterr().err


def test_tokenize_batch_rejects_a_string_and_non_strings(english: EnglishTokenizer) -> None:
    with pytest.raises(ConfigError, match="not a single string"):
        english.tokenize_batch("a text")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"texts\[1\] is float"):
        english.tokenize_batch(["ok", float("nan")], progress=False)  # type: ignore[list-item]


def test_syllable_tokenizer_rules() -> None:
    assert SyllableTokenizer().tokenize(" 재밌 다  OK!! ") == ["재", "밌", "다", "o", "k", "!", "!"]
    assert SyllableTokenizer(spaces="mark").tokenize(" 재밌 다  OK ") == ["재", "밌", "▁", "다", "▁", "o", "k"]
    assert SyllableTokenizer(lowercase=False).tokenize("Ok") == ["O", "k"]
    # runs of one character are cut; a space between two runs ends the run with "mark" only
    assert SyllableTokenizer(max_repeat=2).tokenize("꿀잼ㅋㅋㅋㅋ ㅋ...") == ["꿀", "잼", "ㅋ", "ㅋ", ".", "."]
    assert SyllableTokenizer(spaces="mark", max_repeat=2).tokenize("ㅋㅋㅋ ㅋ") == ["ㅋ", "ㅋ", "▁", "ㅋ"]
    assert SyllableTokenizer().tokenize("  ") == [] and SyllableTokenizer(spaces="mark").tokenize("") == []


def test_syllable_tokenizer_joins_conjoining_jamo() -> None:
    decomposed = "\u1100\u1161\u11ab"  # 간 typed as three conjoining jamo
    assert SyllableTokenizer().tokenize(decomposed + "다") == ["간", "다"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.sampled_from(["drop", "mark"]), st.one_of(st.none(), st.integers(1, 3)))
def test_syllable_tokens_are_the_characters(text: str, spaces: str, max_repeat: int | None) -> None:
    tokens = SyllableTokenizer(spaces=spaces, max_repeat=max_repeat).tokenize(text)
    assert all(len(token) == 1 and not token.isspace() for token in tokens)
    if max_repeat is not None:
        assert all(len(list(run)) <= max_repeat for _, run in itertools.groupby(tokens))
    else:
        characters = unicodedata.normalize("NFC", text).lower()
        joiner = "▁" if spaces == "mark" else ""
        assert "".join(tokens) == joiner.join(characters.split())


# ------------------------------------------------------------------------------ registry


def test_available_tokenizers() -> None:
    assert available_tokenizers() == ["english", "kiwi", "mecab", "okt", "syllable", "whitespace"]


def test_unknown_tokenizer_name_lists_valid_names() -> None:
    message = r"unknown tokenizer 'spacy'; valid names: english, kiwi, mecab, okt, syllable, whitespace"
    with pytest.raises(ConfigError, match=message):
        get_tokenizer("spacy")


def test_unknown_option_is_named() -> None:
    message = r"unknown option 'lowercse' for tokenizer 'english'; valid options: lowercase, keep_punctuation"
    with pytest.raises(ConfigError, match=message):
        get_tokenizer("english", lowercse=True)
    with pytest.raises(ConfigError, match=r"unknown option 'stem' for tokenizer 'kiwi'"):
        get_tokenizer("kiwi", stem=True)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("english", {"lowercase": "yes"}, "option 'lowercase' must be true or false"),
        ("kiwi", {"form": "lemma"}, "option 'form' must be one of 'morph', 'morph_tag'"),
        ("kiwi", {"stopwords": "nope"}, "unknown preset 'nope'; presets: naver_shopping_seed, nsmc_seed, steam_seed"),
        ("kiwi", {"stopwords": ["a", 1]}, "option 'stopwords' must hold only strings"),
        ("kiwi", {"stopword_tags": ["SF", "XX"]}, "unknown kiwi tag\\(s\\) 'XX'"),
        ("kiwi", {"num_workers": 0}, "option 'num_workers' must be a positive integer"),
        ("kiwi", {"model_type": 3}, "option 'model_type'"),
        ("syllable", {"spaces": "keep"}, "option 'spaces' must be one of 'drop', 'mark'"),
        ("syllable", {"max_repeat": 0}, "option 'max_repeat' must be a positive integer or null"),
        ("syllable", {"max_repeat": True}, "option 'max_repeat' must be a positive integer or null"),
        ("syllable", {"lowercase": 1}, "option 'lowercase' must be true or false"),
    ],
)
def test_bad_option_values_are_named(name: str, options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        get_tokenizer(name, **options)


def test_tokenizer_from_config_rejects_bad_configs() -> None:
    with pytest.raises(ConfigError, match="must be a mapping"):
        tokenizer_from_config(["english"])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="needs a 'name'"):
        tokenizer_from_config({"lowercase": True})
    with pytest.raises(ConfigError, match="unknown option 'colour'"):
        tokenizer_from_config({"name": "english", "colour": "red"})


def test_config_version_mismatch_warns() -> None:
    config = get_tokenizer("english").get_config()
    config["versions"] = {"english_rules": "0"}
    with pytest.warns(UserWarning, match=r"english_rules 0 -> 1"):
        tokenizer_from_config(config)


def test_config_changes_with_output_options_only() -> None:
    base = KiwiTokenizer().get_config()
    assert KiwiTokenizer(normalize_coda=True).get_config() != base
    assert KiwiTokenizer(stopwords=["영화"]).get_config() != base
    assert KiwiTokenizer(num_workers=1).get_config() == base  # speed only
    # stopword order does not matter
    assert KiwiTokenizer(stopwords=["b", "a", "b"]).get_config() == KiwiTokenizer(stopwords=["a", "b"]).get_config()
    assert base["versions"]["kiwipiepy"][0].isdigit()
    assert set(base) == {
        "name",
        "form",
        "stopwords",
        "stopword_tags",
        "normalize_coda",
        "compatible_jamo",
        "model_type",
        "versions",
    }


ROUND_TRIP_TEXTS = ["I didn't LOVE it!<br />Meh?", "그 영화 재미없다 ㅋㅋ", "", "A  b"]


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("english", {}),
        ("english", {"lowercase": False, "keep_punctuation": False}),
        ("whitespace", {"lowercase": True}),
        ("syllable", {}),
        ("syllable", {"spaces": "mark", "lowercase": False, "max_repeat": 2}),
        ("kiwi", {}),
        ("kiwi", {"form": "morph_tag", "stopword_tags": ["SF"], "normalize_coda": True, "compatible_jamo": False}),
    ],
)
def test_config_round_trip_tokenizes_identically(name: str, options: dict) -> None:
    tokenizer = get_tokenizer(name, **options)
    config = json.loads(json.dumps(tokenizer.get_config()))
    assert config["name"] == name
    rebuilt = tokenizer_from_config(config)
    assert type(rebuilt) is type(tokenizer)
    assert rebuilt == tokenizer
    assert rebuilt.get_config() == config
    assert rebuilt.tokenize_batch(ROUND_TRIP_TEXTS, progress=False) == tokenizer.tokenize_batch(
        ROUND_TRIP_TEXTS, progress=False
    )


@pytest.mark.parametrize("name", ["english", "whitespace", "syllable", "kiwi"])
def test_pickling_after_use(name: str) -> None:
    tokenizer = get_tokenizer(name)
    before = tokenizer.tokenize_batch(ROUND_TRIP_TEXTS, progress=False)  # loads the analyser
    data = pickle.dumps(tokenizer)
    assert len(data) < 5_000  # the analyser (hundreds of MB for Kiwi) is not pickled
    clone = pickle.loads(data)
    assert clone == tokenizer
    assert clone.tokenize_batch(ROUND_TRIP_TEXTS, progress=False) == before


def test_tokenizer_is_abstract() -> None:
    with pytest.raises(TypeError):
        Tokenizer()  # type: ignore[abstract]


# ------------------------------------------------------------------------------ kiwi


@pytest.fixture(scope="module")
def kiwi() -> KiwiTokenizer:
    return KiwiTokenizer()


def test_kiwi_morphemes_of_real_sentences(kiwi: KiwiTokenizer) -> None:
    assert any("재미" in token for token in kiwi.tokenize("재미없다"))
    tokens = kiwi.tokenize("이 영화 정말 최고의 영화입니다 ㅋㅋㅋ")
    assert tokens.count("영화") == 2 and "최고" in tokens and "ㅋㅋㅋ" in tokens
    tokens = kiwi.tokenize("배우들 연기가 너무 별로였어요 ㅠㅠ")
    assert {"배우", "연기", "별로", "ㅠㅠ"} <= set(tokens)
    assert "^^" in kiwi.tokenize("강추합니다 ^^")  # emoticons are kept
    assert kiwi.tokenize("") == [] and kiwi.tokenize("  \t") == []


def test_kiwi_morph_tag_form() -> None:
    tokens = KiwiTokenizer(form="morph_tag").tokenize("최고의 영화")
    assert "영화/NNG" in tokens and "최고/NNG" in tokens
    assert all(token.count("/") == 1 for token in tokens)


def test_kiwi_compatible_jamo() -> None:
    conjoining = KiwiTokenizer(compatible_jamo=False).tokenize("보는 것을 추천한다")
    readable = KiwiTokenizer().tokenize("보는 것을 추천한다")
    assert "ᆫ다" in conjoining  # U+11AB: what Kiwi writes for the split-off final consonant
    assert "ㄴ다" in readable  # U+3134
    assert not any("\u1100" <= c <= "\u11ff" for token in readable for c in token)
    assert len(readable) == len(conjoining)


def test_kiwi_stopwords_and_tags(kiwi: KiwiTokenizer) -> None:
    text = "정말 재밌다!! 영화 최고.."
    assert "!!" in kiwi.tokenize(text)
    no_punct = KiwiTokenizer(stopword_tags=["SF"]).tokenize(text)
    assert "!!" not in no_punct and ".." not in no_punct and "영화" in no_punct
    assert "영화" not in KiwiTokenizer(stopwords=["영화"]).tokenize(text)
    # base-tag match: VA drops the irregular "춥/VA-I"
    assert KiwiTokenizer(form="morph_tag").tokenize("추워서")[0] == "춥/VA-I"
    assert "춥" not in KiwiTokenizer(stopword_tags=["VA"]).tokenize("추워서")


def test_kiwi_batch_equals_single(kiwi: KiwiTokenizer) -> None:
    texts = KOREAN_REVIEWS * 5
    assert kiwi.tokenize_batch(texts, progress=False) == [kiwi.tokenize(t) for t in texts]
    assert kiwi.tokenize_batch([], progress=False) == []


def test_kiwi_batch_progress_bar(kiwi: KiwiTokenizer, capsys) -> None:
    kiwi.tokenize_batch(KOREAN_REVIEWS)
    assert "tokenizing (kiwi)" in capsys.readouterr().err


def test_kiwi_unavailable_model_type_is_a_config_error() -> None:
    tokenizer = KiwiTokenizer(model_type="no-such-model")
    with pytest.raises(ConfigError, match="option 'model_type'"):
        tokenizer.tokenize("테스트")


_FORK_SCRIPT = """
import os, sys, time
from bilstm_attention.tokenizers import KiwiTokenizer
tok = KiwiTokenizer()
expected = tok.tokenize_batch(["재미없다", "최고"], progress=False)
pid = os.fork()
if pid == 0:
    got = tok.tokenize_batch(["재미없다", "최고"], progress=False)
    sys.exit(0 if got == expected else 3)  # a normal interpreter shutdown in the child
deadline = time.time() + 150
while time.time() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        sys.exit(os.waitstatus_to_exitcode(status))
    time.sleep(0.1)
os.kill(pid, 9)
os.waitpid(pid, 0)
sys.exit(4)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_kiwi_works_in_a_forked_child() -> None:
    # A Kiwi inherited through fork has no worker threads: using it (or destroying it) hangs.
    # The child must create its own and exit cleanly.
    result = subprocess.run(
        [sys.executable, "-c", _FORK_SCRIPT],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        timeout=240,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"child exit {result.returncode} (4 = hung): {result.stderr[-2000:]}"


@pytest.mark.shared_data
def test_kiwi_on_real_nsmc_reviews(kiwi: KiwiTokenizer, shared_datasets: Path) -> None:
    path = shared_datasets / "nsmc" / "ratings_train.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with path.open(encoding="utf-8") as handle:
        next(handle)
        texts = [line.rstrip("\n").split("\t")[1] for _, line in zip(range(300), handle, strict=False)]
    batch = kiwi.tokenize_batch(texts, progress=False)
    assert batch == [kiwi.tokenize(t) for t in texts]
    assert batch[0] == ["아", "더빙", "..", "진짜", "짜증", "나", "네요", "목소리"]
    assert sum(map(len, batch)) / len(batch) > 5


# ------------------------------------------------------------------------------ okt


@pytest.fixture(scope="module")
def okt_seed() -> OktTokenizer:
    try:
        tokenizer = OktTokenizer(stem=True, stopwords="nsmc_seed")
        tokenizer.tokenize("테스트")  # starts the JVM
    except TokenizerDependencyError as exc:
        pytest.skip(f"okt unavailable (konlpy or Java missing): {exc}")
    return tokenizer


def test_nsmc_seed_preset_is_the_tutorial_list() -> None:
    assert sorted(STOPWORD_PRESETS["nsmc_seed"]) == sorted(
        ["의", "가", "이", "은", "들", "는", "좀", "잘", "걍", "과", "도", "를", "으로", "자", "에", "와", "한", "하다"]
    )


def test_okt_seed_recipe_matches_konlpy_directly(okt_seed: OktTokenizer) -> None:
    from konlpy.tag import Okt

    okt = Okt()
    stopwords = set(STOPWORD_PRESETS["nsmc_seed"])
    texts = [t for t in KOREAN_REVIEWS if t.strip()] + ["이 영화는 정말 재미있다 좀 길지만"]
    expected = [[w for w in okt.morphs(t, stem=True) if w not in stopwords] for t in texts]
    assert okt_seed.tokenize_batch(texts, progress=False) == expected
    assert okt_seed.tokenize("아 더빙.. 진짜 짜증나네요 목소리") == ["아", "더빙", "..", "진짜", "짜증나다", "목소리"]
    assert "는" not in okt_seed.tokenize("이 영화는 정말 재미있다")


def test_okt_options(okt_seed: OktTokenizer) -> None:
    assert "짜증나네요" in OktTokenizer(stem=False).tokenize("진짜 짜증나네요")
    assert "영화/Noun" in OktTokenizer(form="morph_tag").tokenize("좋은 영화")
    assert okt_seed.tokenize("") == []
    config = okt_seed.get_config()
    assert config["stem"] is True and config["stopwords"] == sorted(STOPWORD_PRESETS["nsmc_seed"])
    assert tokenizer_from_config(config).tokenize("영화는 좀 별로") == okt_seed.tokenize("영화는 좀 별로")
    clone = pickle.loads(pickle.dumps(okt_seed))
    assert clone.tokenize("최고의 영화") == okt_seed.tokenize("최고의 영화")


def test_okt_missing_konlpy_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setattr(okt_module, "package_version", lambda name: None)
    with pytest.raises(TokenizerDependencyError, match="pip install konlpy.*Java") as info:
        get_tokenizer("okt")
    assert isinstance(info.value, ImportError) and isinstance(info.value, ConfigError)


def test_okt_missing_java_says_what_to_install(monkeypatch) -> None:
    pytest.importorskip("konlpy")
    import konlpy.tag

    def no_jvm() -> None:
        raise ValueError("No JVM shared library file (libjvm.so) found. Try setting up the JAVA_HOME")

    monkeypatch.setattr(konlpy.tag, "Okt", no_jvm)
    with pytest.raises(TokenizerDependencyError, match="Java runtime.*starting Java failed: No JVM"):
        OktTokenizer().tokenize("테스트")


# ------------------------------------------------------------------------------ mecab


def test_mecab_missing_package_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setattr(mecab_module, "package_version", lambda name: None)
    with pytest.raises(TokenizerDependencyError, match="pip install python-mecab-ko"):
        get_tokenizer("mecab")


def test_mecab_import_failure_at_first_use(monkeypatch) -> None:
    monkeypatch.setattr(mecab_module, "package_version", lambda name: "1.0")
    tokenizer = MecabTokenizer(stopwords="steam_seed")
    monkeypatch.setitem(sys.modules, "mecab", None)  # makes `import mecab` fail
    with pytest.raises(TokenizerDependencyError, match="pip install python-mecab-ko"):
        tokenizer.tokenize("재미있어요")


def test_mecab_real_analyser() -> None:
    pytest.importorskip("mecab", reason="python-mecab-ko is not installed (optional)")
    tokenizer = get_tokenizer("mecab")
    assert "재미있" in tokenizer.tokenize("재미있어요 ㅋㅋ")
    seed = get_tokenizer("mecab", stopwords="steam_seed")
    tokens = seed.tokenize("이 게임은 정말 재미있다")
    assert not {"게임", "은", "다", "이"} & set(tokens) and "재미있" in tokens
    tagged = get_tokenizer("mecab", form="morph_tag").tokenize("재미있어요")
    assert tagged[0] == "재미있/VA"
    assert tokenizer_from_config(seed.get_config()) == seed
    assert pickle.loads(pickle.dumps(seed)).tokenize("게임 최고") == seed.tokenize("게임 최고")


# ------------------------------------------------------------------------------ Vocabulary

TOKEN_LISTS = [["good", "movie", "good"], ["bad", "movie"], ["ok", "good"], ["movie", "plot", "zz"]]


def test_vocabulary_ids_frequency_order_and_reserved() -> None:
    vocabulary = Vocabulary.build(TOKEN_LISTS, max_size=100)
    # good 3, movie 3 (tie -> alphabetical), then bad, ok, plot, zz (1 each, alphabetical)
    assert vocabulary.tokens == ["", "[UNK]", "good", "movie", "bad", "ok", "plot", "zz"]
    assert len(vocabulary) == 8
    assert vocabulary.counts == [0, 0, 3, 3, 1, 1, 1, 1]
    assert vocabulary.token_to_id("movie") == 3 and vocabulary.token_to_id("nope") == 1
    assert "movie" in vocabulary and "nope" not in vocabulary


def test_vocabulary_max_size_counts_reserved_ids_and_min_count() -> None:
    assert Vocabulary.build(TOKEN_LISTS, max_size=4).tokens == ["", "[UNK]", "good", "movie"]
    assert Vocabulary.build(TOKEN_LISTS, max_size=2).tokens == ["", "[UNK]"]
    assert Vocabulary.build(TOKEN_LISTS, max_size=100, min_count=2).tokens == ["", "[UNK]", "good", "movie"]
    assert Vocabulary.build([], max_size=10).tokens == ["", "[UNK]"]


def test_vocabulary_build_is_deterministic() -> None:
    rng = random.Random(0)
    words = [f"w{rng.randrange(50)}" for _ in range(2000)]
    lists = [words[i : i + 7] for i in range(0, len(words), 7)]
    reference = Vocabulary.build(lists, max_size=30)
    for _ in range(3):
        shuffled = [rng.sample(tokens, len(tokens)) for tokens in rng.sample(lists, len(lists))]
        assert Vocabulary.build(shuffled, max_size=30).tokens == reference.tokens
    assert Vocabulary.build(iter(lists), max_size=30) == reference  # any iterable, e.g. a generator


def test_vocabulary_reserved_tokens_in_data_are_not_counted() -> None:
    vocabulary = Vocabulary.build([["", "[UNK]", "a"], ["[UNK]"]], max_size=10)
    assert vocabulary.tokens == ["", "[UNK]", "a"]


def test_vocabulary_encode_decode_and_oov() -> None:
    vocabulary = Vocabulary.build(TOKEN_LISTS, max_size=5)  # "", [UNK], good, movie, bad
    ids = vocabulary.encode(["bad", "movie", "unseen", "", "[UNK]"])
    assert ids.dtype == np.int32 and ids.tolist() == [4, 3, 1, 1, 1]  # never 0 (padding)
    empty = vocabulary.encode([])
    assert empty.dtype == np.int32 and empty.shape == (0,)
    assert vocabulary.decode([4, 3, 1, 0, 0]) == ["bad", "movie", "[UNK]", "", ""]
    assert vocabulary.decode(np.array([[2, 0]], dtype=np.int64), skip_padding=True) == ["good"]
    assert vocabulary.decode([]) == []
    assert vocabulary.encode_batch([]) == []
    with pytest.raises(ConfigError, match="id 5 is not a valid id"):
        vocabulary.decode([2, 5])
    with pytest.raises(ConfigError, match="id -1 is not a valid id"):
        vocabulary.decode([-1])
    with pytest.raises(ConfigError, match="not a string"):
        vocabulary.encode("bad movie")  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "e", "", "[UNK]", "영화"]), max_size=12), max_size=20))
def test_encode_batch_equals_per_item_encode(token_lists: list[list[str]]) -> None:
    vocabulary = Vocabulary.build([["a", "b", "b", "c", "영화"]], max_size=5)
    batch = vocabulary.encode_batch(token_lists)
    assert len(batch) == len(token_lists)
    for ids, tokens in zip(batch, token_lists, strict=True):
        single = vocabulary.encode(tokens)
        assert ids.dtype == np.int32 and ids.shape == single.shape
        assert np.array_equal(ids, single)


def test_encode_batch_rejects_strings() -> None:
    vocabulary = Vocabulary.build(TOKEN_LISTS, max_size=5)
    with pytest.raises(ConfigError, match=r"token_lists\[1\] is a string"):
        vocabulary.encode_batch([["a"], "bad"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("max_size", "min_count", "message"), [(1, 1, "max_size"), (10, 0, "min_count"), (True, 1, "max_size")]
)
def test_vocabulary_bad_arguments(max_size: int, min_count: int, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Vocabulary.build(TOKEN_LISTS, max_size=max_size, min_count=min_count)


def test_vocabulary_constructor_validates() -> None:
    with pytest.raises(ConfigError, match="reserved"):
        Vocabulary(["[UNK]", "", "a"])
    with pytest.raises(ConfigError, match="'a' repeats"):
        Vocabulary(["", "[UNK]", "a", "a"])


def test_vocabulary_save_load_round_trip(tmp_path: Path) -> None:
    vocabulary = Vocabulary.build(TOKEN_LISTS + [["영화", "영화"]], max_size=6, min_count=1)
    path = tmp_path / "sub" / "vocabulary.json"
    vocabulary.save(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["vocabulary.json"]  # no temp files left
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["tokens"][:2] == ["", "[UNK]"] and "영화" in path.read_text(encoding="utf-8")
    loaded = Vocabulary.load(path)
    assert loaded == vocabulary and loaded.tokens == vocabulary.tokens and loaded.counts == vocabulary.counts
    assert (
        loaded.get_config()
        == vocabulary.get_config()
        == {"size": 6, "max_size": 6, "min_count": 1, "padding_token": "", "oov_token": "[UNK]"}
    )
    vocabulary2 = Vocabulary.build([["x"]], max_size=10)
    vocabulary2.save(path)  # overwrite
    assert Vocabulary.load(path) == vocabulary2


def test_vocabulary_save_is_atomic(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "vocabulary.json"
    Vocabulary.build(TOKEN_LISTS, max_size=5).save(path)
    before = path.read_bytes()
    from bilstm_attention.tokenizers import vocabulary as vocabulary_module

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(vocabulary_module.json, "dumps", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        Vocabulary.build([["other"]], max_size=5).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["vocabulary.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\xff garbage", "corrupted"),
        (b'{"format": "bilstm_attention.vocabulary", "format_version": 1, "tokens": ["", "[UN', "corrupted"),
        (b"[1, 2, 3]", "not a bilstm_attention vocabulary"),
        (b'{"format": "bilstm_attention.vocabulary", "format_version": 99, "tokens": []}', "format_version 99"),
        (b'{"format": "bilstm_attention.vocabulary", "format_version": 1, "tokens": ["a", "b"]}', "reserved"),
        (
            b'{"format": "bilstm_attention.vocabulary", "format_version": 1, "tokens": ["", "[UNK]", "a", "a"]}',
            "repeats",
        ),
        (b'{"format": "bilstm_attention.vocabulary", "format_version": 1, "tokens": ["", "[UNK]", 3]}', "strings"),
        (b'{"format": "bilstm_attention.vocabulary", "format_version": 1, "tokens": "abc"}', "'tokens' must be a list"),
        (
            b'{"format": "bilstm_attention.vocabulary", "format_version": 1, "tokens": ["", "[UNK]"], "counts": [1]}',
            "counts has 1 entries",
        ),
        (
            b'{"format": "bilstm_attention.vocabulary", "format_version": 1, "size": 9, "tokens": ["", "[UNK]"]}',
            "'size' is 9",
        ),
    ],
)
def test_vocabulary_load_corrupt_file_names_it(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad_vocab.json"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        Vocabulary.load(path)
    assert "bad_vocab.json" in str(info.value)


def test_vocabulary_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing.json does not exist"):
        Vocabulary.load(tmp_path / "missing.json")


def test_tokenizer_and_vocabulary_end_to_end(english: EnglishTokenizer) -> None:
    texts = ["A great film!", "Not great.<br />Boring.", "Great great acting"]
    token_lists = english.tokenize_batch(texts, progress=False)
    vocabulary = Vocabulary.build(token_lists, max_size=5)
    assert vocabulary.tokens == ["", "[UNK]", "great", "!", "a"]
    ids = vocabulary.encode_batch(token_lists)
    assert [i.tolist() for i in ids] == [[4, 2, 1, 3], [1, 2, 1], [2, 2, 1]]
    assert vocabulary.decode(ids[0]) == ["a", "great", "[UNK]", "!"]
