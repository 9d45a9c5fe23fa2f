"""``syllable``: every character of the text is a token (Hangul syllables, letters, marks).

No analyser and no dictionary: the units a Korean review is typed in. Where spacing is loose
(NSMC writes ``재밌다``, ``재 밌다`` and ``재밌 다``) and slang or typos split oddly into
morphemes, the syllables are the same; the tuned NSMC recipe's NB-LR reads the same units
(character n-grams with the whitespace removed, :func:`~bilstm_attention.features.ngrams.squeeze_text`).

The rules, in order:

1. The text is put in Unicode NFC, so a syllable typed as conjoining jamo is one token.
2. Latin letters are lower-cased (``lowercase=True``, the default).
3. Whitespace: with ``spaces="drop"`` (default) it is removed; with ``spaces="mark"`` every run
   of it between two characters becomes the token ``"▁"`` (U+2581, as SentencePiece writes it).
4. A run of one character longer than ``max_repeat`` is cut to ``max_repeat`` (``ㅋㅋㅋㅋㅋㅋ``
   -> ``ㅋㅋㅋ`` at 3); ``None`` (default) keeps every run whole.

Example:
    >>> SyllableTokenizer().tokenize("재밌 다 OK")
    ['재', '밌', '다', 'o', 'k']
    >>> SyllableTokenizer(spaces="mark", max_repeat=2).tokenize(" 꿀잼ㅋㅋㅋㅋ  강추 ")
    ['꿀', '잼', 'ㅋ', 'ㅋ', '▁', '강', '추']
"""

from __future__ import annotations

import unicodedata
from typing import Any, ClassVar

from .base import Tokenizer, check_bool, check_choice, check_positive_int, check_text

__all__ = ["SPACE_TOKEN", "SyllableTokenizer"]

#: Bump when the rules change, so caches keyed by the config are rebuilt.
SYLLABLE_RULES_VERSION = "1"

#: The token a run of whitespace becomes with ``spaces="mark"``.
SPACE_TOKEN = "\u2581"


class SyllableTokenizer(Tokenizer):
    """Characters as tokens: Hangul syllables, letters, digits and marks.

    Args:
        spaces: ``"drop"`` (default) removes whitespace; ``"mark"`` turns each run of it
            between two characters into the token ``"▁"``.
        lowercase: lower-case the text first (default ``True``).
        max_repeat: cut every run of one character to at most this many (a positive
            integer); ``None`` (default) keeps runs whole.

    Raises:
        ConfigError: a bad option value (the message names the option).

    Example:
        >>> SyllableTokenizer(max_repeat=1).tokenize("최고!!! 👍")
        ['최', '고', '!', '👍']
    """

    name: ClassVar[str] = "syllable"

    def __init__(self, spaces: str = "drop", lowercase: bool = True, max_repeat: int | None = None) -> None:
        self.spaces = check_choice("spaces", spaces, ("drop", "mark"))
        self.lowercase = check_bool("lowercase", lowercase)
        self.max_repeat = check_positive_int("max_repeat", max_repeat, allow_none=True)

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFC", check_text(text))
        if self.lowercase:
            text = text.lower()
        characters = list((SPACE_TOKEN if self.spaces == "mark" else "").join(text.split()))
        return characters if self.max_repeat is None else self._cut_runs(characters)

    def _cut_runs(self, characters: list[str]) -> list[str]:
        tokens: list[str] = []
        run = 0
        for index, character in enumerate(characters):
            run = run + 1 if index and character == characters[index - 1] else 1
            if run <= self.max_repeat:  # type: ignore[operator]
                tokens.append(character)
        return tokens

    def _options(self) -> dict[str, Any]:
        return {"spaces": self.spaces, "lowercase": self.lowercase, "max_repeat": self.max_repeat}

    @classmethod
    def versions(cls) -> dict[str, str]:
        return {"syllable_rules": SYLLABLE_RULES_VERSION}
