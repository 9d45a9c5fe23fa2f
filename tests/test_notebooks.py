"""The notebooks in ``notebooks/`` run top to bottom (nbclient) on small slices of the real data.

Each notebook reads its parameters from environment variables (see its "parameters" cell);
the kernel inherits this process's environment, so the tests set them with ``monkeypatch``.
Variables already set when pytest starts (``NOTEBOOK_LIMIT``, ``NOTEBOOK_EPOCHS``,
``NOTEBOOK_HEATMAP``, ...; paths relative to where pytest starts) override the values below,
and ``NOTEBOOK_CELL_TIMEOUT`` the time allowed per cell. ``docs/heatmap_en.png`` and
``docs/heatmap_ko.png`` were drawn by the notebooks' own code that way, with more data than the
smoke runs so that the BiLSTM has learned something (about 14 and 5 minutes on 2 cores)::

    NOTEBOOK_HEATMAP=docs/heatmap_en.png NOTEBOOK_LIMIT=12000 NOTEBOOK_EPOCHS=4 NOTEBOOK_CELL_TIMEOUT=3600 \
        python -m pytest tests/test_notebooks.py -k "runs and imdb"
    NOTEBOOK_HEATMAP=docs/heatmap_ko.png NOTEBOOK_LIMIT=30000 NOTEBOOK_EPOCHS=3 NOTEBOOK_CELL_TIMEOUT=3600 \
        python -m pytest tests/test_notebooks.py -k "runs and nsmc"

The notebooks are committed without outputs; ``test_notebooks_are_committed_clean`` checks it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
# seconds per cell (a whole dataset notebook takes 1-2 minutes on 2 cores)
CELL_TIMEOUT = int(os.environ.get("NOTEBOOK_CELL_TIMEOUT") or 600)
COLAB_LINK = "https://colab.research.google.com/github/bilstm-attention/bilstm-attention/blob/main/notebooks/{}"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
KERNEL_NAME = "bilstm-attention-tests"

# Per notebook: environment for the smoke run (paths relative to the datasets folder), and
# whether it draws a heatmap. NOTEBOOK_LIMIT "" means "all reviews" (the 10-line shopping sample).
SETTINGS: dict[str, dict] = {
    "quickstart_layers": {"env": {}, "heatmap": False, "data": None, "korean": False},
    "imdb": {
        "env": {"NOTEBOOK_LIMIT": "1000", "NOTEBOOK_EPOCHS": "1"},
        "heatmap": True,
        "data": "imdb",
        "korean": False,
    },
    "nsmc": {
        "env": {"NOTEBOOK_LIMIT": "2000", "NOTEBOOK_EPOCHS": "1"},
        "heatmap": True,
        "data": "nsmc",
        "korean": True,
    },
    "steam": {
        "env": {"NOTEBOOK_LIMIT": "2000", "NOTEBOOK_EPOCHS": "1", "NOTEBOOK_DATA_PATH": "steam/steam.partial.txt"},
        "heatmap": True,
        "data": "steam",
        "korean": True,
    },
    "naver_shopping": {
        "env": {
            "NOTEBOOK_LIMIT": "",
            "NOTEBOOK_EPOCHS": "1",
            "NOTEBOOK_DATA_PATH": "naver_shopping/naver_shopping.preview.txt",
        },
        "heatmap": True,
        "data": "naver_shopping",
        "korean": True,
    },
}
NOTEBOOK_VARIABLES = (
    "NOTEBOOK_LIMIT",
    "NOTEBOOK_EPOCHS",
    "NOTEBOOK_DATA_PATH",
    "NOTEBOOK_OUTPUT_DIR",
    "NOTEBOOK_HEATMAP",
)
PATH_VARIABLES = ("NOTEBOOK_DATA_PATH", "NOTEBOOK_OUTPUT_DIR", "NOTEBOOK_HEATMAP")
# what the user set before the tests changed anything (overrides SETTINGS)
USER_OVERRIDES = {name: os.environ[name] for name in NOTEBOOK_VARIABLES if name in os.environ}


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Jupyter data dir with a kernelspec that runs this interpreter (not whatever
    ``python`` is first on PATH)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bilstm-attention tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return root


def execute(path: Path, cwd: Path) -> nbformat.NotebookNode:
    """Run every cell of ``path`` in a fresh kernel; raises ``CellExecutionError`` on a failing cell."""
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(cwd)}},
    )
    try:
        client.execute()
    finally:  # keep the executed notebook next to the run for a look after a failure
        nbformat.write(notebook, cwd / path.name)
    return notebook


def stream_text(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )


def test_every_notebook_has_settings() -> None:
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOKS_DIR}"
    missing = [path.name for path in NOTEBOOKS if path.stem not in SETTINGS]
    assert not missing, f"add smoke-run settings for {missing} to SETTINGS in {__file__}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebooks_are_committed_clean(path: Path) -> None:
    """No outputs or execution counts in the repository; a Colab badge; a parameters cell."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"
    title = notebook.cells[0]
    assert title.cell_type == "markdown" and title.source.startswith("# ")
    assert f"]({COLAB_LINK.format(path.name)})" in title.source and COLAB_BADGE in title.source
    parameters = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(parameters) == 1 and parameters[0].cell_type == "code", f"{path.name}: one cell tagged 'parameters'"


