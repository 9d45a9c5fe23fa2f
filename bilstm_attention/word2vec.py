"""Moved to :mod:`bilstm_attention.features.word2vec` (this alias goes in the next release)."""

from bilstm_attention._moved import alias

alias(__name__)
