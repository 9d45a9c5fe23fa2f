"""The :class:`Tokenizer` interface shared by every tokenizer, and small validation helpers.

A tokenizer turns one review into a list of string tokens. It is described completely by
:meth:`Tokenizer.get_config`, a JSON-serialisable dict that names the tokenizer, every option
that changes its output, and the versions of the analyser it wraps, so that

* ``tokenizer_from_config(t.get_config())`` rebuilds a tokenizer that tokenizes identically
  (this is how a trained model's ``tokenizer.json`` is loaded), and
* a cache of tokenized/encoded data keyed by the config is invalidated when an option or the
  analyser's version changes.

Options that only change speed (``num_workers``) are not part of the config.
"""

from __future__ import annotations

import abc
import importlib.metadata
import re
from collections.abc import Iterable, Sequence, Sized
from typing import Any, ClassVar, TypeVar

from bilstm_attention._optional import require
from bilstm_attention.errors import ConfigError

__all__ = ["Tokenizer", "TokenizerDependencyError"]

T = TypeVar("T")


class TokenizerDependencyError(ConfigError, ImportError):
    """A tokenizer's analyser (a Python package or Java) is not installed.

    The message says what to install. It is a :class:`~bilstm_attention.errors.ConfigError`
    (the user asked for a tokenizer this machine cannot run) and an :class:`ImportError`.
    """


class Tokenizer(abc.ABC):
    """Turns a text into a list of string tokens.

    Subclasses set :attr:`name`, implement :meth:`tokenize` and :meth:`_options`, and may
    override :meth:`tokenize_batch` where their analyser has a faster batch API and
    :meth:`versions` where it has a version.

    Example:
        >>> from bilstm_attention.tokenizers import get_tokenizer
        >>> tokenizer = get_tokenizer("whitespace", lowercase=True)
        >>> tokenizer.tokenize("A  good Film")
        ['a', 'good', 'film']
        >>> tokenizer.get_config()["name"]
        'whitespace'
    """

    #: The registry name of the tokenizer (``get_tokenizer(name)``).
    name: ClassVar[str]

    @abc.abstractmethod
    def tokenize(self, text: str) -> list[str]:
        """The tokens of one text (an empty list for an empty or blank text)."""

    def tokenize_batch(self, texts: Sequence[str], progress: bool = True) -> list[list[str]]:
        """The tokens of every text, in order, with a tqdm progress bar unless ``progress=False``.

        Raises:
            ConfigError: ``texts`` is a single string or holds something that is not a string.
        """
        texts = check_texts(texts)
        return [self.tokenize(text) for text in progress_bar(texts, self.name, progress)]

    @abc.abstractmethod
    def _options(self) -> dict[str, Any]:
        """The options that change the output, as JSON-serialisable values (no ``name``)."""

    @classmethod
    def versions(cls) -> dict[str, str]:
        """Versions of what determines the output (rules, analyser packages and models)."""
        return {}

    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable description: ``name``, the output options and ``versions``.

        ``tokenizer_from_config(config)`` rebuilds an equivalent tokenizer.
        """
        return {"name": self.name, **self._options(), "versions": self.versions()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tokenizer):
            return NotImplemented
        return self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        options = ", ".join(f"{key}={value!r}" for key, value in self._options().items())
        return f"{type(self).__name__}({options})"


# --------------------------------------------------------------------------- helpers


def progress_bar(items: Iterable[T], name: str, enabled: bool, total: int | None = None) -> Iterable[T]:
    """``items`` wrapped in a tqdm progress bar described as ``tokenizing (name)``.

    ``total`` defaults to ``len(items)``; ``enabled=False`` returns ``items`` unchanged.
    """
    if not enabled:
        return items
    tqdm = require("tqdm.auto", "train").tqdm

    if total is None and isinstance(items, Sized):
        total = len(items)
    return tqdm(items, total=total, desc=f"tokenizing ({name})", unit=" texts", mininterval=0.5)


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with every code point that UTF-8 cannot encode made valid.

    Python strings can hold surrogate code points (U+D800..U+DFFF): a command-line argument
    or file read with ``errors="surrogateescape"`` turns each byte that is not UTF-8 into
    one, and ``"\\ud83d\\ude00"`` spells an emoji as a UTF-16 pair. Native analysers (Kiwi,
    MeCab, Java's Okt) take UTF-8 and fail on them, the regex tokenizers drop them; so every
    tokenizer first joins valid pairs into their character and replaces each lone surrogate
    with U+FFFD (the replacement character), and all tokenizers see the same text.
    Anything else (control, bidi, private-use characters) is left as it is.
    """
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def check_texts(texts: Sequence[str]) -> Sequence[str]:
    """``texts`` as a sequence of strings (each through :func:`clean_text`), or a
    :class:`ConfigError` naming the bad item."""
    if isinstance(texts, (str, bytes)):
        raise ConfigError("texts must be a sequence of strings, not a single string (wrap it in a list)")
    if not isinstance(texts, Sequence):
        texts = list(texts)
    if not all(isinstance(text, str) for text in texts):
        index, bad = next((i, t) for i, t in enumerate(texts) if not isinstance(t, str))
        raise ConfigError(f"texts[{index}] is {type(bad).__name__} ({bad!r}), not str")
    if any(not text.isascii() and _SURROGATE.search(text) for text in texts):
        texts = [clean_text(text) for text in texts]
    return texts


def check_text(text: str) -> str:
    """``text`` through :func:`clean_text` if it is a string, else a :class:`ConfigError`."""
    if not isinstance(text, str):
        raise ConfigError(f"text must be a str, got {type(text).__name__} ({text!r})")
    return clean_text(text)


def check_bool(option: str, value: Any) -> bool:
    """``value`` if it is a bool, else a :class:`ConfigError` naming ``option``."""
    if not isinstance(value, bool):
        raise ConfigError(f"option {option!r} must be true or false, got {value!r}")
    return value


def check_choice(option: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, else a :class:`ConfigError` naming ``option``."""
    if value not in choices:
        raise ConfigError(f"option {option!r} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_positive_int(option: str, value: Any, allow_none: bool = False) -> int | None:
    """``value`` if it is a positive int (or ``None`` when ``allow_none``), else a
    :class:`ConfigError` naming ``option``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"option {option!r} must be a positive integer{' or null' if allow_none else ''}, got {value!r}"
        )
    return value


def check_str_list(option: str, value: Any) -> list[str]:
    """A list of strings from a list/tuple/set of strings, else a :class:`ConfigError`."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise ConfigError(f"option {option!r} must be a list of strings, got {value!r}")
    bad = [item for item in value if not isinstance(item, str)]
    if bad:
        raise ConfigError(f"option {option!r} must hold only strings; {bad[0]!r} is {type(bad[0]).__name__}")
    return list(value)


def package_version(distribution: str) -> str | None:
    """The installed version of a distribution, ``None`` when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
