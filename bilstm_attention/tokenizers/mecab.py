"""``mecab``: MeCab with the mecab-ko-dic dictionary, through ``python-mecab-ko``.

The tutorials use Mecab for the Steam and Naver shopping reviews. ``pip install
python-mecab-ko`` installs MeCab and its dictionary as wheels (no system MeCab, no Java).

Example:
    >>> MecabTokenizer().tokenize("재미있어요 ㅋㅋ")     # doctest: +SKIP
    ['재미있', '어요', 'ㅋㅋ']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from .base import TokenizerDependencyError, check_text, package_version
from .korean import MorphTokenizer

__all__ = ["MecabTokenizer"]

#: mecab-ko-dic's tags; compound tags (``VCP+EC``) are matched by their first part.
MECAB_TAGS = frozenset(
    "NNG NNP NNB NNBC NR NP VV VA VX VCP VCN MM MAG MAJ IC JKS JKC JKG JKO JKB JKV JKQ JX JC "
    "EP EF EC ETN ETM XPN XSN XSV XSA XR SF SE SSO SSC SC SY SL SH SN UNKNOWN".split()
)

_INSTALL = (
    "the 'mecab' tokenizer needs python-mecab-ko (MeCab with the mecab-ko-dic dictionary): "
    'pip install "bilstm-attention[korean]" (or pip install python-mecab-ko)'
)


class MecabTokenizer(MorphTokenizer):
    """Korean morphemes from ``mecab.MeCab().pos`` (python-mecab-ko).

    Args:
        form: ``"morph"`` (default) or ``"morph_tag"`` (``"form/TAG"``).
        stopwords: forms to drop: a list or a preset name (``"steam_seed"``,
            ``"naver_shopping_seed"`` are the tutorials' lists).
        stopword_tags: mecab-ko-dic tags to drop; ``VCP`` also drops ``VCP+EC``.

    Raises:
        TokenizerDependencyError: python-mecab-ko is not installed (says what to install).
    """

    name: ClassVar[str] = "mecab"
    TAGSET: ClassVar[frozenset[str]] = MECAB_TAGS

    def __init__(
        self,
        form: str = "morph",
        stopwords: str | Sequence[str] | None = None,
        stopword_tags: Sequence[str] | None = None,
    ) -> None:
        super().__init__(form=form, stopwords=stopwords, stopword_tags=stopword_tags)
        if package_version("python-mecab-ko") is None:
            raise TokenizerDependencyError(_INSTALL)

    def _load(self) -> Any:
        try:
            import mecab
        except ImportError as exc:
            raise TokenizerDependencyError(f"{_INSTALL} ({exc})") from exc
        try:
            return mecab.MeCab()
        except Exception as exc:  # MeCabError when the dictionary is missing or broken
            raise TokenizerDependencyError(
                f"{_INSTALL}; MeCab could not load its dictionary: {exc} "
                "(reinstall: pip install --force-reinstall python-mecab-ko python-mecab-ko-dic)"
            ) from exc

    def tokenize(self, text: str) -> list[str]:
        text = check_text(text)
        return self._finish(self.analyser.pos(text))

    @classmethod
    def versions(cls) -> dict[str, str]:
        return {
            "python-mecab-ko": package_version("python-mecab-ko") or "not installed",
            "python-mecab-ko-dic": package_version("python-mecab-ko-dic") or "not installed",
        }
