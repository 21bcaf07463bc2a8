"""The model zoo: trained models that several notebooks share, and pretrained ImageNet networks.

* :func:`cached_model` trains a model once per recipe and keeps it under
  ``data.cache_dir() / "models"``; every later call (from any notebook, in any order) loads it.
  Topic modules use it for their own models (an adversarially trained CNN, a CNN trained on half
  of the digits, an autoencoder).
* :func:`course_cnn` is the course's CNN for MNIST or Fashion-MNIST, trained with
  ``COURSE_CNN_RECIPES`` (notebook 04 trains it; notebooks 06, 08 and 09 reuse it).
* :func:`imagenet_mobilenet` is MobileNet v1 (width 0.25) with Google's ImageNet weights, taking
  images in [0, 1] like every other model of the course. The weights come from Keras' cache
  (``$KERAS_HOME/models``); when they are neither there nor downloadable,
  :class:`PretrainedUnavailable` says what to do, so that a notebook can skip just that section.

A cached model lives in its own folder, ``<name>_<hash>/`` with ``model.keras`` and
``info.json``. The folder is assembled under a temporary name and renamed into place in one
step, so a reader never pairs one run's model with another run's record, and of two processes
that train at once, the first to finish wins and the other keeps its own model for itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from course_utils import data, models, training, transforms

__all__ = [
    "COURSE_CNN_RECIPES",
    "IMAGENET_SIZES",
    "PretrainedUnavailable",
    "cached_model",
    "cached_training",
    "course_cnn",
    "course_cnn_info",
    "imagenet_class_names",
    "imagenet_mobilenet",
    "imagenet_photo",
    "imagenet_top_k",
    "models_dir",
]

# Bumped when a builder changes what a recipe produces, so that old cached models are not reused.
_CACHE_FORMAT = 2


# ------------------------------------------------------------------------------- the model cache


def models_dir() -> Path:
    """Folder of the cached trained models, ``data.cache_dir() / "models"`` (created if missing)."""
    path = data.cache_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cache_folder(name: str, recipe: dict) -> Path:
    fingerprint = json.dumps({"recipe": recipe, "keras": keras.__version__.split(".")[0],
                              "format": _CACHE_FORMAT}, sort_keys=True)
    key = hashlib.sha256(fingerprint.encode()).hexdigest()[:10]
    return models_dir() / f"{name}_{key}"


def _load_folder(folder: Path) -> tuple[keras.Model, dict] | None:
    """(model, record) from a cache folder, or None (with a printed reason) if it cannot be read."""
    if not folder.is_dir():
        return None
    try:
        info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
        if not isinstance(info, dict):
            raise ValueError("info.json does not hold a record")
        return keras.saving.load_model(folder / "model.keras"), info
    except Exception as err:  # noqa: BLE001 - any unreadable cache entry means: rebuild it
        print(f"The cached model {folder} cannot be loaded ({type(err).__name__}: {err}); "
              "training it again.")
        return None


def _publish_folder(staging: Path, folder: Path, replace: bool) -> None:
    """Rename a complete staging folder to ``folder``; give it the permissions of a normal folder.

    replace: move an existing ``folder`` (an unreadable or outdated entry) out of the way first.
    If another process published ``folder`` in the meantime, its entry stays and ours is dropped.
    """
    data.set_default_permissions(staging)
    for path in staging.iterdir():
        data.set_default_permissions(path)
    if replace and folder.exists():
        trash = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old."))
        with contextlib.suppress(FileNotFoundError):
            os.replace(folder, trash / "entry")
        shutil.rmtree(trash, ignore_errors=True)
    try:
        os.rename(staging, folder)
    except OSError:
        if not folder.is_dir():
            raise
        shutil.rmtree(staging, ignore_errors=True)


def cached_model(name: str, recipe: dict, train: Callable[[], tuple[keras.Model, dict]],
                 retrain: bool = False, verbose: bool = True) -> tuple[keras.Model, dict]:
    """Load a trained model from the cache, or train it once with ``train`` and cache it.

    Parameters
    ----------
    name : str
        Short name of the model, the start of its folder name (e.g. ``"course_cnn_mnist"``).
    recipe : dict
        Everything that determines the trained model (JSON-serialisable: architecture, training
        settings, seed, size of the training set). Its hash is part of the folder name, so a
        changed recipe trains a new model instead of loading a stale one.
    train : callable
        ``train() -> (model, record)``; the record is a JSON-serialisable dict of what a notebook
        may want to show (training time, epochs, ...).
    retrain : bool
        Train again even if a cached model exists, and replace it.
    verbose : bool
        Print one line saying whether the model was loaded or trained.

    Returns
    -------
    model : keras.Model
        Loaded models come back compiled as they were saved.
    record : dict
        The record returned by ``train``, plus ``"folder"``, the cache folder's name.
    """
    folder = _cache_folder(name, recipe)
    cached = None if retrain else _load_folder(folder)
    if cached is not None:
        if verbose:
            print(f"{name}: loaded from the cache ({folder.name})")
        return cached
    # Replace what is there now (unreadable, or retraining); an entry that appears while we train
    # was published by another process and stays.
    replace = folder.exists()
    model, record = train()
    record = {**record, "folder": folder.name}
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        model.save(staging / "model.keras")
        (staging / "info.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
        _publish_folder(staging, folder, replace=replace)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if verbose:
        print(f"{name}: saved to {folder}")
    return model, record


# --------------------------------------------------------------------------------- the course CNN

# One recipe reaches the targets on both datasets; they are separate entries to change either alone.
# No batch norm: on a CPU its layers double the time per step for little gain here.
COURSE_CNN_RECIPES: dict[str, dict] = {
    dataset: {
        "architecture": {"filters": [16, 32], "kernel_size": 3, "dense": [128], "batch_norm": False,
                         "dropout": 0.0, "padding": "valid"},
        "training": {"epochs": 8, "min_steps": 600, "batch_size": 128, "learning_rate": 3e-3,
                     "warmup_fraction": 0.1, "seed": 0},
    }
    for dataset in ("mnist", "fashion_mnist")
}
"""One recipe per dataset: ``architecture`` = keyword arguments of ``models.build_cnn``;
``training`` = the settings of ``training.train_with_recipe``."""


def _course_recipe(dataset: str, recipe: dict | None) -> dict:
    if recipe is None:
        if dataset not in COURSE_CNN_RECIPES:
            raise ValueError(f"no course CNN recipe for {dataset!r}; choose one of "
                             f"{sorted(COURSE_CNN_RECIPES)} or pass recipe=")
        recipe = COURSE_CNN_RECIPES[dataset]
    if not {"architecture", "training"} <= set(recipe):
        raise ValueError("a recipe is {'architecture': build_cnn keyword arguments, 'training': "
                         f"train_with_recipe settings}}, got {recipe}")
    training.check_training_recipe(recipe["training"])
    return recipe


def course_cnn(dataset: str = "mnist", recipe: dict | None = None, retrain: bool = False,
               verbose: bool = True) -> keras.Model:
    """The course's trained CNN for a dataset, from the cache or trained now.

    Parameters
    ----------
    dataset : {"mnist", "fashion_mnist"}
        Training data, from ``data.load_dataset``.
    recipe : dict, optional
        Replaces ``COURSE_CNN_RECIPES[dataset]`` (same structure), e.g. another seed or
        architecture; each recipe is cached separately.
    retrain : bool
        Train again and replace the cached model.
    verbose : bool
        Print where the data and the model come from, and one line per training epoch.

    Returns
    -------
    model : keras.Model
        Compiled; (N, 28, 28, 1) images in [0, 1] -> (N, 10) class probabilities. Its record
        (training time, epochs, ...) is :func:`course_cnn_info`.
    """
    return _course_cnn(dataset, recipe, retrain, verbose)[0]


def course_cnn_info(dataset: str = "mnist", recipe: dict | None = None,
                    verbose: bool = False) -> dict:
    """The training record of :func:`course_cnn` (trains the model first if it is not cached).

    Returns
    -------
    record : dict
        ``train_seconds``, ``epochs``, ``n_train``, ``dataset``, ``keras_version``, ``folder``.
        Accuracy is not recorded: evaluate the model on the test set to measure it.
    """
    return _course_cnn(dataset, recipe, False, verbose)[1]


def _course_cnn(dataset: str, recipe: dict | None, retrain: bool,
                verbose: bool) -> tuple[keras.Model, dict]:
    recipe = _course_recipe(dataset, recipe)
    (x_train, y_train), _ = data.load_dataset(dataset, verbose=False)
    return cached_training(
        f"course_cnn_{dataset}", {"architecture": recipe["architecture"]},
        lambda: models.build_cnn(input_shape=x_train.shape[1:], n_classes=int(y_train.max()) + 1,
                                 name=f"course_cnn_{dataset}", **recipe["architecture"]),
        recipe["training"], x_train, y_train, retrain=retrain, verbose=verbose)


def cached_training(name: str, description: dict, build: Callable[[], keras.Model],
                    settings: dict, x, y, retrain: bool = False,
                    verbose: bool | int = True) -> tuple[keras.Model, dict]:
    """Train a classifier with a training recipe once; later calls load it from the cache.

    Parameters
    ----------
    name : str
        Name of the cache entry, e.g. ``"dense_twin_mnist"``.
    description : dict
        What ``build`` builds (architecture, data variant): part of the cache key with
        ``settings`` and the size of the training set, so any change trains a new model.
    build : callable
        ``build() -> keras.Model``, see :func:`training.train_with_recipe`.
    settings : dict
        The training recipe (epochs, batch size, learning rate, seed, ...).
    x, y : arrays
        Training inputs (N, ...) and integer labels (N,).
    retrain : bool
        Train again and replace the cached model.
    verbose : bool or int
        Print whether the model was loaded or trained, and every ``verbose``-th epoch.

    Returns
    -------
    model : keras.Model
    record : dict
        ``train_seconds``, ``epochs``, ``n_train``, ``keras_version`` and ``folder``.
    """
    def train() -> tuple[keras.Model, dict]:
        if verbose:
            print(f"Training {name} on {len(x):,} examples ...")
        model, history = training.train_with_recipe(build, settings, x, y, verbose=verbose)
        return model, {"train_seconds": round(history.seconds, 1), "epochs": len(history.epoch),
                       "n_train": len(x), "keras_version": keras.__version__}

    return cached_model(name, {**description, "training": settings, "n_train": len(x)}, train,
                        retrain=retrain, verbose=bool(verbose))


# ---------------------------------------------------------------------------- ImageNet MobileNet

IMAGENET_SIZES = (128, 224)
_MOBILENET_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
_CLASS_INDEX_URL = ("https://storage.googleapis.com/download.tensorflow.org/data/"
                    "imagenet_class_index.json")


class PretrainedUnavailable(RuntimeError):
    """Pretrained weights are neither cached nor downloadable; the message says what to do."""


def _weights_file(size: int, include_top: bool) -> str:
    return f"mobilenet_2_5_{size}_tf{'' if include_top else '_no_top'}.h5"


def _keras_models_file(file_name: str, url: str, verify: Callable[[Path], None]) -> Path:
    """Path of a file in Keras' model cache, downloaded (once per process at most) if missing."""
    path = data.keras_home() / "models" / file_name
    if path.is_file():
        return path
    try:
        return data.download(url, path, verify=verify)
    except (data.DatasetUnavailable, data.ChecksumError) as err:
        raise PretrainedUnavailable(
            f"{file_name} is not in {path.parent} and cannot be downloaded ({err}). Run "
            f"`{data.PREFETCH_HINT}` once online, or copy the file from {url} to {path}."
        ) from err


