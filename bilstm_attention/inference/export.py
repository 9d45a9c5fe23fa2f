"""Export a trained run as a TensorFlow SavedModel for TensorFlow Serving.

::

    bilstm-attention export --model runs/imdb --out exported/imdb

writes (atomically: into a temporary folder next to ``--out``, renamed at the end; an
existing ``--out`` is never overwritten)::

    exported/imdb/
      saved_model.pb, variables/   the SavedModel (signatures below)
      serving.json                 inputs, outputs, class names and how to prepare inputs
      tokenizer.json               the run's tokenizer settings
      vocabulary.json              token -> id
      ngrams.npz                   the n-gram vocabulary (models with an n-gram branch only)
      README.md                    the same, for people

Signatures (``serving_default`` is ``serve``):

- ``serve``: ``token_ids`` int32 ``(batch, T)`` (0 = padding at the end; ``T`` fixed when
  the model was trained with a fixed length), plus ``ngram_ids`` int32 ``(batch, N)`` for
  models with an n-gram branch (the tuned recipe) -> ``probabilities`` float32
  ``(batch, 1)`` (the positive class) for two classes, ``(batch, classes)`` otherwise.
- ``explain``: the same inputs -> ``probabilities`` and ``attention_weights``
  ``(batch, T)`` (0 on padding); an ensemble also returns ``bilstm_probability``.

Token ids beyond the BiLSTM's vocabulary are mapped to the unknown id inside the graph, so
clients may encode with the full ``vocabulary.json``; truncation (``serving.json``'s
``max_length``/``truncation``) and the n-gram ids are computed by the client, as
:meth:`bilstm_attention.SentimentModel.encode` does.

No raw-string signature is offered: the English tokenizer decodes every HTML5 entity
(``html.unescape``) and uses look-around regular expressions (contractions, ``'s``, runs of
``!``), which TensorFlow's RE2-based string ops cannot reproduce exactly; the Korean
tokenizers are native analysers. A string signature that tokenized slightly differently
from training would silently change predictions.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bilstm_attention._optional import require
from bilstm_attention.errors import RunDirectoryExistsError
from bilstm_attention.version import __version__

#: Bumped when the exported folder's layout or ``serving.json`` changes meaning.
EXPORT_FORMAT_VERSION = 1

SERVE_SIGNATURE = "serve"
EXPLAIN_SIGNATURE = "explain"


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_saved_model` wrote.

    Attributes:
        path: the exported folder (a SavedModel directory).
        signatures: the signature names (``serve``, ``explain``).
        inputs: input name -> shape (``None`` = any size).
    """

    path: Path
    signatures: tuple[str, ...]
    inputs: dict[str, list[int | None]]


