"""Editions of the notebooks (course_utils.publish) and the classroom check (course_utils.classroom)."""

import base64
import json
import subprocess
import sys

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from course_utils import classroom, publish  # noqa: E402


def png(width: float) -> str:
    """A base64 PNG of a figure ``width`` inches wide (so that sizes differ)."""
    import io

    fig, ax = plt.subplots(figsize=(width, 2))
    ax.plot([0, 1], [0, 1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def notebook(*cells) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=list(cells))


def code(source, tags=(), outputs=()):
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)} if tags else {})
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def write_notebooks(folder, notebooks):
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / name)


# ---------------------------------------------------------------------------- student edition


def test_student_edition_drops_solutions_and_outputs_and_keeps_the_exercises(tmp_path):
    lecture = notebook(
        nbformat.v4.new_markdown_cell("# 01 · Title\n\nWhat it shows."),
        code("answer = ...", tags=["exercise"]),
        code("check(answer)", outputs=[{"output_type": "stream", "name": "stdout",
                                        "text": "not attempted yet"}]),
        code("answer = 42\nassert check(answer).correct", tags=["solution"]),
    )
    write_notebooks(tmp_path / "src", {"01_a.ipynb": lecture, "02_b.ipynb": notebook()})
    written = publish.student_edition(tmp_path / "out", tmp_path / "src")
    assert [p.name for p in written] == ["01_a.ipynb", "02_b.ipynb"]
    student = nbformat.read(written[0], as_version=4)
    sources = [c.source for c in student.cells]
    assert "answer = ..." in sources and "check(answer)" in sources
    assert not any("answer = 42" in s for s in sources)
    assert all(c.outputs == [] and c.execution_count is None
               for c in student.cells if c.cell_type == "code")
    # The lecture's own notebooks are untouched.
    assert len(nbformat.read(tmp_path / "src" / "01_a.ipynb", as_version=4).cells) == 4


def test_student_edition_refuses_to_overwrite_the_lecture(tmp_path):
    write_notebooks(tmp_path, {"01_a.ipynb": notebook()})
    with pytest.raises(ValueError, match="another folder"):
        publish.student_edition(tmp_path, tmp_path)


def test_every_solution_cell_of_the_course_is_tagged_and_collapsed():
    for path in classroom.notebook_paths():
        for cell in nbformat.read(path, as_version=4).cells:
            tags = cell.get("metadata", {}).get("tags", [])
            if "solution" in tags:
                assert cell.metadata.get("jupyter", {}).get("source_hidden"), (
                    f"{path.name}: a solution cell is not collapsed")


# ------------------------------------------------------------------------------------- the site


def test_site_has_a_page_and_a_card_per_notebook_with_its_thumbnail(tmp_path):
    first = notebook(nbformat.v4.new_markdown_cell("# 01 · Convolutions\n\nSmoothing and **edges**."),
                     code("plot()", outputs=[{"output_type": "display_data",
                                              "data": {"image/png": png(2)}, "metadata": {}}]),
                     code("plot()", tags=["thumbnail"],
                          outputs=[{"output_type": "display_data",
                                    "data": {"image/png": png(3)}, "metadata": {}}]))
    first.metadata["course"] = {"run_seconds": 12.3}
    second = notebook(nbformat.v4.new_markdown_cell(
        "# 02 · Keras\n\n> What if you have a lot\n> of $28 \\times 28$ images?\n\nMore. We *ask*. "
        "We give\ntwo answers:\n\n"
        "1. search\n2. optimise\n\nIn this notebook:\n\n1. Data\n2. Dense layers\n\n"
        "Every claim is checked."))
    index = publish.build_site(tmp_path / "site", {"01_a.ipynb": first, "02_b.ipynb": second})
    page = index.read_text(encoding="utf-8")
    assert page.index("01 · Convolutions") < page.index("02 · Keras")
    assert "Smoothing and <strong>edges</strong>." in page and "ran in 12 s" in page
    # A quotation over two lines is one quotation, its formula left for MathJax, as on the pages.
    quote = page[page.index("<blockquote>"):page.index("</blockquote>")]
    assert "What if you have a lot" in quote and "of $28 \\times 28$ images?" in quote
    assert "&gt;" not in quote and "More." in page[page.index("</blockquote>"):]
    # What a notebook shows is its introduction's last list (the first one may be part of the story).
    assert "<li>Dense layers</li>" in page and "optimise" not in page and "Every claim" not in page
    assert "More. We <em>ask</em>.</p>" in page and "two answers" not in page
    assert page.count("<blockquote>") == 1
    mathjax_src = publish._exporter().mathjax_url
    assert mathjax_src in page and mathjax_src in (tmp_path / "site" / "02_b.html").read_text()
    assert (tmp_path / "site" / "01_a.html").is_file() and (tmp_path / "site" / "02_b.html").is_file()
    thumb = (tmp_path / "site" / "thumbnails" / "01_a.png").read_bytes()
    assert thumb == base64.b64decode(first.cells[2].outputs[0]["data"]["image/png"])  # the tagged one
    assert not (tmp_path / "site" / "thumbnails" / "02_b.png").exists()
    assert json.loads((tmp_path / "site" / "runs.json").read_text()) == {"01_a.ipynb": 12.3,
                                                                         "02_b.ipynb": None}


