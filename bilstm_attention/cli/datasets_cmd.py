"""``bilstm-attention datasets``: list, verify and prepare the registry datasets.

* ``datasets list [--data-dir D] [--json]``: every dataset with its language, split,
  default tokenizer and whether its files are present locally.
* ``datasets verify [NAME...] [--data-dir D] [--json]``: checksums and structure of the
  local files; exit code 1 (and the offending file named) when a check fails or a file is
  missing.
* ``datasets prepare NAME... [--data-dir D]``: download the missing files (progress bar,
  checksum verified), then verify.

Only :mod:`bilstm_attention.data` is imported (no TensorFlow), so these start fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    """Register the ``datasets`` command and its subcommands."""
    parser = subparsers.add_parser(
        "datasets",
        help="list, verify or download the registered datasets",
        description="The registered sentiment datasets (datasets.yaml): list them, verify local copies, download them.",
    )
    commands = parser.add_subparsers(dest="datasets_command", metavar="SUBCOMMAND", required=True)

    list_parser = commands.add_parser(
        "list",
        help="list the registered datasets",
        description="List the registered datasets and whether their files are present.",
    )
    list_parser.add_argument(
        "--data-dir",
        help="directory searched first for <name>/<file> (then $BILSTM_ATTENTION_DATA, then the user cache)",
    )
    list_parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    list_parser.set_defaults(func=list_command)

    verify_parser = commands.add_parser(
        "verify",
        help="check the checksums and structure of local dataset files",
        description="Check local dataset files against the registry: checksums, and the structure checks "
        "(rows, classes, archive members) that decide whether a non-identical copy is acceptable. "
        "Exit code 1 if any check fails or a file is missing.",
    )
    verify_parser.add_argument("names", nargs="*", metavar="NAME", help="datasets to verify (default: all)")
    verify_parser.add_argument("--data-dir", help="directory searched first for <name>/<file>")
    verify_parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    verify_parser.add_argument("--progress", action="store_true", help="show progress bars while reading")
    verify_parser.set_defaults(func=verify_command)

    prepare_parser = commands.add_parser(
        "prepare",
        help="download missing dataset files and verify them",
        description="Download the files of the named datasets that are not present locally (into --data-dir, "
        "else $BILSTM_ATTENTION_DATA, else the user cache), verify their checksums, then verify "
        "the datasets.",
    )
    prepare_parser.add_argument("names", nargs="+", metavar="NAME", help="datasets to prepare")
    prepare_parser.add_argument("--data-dir", help="directory to look in first and to download into")
    prepare_parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    prepare_parser.set_defaults(func=prepare_command)


def _resolve_names(names: list[str]) -> tuple[list[str], str | None]:
    """Registry names for ``names`` (all when empty), or an error message."""
    from bilstm_attention.data import get_spec, list_datasets
    from bilstm_attention.errors import ConfigError

    if not names:
        return list_datasets(), None
    resolved = []
    for name in names:
        try:
            resolved.append(get_spec(name).name)
        except ConfigError as exc:
            return [], str(exc)
    return list(dict.fromkeys(resolved)), None


def _local_status(spec: Any, data_dir: str | None) -> tuple[str, list[str], list[str]]:
    """("present" | "partial" | "missing", paths found, other files in the dataset folders)."""
    from bilstm_attention.data.fetch import data_roots, find_file

    found, paths = 0, []
    for file in spec.files:
        path, _ = find_file(spec, file, data_dir)
        if path is not None:
            found += 1
            paths.append(str(path))
    known = {f.filename for f in spec.files} | {f.extracted_dir for f in spec.files if f.extracted_dir}
    others = []
    for root in data_roots(data_dir):
        folder = root.path / spec.name
        if folder.is_dir():
            others.extend(
                str(p) for p in sorted(folder.iterdir()) if p.name not in known and not p.name.startswith(".")
            )
    status = "present" if found == len(spec.files) else ("partial" if found else "missing")
    return status, paths, others


def list_command(args: argparse.Namespace) -> int:
    """``datasets list``."""
    from bilstm_attention.data import get_spec, list_datasets

    rows = []
    for name in list_datasets():
        spec = get_spec(name)
        status, paths, others = _local_status(spec, args.data_dir)
        rows.append(
            {
                "name": spec.name,
                "title": spec.title,
                "language": spec.language,
                "classes": list(spec.class_names),
                "split": spec.split.describe(),
                "tokenizer": spec.tokenizer,
                "vocab_size": spec.vocab_size,
                "max_length": spec.max_length,
                "seed_tokenizer": spec.seed_recipe.tokenizer if spec.seed_recipe else None,
                "files": [f.filename for f in spec.files],
                "local": status,
                "paths": paths,
                "other_files": others,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    headers = ("name", "lang", "split", "tokenizer", "seed", "vocab", "max_len", "files", "local")
    table = [
        (
            r["name"],
            r["language"],
            r["split"],
            r["tokenizer"] or "-",
            r["seed_tokenizer"] or "-",
            str(r["vocab_size"] or "-"),
            str(r["max_length"] or "-"),
            ", ".join(r["files"]),
            r["local"],
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    for r in rows:
        print(f"\n{r['name']}: {r['title']}")
        for path in r["paths"]:
            print(f"  found {path}")
        for path in r["other_files"]:
            print(f"  other file {path} (not the upstream file; load it with path=... / --path)")
    return 0


def verify_command(args: argparse.Namespace) -> int:
    """``datasets verify``: 0 when every check passes, 1 when one fails, 2 for a bad name."""
    import warnings

    from bilstm_attention.data.verify import verify_dataset

    names, error = _resolve_names(args.names)
    if error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    reports = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the report says it all
        for name in names:
            reports.append(verify_dataset(name, args.data_dir, progress=args.progress))
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        print("\n".join(r.format() for r in reports))
    failed = [r for r in reports if not r.ok]
    if failed:
        offending = [
            f"{check.path or check.filename} ({check.status})"
            for r in failed
            for check in r.files
            if check.status in ("failed", "missing")
        ]
        print(
            f"error: verification failed for {', '.join(r.name for r in failed)}: {'; '.join(offending)}",
            file=sys.stderr,
        )
        return 1
    return 0


def prepare_command(args: argparse.Namespace) -> int:
    """``datasets prepare``: download what is missing, then verify."""
    from bilstm_attention.data import get_spec
    from bilstm_attention.data.fetch import ensure_file, find_file

    names, error = _resolve_names(args.names)
    if error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for name in names:
        spec = get_spec(name)
        for file in spec.files:
            path, _ = find_file(spec, file, args.data_dir)
            if path is None:
                path = ensure_file(spec, file, args.data_dir, download_missing=True, progress=args.progress)
                print(f"downloaded {path}")
            else:
                print(f"present    {path}")
    verify_args = argparse.Namespace(names=names, data_dir=args.data_dir, json=False, progress=args.progress)
    return verify_command(verify_args)
