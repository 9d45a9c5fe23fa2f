"""Datasets: the registry (``datasets.yaml``), loading, users' own files, the token cache and
verification.

Example::

    from bilstm_attention.data import encode_dataset, load_dataset

    splits = load_dataset("nsmc")               # train / validation / test, int64 labels
    print(splits.summary())                     # counts before and after every step
    encoded = encode_dataset(splits, "kiwi", 30_000)   # tokenized once, then cached

Modules (one job each): ``registry`` (datasets.yaml -> frozen dataclasses), ``fetch``
(data directories, downloads, safe extraction), ``digests`` (memoised file checksums),
``formats`` (one module per format: ``delimited``, ``imdb``, ``user_file`` = load_file),
``structure`` (structure checks and the one checksum/structure verdict), ``splits`` (the
types and the deterministic split rules), ``loading`` (load_dataset), ``encode``
(encode_dataset: token cache + vocabulary), ``store`` (on-disk artifacts: keys, atomic
versioned ``.npz`` files, the verified-files memo), ``verify`` (datasets verify).

This package never imports TensorFlow or Keras (``bilstm-attention datasets list`` stays
fast); tokenizers are imported only by :func:`encode_dataset`.
"""

from __future__ import annotations

from bilstm_attention.data.encode import EncodedSplit, EncodedSplits, encode_dataset
from bilstm_attention.data.fetch import default_cache_dir, safe_extract
from bilstm_attention.data.formats.user_file import (
    detect_language,
    load_file,
    parse_label_map,
)
from bilstm_attention.data.loading import load_dataset, load_unlabeled
from bilstm_attention.data.registry import (
    Checksum,
    DatasetSpec,
    FileSpec,
    FormatSpec,
    LabelRule,
    RecipeSpec,
    Registry,
    SplitSpec,
    default_tokenizer,
    get_spec,
    list_datasets,
    load_registry,
)
from bilstm_attention.data.splits import (
    DatasetSplits,
    LoadReport,
    SourceFile,
    TextSplit,
)
from bilstm_attention.data.verify import FileCheck, VerificationReport, verify_dataset

__all__ = [
    "Checksum",
    "DatasetSpec",
    "DatasetSplits",
    "EncodedSplit",
    "EncodedSplits",
    "FileCheck",
    "FileSpec",
    "FormatSpec",
    "LabelRule",
    "LoadReport",
    "RecipeSpec",
    "Registry",
    "SourceFile",
    "SplitSpec",
    "TextSplit",
    "VerificationReport",
    "default_cache_dir",
    "default_tokenizer",
    "detect_language",
    "encode_dataset",
    "get_spec",
    "list_datasets",
    "load_dataset",
    "load_file",
    "load_registry",
    "load_unlabeled",
    "parse_label_map",
    "safe_extract",
    "verify_dataset",
]
