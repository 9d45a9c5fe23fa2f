"""``bilstm-attention benchmark``: a dataset's recipes side by side, accuracy and speed."""

from __future__ import annotations

import argparse
from typing import Any

RECIPE_CHOICES = ("seed", "tuned", "all")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "benchmark",
        help="train the seed (tutorial) and tuned recipes on a dataset and report accuracy and speed",
        description="Train the dataset's recipes on the same data and machine and report test accuracy, F1, "
        "epoch time, training/inference throughput, latency, memory and tokenization time, as JSON "
        "(--output-dir) and Markdown rows. With --recipe all (the default) the tuned/seed epoch-time "
        "ratio is printed too.",
    )
    parser.add_argument("--dataset", required=True, help="registry dataset name")
    parser.add_argument("--data-dir", help="directory with the upstream files")
    parser.add_argument("--path", help="explicit file in the dataset's upstream format (e.g. a partial copy)")
    parser.add_argument("--recipe", choices=RECIPE_CHOICES, default="all")
    parser.add_argument("--limit", type=int, help="smoke run on N training reviews")
    parser.add_argument("--epochs", type=int, help="override the recipes' epoch count")
    parser.add_argument("--seed", type=int, help="override the recipes' seed")
    parser.add_argument("--output-dir", default="benchmarks/results", help="where the JSON reports go")
    parser.add_argument("--no-save", dest="save", action="store_false", help="print only")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bilstm_attention.evaluation import benchmark

    recipes = ("seed", "tuned") if args.recipe == "all" else (args.recipe,)
    reports: dict[str, dict[str, Any]] = {}
    for recipe in recipes:
        print(f"== {args.dataset}: recipe {recipe}", flush=True)
        reports[recipe] = benchmark.run_recipe(
            args.dataset,
            recipe,
            data_dir=args.data_dir,
            path=args.path,
            limit=args.limit,
            epochs=args.epochs,
            seed=args.seed,
        )
    if len(reports) == 2:
        ratio = reports["tuned"]["seconds_per_epoch"] / reports["seed"]["seconds_per_epoch"]
        for report in reports.values():
            report["tuned_to_seed_epoch_time_ratio"] = ratio
    print(benchmark.MARKDOWN_HEADER)
    for report in reports.values():
        print(benchmark.markdown_row(report))
    if len(reports) == 2:
        print(f"tuned/seed wall time per epoch: {reports['tuned']['tuned_to_seed_epoch_time_ratio']:.3f}")
    if args.save:
        for report in reports.values():
            print(f"saved {benchmark.save_report(report, args.output_dir, limit=args.limit)}")
    return 0
