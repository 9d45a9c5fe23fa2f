"""The dataset registry: the packaged datasets.yaml, and clear errors for malformed entries."""

from __future__ import annotations

import configparser
import copy
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "data"))
import bilstm_data_fixtures as fx

from bilstm_attention.data import (
    default_tokenizer,
    get_spec,
    list_datasets,
    load_registry,
)
from bilstm_attention.data.registry import parse_registry
from bilstm_attention.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_packaged_registry_lists_the_four_datasets():
    assert list_datasets() == ["imdb", "nsmc", "steam", "naver_shopping"]


def test_registry_is_package_data():
    assert (REPO / "bilstm_attention" / "datasets.yaml").is_file()
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    assert "datasets.yaml" in config["options.package_data"]["bilstm_attention"]


def test_checksums_and_sizes_match_the_upstream_files():
    imdb = get_spec("imdb").file("archive")
    assert (imdb.size, imdb.checksum.algorithm, imdb.checksum.value) == (
        84125825,
        "sha256",
        "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
    )
    nsmc = get_spec("nsmc")
    assert nsmc.file("train").checksum.value == "e03b7d14e9e41be8d464a28057cd25d7396c53e67aa7fd5f7e552c59b0ee2940"
    assert nsmc.file("test").size == 4893335
    assert get_spec("steam").file("all").checksum.algorithm == "git_blob"
    assert get_spec("steam").file("all").checksum.value == "358da9142ab212ed3018e5bf53d099a166a31395"
    assert get_spec("naver_shopping").file("all").checksum.value == "25afff322fd86ee54d7813acedafe4990d83b18c"


def test_label_rules_splits_and_tokenizers():
    shopping = get_spec("shopping")  # alias
    assert shopping.name == "naver_shopping"
    assert dict(shopping.label_rule.classes) == {"negative": ("1", "2"), "positive": ("4", "5")}
    assert shopping.label_rule.drop == ("3",)
    assert shopping.split.method == "stratified_hash" and shopping.split.test_fraction == 0.25
    assert get_spec("nsmc").split.method == "upstream"
    assert get_spec("nsmc").empty_text == "drop"
    assert get_spec("imdb").label_rule.ratings == {"negative": (1, 4), "positive": (7, 10)}
    assert default_tokenizer("en") == "english" and default_tokenizer("ko") == "kiwi"
    assert get_spec("imdb").tokenizer == "english"
    # Mecab won on NSMC and Steam (benchmarks/research_log.md); naver_shopping is unmeasured
    assert [get_spec(n).tokenizer for n in ("nsmc", "steam", "naver_shopping")] == ["mecab", "mecab", "kiwi"]
    assert get_spec("nsmc").seed_recipe.tokenizer == "okt"
    assert get_spec("nsmc").seed_recipe.tokenizer_options["stopwords"] == "nsmc_seed"
    assert get_spec("steam").seed_recipe.tokenizer == "mecab"
    assert (get_spec("steam").seed_recipe.vocab_size, get_spec("steam").seed_recipe.max_length) == (18941, 60)
    assert get_spec("naver_shopping").seed_recipe.vocab_size == 21787
    assert get_spec("imdb").seed_recipe.vocab_size == 10000
    for name in list_datasets():
        spec = get_spec(name)
        assert spec.vocab_size and spec.max_length and spec.description and spec.homepage


def test_unknown_dataset_names_the_choices():
    with pytest.raises(ConfigError, match=r"unknown dataset 'imbd'; available: imdb, nsmc, steam, naver_shopping"):
        get_spec("imbd")


