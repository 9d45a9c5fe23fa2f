"""Moved to :mod:`bilstm_attention.features.ngrams` (this alias goes in the next release)."""

from bilstm_attention._moved import alias

alias(__name__)
