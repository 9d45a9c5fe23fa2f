"""Named training recipes (``seed``: the tutorials' configuration, ``tuned``: this package's),
read from ``recipes.yaml`` and the dataset registry."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from bilstm_attention._optional import require
from bilstm_attention.errors import ConfigError

yaml = require("yaml", "train")

RECIPES: tuple[str, ...] = ("seed", "tuned")


@functools.lru_cache(maxsize=1)
def _recipes_file() -> dict[str, Any]:
    text = resources.files("bilstm_attention").joinpath("recipes.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _merge(base: dict[str, Any], layer: dict[str, Any] | None) -> dict[str, Any]:
    merged = {"train": dict(base.get("train", {})), "classifier": dict(base.get("classifier", {}))}
    for part in ("train", "classifier"):
        merged[part].update((layer or {}).get(part, {}))
    unknown = set(layer or {}) - {"train", "classifier"}
    if unknown:
        raise ConfigError(f"recipes.yaml: unknown section(s) {sorted(unknown)}; use train and classifier")
    return merged


def _seed_tokenization(dataset: str) -> dict[str, Any]:
    from bilstm_attention.data import get_spec

    seed = get_spec(dataset).seed_recipe
    if seed is None:
        raise ConfigError(f"dataset {dataset!r} has no seed_recipe in datasets.yaml")
    options = dict(seed.tokenizer_options)
    if seed.stopwords:
        options["stopwords"] = list(seed.stopwords)
    return {
        "tokenizer": seed.tokenizer,
        "tokenizer_options": options,
        "vocab_size": seed.vocab_size,
        "min_count": seed.min_count,
        "max_length": seed.max_length,
    }


def recipe_settings(dataset: str, recipe: str) -> dict[str, Any]:
    """The merged ``{"train": ..., "classifier": ...}`` settings of ``recipe`` for ``dataset``."""
    from bilstm_attention.data import get_spec

    if recipe not in RECIPES:
        raise ConfigError(f"unknown recipe {recipe!r}; choose one of: {', '.join(RECIPES)}")
    name = get_spec(dataset).name  # resolves aliases, raises for unknown names
    recipes = _recipes_file()
    settings = _merge({}, recipes["common"][recipe])
    if recipe == "seed":
        settings["train"].update(_seed_tokenization(name))
    return _merge(settings, recipes.get("datasets", {}).get(name, {}).get(recipe))


def recipe_config(dataset: str, recipe: str) -> Any:
    """The :class:`~bilstm_attention.training.TrainConfig` of ``recipe`` for ``dataset``."""
    from bilstm_attention.data import get_spec
    from bilstm_attention.training.config import TrainConfig

    settings = recipe_settings(dataset, recipe)
    return TrainConfig.from_dict(
        {**settings["train"], "dataset": get_spec(dataset).name, "classifier": settings["classifier"]}
    )
