"""Moved to :mod:`bilstm_attention.evaluation.benchmark` (this alias goes in the next release)."""

from bilstm_attention._moved import alias

alias(__name__)
