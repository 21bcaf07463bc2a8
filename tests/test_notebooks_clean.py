"""Notebooks are committed without outputs or execution counts, so diffs show only what changed."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under notebooks/"


def test_notebook_names_are_ordered():
    prefixes = [nb.name[:3] for nb in NOTEBOOKS]
    assert all(p[:2].isdigit() and p[2] == "_" for p in prefixes), prefixes
    assert len(set(prefixes)) == len(prefixes), "two notebooks share a number"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name} cell {index} has outputs: clear them"
        assert cell.get("execution_count") is None, (
            f"{path.name} cell {index} has an execution count"
        )


def first_code_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return next("".join(c["source"]) for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_says_what_to_run_when_course_utils_is_missing(path, monkeypatch):
    """On a fresh Colab runtime the package is not installed: one line must say what to run."""
    import sys

    source = first_code_cell(path)
    assert "course_utils.setup(" in source
    monkeypatch.setitem(sys.modules, "course_utils", None)  # "import course_utils" now fails
    with pytest.raises(ModuleNotFoundError) as missing:
        exec(compile(source, path.name, "exec"), {})
    message = str(missing.value)
    assert "pip install" in message and "\n" not in message
