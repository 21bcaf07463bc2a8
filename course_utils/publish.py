"""Editions of the notebooks: executed copies, the student edition, and a static site.

* :func:`execute_notebook` runs a notebook top to bottom in a fresh kernel and returns the executed
  copy (outputs, widget state, its run time). It uses nbclient, with one change: nbclient waits
  for a cell's reply with one long blocking read, which sometimes misses a reply that arrives
  while a widget's output holds a large figure, and then waits out the whole timeout
  (jupyter/nbclient#312). Waiting in short slices picks the reply up within a second.
* :func:`student_edition` writes the notebooks without their worked solutions (cells tagged
  ``solution``) and without outputs, for instructors who hand notebooks out.
* :func:`build_site` exports executed notebooks to HTML with nbconvert and writes an index page:
  the notebooks in order, what each shows, its run time and a thumbnail figure.

Command line: ``python -m course_utils student`` and ``python -m course_utils site``.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import time
from pathlib import Path
from queue import Empty

import nbformat
from nbclient import NotebookClient

from course_utils import classroom
from course_utils.classroom import NOTEBOOKS_DIR, notebook_paths

__all__ = ["build_site", "execute_notebook", "static_widgets", "student_edition"]

SOLUTION_TAG = "solution"
# Seconds between two looks at the shell channel while a cell runs.
_REPLY_POLL_S = 0.5


class _SlicedWaitClient(NotebookClient):
    """nbclient's NotebookClient, reading cell replies in short slices (see the module notes)."""

    async def async_start_new_kernel_client(self):
        client = await super().async_start_new_kernel_client()
        channel = client.shell_channel
        blocking_get = channel.get_msg

        async def get_msg(timeout: float | None = None, **kwargs):
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                remaining = _REPLY_POLL_S if deadline is None else deadline - time.monotonic()
                try:
                    return await blocking_get(timeout=max(0.0, min(_REPLY_POLL_S, remaining)),
                                              **kwargs)
                except Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise

        channel.get_msg = get_msg
        return client


