"""Command line: ``python -m course_utils {prefetch,status,check,student,site}``.

``prefetch`` prepares a machine that will be offline in class: it downloads and verifies every
dataset, image and pretrained network, trains and caches the models that notebooks share, and ends
with one line saying whether the machine is ready. ``status`` shows where each dataset would be
loaded from, without downloading anything. ``check`` prints a pass/fail table of everything a
class needs on this machine. ``student`` writes the notebooks without their worked solutions.
``site`` builds a static website of the executed notebooks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_utils import data


def _prefetch_pretrained() -> bool:
    from course_utils import zoo

    try:
        for size in zoo.IMAGENET_SIZES:
            for include_top in (True, False):
                zoo.imagenet_mobilenet(size, include_top)
        zoo.imagenet_class_names()
    except zoo.PretrainedUnavailable as err:
        print(f"  MISSING  ImageNet MobileNet: {err}")
        return False
    print(f"  ok       ImageNet MobileNet (sizes {zoo.IMAGENET_SIZES}) in {data.keras_home()}")
    return True


def _shared_models() -> list[tuple[str, object]]:
    """(label, function that loads or trains it) for every trained model the notebooks share."""
    from course_utils import attacks, autoencoders, transfer, zoo

    models = [(f"course CNN {dataset}", lambda d=dataset: zoo.course_cnn(d))
              for dataset in zoo.COURSE_CNN_RECIPES]
    models += [("second CNN mnist (08)", lambda: attacks.second_cnn("mnist")),
               ("adversarially trained CNN mnist (08)",
                lambda: attacks.adversarially_trained_cnn("mnist"))]
    models += [(f"CNN on classes 0-4 of {dataset} (09)", lambda d=dataset: transfer.half_cnn(d))
               for dataset in transfer.HALF_CNN_RECIPES]
    models += autoencoders.notebook_models()
    return models


def _prefetch_models() -> bool:
    import course_utils

    course_utils.setup(verbose=False)
    ok = True
    for label, load in _shared_models():
        try:
            load()
            print(f"  ok       {label}")
        except data.DatasetUnavailable as err:
            ok = False
            print(f"  MISSING  {label}: {err}")
    return ok


def prefetch(models: bool = True) -> bool:
    """Fetch everything the notebooks load and train what they share; True if all is there."""
    print(f"Prefetching into {data.keras_home()} (Keras) and {data.cache_dir()} (course cache) ...")
    ok = data.prefetch_datasets()
    ok = _prefetch_pretrained() and ok
    if models:
        ok = _prefetch_models() and ok
    print("Everything is cached: this machine can run the notebooks offline." if ok else
          "Some items are missing (see above): the notebooks fall back where they can.")
    return ok


def check(measure: bool) -> bool:
    """Print the readiness table (measuring the notebooks' run times first if asked)."""
    from course_utils import classroom

    if measure:
        _execute_all(record=True)
    return classroom.print_table(classroom.readiness())


def _execute_all(record: bool, reuse: Path | None = None) -> dict:
    """{name: executed notebook}, taken from ``reuse`` when fresher than the source, else run."""
    from course_utils import classroom, publish

    executed = {}
    for path in classroom.notebook_paths():
        recorded = None if reuse is None else reuse / path.name
        if recorded is not None and recorded.is_file() and (
                recorded.stat().st_mtime >= path.stat().st_mtime):
            executed[path.name] = publish.nbformat.read(recorded, as_version=4)
            print(f"  {path.name}: executed copy from {reuse}")
            continue
        print(f"  {path.name}: running ...", flush=True)
        executed[path.name] = publish.execute_notebook(path)
        seconds = executed[path.name].metadata["course"]["run_seconds"]
        print(f"  {path.name}: ran in {seconds:.0f} s")
        if record:
            classroom.record_run_times({path.name: seconds})
    return executed


def site(out: Path, executed_dir: Path | None) -> Path:
    """Build the static site from executed notebooks (running those not executed yet)."""
    from course_utils import classroom, publish

    executed = _execute_all(record=True, reuse=executed_dir)
    classroom.record_run_times({name: nb.metadata.get("course", {}).get("run_seconds", 0)
                                for name, nb in executed.items()})
    index = publish.build_site(out, {name: publish.static_widgets(nb)
                                     for name, nb in executed.items()})
    print(f"site written: {index}")
    return index


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m course_utils",
                                     description="Prepare and inspect a machine for the notebooks.")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("prefetch", help="download and verify everything, train the "
                                                 "shared models (run once while online)")
    fetch.add_argument("--no-models", action="store_true", help="data and weights only")
    commands.add_parser("status", help="where each dataset would be loaded from")
    ready = commands.add_parser("check", help="is this machine ready for class? (pass/fail table)")
    ready.add_argument("--measure", action="store_true",
                       help="run every notebook now to measure its run time on this machine")
    student = commands.add_parser("student", help="write the notebooks without their solutions")
    student.add_argument("--out", type=Path, default=data.PROJECT_ROOT / "build" / "student")
    web = commands.add_parser("site", help="build a static site of the executed notebooks")
    web.add_argument("--out", type=Path, default=data.PROJECT_ROOT / "build" / "site")
    web.add_argument("--reuse", type=Path, default=None, metavar="DIR",
                     help="reuse the executed copies in DIR that are fresher than the notebooks "
                          "(make test records them) instead of running those notebooks again")
    args = parser.parse_args(argv)
    if args.command in ("check", "prefetch"):
        import course_utils

        # Both load Keras models: without this, TensorFlow's C++ start-up notices open the report.
        course_utils.setup(verbose=False)
    if args.command == "status":
        data.status()
        return 0
    if args.command == "check":
        return 0 if check(args.measure) else 1
    if args.command == "student":
        from course_utils import publish

        written = publish.student_edition(args.out)
        print(f"{len(written)} student notebooks (solutions removed) in {args.out}")
        return 0
    if args.command == "site":
        site(args.out, args.reuse)
        return 0
    return 0 if prefetch(models=not args.no_models) else 1


if __name__ == "__main__":
    sys.exit(main())
