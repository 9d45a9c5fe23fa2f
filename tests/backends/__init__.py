"""Helpers for the attention-layer tests that depend on the Keras backend.

``layer_helpers`` computes gradients with the active backend (TensorFlow or JAX); the
``*_check.py`` / ``load_*.py`` scripts here are run in subprocesses by ``tests/test_layers_*.py``.
"""
