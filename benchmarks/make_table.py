"""Print the RESULTS.md table from the JSON reports in benchmarks/results/.

python benchmarks/make_table.py
"""

from pathlib import Path

from bilstm_attention.data import list_datasets
from bilstm_attention.evaluation.benchmark import results_table

if __name__ == "__main__":
    print(results_table(Path(__file__).parent / "results", list_datasets()))
