"""TrainConfig's groups, its flat and nested forms, the train flags generated from its fields,
recipes layered without repeating a setting, and tuned as the default recipe."""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import warnings

import pytest
import yaml

from bilstm_attention.cli import build_parser
from bilstm_attention.cli.train_cmd import docstring_help, generated_flags, train_config_from_args
from bilstm_attention.errors import ConfigError
from bilstm_attention.features.word2vec import Word2VecConfig
from bilstm_attention.model.config import ClassifierConfig
from bilstm_attention.training.config import (
    FLAT_NAMES,
    GROUPS,
    OPTIONAL_GROUPS,
    DataConfig,
    FitConfig,
    LanguageModelConfig,
    NgramConfig,
    TrainConfig,
    flat_defaults,
    flat_name,
)
from bilstm_attention.training.recipes import DEFAULT_RECIPE, _recipes_file, recipe_config, recipe_settings


def parse_train(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["train", *argv])


# --- nesting -------------------------------------------------------------------------------


def test_nested_config_round_trips_through_json() -> None:
    config = TrainConfig(
        data=DataConfig(dataset="imdb", limit=50),
        ngrams=NgramConfig(order=3, model="nblr", nblr_c=[0.5]),
        fit=FitConfig(epochs=2, patience=None),
        word2vec=Word2VecConfig(epochs=2),
        language_model=LanguageModelConfig(output_vocab_size=500),
        classifier=ClassifierConfig(lstm_units=[8]),
    )
    nested = json.loads(json.dumps(config.to_dict()))
    assert set(nested) == {*GROUPS, *OPTIONAL_GROUPS, "classifier"}
    assert nested["ngrams"]["order"] == 3 and nested["fit"]["patience"] is None
    assert TrainConfig.from_dict(nested) == config
    flat = json.loads(json.dumps(config.to_flat_dict()))
    assert flat["ngram_order"] == 3 and flat["limit"] == 50 and "ngrams" not in flat
    assert TrainConfig.from_dict(flat) == config


def test_groups_given_as_dicts_are_converted_and_checked() -> None:
    config = TrainConfig(data={"dataset": "nsmc"}, fit={"epochs": 1})
    assert isinstance(config.fit, FitConfig) and config.fit.epochs == 1
    with pytest.raises(ConfigError, match="unknown fit option.*epoch_count"):
        TrainConfig(data={"dataset": "nsmc"}, fit={"epoch_count": 1})
    with pytest.raises(ConfigError, match="fit must be a mapping of fit settings"):
        TrainConfig.from_dict({"dataset": "nsmc", "fit": 3})


