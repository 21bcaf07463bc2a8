"""Is this machine ready for class? ``python -m course_utils check`` prints one pass/fail table.

It checks the versions in use against the pinned ones (and that the kernel runs widget callbacks on
one thread, see :func:`_kernel_check`), says whether TensorFlow sees a GPU, checks
that every dataset, pretrained network and shared trained model is on disk (nothing would need a
download in class), and lists the run time of each notebook measured on this machine (recorded
by ``make test`` or ``python -m course_utils site``; ``--measure`` runs them now).
"""

from __future__ import annotations

import json
import platform
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NamedTuple

from course_utils import data

__all__ = ["Check", "notebook_paths", "readiness", "record_run_times", "recorded_run_times"]

NOTEBOOKS_DIR = data.PROJECT_ROOT / "notebooks"

PINNED = ("tensorflow-cpu", "keras", "numpy", "scipy", "matplotlib", "ipywidgets", "jupyterlab",
          "scikit-learn", "scikit-image")


def notebook_paths(folder: str | Path = NOTEBOOKS_DIR) -> list[Path]:
    """The lecture notebooks of ``folder``, in order (``NN_topic.ipynb``)."""
    paths = sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no NN_topic.ipynb notebooks in {folder}")
    return paths


class Check(NamedTuple):
    """One line of the readiness table."""

    item: str
    ok: bool
    detail: str


def _pinned_versions() -> dict[str, str]:
    requirements = data.PROJECT_ROOT / "requirements.txt"
    if not requirements.is_file():
        return {}
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^;\s]+)", line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def _version_checks() -> list[Check]:
    pins = _pinned_versions()
    checks = [Check("Python", platform.python_version().startswith("3.11"),
                    f"{platform.python_version()} (tested with 3.11)")]
    for package in PINNED:
        try:
            installed = version(package)
        except PackageNotFoundError:
            if package == "tensorflow-cpu":  # a GPU install has "tensorflow" instead
                try:
                    installed = version("tensorflow")
                except PackageNotFoundError:
                    checks.append(Check("tensorflow", False, "not installed"))
                    continue
                package = "tensorflow"
            else:
                checks.append(Check(package, False, "not installed"))
                continue
        wanted = pins.get(package, pins.get("tensorflow-cpu") if package == "tensorflow" else None)
        ok = wanted is None or installed == wanted
        checks.append(Check(package, ok, installed if ok else f"{installed}, pinned {wanted}"))
    return checks


def _kernel_check() -> Check:
    """ipykernel 7 with JupyterLab >= 4.4 runs widget callbacks beside the main thread.

    JupyterLab then sends widget messages to the kernel's subshells, each served by its own thread;
    pyplot is not thread-safe, and a figure drawn by two threads at once comes out blank.
    """
    try:
        installed = version("ipykernel")
    except PackageNotFoundError:
        return Check("ipykernel", False, "not installed: pip install -r requirements.txt")
    if int(installed.split(".")[0]) < 7:
        return Check("ipykernel", True, installed)
    return Check("ipykernel", False,
                 f"{installed}: with JupyterLab >= 4.4 widget callbacks run on two threads and "
                 "sliders can draw blank figures; pip install -r requirements.txt (ipykernel 6), or "
                 "in JupyterLab's Settings Editor set Kernels > 'Kernel Comms over subshells' to "
                 "Disabled")


def _gpu_check() -> Check:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return Check("GPU", True, f"{len(gpus)} GPU(s): {[g.name for g in gpus]}" if gpus else
                 "none: the notebooks run on the CPU (within their time budgets)")


def _data_checks() -> list[Check]:
    checks = []
    for name in data.manifest()["datasets"]:
        where = data.source_of(name)
        ok = not where.startswith(("not on this machine", "missing"))
        if name == "mnist" and not ok:
            where += "; the notebooks use the offline 5,000-digit subset"
        checks.append(Check(f"dataset {name}", ok, where))
    return checks


def _pretrained_checks() -> list[Check]:
    from course_utils import zoo

    checks = []
    folder = data.keras_home() / "models"
    for size in zoo.IMAGENET_SIZES:
        for top in (True, False):
            name = zoo._weights_file(size, top)
            checks.append(Check(f"weights {name}", (folder / name).is_file(), str(folder)))
    index = folder / "imagenet_class_index.json"
    checks.append(Check("ImageNet class names", index.is_file(), str(folder)))
    return checks


def _model_checks() -> list[Check]:
    from course_utils import zoo

    names = sorted({p.name.rsplit("_", 1)[0] for p in zoo.models_dir().iterdir() if p.is_dir()
                    and not p.name.startswith(".")})
    shared = [f"course_cnn_{dataset}" for dataset in zoo.COURSE_CNN_RECIPES]
    return [Check(f"model {name}", name in names,
                  "cached" if name in names else f"not cached: `{data.PREFETCH_HINT}` trains it")
            for name in shared] + [Check(f"model {name}", True, "cached")
                                   for name in names if name not in shared]


def _runs_file() -> Path:
    return data.cache_dir() / "notebook_runs.json"


def recorded_run_times() -> dict[str, float]:
    """{notebook file name: seconds} measured on this machine, as recorded so far."""
    path = _runs_file()
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def record_run_times(times: dict[str, float]) -> None:
    """Add measured notebook run times (seconds) to this machine's record."""
    runs = {**recorded_run_times(), **{k: round(float(v), 1) for k, v in times.items()}}
    _runs_file().write_text(json.dumps(dict(sorted(runs.items())), indent=2), encoding="utf-8")


def _run_time_checks(budget_s: float) -> list[Check]:
    runs = recorded_run_times()
    checks = []
    for path in notebook_paths():
        seconds = runs.get(path.name)
        if seconds is None:
            checks.append(Check(f"run time {path.name}", True,
                                "not measured yet on this machine (`check --measure`)"))
        else:
            checks.append(Check(f"run time {path.name}", seconds <= budget_s,
                                f"{seconds:.0f} s" + ("" if seconds <= budget_s else
                                                      f", over the {budget_s:.0f} s of a class")))
    return checks


def readiness(budget_s: float = 300) -> list[Check]:
    """Every check of the table, in order: versions, the kernel, GPU, data, weights, models, run times."""
    return (_version_checks() + [_kernel_check(), _gpu_check()] + _data_checks() + _pretrained_checks()
            + _model_checks() + _run_time_checks(budget_s))


def print_table(checks: list[Check]) -> bool:
    """Print the checks as a table; True if all passed."""
    width = max(len(c.item) for c in checks)
    for c in checks:
        print(f"  {'PASS' if c.ok else 'FAIL'}  {c.item:<{width}}  {c.detail}")
    failed = [c for c in checks if not c.ok]
    print(f"{len(checks) - len(failed)} of {len(checks)} checks passed: "
          + ("this machine is ready for class." if not failed else
             "fix the FAIL lines (most are solved by running `python -m course_utils prefetch` "
             "once while online)."))
    return not failed
