"""Tokenizers (English and Korean) and the token :class:`Vocabulary`.

==============  ===========================================================================
name            what it does
==============  ===========================================================================
``english``     regex rules for English reviews: lower-case, HTML removed, contractions
                kept whole (``don't``), ``'s`` split off, ``!``/``?`` kept (optional)
``whitespace``  splits on whitespace (optionally lower-cased): pre-tokenised data, tests
``kiwi``        kiwipiepy morphemes (default for Korean; native, multi-threaded batches)
``okt``         konlpy Okt morphemes, ``stem=True`` (the NSMC tutorials'); needs Java
``mecab``       MeCab + mecab-ko-dic morphemes via python-mecab-ko (optional package)
``syllable``    every character a token (Hangul syllables; no analyser), whitespace dropped
                or marked, long runs of one character optionally cut
==============  ===========================================================================

Analysers are imported and started on first use, not on import, and are not pickled (a
tokenizer sent to another process starts its own).

Example:
    >>> from bilstm_attention.tokenizers import Vocabulary, get_tokenizer, tokenizer_from_config
    >>> tokenizer = get_tokenizer("english")
    >>> tokens = tokenizer.tokenize_batch(["A great film!", "Not great.<br />Boring."], progress=False)
    >>> tokens
    [['a', 'great', 'film', '!'], ['not', 'great', 'boring']]
    >>> vocabulary = Vocabulary.build(tokens, max_size=5)
    >>> vocabulary.tokens
    ['', '[UNK]', 'great', '!', 'a']
    >>> [ids.tolist() for ids in vocabulary.encode_batch(tokens)]
    [[4, 2, 1, 3], [1, 2, 1]]
    >>> tokenizer_from_config(tokenizer.get_config()) == tokenizer
    True
"""

from __future__ import annotations

from .base import Tokenizer, TokenizerDependencyError
from .english import EnglishTokenizer, WhitespaceTokenizer
from .factory import TOKENIZERS, available_tokenizers, get_tokenizer, tokenizer_from_config, tokenizer_options
from .kiwi import KiwiTokenizer
from .korean import STOPWORD_PRESETS
from .mecab import MecabTokenizer
from .okt import OktTokenizer
from .syllable import SyllableTokenizer
from .vocabulary import OOV_ID, OOV_TOKEN, PAD_ID, PAD_TOKEN, Vocabulary

__all__ = [
    "OOV_ID",
    "OOV_TOKEN",
    "PAD_ID",
    "PAD_TOKEN",
    "STOPWORD_PRESETS",
    "TOKENIZERS",
    "EnglishTokenizer",
    "KiwiTokenizer",
    "MecabTokenizer",
    "OktTokenizer",
    "SyllableTokenizer",
    "Tokenizer",
    "TokenizerDependencyError",
    "Vocabulary",
    "WhitespaceTokenizer",
    "available_tokenizers",
    "get_tokenizer",
    "tokenizer_from_config",
    "tokenizer_options",
]
