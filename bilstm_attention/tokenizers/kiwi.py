"""``kiwi``: the kiwipiepy morphological analyser, the default tokenizer for Korean.

kiwipiepy is native code, installs from PyPI with its model (``kiwipiepy_model``) and needs
no Java. :meth:`KiwiTokenizer.tokenize_batch` uses Kiwi's multi-threaded batch API.

Example:
    >>> tokenizer = KiwiTokenizer()
    >>> tokenizer.tokenize("재미없다 ㅠㅠ")
    ['재미없', '다', 'ㅠㅠ']
    >>> KiwiTokenizer(form="morph_tag").tokenize("최고의 영화")
    ['최고/NNG', '의/JKG', '영화/NNG']
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Sequence
from typing import Any, ClassVar

from bilstm_attention.errors import ConfigError

from .base import (
    TokenizerDependencyError,
    check_bool,
    check_positive_int,
    check_text,
    check_texts,
    package_version,
    progress_bar,
)
from .korean import MorphTokenizer

__all__ = ["KiwiTokenizer"]

#: Kiwi's tags (Sejong tag set plus Kiwi's own ``W_*``/``Z_*``/``USER*``); irregular
#: conjugation suffixes (``VA-I``, ``VV-R``) are matched by their base tag.
KIWI_TAGS = frozenset(
    "NNG NNP NNB NR NP VV VA VX VCP VCN MM MAG MAJ IC JKS JKC JKG JKO JKB JKV JKQ JX JC "
    "EP EF EC ETN ETM XPN XSN XSV XSA XSM XR SF SP SS SSO SSC SE SO SW SL SH SN SB UN "
    "W_URL W_EMAIL W_HASHTAG W_MENTION W_SERIAL W_EMOJI Z_CODA Z_SIOT "
    "USER0 USER1 USER2 USER3 USER4".split()
)

# Conjoining Hangul jamo (U+1100..) -> compatibility jamo (U+3131..). Kiwi writes a
# syllable's final consonant split off as an ending as a conjoining jamo ("ᆫ다" in
# "추천한다"), which most fonts cannot draw alone; "ㄴ다" is the readable equivalent.
_CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"  # U+1100..U+1112
_JUNGSEONG = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"  # U+1161..U+1175
_JONGSEONG = "ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"  # U+11A8..U+11C2
_COMPATIBLE_JAMO = str.maketrans(
    {
        **{0x1100 + i: c for i, c in enumerate(_CHOSEONG)},
        **{0x1161 + i: c for i, c in enumerate(_JUNGSEONG)},
        **{0x11A8 + i: c for i, c in enumerate(_JONGSEONG)},
    }
)


class KiwiTokenizer(MorphTokenizer):
    """Korean morphemes from kiwipiepy's ``Kiwi.tokenize``.

    Args:
        form: ``"morph"`` (morpheme forms, default) or ``"morph_tag"`` (``"form/TAG"``).
        stopwords: morpheme forms to drop: a list, or a preset name from
            :data:`~bilstm_attention.tokenizers.korean.STOPWORD_PRESETS`. Default: none.
        stopword_tags: tags to drop (e.g. ``["SF", "SP"]`` for punctuation), matched on the
            base tag (``VA`` drops ``VA-I``). Default: none, since ``ㅋㅋ``/``ㅠㅠ`` (``SW``),
            emoticons and ``!!`` carry sentiment.
        normalize_coda: Kiwi's coda normalisation (``"먹었닼ㅋㅋ"`` -> ``먹었다`` + ``ㅋㅋㅋ``).
            Default ``False`` (Kiwi's default).
        compatible_jamo: write lone jamo as compatibility jamo (``ᆫ다`` -> ``ㄴ다``), which
            renders in attention plots. Default ``True``.
        model_type: Kiwi's language model (``"knlm"``, ``"sbg"``, ``"cong"``, ...); ``None``
            (default) lets kiwipiepy choose (its fastest installed model).
        num_workers: threads of the batch API; ``None`` (default) uses every core. Speed only:
            not part of the config.

    The config records the kiwipiepy and kiwipiepy_model versions, since Kiwi's analysis
    changes between releases. The ``Kiwi`` object is created on first use and shared by
    all tokenizers of the process with the same ``model_type`` and ``num_workers`` (treat
    :attr:`analyser` as read-only: adding user words to it would change them all).
    """

    name: ClassVar[str] = "kiwi"
    TAGSET: ClassVar[frozenset[str]] = KIWI_TAGS

    def __init__(
        self,
        form: str = "morph",
        stopwords: str | Sequence[str] | None = None,
        stopword_tags: Sequence[str] | None = None,
        normalize_coda: bool = False,
        compatible_jamo: bool = True,
        model_type: str | None = None,
        num_workers: int | None = None,
    ) -> None:
        super().__init__(form=form, stopwords=stopwords, stopword_tags=stopword_tags)
        self.normalize_coda = check_bool("normalize_coda", normalize_coda)
        self.compatible_jamo = check_bool("compatible_jamo", compatible_jamo)
        if model_type is not None and not isinstance(model_type, str):
            raise ConfigError(f"option 'model_type' must be a string or null, got {model_type!r}")
        self.model_type = model_type
        if num_workers is None:
            num_workers = _usable_cores()
        check_positive_int("num_workers", num_workers)
        self.num_workers = num_workers
        if package_version("kiwipiepy") is None:
            raise TokenizerDependencyError(_MISSING)

    def _load(self) -> Any:
        return _shared_kiwi(self.model_type, self.num_workers)

    def _tokens(self, tokens: Sequence[Any]) -> list[str]:
        """Kiwi's ``Token`` objects -> output strings."""
        if self.compatible_jamo:
            table = _COMPATIBLE_JAMO
            pairs = [(t.form.translate(table), t.tag) for t in tokens]
        else:
            pairs = [(t.form, t.tag) for t in tokens]
        return self._finish(pairs)

    def tokenize(self, text: str) -> list[str]:
        text = check_text(text)
        return self._tokens(self.analyser.tokenize(text, normalize_coda=self.normalize_coda))

    def tokenize_batch(self, texts: Sequence[str], progress: bool = True) -> list[list[str]]:
        """All texts through Kiwi's multi-threaded batch API (``num_workers`` threads)."""
        texts = check_texts(texts)
        if not texts:
            return []
        results = self.analyser.tokenize(list(texts), normalize_coda=self.normalize_coda)
        return [self._tokens(tokens) for tokens in progress_bar(results, self.name, progress, total=len(texts))]

    def _options(self) -> dict[str, Any]:
        return {
            **super()._options(),
            "normalize_coda": self.normalize_coda,
            "compatible_jamo": self.compatible_jamo,
            "model_type": self.model_type,
        }

    @classmethod
    def versions(cls) -> dict[str, str]:
        return {
            "kiwipiepy": package_version("kiwipiepy") or "not installed",
            "kiwipiepy_model": package_version("kiwipiepy_model") or "not installed",
        }


_MISSING = "the 'kiwi' tokenizer needs kiwipiepy: pip install \"bilstm-attention[korean]\" (or pip install kiwipiepy)"

# One Kiwi per (model_type, num_workers) per process: loading the model takes ~1.5 s and
# ~500 MB, and Kiwi's analysis does not change its state, so tokenizers share it. Keyed by
# the process id too: a Kiwi inherited through fork has lost its worker threads (and is
# never deleted: its destructor would wait for them).
_SHARED: dict[tuple[int, str | None, int], Any] = {}
_SHARED_LOCK = threading.Lock()


def _keep_inherited_alive() -> None:
    """In a forked child: never destroy the parent's Kiwi objects (their threads are gone)."""
    for kiwi in _SHARED.values():
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(kiwi))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_keep_inherited_alive)


