"""What the Korean morphological tokenizers (``kiwi``, ``okt``, ``mecab``) share.

Each analyser splits a review into morphemes with a part-of-speech tag. The tokenizers
output either the morphemes' forms (``form="morph"``, the default) or ``form/TAG`` strings
(``form="morph_tag"``), after dropping

* ``stopwords``: morpheme forms to drop, a list or the name of a preset in
  :data:`STOPWORD_PRESETS` (the tutorials' lists, so the "seed" recipes are reproduced
  exactly), and
* ``stopword_tags``: part-of-speech tags to drop, checked against the analyser's tag set.

Nothing is dropped by default: laughter and crying (``ㅋㅋ``, ``ㅠㅠ``), emoticons (``^^``)
and punctuation (``!!``, ``...``) carry sentiment in these reviews.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, ClassVar

from bilstm_attention.errors import ConfigError

from .base import Tokenizer, check_choice, check_str_list

__all__ = ["FORMS", "STOPWORD_PRESETS", "resolve_stopwords"]

#: Named stopword lists, usable as ``stopwords="<name>"`` with any Korean tokenizer.
STOPWORD_PRESETS: dict[str, tuple[str, ...]] = {
    # wikidocs.net/book/2155 "네이버 영화 리뷰 감성 분류하기": Okt morphs(stem=True).
    "nsmc_seed": tuple("의 가 이 은 들 는 좀 잘 걍 과 도 를 으로 자 에 와 한 하다".split()),
    # wikidocs.net/book/2155 "BiLSTM으로 한국어 스팀 리뷰 감성 분류하기": Mecab morphs.
    "steam_seed": tuple(
        "도 는 다 의 가 이 은 한 에 하 고 을 를 인 듯 과 와 네 들 지 임 게 만 게임 겜 되 음 면".split()
    ),
    # wikidocs.net/book/2155 "네이버 쇼핑 리뷰 감성 분류하기": Mecab morphs.
    "naver_shopping_seed": tuple("도 는 다 의 가 이 은 한 에 하 고 을 를 인 듯 과 와 네 들 지 임 게".split()),
}

#: Output forms: the morpheme alone, or ``morpheme/TAG``.
FORMS = ("morph", "morph_tag")


def resolve_stopwords(value: str | Sequence[str] | None) -> list[str]:
    """The stopword list for the ``stopwords`` option: a preset name, a list, or ``None``.

    Returns a sorted, de-duplicated list (the order of a stopword list does not matter, so
    equal sets give equal configs).

    Example:
        >>> resolve_stopwords(["는", "가", "는"])
        ['가', '는']
        >>> len(resolve_stopwords("nsmc_seed"))
        18
    """
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = STOPWORD_PRESETS[value]
        except KeyError:
            raise ConfigError(
                f"option 'stopwords': unknown preset {value!r}; presets: {', '.join(sorted(STOPWORD_PRESETS))} "
                "(or give a list of words)"
            ) from None
    words = check_str_list("stopwords", value)
    return sorted(set(words))


def resolve_tags(value: Sequence[str] | None, tagset: frozenset[str], analyser: str) -> list[str]:
    """The ``stopword_tags`` option checked against ``tagset``; sorted, de-duplicated."""
    if value is None:
        return []
    tags = check_str_list("stopword_tags", value)
    unknown = sorted(set(tags) - tagset)
    if unknown:
        raise ConfigError(
            f"option 'stopword_tags': unknown {analyser} tag(s) {', '.join(map(repr, unknown))}; "
            f"known tags: {', '.join(sorted(tagset))}"
        )
    return sorted(set(tags))


class MorphTokenizer(Tokenizer):
    """Base of the Korean tokenizers: lazy analyser, stopword filtering, output form.

    Subclasses implement :meth:`_load` (create the analyser; raise
    :class:`~bilstm_attention.tokenizers.TokenizerDependencyError` when it is missing) and
    :meth:`_analyse` (text -> ``(form, tag)`` pairs), and set :attr:`TAGSET`.
    The analyser is created on first use, once per tokenizer object, and is not pickled.
    """

    #: Every tag the analyser can output (the base tag, before any ``-`` or ``+`` suffix).
    TAGSET: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        form: str = "morph",
        stopwords: str | Sequence[str] | None = None,
        stopword_tags: Sequence[str] | None = None,
    ) -> None:
        self.form = check_choice("form", form, FORMS)
        self.stopwords = resolve_stopwords(stopwords)
        self.stopword_tags = resolve_tags(stopword_tags, self.TAGSET, self.name)
        self._stopword_set = frozenset(self.stopwords)
        self._tag_set = frozenset(self.stopword_tags)
        self._analyser: Any = None
        self._analyser_pid: int | None = None
        self._lock = threading.Lock()

    # -- analyser life cycle -------------------------------------------------------------

    @property
    def analyser(self) -> Any:
        """The underlying analyser object, created on first access.

        A forked child process creates its own: an analyser's worker threads do not survive
        ``fork`` (Kiwi's batch API would wait for them forever).
        """
        if self._analyser is None or self._analyser_pid != os.getpid():
            with self._lock:
                if self._analyser is None or self._analyser_pid != os.getpid():
                    self._analyser = self._load()
                    self._analyser_pid = os.getpid()
        return self._analyser

    def _load(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_analyser"] = state["_analyser_pid"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # -- tokenizing ----------------------------------------------------------------------

    @staticmethod
    def base_tag(tag: str) -> str:
        """The tag without irregular/compound suffixes: ``VA-I`` -> ``VA``, ``VCP+EC`` -> ``VCP``."""
        return tag.split("+", 1)[0].split("-", 1)[0]

    def _finish(self, pairs: Sequence[tuple[str, str]]) -> list[str]:
        """Drop stopwords and stopword tags, then format the ``(form, tag)`` pairs."""
        if self._stopword_set:
            stop = self._stopword_set
            pairs = [p for p in pairs if p[0] not in stop]
        if self._tag_set:
            tags, base = self._tag_set, self.base_tag
            pairs = [p for p in pairs if base(p[1]) not in tags]
        if self.form == "morph":
            return [form for form, _ in pairs]
        return [f"{form}/{tag}" for form, tag in pairs]

    def _options(self) -> dict[str, Any]:
        return {"form": self.form, "stopwords": list(self.stopwords), "stopword_tags": list(self.stopword_tags)}
