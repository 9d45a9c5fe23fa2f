"""Moved to :mod:`bilstm_attention.features.pipeline` (this alias goes in the next release)."""

from bilstm_attention._moved import alias

alias(__name__)
