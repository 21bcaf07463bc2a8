"""The notebooks in a real browser: widgets render and respond, slides show, the site opens.

JupyterLab runs on loopback with a throwaway configuration (temporary folders, a random port, no
token) on a *copy* of the notebooks, so that its autosave never writes outputs into the
repository. Debian's Chromium, driven headless by Playwright, opens every notebook that has a
widget, runs all cells, moves each widget's first slider and checks that the figure it draws
changes, that no cell shows an error and that no widget shows as plain text. Screenshots go to
``build/browser/`` for a person to look at.

Without Playwright or Chromium the tests are skipped with a message saying what to install;
with ``COURSE_REQUIRE_BROWSER=1`` (as CI sets it) they fail instead.
"""

import base64
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SHOTS = ROOT / "build" / "browser"
SITE_INDEX = ROOT / "build" / "site" / "index.html"
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("COURSE_REQUIRE_BROWSER") == "1"
pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# Running a notebook in the browser takes as long as running it anywhere.
RUN_ALL_TIMEOUT_MS = int(os.environ.get("COURSE_BROWSER_TIMEOUT_S", "900")) * 1000


def _unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright)"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)"
    return None


_reason = _unavailable()
if _reason:
    if REQUIRED:
        pytest.fail(f"browser tests required (COURSE_REQUIRE_BROWSER=1) but {_reason}",
                    pytrace=False)
    pytest.skip(f"browser tests skipped: {_reason}", allow_module_level=True)

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402


def widget_notebooks() -> list[Path]:
    def has_widget(path: Path) -> bool:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return any("ipywidgets" in "".join(c["source"]) or "course_utils.views" in "".join(c["source"])
                   for c in cells if c["cell_type"] == "code")

    return [p for p in NOTEBOOKS if has_widget(p)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Base URL of a JupyterLab serving a copy of the notebooks; stopped after the module."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    # No "get news?" toast over the notebook, and no "select kernel" dialog: start the
    # notebook's own kernel.
    for extension, name, values in [
            ("apputils-extension", "notification", {"fetchNews": "false", "checkForUpdates": False}),
            ("notebook-extension", "tracker", {"autoStartDefaultKernel": True})]:
        folder = root / "settings" / "@jupyterlab" / extension
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.jupyterlab-settings").write_text(json.dumps(values), encoding="utf-8")
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / "config"),
           "JUPYTER_RUNTIME_DIR": str(root / "runtime"), "JUPYTER_DATA_DIR": str(root / "data")}
    env.pop("JUPYTER_PATH", None)
    log = open(root / "lab.log", "w")  # noqa: SIM115 - open while the server runs
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--IdentityProvider.token=",
         "--ServerApp.password=", f"--ServerApp.root_dir={root}",
         f"--LabApp.user_settings_dir={root / 'settings'}",
         f"--LabApp.workspaces_dir={root / 'workspaces'}"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/api/status", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"JupyterLab did not start; see {root / 'lab.log'}") from None
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def latencies(request):
    """Seconds from a slider move to the new figure, per widget; reported when the module ends.

    Reported, not asserted: on a shared machine the times vary too much to fail on. A widget should
    answer in under a second, or show that it is working.
    """
    times: list[tuple[str, float]] = []
    yield times
    if not times:
        return
    lines = ["| widget | seconds from slider move to new figure |", "|---|---|"]
    lines += [f"| {name} | {seconds:.2f} |" for name, seconds in times]
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "widget_times.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line("widget response times (key press on a slider -> new figure):")
        for name, seconds in times:
            reporter.write_line(f"  {name:<40} {seconds:6.2f} s" + ("   (over 1 s)" if seconds > 1 else ""))


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


def open_notebook(page, base: str, name: str) -> None:
    # "?reset": a saved workspace must not reopen other panels.
    page.goto(f"{base}/lab/tree/notebooks/{name}?reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    # The status bar reads "Python 3 (ipykernel) | Idle" once the kernel is connected and ready.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
        ".some(e => /\\| Idle/.test(e.textContent))", timeout=120_000)


STARTED = ("() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]"
           ".some(e => /\\[(\\*|\\d+)\\]/.test(e.textContent))")


def run_all(page, name: str) -> float:
    start = time.monotonic()
    for attempt in range(2):
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        try:
            page.wait_for_function(STARTED, timeout=30_000, polling=500)
            break
        except Exception:
            if attempt:
                page.screenshot(path=str(SHOTS / f"{Path(name).stem}_not_started.png"))
                raise
    # Done when every code cell has a number and none shows [*].
    try:
        page.wait_for_function(
            "() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]"
            ".map(e => e.textContent.trim()); return p.length > 0 && "
            "p.every(t => /^\\[\\d+\\]:$/.test(t)); }",
            timeout=RUN_ALL_TIMEOUT_MS, polling=1000)
    except Exception:
        page.screenshot(path=str(SHOTS / f"{Path(name).stem}_stuck.png"))
        raise
    return time.monotonic() - start


def image_digest(widget) -> str:
    sources = widget.locator("img").evaluate_all("imgs => imgs.map(i => i.src).join('|')")
    return hashlib.sha256(sources.encode()).hexdigest()


def figures_painted(widget, deadline: float) -> bool:
    """Wait until every figure of the widget is decoded, ready to be painted (a screenshot taken
    as soon as the new ``<img>`` is in the page can still show the empty space it will fill)."""
    while time.monotonic() < deadline:
        decoded = widget.locator("img").evaluate_all(
            "imgs => Promise.all(imgs.map(i => i.decode().then(() => true, () => false)))")
        if decoded and all(decoded):
            return True
        time.sleep(0.05)
    return False


