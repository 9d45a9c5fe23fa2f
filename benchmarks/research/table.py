"""Print the validation table of every result in benchmarks/research/results (markdown).

python benchmarks/research/table.py [--dataset steam]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default=None)
    args = p.parse_args()
    print(
        "| name | dataset | val acc | val loss (best ep) | best ep / run | s/epoch | CPU s/epoch | load avg | command args |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for path in sorted(RESULTS.glob("*.json")):
        r = json.loads(path.read_text())
        if "best_val_accuracy" not in r or (args.dataset and r["args"]["dataset"] != args.dataset):
            continue
        eps = r["epochs"]
        cpu = sum(e["cpu_seconds"] for e in eps) / len(eps)
        load = eps[-1]["load_average"][0]
        cmd = r["command"].split("bilstm_research.py ", 1)[-1]
        print(
            f"| {r['name']} | {r['args']['dataset']} | {100 * r['best_val_accuracy']:.2f} | {r['best_val_loss']:.4f} "
            f"| {r['best_epoch']} / {len(eps)} | {r['mean_epoch_seconds']:.0f} | {cpu:.0f} | {load:.1f} | `{cmd}` |"
        )


if __name__ == "__main__":
    main()
