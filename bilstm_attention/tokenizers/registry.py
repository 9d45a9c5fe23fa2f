"""Renamed to :mod:`bilstm_attention.tokenizers.factory` (this alias goes in the next release)."""

from bilstm_attention._moved import alias

alias(__name__)