def blank_figures(widget, name: str) -> list[str]:
    """The widget's figures that are a single flat colour (drawn, but empty), described; each is
    saved under ``SHOTS`` as ``<name>_blank<k>.png`` to look at."""
    sources = widget.locator("img").evaluate_all("imgs => imgs.map(i => i.src)")
    blank = []
    for k, src in enumerate(sources):
        png = base64.b64decode(src.split(",", 1)[1])
        image = Image.open(io.BytesIO(png))
        pixels = np.asarray(image.convert("RGBA"))
        if np.ptp(pixels.reshape(-1, 4), axis=0).max() == 0:
            (SHOTS / f"{name}_blank{k}.png").write_bytes(png)
            blank.append(f"figure {k} of {len(sources)}: {image.size[0]} x {image.size[1]} {image.mode}, "
                         f"every pixel RGBA {tuple(int(v) for v in pixels[0, 0])}")
    return blank


@pytest.mark.parametrize("path", widget_notebooks(), ids=lambda p: p.stem)
def test_widgets_render_and_respond(lab, page, path, latencies):
    SHOTS.mkdir(parents=True, exist_ok=True)
    open_notebook(page, lab, path.name)
    seconds = run_all(page, path.name)
    print(f"{path.name}: ran in the browser in {seconds:.0f} s")

    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    tracebacks = [t for t in errors.all_inner_texts() if "Error" in t or "Traceback" in t]
    assert not tracebacks, f"{path.name} shows an error:\n{tracebacks[0][:2000]}"
    texts = page.locator(".jp-OutputArea-output").all_inner_texts()
    as_text = [t for t in texts if t.lstrip().startswith(("interactive(children", "IntSlider("))]
    assert not as_text, f"{path.name}: a widget shows as plain text (no widget manager?)"

    # Every output that holds a slider is a widget to try: move its first slider (and press its
    # button, for widgets that only run on demand) and wait for its figure to change.
    widgets = page.locator(".jp-OutputArea-output:has(.noUi-handle)")
    assert widgets.count() > 0, f"{path.name} uses widgets but none rendered with a slider"
    for i in range(widgets.count()):
        widget = widgets.nth(i)
        widget.scroll_into_view_if_needed()
        button = widget.locator("button.jupyter-button")
        if button.count() and not widget.locator("img").count():
            button.first.click()  # interact_manual: nothing is drawn before the first run
            widget.locator("img").first.wait_for(timeout=120_000)
        before = image_digest(widget)
        assert widget.locator("img").count() > 0, f"{path.name} widget {i} draws no figure"
        assert figures_painted(widget, time.monotonic() + 30), f"{path.name} widget {i}: no figure"
        blank = blank_figures(widget, f"{path.stem}_widget{i}_before")
        assert not blank, f"{path.name} widget {i} draws an empty figure: {blank}"
        widget.screenshot(path=str(SHOTS / f"{path.stem}_widget{i}_before.png"))
        widget.locator(".noUi-handle").first.focus()
        moved = time.monotonic()
        page.keyboard.press("ArrowRight")
        if button.count():
            button.first.click()
        deadline = moved + 120
        # A new figure, not just the old one cleared while the widget works.
        while ((image_digest(widget) == before or not widget.locator("img").count())
               and time.monotonic() < deadline):
            time.sleep(0.05)
        painted = figures_painted(widget, deadline)
        latencies.append((f"{path.stem} widget {i}", time.monotonic() - moved))
        widget.screenshot(path=str(SHOTS / f"{path.stem}_widget{i}_after.png"))
        assert painted and image_digest(widget) != before, (
            f"{path.name} widget {i}: moving the slider did not draw a new figure")
        blank = blank_figures(widget, f"{path.stem}_widget{i}_after")
        assert not blank, f"{path.name} widget {i}: moving the slider drew an empty figure: {blank}"


def test_slides_show_the_first_three(lab, page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = NOTEBOOKS[0].name
    page.goto(f"{lab}/rise/notebooks/{name}")
    page.wait_for_selector(".reveal .slides section", timeout=120_000)
    time.sleep(2)
    titles = []
    for k in range(1, 4):
        page.screenshot(path=str(SHOTS / f"slides_{NOTEBOOKS[0].stem}_{k}.png"))
        titles.append(page.locator(".reveal .slides section.present").first.inner_text()[:200])
        page.keyboard.press("ArrowRight")
        time.sleep(1)
    assert titles[0].strip(), "the first slide is empty"
    assert len(set(titles)) == 3, "the first three slides are not three different slides"


def test_the_site_index_opens_and_links_every_notebook(page):
    if not SITE_INDEX.is_file():
        message = f"no site at {SITE_INDEX}: build it with `make site`"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    page.goto(SITE_INDEX.as_uri())
    cards = page.locator(".card")
    assert cards.count() == len(NOTEBOOKS)
    loaded = page.locator(".card img").evaluate_all("imgs => imgs.map(i => i.naturalWidth > 0)")
    assert loaded and all(loaded), "a thumbnail does not load"
    page.screenshot(path=str(SHOTS / "site_index.png"), full_page=True)
    first = page.locator(".card h2 a").first
    first.click()
    page.wait_for_load_state()
    assert page.locator(".jp-Notebook, .jp-Cell").count() > 0
