"""How alike the attention heads of a run with ``--attention-heads H`` are (research log, session 26).

For every validation review of at least two tokens, each head's attention weights over the review
are one row of ``A`` (H x length). Printed and saved, as means over the reviews:
- ``total_variation``: half the L1 distance between two heads' rows, over every pair of heads
  (0: the same weights; 1: no token in common);
- ``cosine``: the cosine similarity of two heads' rows, over every pair;
- ``lin_penalty``: Lin et al. (2017)'s ``||A A^T - I||_F^2``, the term their penalty adds to the loss;
- ``top_token_agreement``: the share of head pairs whose most attended token is the same;
- ``max_weight``: each head's largest weight (1: all on one token).
Validation only; the run's model is loaded as ``predict`` does.

    cd benchmarks/research && PYTHONPATH=../.. python attention_heads.py --dataset nsmc --run runs/nsmc-heads4-1337
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import keras
import numpy as np
from common import RESULTS
from mixed_parts_ensemble import held_out

from bilstm_attention import load_model
from bilstm_attention.fileio import write_json
from bilstm_attention.inference.prediction import padded_batch
from bilstm_attention.model import ATTENTION_LAYER_NAME, TOKEN_INPUT_NAME


def head_weights(run: str, texts: list[str], batch_size: int = 256) -> list[np.ndarray]:
    """Each review's ``(heads, length)`` attention weights, padding cut off."""
    model = load_model(run)
    keras_model = model.model
    inputs = keras_model.inputs if isinstance(keras_model.inputs, list) else [keras_model.inputs]
    tokens = next(t for t in inputs if TOKEN_INPUT_NAME in t.name)
    weights_model = keras.Model(tokens, keras_model.get_layer(ATTENTION_LAYER_NAME).output[1])
    ids = model.encode(texts).tokens
    order = np.argsort([len(row) for row in ids], kind="stable")
    out: list[np.ndarray] = [np.empty(0)] * len(ids)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batch = padded_batch([ids[i] for i in rows], model.pad_to)
        weights = np.asarray(weights_model.predict_on_batch(batch))
        if weights.ndim == 2:  # one head
            weights = weights[:, None, :]
        for row, index in enumerate(rows):
            out[index] = weights[row, :, : max(len(ids[index]), 1)]
    return out


def similarity(per_review: list[np.ndarray]) -> dict[str, float]:
    figures: dict[str, list[float]] = {
        "total_variation": [],
        "cosine": [],
        "lin_penalty": [],
        "top_token_agreement": [],
        "max_weight": [],
    }
    for a in per_review:
        if a.shape[1] < 2:
            continue
        pairs = list(itertools.combinations(range(a.shape[0]), 2))
        norms = np.linalg.norm(a, axis=1)
        figures["total_variation"].append(np.mean([0.5 * np.abs(a[i] - a[j]).sum() for i, j in pairs]))
        figures["cosine"].append(np.mean([a[i] @ a[j] / (norms[i] * norms[j]) for i, j in pairs]))
        figures["lin_penalty"].append(float(np.sum(np.square(a @ a.T - np.eye(a.shape[0])))))
        top = a.argmax(axis=1)
        figures["top_token_agreement"].append(np.mean([top[i] == top[j] for i, j in pairs]))
        figures["max_weight"].append(float(a.max(axis=1).mean()))
    result = {name: round(float(np.mean(values)), 4) for name, values in figures.items()}
    result["reviews"] = len(figures["cosine"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--run", required=True, help="a run trained with --query learned --attention-heads H")
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    _, texts, _ = held_out(args.dataset)
    per_review = head_weights(args.run, texts["validation"])
    heads = int(per_review[0].shape[0])
    if heads < 2:
        raise SystemExit(f"{args.run} has one attention head; nothing to compare")
    result = {"run": args.run, "heads": heads, "validation": similarity(per_review)}
    print(result)
    output = Path(args.output) if args.output else RESULTS / f"attention_heads-{Path(args.run).name}.json"
    write_json(output, result)
    print(f"saved {output}")


if __name__ == "__main__":
    main()
