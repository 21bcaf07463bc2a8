"""Command line: ``python -m course_utils {prefetch,status}``.

``prefetch`` prepares a machine that will be offline in class: it downloads and verifies every
dataset, image and pretrained network, trains and caches the models that notebooks share, and ends
with one line saying whether the machine is ready. ``status`` shows where each dataset would be
loaded from, without downloading anything.
"""

from __future__ import annotations

import argparse
import sys

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


def _prefetch_models() -> bool:
    import course_utils
    from course_utils import zoo

    course_utils.setup(verbose=False)
    ok = True
    for dataset in zoo.COURSE_CNN_RECIPES:
        try:
            info = zoo.course_cnn_info(dataset, verbose=True)
            print(f"  ok       course CNN {dataset} ({info['folder']})")
        except data.DatasetUnavailable as err:
            ok = False
            print(f"  MISSING  course CNN {dataset}: {err}")
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


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m course_utils",
                                     description="Prepare and inspect a machine for the notebooks.")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("prefetch", help="download and verify everything, train the "
                                                 "shared models (run once while online)")
    fetch.add_argument("--no-models", action="store_true", help="data and weights only")
    commands.add_parser("status", help="where each dataset would be loaded from")
    args = parser.parse_args(argv)
    if args.command == "status":
        data.status()
        return 0
    return 0 if prefetch(models=not args.no_models) else 1


if __name__ == "__main__":
    sys.exit(main())