def export_saved_model(run: str | os.PathLike[str], out: str | os.PathLike[str]) -> ExportResult:
    """Export a trained run to ``out`` as a SavedModel with its tokenizer and vocabulary.

    Args:
        run: a run directory written by ``train`` (or its ``model.keras``).
        out: the folder to create; it must not exist.

    Returns:
        What was written; see the module docstring for the layout and the signatures.

    Raises:
        RunDirectoryExistsError: ``out`` exists (nothing is overwritten).
        ModelLoadError: the run directory is missing, incomplete or corrupted.
        MissingDependencyError: TensorFlow is not installed.
    """
    out = Path(out)
    if out.exists():
        raise RunDirectoryExistsError(f"{out} already exists; choose another --out (an export is never overwritten)")
    tf = require("tensorflow", "train")
    import keras

    from bilstm_attention.inference.sentiment_model import load_model
    from bilstm_attention.model import (
        NGRAM_INPUT_NAME,
        TOKEN_INPUT_NAME,
        attention_model,
        ensemble_parts,
    )

    run_dir = Path(run)
    if run_dir.suffix == ".keras":
        run_dir = run_dir.parent
    model = load_model(run_dir)

    keras_model = model.model
    explainer = attention_model(keras_model)
    parts = ensemble_parts(keras_model)
    explain_outputs = list(explainer.outputs) + ([parts[1]] if parts is not None else [])
    explainer = keras.Model(keras_model.inputs, explain_outputs, name="explainer")

    with_ngrams = model.features.ngrams is not None
    token_length = model.pad_to
    specs = [tf.TensorSpec((None, token_length), tf.int32, name=TOKEN_INPUT_NAME)]
    if with_ngrams:
        specs.append(tf.TensorSpec((None, None), tf.int32, name=NGRAM_INPUT_NAME))
    vocab_size = int(model.features.deep_vocab_size)

    def model_inputs(token_ids: Any, ngram_ids: Any = None) -> Any:
        # ids beyond the BiLSTM's vocabulary -> [UNK] (1), as FeatureSpec.inputs does
        token_ids = tf.where(token_ids >= vocab_size, tf.ones_like(token_ids), token_ids)
        if ngram_ids is None:
            return token_ids
        return {TOKEN_INPUT_NAME: token_ids, NGRAM_INPUT_NAME: ngram_ids}

    def explain_outputs_dict(outputs: Any) -> dict[str, Any]:
        names = ["probabilities", "attention_weights", "bilstm_probability"]
        return {name: tensor for name, tensor in zip(names, outputs)}

    if with_ngrams:

        def serve(token_ids: Any, ngram_ids: Any) -> dict[str, Any]:
            return {"probabilities": keras_model(model_inputs(token_ids, ngram_ids), training=False)}

        def explain(token_ids: Any, ngram_ids: Any) -> dict[str, Any]:
            return explain_outputs_dict(explainer(model_inputs(token_ids, ngram_ids), training=False))

    else:

        def serve(token_ids: Any) -> dict[str, Any]:  # type: ignore[misc]
            return {"probabilities": keras_model(model_inputs(token_ids), training=False)}

        def explain(token_ids: Any) -> dict[str, Any]:  # type: ignore[misc]
            return explain_outputs_dict(explainer(model_inputs(token_ids), training=False))

    archive = keras.export.ExportArchive()
    archive.track(keras_model)
    archive.add_endpoint(SERVE_SIGNATURE, serve, input_signature=specs)
    archive.add_endpoint(EXPLAIN_SIGNATURE, explain, input_signature=specs)

    inputs: dict[str, list[int | None]] = {TOKEN_INPUT_NAME: [None, token_length]}
    if with_ngrams:
        inputs[NGRAM_INPUT_NAME] = [None, None]
    description = _description(model, inputs, parts is not None)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        saved = tmp / "export"
        archive.write_out(str(saved), verbose=False)
        _write_side_files(model, run_dir, saved, description)
        if out.exists():  # appeared while we were writing
            raise RunDirectoryExistsError(
                f"{out} already exists; choose another --out (an export is never overwritten)"
            )
        os.rename(saved, out)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
    return ExportResult(path=out, signatures=(SERVE_SIGNATURE, EXPLAIN_SIGNATURE), inputs=inputs)


def _description(model: Any, inputs: dict[str, list[int | None]], ensemble: bool) -> dict[str, Any]:
    features = model.features
    two_classes = len(model.class_names) == 2
    explain_outputs: dict[str, Any] = {
        "probabilities": [None, 1 if two_classes else len(model.class_names)],
        "attention_weights": [None, inputs["token_ids"][1]],
    }
    if ensemble:
        explain_outputs["bilstm_probability"] = [None, 1]
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "package_version": __version__,
        "signatures": {
            SERVE_SIGNATURE: {"inputs": inputs, "outputs": {"probabilities": explain_outputs["probabilities"]}},
            EXPLAIN_SIGNATURE: {"inputs": inputs, "outputs": explain_outputs},
        },
        "default_signature": SERVE_SIGNATURE,
        "class_names": list(model.class_names),
        "probabilities": (
            f"probability of {model.class_names[1]!r} (two classes)" if two_classes else "one column per class"
        ),
        "preprocessing": {
            "tokenizer": "tokenizer.json",
            "vocabulary": "vocabulary.json",
            "ngrams": "ngrams.npz" if features.ngrams is not None else None,
            "ngram_unit": features.ngrams.unit if features.ngrams is not None else None,
            "padding_id": 0,
            "unknown_id": 1,
            "deep_vocab_size": features.deep_vocab_size,
            "max_length": features.max_length,
            "truncation": features.truncation,
            "pad_to": features.pad_to,
            "raw_string_signature": False,
        },
        "trained_on": (model.run_info.get("dataset") or {}).get("name"),
    }


