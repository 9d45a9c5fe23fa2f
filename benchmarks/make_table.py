"""Print the RESULTS.md table from the JSON reports in benchmarks/results/.

python benchmarks/make_table.py
"""

from pathlib import Path

from bilstm_attention.benchmark import results_table
from bilstm_attention.data import list_datasets

if __name__ == "__main__":
    print(results_table(Path(__file__).parent / "results", list_datasets()))
