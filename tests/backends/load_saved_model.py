"""Loads a ``.keras`` model in a fresh process and writes its predictions.

Usage: ``python load_saved_model.py MODEL.keras INPUTS.npz OUTPUTS.npz``

Only ``bilstm_attention.layers`` is imported before loading, with ``safe_mode=True`` and no
``custom_objects``: the layers must be found through their registered names.
"""

from __future__ import annotations

import sys

import keras
import numpy as np

import bilstm_attention.layers  # noqa: F401  (registers the layers)


def main(model_path: str, inputs_path: str, outputs_path: str) -> None:
    model = keras.saving.load_model(model_path, safe_mode=True)
    with np.load(inputs_path) as data:
        inputs = [data[f"x{i}"] for i in range(len(data.files))]
    outputs = model.predict(inputs, verbose=0)
    np.savez(outputs_path, *[np.asarray(o) for o in outputs])
    print("layers:", sorted({type(layer).__name__ for layer in model.layers}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