def execute_notebook(path: str | Path, timeout: float = 900) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel, in its own folder, and return the executed copy.

    Parameters
    ----------
    path : path
        The notebook; it is read, not written.
    timeout : float
        Seconds one cell may take.

    Returns
    -------
    notebook : nbformat.NotebookNode
        With outputs, the widgets' state, and ``metadata["course"]["run_seconds"]``.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        When a cell fails (an assert of the notebook, for instance).
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    client = _SlicedWaitClient(notebook, timeout=timeout, kernel_name="python3",
                               resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    notebook.metadata.setdefault("course", {})["run_seconds"] = round(time.perf_counter() - start, 1)
    return notebook


def _clear_outputs(notebook: nbformat.NotebookNode) -> None:
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def student_edition(out_dir: str | Path, src_dir: str | Path = NOTEBOOKS_DIR) -> list[Path]:
    """Write the notebooks without their worked solutions, for handing out to students.

    Parameters
    ----------
    out_dir : path
        Folder for the student notebooks (created; existing notebooks of the same name are
        replaced). It must not be the source folder.
    src_dir : path
        Folder of the lecture notebooks.

    Returns
    -------
    written : list of Path
        One per notebook. Cells tagged ``solution`` are removed, outputs cleared; the exercise
        cells and their checks stay, so every check says "not attempted yet" until the student
        fills in an answer.
    """
    out_dir, src_dir = Path(out_dir), Path(src_dir)
    if out_dir.resolve() == src_dir.resolve():
        raise ValueError("the student edition must go to another folder than the notebooks")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebook_paths(src_dir):
        notebook = nbformat.read(path, as_version=4)
        notebook.cells = [cell for cell in notebook.cells
                          if SOLUTION_TAG not in cell.get("metadata", {}).get("tags", [])]
        _clear_outputs(notebook)
        target = out_dir / path.name
        nbformat.write(notebook, target)
        written.append(target)
    return written


# ----------------------------------------------------------------------------------- the site


_LIST_ITEM = re.compile(r"(\*|-|\d+\.) ")


def _card_markdown(notebook: nbformat.NotebookNode) -> tuple[str, str, str]:
    """What the index says of a notebook, as Markdown, from its first Markdown cell.

    Returns
    -------
    title : str
        The cell's first heading.
    summary : str
        The first paragraph after it (with the one after that when the first is a quotation),
        without a last sentence that runs on (ending in a colon, or in nothing).
    contents : str
        The cell's last list: in every notebook, what it shows, section by section.
    """
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.strip().splitlines()
        title = lines[0].lstrip("# ").strip() if lines and lines[0].startswith("#") else ""
        # Line breaks stay: a quotation continues on lines that start with "> ".
        paragraphs = [p.strip() for p in "\n".join(lines[1:]).split("\n\n") if p.strip()]
        lists = [p for p in paragraphs if _LIST_ITEM.match(p)]
        text = [p for p in paragraphs if not _LIST_ITEM.match(p)]
        summary = "\n\n".join(text[:2] if text and text[0].startswith(">") else text[:1])
        # A last sentence that runs on into what the card omits ("The lecture gives two answers:",
        # or one completed by a displayed formula) is left out.
        summary = re.sub(r"([.?!]\**)\s+[^.?!]*[^.?!*]$", r"\1", summary)
        return title, summary, lists[-1] if lists else ""
    return "", "", ""


def _thumbnail(notebook: nbformat.NotebookNode) -> bytes | None:
    """A representative figure: the first PNG output of a cell tagged ``thumbnail``, else the
    largest PNG of the notebook (a full figure rather than a small inset)."""
    tagged, largest = None, None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if not png:
                continue
            raw = base64.b64decode(png)
            if tagged is None and "thumbnail" in cell.get("metadata", {}).get("tags", []):
                tagged = raw
            if largest is None or len(raw) > len(largest):
                largest = raw
    return tagged or largest


_INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Convolutional networks and adversarial examples: lecture notebooks</title>
{mathjax}
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; }}
h1 {{ font-size: 1.8em; }}
.card {{ display: flex; gap: 1.2em; align-items: flex-start; border-top: 1px solid #ddd;
         padding: 1em 0; }}