def test_flat_keys_apply_after_groups() -> None:
    config = TrainConfig.from_dict({"data": {"dataset": "imdb"}, "fit": {"epochs": 5, "batch_size": 8}, "epochs": 1})
    assert config.fit.epochs == 1 and config.fit.batch_size == 8


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"dataset": "imdb", "epoch": 3}, "unknown training option(s): epoch; known:"),
        ({"dataset": "imdb", "order": 3}, "unknown training option(s): order"),  # only ngram_order is flat
        ({"data": {"dataset": "imdb", "folder": "x"}}, "unknown data option(s): folder"),
        ({"dataset": "imdb", "ngrams": {"ngram_order": 2}}, "unknown ngrams option(s): ngram_order"),
        ({"dataset": "imdb", "runtime": {"strategy": "tpu"}}, "unknown strategy 'tpu'"),
        ({"dataset": "imdb", "patience": 0}, "patience must be positive"),
        ({"dataset": "imdb", "validation_fraction": 1.5}, "validation_fraction must be in (0, 1)"),
    ],
)
def test_bad_keys_and_values_are_named(values: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict(values)
    assert message in str(info.value)


def test_replace_takes_flat_names_and_groups() -> None:
    config = recipe_config("nsmc", "tuned")
    changed = config.replace(epochs=1, limit=100, tensorboard=False, fit=dataclasses.replace(config.fit, epochs=1))
    assert changed.fit.epochs == 1 and changed.data.limit == 100 and changed.runtime.tensorboard is False
    assert config.fit.epochs == 6  # the original is unchanged
    with pytest.raises(ConfigError, match="unknown training option 'epochz'"):
        config.replace(epochz=1)


def test_old_flat_attributes_still_read_with_a_deprecation_warning() -> None:
    config = recipe_config("imdb", "tuned")
    with pytest.warns(DeprecationWarning, match=r"TrainConfig.ngram_order is deprecated; use TrainConfig.ngrams.order"):
        assert config.ngram_order == 3
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        config.nonesuch  # noqa: B018


def test_every_flat_name_is_unique_and_maps_to_its_group() -> None:
    names = [flat_name(item) for cls in GROUPS.values() for item in dataclasses.fields(cls)]
    assert len(names) == len(set(names)) == len(FLAT_NAMES)
    assert FLAT_NAMES["ngram_order"] == ("ngrams", "order")
    assert FLAT_NAMES["batch_size"] == ("fit", "batch_size")
    assert not set(names) & {"word2vec", "classifier", *GROUPS}


# --- flags generated from the fields ---------------------------------------------------


def test_every_field_has_a_flag_with_help() -> None:
    flags = {flag.dest: flag for flag in generated_flags()}
    for group, cls in GROUPS.items():
        for item in dataclasses.fields(cls):
            flag = flags[flat_name(item)]
            assert (flag.section, flag.field) == (group, item.name)
            assert item.metadata["help"], f"{group}.{item.name} has no help text"
    for item in dataclasses.fields(Word2VecConfig):
        assert f"word2vec_{item.name}" in flags
    for item in dataclasses.fields(ClassifierConfig):
        if item.name not in ("vocab_size", "num_classes", "max_length", "ngram_vocab_size"):
            assert flags[item.name].section == "classifier"
    help_text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for flag in flags.values():
        assert flag.option in help_text
    # help for the classifier and word2vec fields comes from their docstrings
    assert docstring_help(ClassifierConfig)["lstm_units"].startswith("units of each BiLSTM layer")
    assert "context words on each side" in help_text


@pytest.mark.parametrize(
    "argv",
    [
        # every flag of 0.1 still parses
        [
            "--dataset",
            "imdb",
            "--data-dir",
            "d",
            "--path",
            "p",
            "--limit",
            "10",
            "--tokenizer",
            "english",
            "--vocab-size",
            "500",
            "--min-count",
            "2",
            "--max-length",
            "40",
            "--truncation",
            "tail",
            "--pad-to-max-length",
            "--no-bucketing",
            "--ngram-order",
            "2",
            "--ngram-vocab-size",
            "99",
            "--ngram-min-count",
            "1",
            "--ngram-model",
            "joint",
            "--no-word2vec",
            "--attention",
            "luong:dot",
            "--attention-units",
            "8",
            "--attention-dropout",
            "0.1",
            "--query",
            "learned",
            "--embedding-dim",
            "16",
            "--embedding-dropout",
            "0.1",
            "--lstm-units",
            "8,8",
            "--lstm-dropout",
            "0.2",
            "--dense-units",
            "4",
            "--dense-dropout",
            "0.3",
            "--ngram-dropout",
            "0.1",
            "--learning-rate",
            "0.01",
            "--epochs",
            "2",
            "--batch-size",
            "16",
            "--patience",
            "0",
            "--validation-fraction",
            "0.2",
            "--seed",
            "3",
            "--strategy",
            "mirrored",
            "--no-tensorboard",
        ],
    ],
)
def test_old_flags_stay_valid(argv: list[str]) -> None:
    config = train_config_from_args(parse_train(*argv))
    assert config.data.data_dir == "d" and config.data.limit == 10 and config.text.vocab_size == 500
    assert config.text.truncation == "tail" and config.fit.pad_to_max_length and not config.fit.bucketing
    assert config.ngrams.order == 2 and config.ngrams.model == "joint" and config.word2vec is None
    assert config.classifier.lstm_units == [8, 8] and config.classifier.attention == "luong:dot"
    assert config.fit.patience is None and config.runtime.strategy == "mirrored" and not config.runtime.tensorboard
    assert config.data.validation_fraction == 0.2 and config.runtime.seed == 3


def test_new_flags_reach_their_fields() -> None:
    config = train_config_from_args(
        parse_train(
            "--dataset",
            "imdb",
            "--nblr-c",
            "0.5,2",
            "--nblr-alpha",
            "0.5",
            "--ngram-token-vocab-size",
            "5000",
            "--tokenizer-options",
            '{"lowercase": false}',
            "--cache-dir",
            "/tmp/c",
            "--word2vec-window",
            "3",
            "--no-word2vec-use-unlabeled",
            "--clipnorm",
            "1.0",
            "--query",
            "learned",
            "--attention-heads",
            "4",
        )
    )
    assert config.classifier.query == "learned" and config.classifier.attention_heads == 4
    assert config.ngrams.nblr_c == [0.5, 2.0] and config.ngrams.nblr_alpha == 0.5
    assert config.ngrams.token_vocab_size == 5000 and config.text.tokenizer_options == {"lowercase": False}
    assert config.runtime.cache_dir == "/tmp/c" and config.classifier.clipnorm == 1.0
    assert config.word2vec == Word2VecConfig(window=3, use_unlabeled=False)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--nblr-c", "a,b"], "expected comma-separated numbers such as 0.1,0.3,1, got 'a,b'"),
        (["--tokenizer-options", "[1]"], "expected a JSON object"),
        (["--label-map", "pos"], "expected a label map such as 'pos=1,neg=0'"),
        (["--truncation", "middle"], "invalid choice: 'middle'"),
    ],
)
def test_bad_flag_values_are_named(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit):
        parse_train("--dataset", "imdb", *argv)
    assert message in capsys.readouterr().err


