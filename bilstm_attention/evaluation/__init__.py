"""Measuring models: :mod:`~bilstm_attention.evaluation.metrics` (accuracy, precision, recall,
F1, confusion matrix) and :mod:`~bilstm_attention.evaluation.benchmark` (the benchmark runner
behind ``bilstm-attention benchmark``)."""
