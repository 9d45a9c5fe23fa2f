"""Named training recipes, read from ``recipes.yaml`` and the dataset registry.

- ``tuned`` (:data:`DEFAULT_RECIPE`): this package's best configuration on validation data;
  what ``bilstm-attention train --dataset D`` trains and what the benchmark reports as tuned.
- ``seed``: the tutorials' model and preprocessing, to reproduce them.
- ``none``: no recipe: :class:`~bilstm_attention.training.TrainConfig`'s own defaults.

Each recipe is layered, most specific last, and each setting is written in one place only:

1. :class:`~bilstm_attention.training.TrainConfig`'s field defaults;
2. the dataset's settings in ``datasets.yaml`` (``tokenizer``, ``tokenizer_options``,
   ``vocab_size``, ``max_length``; for ``seed``, its ``seed_recipe`` instead);
3. ``recipes.yaml``: ``common.<recipe>`` (every dataset), then ``datasets.<name>.<recipe>``.

``recipes.yaml``'s ``train`` sections use the configuration's *flat names* (the ``train``
command's flags without the dashes, e.g. ``ngram_order``; see
:mod:`bilstm_attention.training.config`), its ``classifier`` sections
:class:`~bilstm_attention.model.ClassifierConfig` fields.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING, Any

from bilstm_attention._optional import require
from bilstm_attention.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from bilstm_attention.data.registry import DatasetSpec
    from bilstm_attention.training.config import TrainConfig

#: The recipes of every registry dataset.
RECIPES: tuple[str, ...] = ("tuned", "seed", "none")

#: What ``train --dataset D`` trains when no ``--recipe`` is given.
DEFAULT_RECIPE = "tuned"

_SECTIONS = ("train", "classifier")


@functools.lru_cache(maxsize=1)
def _recipes_file() -> dict[str, Any]:
    yaml = require("yaml", "train")  # here, not at import: the CLI's parser imports this module
    text = resources.files("bilstm_attention").joinpath("recipes.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _merge(base: dict[str, Any], layer: dict[str, Any] | None, where: str) -> dict[str, Any]:
    unknown = set(layer or {}) - set(_SECTIONS)
    if unknown:
        raise ConfigError(f"recipes.yaml: {where}: unknown section(s) {sorted(unknown)}; use train and classifier")
    merged = {part: dict(base.get(part, {})) for part in _SECTIONS}
    for part in _SECTIONS:
        merged[part].update((layer or {}).get(part) or {})
    return merged


def dataset_settings(spec: DatasetSpec) -> dict[str, Any]:
    """The dataset's own training settings from ``datasets.yaml`` (flat names), those it sets."""
    settings: dict[str, Any] = {}
    if spec.tokenizer is not None:
        settings["tokenizer"] = spec.tokenizer
    if spec.tokenizer_options:
        settings["tokenizer_options"] = dict(spec.tokenizer_options)
    if spec.vocab_size is not None:
        settings["vocab_size"] = spec.vocab_size
    if spec.max_length is not None:
        settings["max_length"] = spec.max_length
    return settings


def _seed_settings(spec: DatasetSpec) -> dict[str, Any]:
    seed = spec.seed_recipe
    if seed is None:
        raise ConfigError(f"dataset {spec.name!r} has no seed_recipe in datasets.yaml")
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
    """The merged ``{"train": {flat name: value}, "classifier": {...}}`` of ``recipe`` for ``dataset``.

    Raises:
        ConfigError: an unknown recipe or dataset, or a bad recipes.yaml section.
    """
    from bilstm_attention.data import get_spec

    if recipe not in RECIPES:
        raise ConfigError(f"unknown recipe {recipe!r}; choose one of: {', '.join(RECIPES)}")
    spec = get_spec(dataset)  # resolves aliases, raises for unknown names
    settings = {"train": _seed_settings(spec) if recipe == "seed" else dataset_settings(spec), "classifier": {}}
    if recipe == "none":
        return settings
    recipes = _recipes_file()
    settings = _merge(settings, recipes["common"][recipe], f"common.{recipe}")
    return _merge(
        settings, recipes.get("datasets", {}).get(spec.name, {}).get(recipe), f"datasets.{spec.name}.{recipe}"
    )


def recipe_config(dataset: str, recipe: str = DEFAULT_RECIPE) -> TrainConfig:
    """The :class:`~bilstm_attention.training.TrainConfig` of ``recipe`` for ``dataset``.

    Raises:
        ConfigError: an unknown recipe or dataset, or a recipe setting that is not a
            configuration field (named).
    """
    from bilstm_attention.data import get_spec
    from bilstm_attention.training.config import TrainConfig

    settings = recipe_settings(dataset, recipe)
    try:
        return TrainConfig.from_dict(
            {**settings["train"], "dataset": get_spec(dataset).name, "classifier": settings["classifier"]}
        )
    except ConfigError as exc:
        raise ConfigError(f"recipe {recipe!r} of {dataset!r}: {exc}") from None