def _write_side_files(model: Any, run_dir: Path, saved: Path, description: dict[str, Any]) -> None:
    from bilstm_attention.run_dir import RunDirectory

    run = RunDirectory(run_dir)
    shutil.copyfile(run.tokenizer_json, saved / "tokenizer.json")
    shutil.copyfile(run.vocabulary_json, saved / "vocabulary.json")
    if model.features.ngrams is not None:
        shutil.copyfile(run.ngrams_file, saved / "ngrams.npz")
    (saved / "serving.json").write_text(json.dumps(description, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (saved / "README.md").write_text(_readme(description), encoding="utf-8")


def _readme(description: dict[str, Any]) -> str:
    prep = description["preprocessing"]
    inputs = description["signatures"][SERVE_SIGNATURE]["inputs"]
    lines = [
        "# Exported bilstm-attention classifier",
        "",
        (
            f"Written by bilstm-attention {description['package_version']} (export format "
            f"{description['format_version']}); classes: {', '.join(description['class_names'])}."
        ),
        "",
        "A TensorFlow SavedModel: `tf.saved_model.load(this_folder)`, or TensorFlow Serving",
        "(put this folder at `MODEL_BASE/1/`).",
        "",
        "## Signatures",
        "",
        "- `serve` (also `serving_default`): "
        + ", ".join(f"`{name}` int32 {tuple(shape)}" for name, shape in inputs.items())
        + " -> `probabilities`.",
        "- `explain`: the same inputs -> `probabilities`, `attention_weights` (0 on padding)"
        + (
            ", `bilstm_probability`."
            if "bilstm_probability" in description["signatures"][EXPLAIN_SIGNATURE]["outputs"]
            else "."
        ),
        "",
        f"Probabilities: {description['probabilities']}.",
        "",
        "## Inputs",
        "",
        "Tokenize each text with the tokenizer of `tokenizer.json` (bilstm-attention's "
        "`tokenizer_from_config`), map tokens to ids with `vocabulary.json` "
        f"(unknown -> {prep['unknown_id']}), keep at most `max_length` = {prep['max_length']} ids "
        f"(`truncation` = {prep['truncation']!r}), and pad with {prep['padding_id']} at the end"
        + (f" to exactly {prep['pad_to']} ids." if prep["pad_to"] else " to the batch's longest."),
        "Ids from `deep_vocab_size` up are mapped to the unknown id inside the graph.",
    ]
    if prep["ngrams"] and prep.get("ngram_unit") == "char":
        lines.append(
            "`ngram_ids` are the review's character n-gram ids from `ngrams.npz` (feature id i + 1 "
            "for `ngrams[i]`, over the text in Unicode NFC with its whitespace removed; 0 = "
            "padding), as `SentimentModel.encode` computes them."
        )
    elif prep["ngrams"]:
        lines.append(
            "`ngram_ids` are the review's n-gram ids from `ngrams.npz` (over the full, untruncated "
            "token ids; 0 = padding), as `SentimentModel.encode` computes them."
        )
    lines += [
        "",
        (
            "`SentimentModel.encode` of bilstm-attention does all of this in Python. There is no "
            "raw-string signature: the tokenizers' rules cannot be reproduced exactly with "
            "TensorFlow string ops."
        ),
        "",
    ]
    return "\n".join(lines)