def test_no_word2vec_with_word2vec_settings_is_refused() -> None:
    with pytest.raises(ConfigError, match="--no-word2vec cannot be combined with --word2vec-\\* settings"):
        train_config_from_args(parse_train("--dataset", "imdb", "--no-word2vec", "--word2vec-epochs", "2"))


def test_train_help_does_not_import_tensorflow() -> None:
    code = (
        "import sys\nfrom bilstm_attention.cli import build_parser\n"
        "build_parser().parse_args(['datasets', 'list'])\n"
        "from bilstm_attention.cli.train_cmd import generated_flags\ngenerated_flags()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


# --- recipes and defaults -------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["imdb", "nsmc", "steam", "naver_shopping"])
def test_train_without_recipe_is_the_tuned_recipe(dataset: str) -> None:
    assert DEFAULT_RECIPE == "tuned"
    assert train_config_from_args(parse_train("--dataset", dataset)) == recipe_config(dataset, "tuned")
    assert train_config_from_args(parse_train("--dataset", dataset, "--recipe", "seed")) == recipe_config(
        dataset, "seed"
    )
    # explicit flags override the recipe
    config = train_config_from_args(parse_train("--dataset", dataset, "--epochs", "1", "--lstm-units", "32"))
    assert config.fit.epochs == 1 and config.classifier.lstm_units == [32]
    tuned = recipe_config(dataset, "tuned")
    units = tuned.classifier.lstm_units
    assert units != [32]
    assert config.replace(epochs=4, classifier={**config.classifier.to_dict(), "lstm_units": units}) == (
        tuned.replace(epochs=4)
    )


def test_benchmark_tuned_is_the_default_training(monkeypatch) -> None:
    """What `benchmark --recipe tuned` trains is what `train --dataset D` trains."""
    from bilstm_attention.evaluation import benchmark

    trained = []
    monkeypatch.setattr(
        "bilstm_attention.training.train", lambda config, run_dir, verbose=None: trained.append(config) or 1 / 0
    )
    with pytest.raises(ZeroDivisionError):
        benchmark.run_recipe("nsmc", "tuned")
    expected = train_config_from_args(parse_train("--dataset", "nsmc"))
    assert trained[0].replace(cache_dir=None, tensorboard=True) == expected


def test_recipe_none_is_the_configuration_defaults_with_the_datasets_settings() -> None:
    config = train_config_from_args(parse_train("--dataset", "nsmc", "--recipe", "none"))
    defaults = flat_defaults()
    assert config.ngrams.order == defaults["ngram_order"] == 0 and config.word2vec is None
    assert config.text.tokenizer == "mecab" and config.text.vocab_size == 30000  # datasets.yaml's


def test_a_user_file_takes_no_recipe() -> None:
    config = train_config_from_args(parse_train("--file", "r.csv", "--text-column", "t", "--label-column", "l"))
    assert config == TrainConfig.from_dict({"file": "r.csv", "text_column": "t", "label_column": "l"})


def test_each_setting_is_written_in_one_place() -> None:
    """No recipes.yaml layer repeats what the layers under it give (TrainConfig's and
    ClassifierConfig's defaults, the dataset's settings in datasets.yaml, common.<recipe>)."""
    recipes = _recipes_file()
    classifier_defaults = ClassifierConfig().to_dict()
    defaults = flat_defaults()
    for recipe in ("tuned", "seed"):
        common = recipes["common"][recipe]
        for key, value in (common.get("train") or {}).items():
            if key == "word2vec":
                assert value == {}, "word2vec settings equal to Word2VecConfig's defaults are repeated"
                continue
            assert key in FLAT_NAMES, f"common.{recipe}.train.{key} is not a flat name"
            assert defaults[key] != value, f"common.{recipe}.train.{key} repeats TrainConfig's default {value!r}"
        for key, value in (common.get("classifier") or {}).items():
            assert classifier_defaults[key] != value, f"common.{recipe}.classifier.{key} repeats the default"
    for dataset, layers in recipes["datasets"].items():
        below = recipe_settings(dataset, "none")["train"]
        for recipe, layer in layers.items():
            common = {**below, **(recipes["common"][recipe].get("train") or {})}
            for key, value in (layer.get("train") or {}).items():
                assert common.get(key, defaults.get(key)) != value, (
                    f"datasets.{dataset}.{recipe}.train.{key} repeats {value!r}"
                )
                assert key not in ("tokenizer", "vocab_size", "max_length"), (
                    "the dataset's own settings live in datasets.yaml"
                )


def test_nsmc_vocab_size_lives_in_datasets_yaml_only() -> None:
    from importlib import resources

    text = resources.files("bilstm_attention").joinpath("recipes.yaml").read_text(encoding="utf-8")
    assert "vocab_size" not in yaml.safe_load(text)["datasets"].get("nsmc", {}).get("tuned", {}).get("train", {})
    assert recipe_config("nsmc", "tuned").text.vocab_size == 30000  # from datasets.yaml
    assert recipe_config("nsmc", "seed").text.vocab_size == 19416  # its seed_recipe


def test_unknown_recipe_setting_is_named(monkeypatch) -> None:
    bad = {"common": {"tuned": {"train": {"epochz": 1}}, "seed": {}}, "datasets": {}}
    monkeypatch.setattr("bilstm_attention.training.recipes._recipes_file", lambda: bad)
    with pytest.raises(ConfigError, match="recipe 'tuned' of 'nsmc': unknown training option\\(s\\): epochz"):
        recipe_config("nsmc", "tuned")


# --- renamed modules ---------------------------------------------------------------------------


def test_renamed_modules_keep_their_old_import_paths() -> None:
    import importlib

    for old, new, name in [
        ("bilstm_attention.embeddings", "bilstm_attention.features.word2vec", "pretrain_embeddings"),
        ("bilstm_attention.model.layers", "bilstm_attention.model.blocks", "LearnedQuery"),
    ]:
        sys.modules.pop(old, None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = importlib.import_module(old)
        assert getattr(module, name) is getattr(importlib.import_module(new), name)
        assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in caught)


def test_readme_configuration_example_runs() -> None:
    import re

    from conftest import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "recipe_config(" in b)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    config = namespace["config"]
    assert config.fit.epochs == 1 and config.data.limit == 2_000
    assert config == recipe_config("nsmc", "tuned").replace(epochs=1, limit=2_000)
