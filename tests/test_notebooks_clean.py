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