def _check_h5(path: Path) -> None:
    import h5py

    with h5py.File(path, "r") as f:
        if not f.keys():
            raise data.ChecksumError(f"{path.name} holds no weights")


def imagenet_mobilenet(size: int = 128, include_top: bool = True,
                       pooling: str | None = None) -> keras.Model:
    """MobileNet v1 (width multiplier 0.25) with ImageNet weights, for images in [0, 1].

    Parameters
    ----------
    size : {128, 224}
        Input height and width in pixels.
    include_top : bool
        True: the ImageNet classifier, (N, size, size, 3) -> (N, 1000) class probabilities (its
        last layer is a softmax ``Activation`` named "predictions", whose input are the logits).
        False: the feature extractor without the classifier.
    pooling : {None, "avg", "max"}
        Without the top: None gives the last feature maps (N, size/32, size/32, 256); "avg" or
        "max" pools them to (N, 256) features.

    Returns
    -------
    model : keras.Model
        One flat functional model: a ``Rescaling`` layer named "to_minus1_1" maps [0, 1] pixels
        to MobileNet's [-1, 1], then MobileNet's own layers under their Keras names ("conv1",
        "conv_dw_1", "conv_pw_1_relu", ...), so layers can be picked by name.

    Raises
    ------
    PretrainedUnavailable
        When the weights are neither in Keras' cache nor downloadable, or unreadable.
    """
    if size not in IMAGENET_SIZES:
        raise ValueError(f"size must be one of {IMAGENET_SIZES}, got {size}")
    file_name = _weights_file(size, include_top)
    path = _keras_models_file(file_name, _MOBILENET_URL + file_name, verify=_check_h5)
    inputs = keras.Input((size, size, 3), name="pixels")
    scaled = keras.layers.Rescaling(2.0, offset=-1.0, name="to_minus1_1")(inputs)
    try:
        return keras.applications.MobileNet(
            alpha=0.25, input_shape=(size, size, 3), include_top=include_top, weights=str(path),
            input_tensor=scaled, pooling=pooling, name=f"mobilenet_025_{size}")
    except (OSError, ValueError) as err:
        raise PretrainedUnavailable(
            f"{path} is not a readable MobileNet weights file ({err}); delete it and run "
            f"`{data.PREFETCH_HINT}` once online, or copy the file from "
            f"{_MOBILENET_URL + file_name}."
        ) from err


