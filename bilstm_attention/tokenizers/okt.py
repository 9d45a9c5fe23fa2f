"""``okt``: konlpy's Okt (Open Korean Text), the tutorials' tokenizer for NSMC.

Needs ``pip install konlpy`` and a Java runtime (JDK/JRE 8 or later; konlpy finds it through
``JAVA_HOME`` or the default locations). The JVM starts on first use, which takes a few
seconds; Okt has no batch API, so :meth:`~OktTokenizer.tokenize_batch` loops with a progress
bar (a few hundred reviews per second).

The tutorials' recipe is ``okt.morphs(text, stem=True)`` minus a stopword list, which is

    >>> OktTokenizer(stem=True, stopwords="nsmc_seed")      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from .base import TokenizerDependencyError, check_bool, check_text, check_texts, package_version, progress_bar
from .korean import MorphTokenizer

__all__ = ["OktTokenizer"]

#: Okt's tags (open-korean-text ``KoreanPos``).
OKT_TAGS = frozenset(
    "Noun Verb Adjective Adverb Determiner Exclamation Josa Eomi PreEomi Conjunction "
    "Modifier VerbPrefix NounPrefix Suffix Unknown Korean Foreign Number KoreanParticle Alpha "
    "Punctuation Hashtag ScreenName Email URL CashTag Space Others ProperNoun".split()
)

_INSTALL = (
    "the 'okt' tokenizer needs konlpy and Java: pip install konlpy, and install a Java "
    "runtime (JDK 8 or later, e.g. apt-get install default-jdk) with JAVA_HOME pointing to it"
)


class OktTokenizer(MorphTokenizer):
    """Korean morphemes from konlpy's ``Okt.pos``.

    Args:
        stem: reduce verbs and adjectives to their dictionary form (``짜증나네요`` ->
            ``짜증나다``). Default ``True``, as in the tutorials.
        norm: Okt's normalisation (``사릉해`` -> ``사랑해``). Default ``False`` (Okt's default).
        form: ``"morph"`` (default) or ``"morph_tag"`` (``"form/Tag"``, e.g. ``영화/Noun``).
        stopwords: forms to drop (after stemming): a list or a preset name, e.g.
            ``"nsmc_seed"`` for the NSMC tutorial's 18 words.
        stopword_tags: Okt tags to drop (``["Josa", "Punctuation"]``). Default: none.
    """

    name: ClassVar[str] = "okt"
    TAGSET: ClassVar[frozenset[str]] = OKT_TAGS

    def __init__(
        self,
        stem: bool = True,
        norm: bool = False,
        form: str = "morph",
        stopwords: str | Sequence[str] | None = None,
        stopword_tags: Sequence[str] | None = None,
    ) -> None:
        super().__init__(form=form, stopwords=stopwords, stopword_tags=stopword_tags)
        self.stem = check_bool("stem", stem)
        self.norm = check_bool("norm", norm)
        if package_version("konlpy") is None:
            raise TokenizerDependencyError(_INSTALL)

    def _load(self) -> Any:
        try:
            from konlpy.tag import Okt
        except ImportError as exc:
            raise TokenizerDependencyError(f"{_INSTALL} ({exc})") from exc
        try:
            okt = Okt()
        except Exception as exc:  # jpype raises JVMNotFoundException (a ValueError) and others
            raise TokenizerDependencyError(f"{_INSTALL}; starting Java failed: {exc}") from exc
        return okt

    def tokenize(self, text: str) -> list[str]:
        text = check_text(text)
        if not text.strip():
            return []
        return self._finish(self.analyser.pos(text, norm=self.norm, stem=self.stem))

    def tokenize_batch(self, texts: Sequence[str], progress: bool = True) -> list[list[str]]:
        texts = check_texts(texts)
        if texts:
            _ = self.analyser  # start the JVM before the progress bar appears
        return [self.tokenize(text) for text in progress_bar(texts, self.name, progress)]

    def _options(self) -> dict[str, Any]:
        return {"stem": self.stem, "norm": self.norm, **super()._options()}

    @classmethod
    def versions(cls) -> dict[str, str]:
        # konlpy bundles the Okt jar (open-korean-text), so its version pins Okt's.
        return {"konlpy": package_version("konlpy") or "not installed"}