def _broken(mutate) -> dict:
    data = fx.registry_data()
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["datasets"]["tiny_nsmc"].pop("language"), r"datasets\.tiny_nsmc\.language: is required"),
        (
            lambda d: d["datasets"]["tiny_nsmc"]["files"]["train"].update(sha256="abc"),
            r"datasets\.tiny_nsmc\.files\.train\.sha256: expected 64 lowercase hex digits",
        ),
        (
            lambda d: d["datasets"]["tiny_nsmc"]["files"]["train"].pop("sha256"),
            r"datasets\.tiny_nsmc\.files\.train\.sha256: a downloadable file needs a checksum",
        ),
        (
            lambda d: d["datasets"]["tiny_nsmc"].update(vocab_sise=3),
            r"datasets\.tiny_nsmc\.vocab_sise: unknown key \(typo\?\)",
        ),
        (
            lambda d: d["datasets"]["tiny_nsmc"]["format"].update(text_column="review"),
            r"datasets\.tiny_nsmc\.format\.text_column: 'review' is not one of the columns",
        ),
        (
            lambda d: d["datasets"]["tiny_nsmc"]["format"].update(separator="\t\t"),
            r"datasets\.tiny_nsmc\.format\.separator: must be one character",
        ),
        (
            lambda d: d["datasets"]["tiny_steam"]["label_rule"]["classes"].update(positive=["0"]),
            r"datasets\.tiny_steam\.label_rule\.classes\.positive: value '0' is also listed under 'negative'",
        ),
        (
            lambda d: d["datasets"]["tiny_steam"]["label_rule"]["classes"].update(neutral=["2"]),
            r"datasets\.tiny_steam\.label_rule\.classes\.neutral: is not one of class_names",
        ),
        (
            lambda d: d["datasets"]["tiny_steam"]["split"].update(test_fraction=1.5),
            r"datasets\.tiny_steam\.split\.test_fraction: must be a number in \[0, 1\)",
        ),
        (
            lambda d: d["datasets"]["tiny_steam"]["split"].update(validation_groups="movie"),
            r"datasets\.tiny_steam\.split\.validation_groups: movie groups come from aclImdb's urls files",
        ),
        (
            lambda d: d["datasets"]["tiny_imdb"]["split"].update(validation_groups="film"),
            r"datasets\.tiny_imdb\.split\.validation_groups: must be one of movie",
        ),
        (
            lambda d: d["datasets"]["tiny_steam"].update(language="de"),
            r"datasets\.tiny_steam\.language: must be one of en, ko",
        ),
        (
            lambda d: d["datasets"]["tiny_steam"]["known_defects"].update(all=[0]),
            r"datasets\.tiny_steam\.known_defects\.all: line numbers are positive integers",
        ),
        (
            lambda d: d["datasets"]["tiny_shopping"].update(aliases=["tiny_nsmc"]),
            r"datasets\.tiny_shopping\.aliases: 'tiny_nsmc' is already taken",
        ),
        (
            lambda d: d["defaults"]["validation"].update(fraction="0.1"),
            r"defaults\.validation\.fraction: must be a number in \[0, 1\)",
        ),
        (lambda d: d.update(registry_version=2), r"registry_version: this package reads version 1, got 2"),
    ],
)
def test_malformed_entries_name_the_key(mutate, message):
    with pytest.raises(ConfigError, match=message):
        parse_registry(_broken(mutate), "test.yaml")


def test_unreadable_registry_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml is not valid YAML"):
        load_registry(bad)
    with pytest.raises(ConfigError, match=r"registry file .*missing\.yaml does not exist"):
        load_registry(tmp_path / "missing.yaml")


def test_a_written_registry_round_trips(tmp_path):
    registry = fx.write_registry(tmp_path / "r.yaml", fx.registry_data())
    assert registry.names() == ["tiny_nsmc", "tiny_steam", "tiny_shopping", "tiny_imdb"]
    assert registry.get("tiny-shop").name == "tiny_shopping"
    spec = registry.get("tiny_steam")
    assert spec.known_defects == {"all": (9,)}
    assert spec.validation_fraction == 0.25 and spec.limit_test_fraction == 0.5
    # content_hash follows the entry, so the fingerprints of loaded data do too
    changed = copy.deepcopy(fx.registry_data())
    changed["datasets"]["tiny_steam"]["description"] = "changed"
    assert parse_registry(changed).get("tiny_steam").content_hash != spec.content_hash


def test_data_package_does_not_import_tensorflow():
    code = textwrap.dedent(
        """
        import sys
        from bilstm_attention.data import list_datasets, load_file, get_spec
        import bilstm_attention.cli.datasets_cmd
        list_datasets(); get_spec("nsmc")
        heavy = sorted(m for m in ("tensorflow", "keras", "konlpy", "kiwipiepy", "jax") if m in sys.modules)
        print(heavy)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_yaml_has_a_seed_recipe_source_for_every_dataset():
    raw = yaml.safe_load((REPO / "bilstm_attention" / "datasets.yaml").read_text(encoding="utf-8"))
    for name, entry in raw["datasets"].items():
        assert "wikidocs" in entry["seed_recipe"]["source"], name


def test_specs_are_read_only_but_picklable_and_json_friendly():
    import json
    import pickle

    spec = get_spec("imdb")
    assert pickle.loads(pickle.dumps(spec)) == spec and copy.deepcopy(spec) == spec
    assert json.loads(json.dumps(spec.structure))["rows"]["unlabeled"] == 50_000
    with pytest.raises(TypeError, match="read-only"):
        spec.structure["rows"] = {}
    with pytest.raises(Exception):  # noqa: B017 - frozen dataclass
        spec.name = "other"