def imagenet_photo(name: str, size: int = 128) -> np.ndarray:
    """A natural colour photo as the ImageNet networks take it: the central square, resized.

    Parameters
    ----------
    name : str
        One of ``data.image_names()`` (e.g. "coffee", "chelsea", "astronaut", "rocket").
    size : int
        Side of the result in pixels (128 for ``imagenet_mobilenet(128)``).

    Returns
    -------
    batch : float32 array, shape (1, size, size, 3)
        A batch of one, pixel values in [0, 1].
    """
    image = data.load_image(name, color="rgb")
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return transforms.resize_images(image[None, top:top + side, left:left + side], size)


def _check_class_index(path: Path) -> None:
    index = json.loads(Path(path).read_text(encoding="utf-8"))
    if len(index) != 1000:
        raise data.ChecksumError(f"{path.name} lists {len(index)} classes instead of 1000")


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet class names, index = class number (e.g. 967 = "espresso").

    Read from Keras' ``imagenet_class_index.json`` (in ``$KERAS_HOME/models``; downloaded if
    missing). Underscores are replaced by spaces. Raises :class:`PretrainedUnavailable` when the
    file cannot be had.
    """
    path = _keras_models_file("imagenet_class_index.json", _CLASS_INDEX_URL,
                              verify=_check_class_index)
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
        return [index[str(i)][1].replace("_", " ") for i in range(1000)]
    except (ValueError, KeyError, IndexError) as err:
        raise PretrainedUnavailable(f"{path} is not Keras' ImageNet class index ({err})") from err


def imagenet_top_k(probabilities, k: int = 5) -> list[list[tuple[str, float]]]:
    """The k most probable ImageNet classes of each prediction.

    Parameters
    ----------
    probabilities : array, shape (N, 1000) or (1000,)
        Output of the MobileNet classifier.
    k : int
        Classes per image.

    Returns
    -------
    top : list of N lists of (class name, probability), most probable first
    """
    p = np.atleast_2d(np.asarray(probabilities, dtype=np.float64))
    if p.ndim != 2 or p.shape[1] != 1000:
        raise ValueError(f"expected (N, 1000) ImageNet probabilities, got {np.shape(probabilities)}")
    if not 1 <= k <= 1000:
        raise ValueError(f"k must be in 1..1000, got {k}")
    names = imagenet_class_names()
    order = np.argsort(-p, axis=1)[:, :k]
    return [[(names[c], float(row[c])) for c in top] for row, top in zip(p, order, strict=True)]

