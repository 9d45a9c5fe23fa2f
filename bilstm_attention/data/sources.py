"""Renamed to :mod:`bilstm_attention.data.fetch` (this alias goes in the next release)."""

from bilstm_attention._moved import alias

alias(__name__)
