"""Moved to :mod:`bilstm_attention.evaluation.metrics` (this alias goes in the next release)."""

from bilstm_attention._moved import alias

alias(__name__)
