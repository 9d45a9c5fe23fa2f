"""Tokenizers by name: the name -> class table and the functions that build tokenizers."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping
from typing import Any

from bilstm_attention.errors import ConfigError

from .base import Tokenizer
from .english import EnglishTokenizer, WhitespaceTokenizer
from .kiwi import KiwiTokenizer
from .mecab import MecabTokenizer
from .okt import OktTokenizer
from .syllable import SyllableTokenizer

__all__ = ["TOKENIZERS", "available_tokenizers", "get_tokenizer", "tokenizer_from_config"]

#: Every tokenizer by name. Importing this module imports no analyser: they load lazily.
TOKENIZERS: dict[str, type[Tokenizer]] = {
    cls.name: cls
    for cls in (EnglishTokenizer, WhitespaceTokenizer, KiwiTokenizer, OktTokenizer, MecabTokenizer, SyllableTokenizer)
}


def available_tokenizers() -> list[str]:
    """The registered tokenizer names, sorted.

    Example:
        >>> available_tokenizers()
        ['english', 'kiwi', 'mecab', 'okt', 'syllable', 'whitespace']
    """
    return sorted(TOKENIZERS)


def tokenizer_options(name: str) -> dict[str, Any]:
    """The options of tokenizer ``name`` with their defaults.

    Example:
        >>> tokenizer_options("english")
        {'lowercase': True, 'keep_punctuation': True}
    """
    cls = _lookup(name)
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return {p.name: p.default for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD or p.kind is p.KEYWORD_ONLY}


def get_tokenizer(name: str, **options: Any) -> Tokenizer:
    """A new tokenizer ``name`` (see :func:`available_tokenizers`) with ``options``.

    Raises:
        ConfigError: unknown name (the message lists the valid names), unknown option (the
            message names it and lists the valid ones) or a bad option value.
        TokenizerDependencyError: the analyser's package is not installed (a ConfigError
            that says what to install).

    Example:
        >>> get_tokenizer("english", keep_punctuation=False).tokenize("Great movie!")
        ['great', 'movie']
    """
    cls = _lookup(name)
    valid = tokenizer_options(name)
    unknown = [option for option in options if option not in valid]
    if unknown:
        raise ConfigError(
            f"unknown option {unknown[0]!r} for tokenizer {name!r}; valid options: {', '.join(valid) or 'none'}"
        )
    return cls(**options)


def tokenizer_from_config(config: Mapping[str, Any]) -> Tokenizer:
    """Rebuild a tokenizer from :meth:`Tokenizer.get_config` output (e.g. ``tokenizer.json``).

    If the config's ``versions`` differ from what is installed now, a :class:`UserWarning`
    says so: the tokens may differ from the ones the config was made with.

    Raises:
        ConfigError: ``config`` is not a mapping with a known ``name``, or holds an unknown
            option or a bad value.

    Example:
        >>> tokenizer = get_tokenizer("english", lowercase=False)
        >>> tokenizer_from_config(tokenizer.get_config()) == tokenizer
        True
    """
    if not isinstance(config, Mapping):
        raise ConfigError(f"tokenizer config must be a mapping, got {type(config).__name__}")
    options = dict(config)
    name = options.pop("name", None)
    if not isinstance(name, str):
        raise ConfigError(f"tokenizer config needs a 'name' (one of {', '.join(available_tokenizers())}), got {name!r}")
    saved_versions = options.pop("versions", None)
    tokenizer = get_tokenizer(name, **options)
    if saved_versions is not None:
        if not isinstance(saved_versions, Mapping):
            raise ConfigError(f"tokenizer config 'versions' must be a mapping, got {saved_versions!r}")
        current = tokenizer.versions()
        changed = {k: (v, current.get(k)) for k, v in saved_versions.items() if current.get(k) != v}
        if changed:
            details = ", ".join(f"{k} {old} -> {new or 'missing'}" for k, (old, new) in sorted(changed.items()))
            warnings.warn(
                f"tokenizer {name!r} was configured with other versions than installed ({details}); "
                "its tokens may differ from the ones the model was trained on",
                UserWarning,
                stacklevel=2,
            )
    return tokenizer


def _lookup(name: str) -> type[Tokenizer]:
    try:
        return TOKENIZERS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown tokenizer {name!r}; valid names: {', '.join(available_tokenizers())}") from None