def _run_params() -> list:
    """One case per notebook; those reading real data carry the ``shared_data`` marker."""
    return [
        pytest.param(
            path, id=path.stem, marks=[pytest.mark.shared_data] if SETTINGS.get(path.stem, {}).get("data") else []
        )
        for path in NOTEBOOKS
    ]


def _absolute(name: str, value: str) -> str:
    """User-given paths are relative to where pytest was started, not to the kernel's folder."""
    return str(Path(value).resolve()) if value and name in PATH_VARIABLES else value


@pytest.mark.parametrize("path", _run_params())
def test_notebook_runs(
    path: Path, request: pytest.FixtureRequest, kernel_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notebook runs top to bottom; it draws figures and, for a dataset, saves a heatmap."""
    settings = SETTINGS[path.stem]
    env = {**settings["env"], "NOTEBOOK_OUTPUT_DIR": str(tmp_path / "runs")}
    if settings["heatmap"]:
        env["NOTEBOOK_HEATMAP"] = str(tmp_path / "heatmap.png")
    if settings["data"]:
        datasets: Path = request.getfixturevalue("shared_datasets")  # skips without the data
        if not (datasets / settings["data"]).is_dir():
            pytest.skip(f"{datasets / settings['data']} is missing")
        monkeypatch.setenv("BILSTM_ATTENTION_DATA", str(datasets))
        if "NOTEBOOK_DATA_PATH" in env:
            env["NOTEBOOK_DATA_PATH"] = str(datasets / env["NOTEBOOK_DATA_PATH"])
    env.update({name: _absolute(name, value) for name, value in USER_OVERRIDES.items()})
    for name in NOTEBOOK_VARIABLES:
        if name in env:
            monkeypatch.setenv(name, env[name])
        else:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(filter(None, [str(kernel_dir), os.environ.get("JUPYTER_PATH")])))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # figures become outputs
    heatmap = Path(env["NOTEBOOK_HEATMAP"]) if settings["heatmap"] else None
    heatmap_before = heatmap.stat().st_mtime_ns if heatmap is not None and heatmap.exists() else None

    executed = execute(path, tmp_path)

    outputs = [output for cell in executed.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    assert any("image/png" in output.get("data", {}) for output in outputs), "the notebook drew no figure"
    if heatmap is not None:
        assert heatmap.is_file() and heatmap.stat().st_mtime_ns != heatmap_before, f"{heatmap} was not written"
        assert heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{heatmap} is not a PNG"
        runs = Path(env["NOTEBOOK_OUTPUT_DIR"])
        assert any((run / "model.keras").is_file() for run in runs.iterdir()), f"no trained run in {runs}"
    if settings["korean"]:
        from bilstm_attention.inference.visualize import hangul_font

        if hangul_font() is not None:  # installed here, so the notebook's heatmaps must use it
            printed = stream_text(executed)
            assert "Hangul font: None" not in printed and "will show as boxes" not in printed