def test_widgets_become_a_note_on_static_pages():
    widget = {"output_type": "display_data", "metadata": {},
              "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                       "text/plain": "interactive(children=(IntSlider(value=9),))"}}
    nb = publish.static_widgets(notebook(code("interact(f)", outputs=[widget])))
    data = nb.cells[0].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" not in data
    assert "open the notebook in JupyterLab" in data["text/html"]


# ---------------------------------------------------------------------------- execution


def test_execute_notebook_runs_widgets_and_records_the_time(tmp_path):
    nb = notebook(
        code("import numpy as np\nimport matplotlib.pyplot as plt\n"
             "from ipywidgets import IntSlider, fixed, interact\n"
             "img = np.random.default_rng(0).random((300, 300))"),
        # A widget whose output holds a large, incompressible image: the case that stalls nbclient.
        code("def f(img, k=3):\n    plt.imshow(img[::k]); plt.show()\n"
             "interact(f, img=fixed(img), k=IntSlider(3, 1, 9));"),
        code("print('after the widget')"),
    )
    path = tmp_path / "01_w.ipynb"
    nbformat.write(nb, path)
    executed = publish.execute_notebook(path, timeout=60)
    assert executed.cells[2].outputs[0]["text"].strip() == "after the widget"
    assert executed.metadata["course"]["run_seconds"] < 60
    assert "widgets" in executed.metadata  # the widget state is kept


def test_a_failing_cell_fails_the_execution(tmp_path):
    path = tmp_path / "01_fail.ipynb"
    nbformat.write(notebook(code("assert 1 == 2, 'the claim does not hold'")), path)
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError, match="the claim does not hold"):
        publish.execute_notebook(path, timeout=60)


def test_nbval_runs_are_recorded_for_the_site(tmp_path):
    path = tmp_path / "01_rec.ipynb"
    nbformat.write(notebook(code("x = 6 * 7\nprint(x)"), code("x")), path)
    record = tmp_path / "executed"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
         "course_utils.publish", "--nbval-lax", "--nbval-current-env", "--nbval-record",
         str(record), str(path)], capture_output=True, text=True, cwd=tmp_path,
        env={**__import__("os").environ, "COURSE_DATA_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stdout + result.stderr
    executed = nbformat.read(record / "01_rec.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"].strip() == "42"
    assert executed.cells[1].outputs[0]["data"]["text/plain"] == "42"
    assert executed.metadata["course"]["run_seconds"] >= 0


# --------------------------------------------------------------------------- classroom check


def test_readiness_table_passes_and_fails_as_it_should(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    checks = classroom.readiness()
    items = [c.item for c in checks]
    assert items[0] == "Python" and "GPU" in items and "dataset mnist_subset" in items
    assert any(i.startswith("run time 01_") for i in items)
    assert next(c for c in checks if c.item == "dataset mnist_subset").ok
    assert next(c for c in checks if c.item == "ipykernel").ok, "requirements.txt pins ipykernel 6"
    # An empty model cache: the shared course CNNs are missing and say how to get them.
    missing = next(c for c in checks if c.item == "model course_cnn_mnist")
    assert not missing.ok and "prefetch" in missing.detail
    assert classroom.print_table(checks) is False
    assert "FAIL  model course_cnn_mnist" in capsys.readouterr().out


def test_the_kernel_check_fails_on_ipykernel_7_and_says_what_to_do(monkeypatch):
    installed = {"ipykernel": "7.4.0"}
    monkeypatch.setattr(classroom, "version", lambda package: installed[package])
    check = classroom._kernel_check()
    assert not check.ok and "blank figures" in check.detail and "ipykernel 6" in check.detail
    installed["ipykernel"] = "6.31.0"
    assert classroom._kernel_check() == classroom.Check("ipykernel", True, "6.31.0")


def test_run_times_are_recorded_and_checked_against_the_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    first = classroom.notebook_paths()[0].name
    classroom.record_run_times({first: 42.04})
    classroom.record_run_times({"other.ipynb": 1})
    assert classroom.recorded_run_times() == {first: 42.0, "other.ipynb": 1.0}
    (check,) = [c for c in classroom.readiness(budget_s=30) if c.item == f"run time {first}"]
    assert not check.ok and "42 s" in check.detail