.card img {{ width: 300px; max-height: 220px; object-fit: contain; border: 1px solid #eee; }}
.card h2 {{ margin: 0 0 .3em; font-size: 1.25em; }}
.card ul, .card ol {{ margin: .3em 0; padding-left: 1.4em; font-size: .92em; color: #333; }}
.meta {{ color: #666; font-size: .9em; }}
</style></head><body>
<h1>Convolutional networks and adversarial examples</h1>
<p>The lecture notebooks, executed: read the results without running anything. To run them and
move the sliders, open the notebooks in JupyterLab (see the project's README).</p>
{cards}
<p class="meta">Built {built} by <code>python -m course_utils site</code>.</p>
</body></html>
"""

_CARD = """<div class="card" id="{stem}">{image}
<div><h2><a href="{stem}.html">{title}</a></h2>{summary}{contents}
<p class="meta">{name} · ran in {seconds} on the machine that built this site</p></div></div>
"""


def _exporter():
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input_prompt = False
    return exporter


def build_site(out_dir: str | Path, executed: dict[str, nbformat.NotebookNode]) -> Path:
    """Write the executed notebooks as HTML pages and an index page.

    Parameters
    ----------
    out_dir : path
        Folder of the site (created; its previous content is replaced).
    executed : dict
        {notebook file name: executed notebook}, e.g. from :func:`execute_notebook`, in the
        order the index lists them.

    Returns
    -------
    index : Path
        The index page, ``out_dir / "index.html"``.
    """
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "thumbnails").mkdir(parents=True)
    from nbconvert.filters import markdown2html

    exporter = _exporter()
    cards = []
    for name, notebook in executed.items():
        stem = Path(name).stem
        body, _ = exporter.from_notebook_node(notebook)
        (out_dir / f"{stem}.html").write_text(body, encoding="utf-8")
        title, summary, contents = _card_markdown(notebook)
        thumb = _thumbnail(notebook)
        image = ""
        if thumb is not None:
            (out_dir / "thumbnails" / f"{stem}.png").write_bytes(thumb)
            image = f'<a href="{stem}.html"><img src="thumbnails/{stem}.png" alt=""></a>'
        seconds = notebook.metadata.get("course", {}).get("run_seconds")
        cards.append(_CARD.format(
            stem=stem, image=image, title=html.escape(title or stem), name=html.escape(name),
            summary=markdown2html(summary), contents=markdown2html(contents),
            seconds="?" if seconds is None else f"{seconds:.0f} s"))
    index = out_dir / "index.html"
    # The summaries' formulas are typeset by the same MathJax as the notebook pages.
    mathjax = exporter.environment.get_template("mathjax.html.j2").module.mathjax(
        exporter.mathjax_url)
    index.write_text(_INDEX.format(cards="".join(cards), mathjax=mathjax,
                                   built=time.strftime("%Y-%m-%d %H:%M")), encoding="utf-8")
    (out_dir / "runs.json").write_text(json.dumps(
        {name: nb.metadata.get("course", {}).get("run_seconds") for name, nb in executed.items()},
        indent=2), encoding="utf-8")
    return index


def static_widgets(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Replace live widgets by a short note, for pages that have no kernel behind them.

    A widget's saved output is only its text form ("interactive(children=...)"); the figure
    it draws is in the cell after it, which calls the same view once.
    """
    note = {"text/html": "<p><em>Interactive widget: open the notebook in JupyterLab to move "
                         "its sliders. The figure below shows it at its default values.</em></p>",
            "text/plain": "(interactive widget)"}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "application/vnd.jupyter.widget-view+json" in output.get("data", {}):
                output["data"] = dict(note)
    return notebook


# ------------------------------------------------- recording what nbval executes (pytest plugin)
#
# Loaded with ``-p course_utils.publish`` and switched on by ``--nbval-record DIR``: every notebook
# that nbval runs is written to DIR as an executed copy (outputs, execution counts, run time), so
# that the site is built from the very run that tested the notebooks, without a second execution.

_recorded: dict[str, dict] = {}


def pytest_addoption(parser):
    parser.addoption("--nbval-record", metavar="DIR", default=None,
                     help="write every notebook nbval runs, with its outputs, to DIR")


def pytest_runtest_logreport(report):
    # Durations of the cells, summed per notebook.
    if report.when == "call" and report.nodeid.split("::")[0].endswith(".ipynb"):
        entry = _recorded.setdefault(report.nodeid.split("::")[0], {"seconds": 0.0, "failed": False})
        entry["seconds"] += report.duration
        entry["failed"] |= report.failed


def pytest_runtest_makereport(item, call):
    outputs = getattr(item, "test_outputs", None)
    if call.when == "call" and outputs is not None and hasattr(item, "cell"):
        item.cell.outputs = [nbformat.from_dict(dict(output)) for output in outputs]
        counts = [o.get("execution_count") for o in outputs if o.get("execution_count")]
        item.cell.execution_count = counts[0] if counts else item.cell_num
        item.parent.recorded_notebook = item.parent.nb


def pytest_sessionfinish(session):
    folder = session.config.getoption("--nbval-record", default=None)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for item in session.items:
        notebook = getattr(item.parent, "recorded_notebook", None)
        if notebook is None or getattr(item.parent, "_written", False):
            continue
        item.parent._written = True
        entry = _recorded.get(item.nodeid.split("::")[0], {})
        if entry.get("failed"):
            continue
        seconds = round(entry.get("seconds", 0), 1)
        notebook.metadata.setdefault("course", {})["run_seconds"] = seconds
        name = Path(str(item.parent.fspath)).name
        nbformat.write(notebook, Path(folder) / name)
        classroom.record_run_times({name: seconds})