def _usable_cores() -> int:
    """The cores this process may run on (``os.cpu_count()`` can count the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not available on macOS/Windows
        return os.cpu_count() or 1


def _shared_kiwi(model_type: str | None, num_workers: int) -> Any:
    """The process's Kiwi for these settings, created on first use."""
    key = (os.getpid(), model_type, num_workers)
    with _SHARED_LOCK:
        kiwi = _SHARED.get(key)
        if kiwi is None:
            kiwi = _SHARED[key] = _create_kiwi(model_type, num_workers)
    return kiwi


def _create_kiwi(model_type: str | None, num_workers: int) -> Any:
    try:
        from kiwipiepy import Kiwi
    except ImportError as exc:
        raise TokenizerDependencyError(f"{_MISSING} ({exc})") from exc
    options: dict[str, Any] = {"num_workers": num_workers}
    if model_type is not None:
        options["model_type"] = model_type
    try:
        kiwi = Kiwi(**options)
        kiwi.tokenize("")  # Kiwi loads its model lazily: fail here, not mid-batch
    except Exception as exc:  # kiwipiepy raises plain Exception/OSError for a missing model
        if model_type is not None:
            raise ConfigError(
                f"option 'model_type': Kiwi cannot load model {model_type!r} "
                f"(kiwipiepy {package_version('kiwipiepy')}): {exc}"
            ) from exc
        raise TokenizerDependencyError(
            f"kiwipiepy could not load its model ({exc}); reinstall it: "
            "pip install --force-reinstall kiwipiepy kiwipiepy_model"
        ) from exc
    return kiwi
