"""Keras model builders and training plumbing for the notebooks on dense and convolutional networks.

The builders return ordinary ``keras.Model`` objects (uncompiled, unless a function says
otherwise): the notebooks still call ``model.compile`` / ``model.fit`` themselves when that is the
lesson, and use ``compile_classifier`` / ``fit`` when it is not.

Layer names are fixed so that notebooks can pick layers by name (``model.get_layer("conv1")``,
``activations(model, x, ["relu1"])``):

- ``build_mlp``: ``hidden``, ``hidden2``, ... and ``output`` (``flatten`` first for image inputs).
- ``build_cnn``: ``augmentation``; per conv block i = 1, 2, ...: ``conv{i}``, ``bn{i}``,
  ``relu{i}``, ``pool{i}``; residual blocks ``res{j}_...``; ``flatten``; per dense layer k:
  ``dropout{k}``, ``dense{k}``, ``dense_bn{k}``, ``dense_relu{k}``; ``output_dropout``, ``output``.
- ``build_deep_cnn``: ``stem_conv``, ``stem_relu``, ``stem_pool``; per block j: ``block{j}_conv1``,
  ``block{j}_relu1``, ``block{j}_conv2``, ``block{j}_add`` (residual only), ``block{j}_relu2``;
  ``mid_pool``, ``global_pool``, ``output``.

Convolutions and dense layers are linear, followed by a separate ``ReLU`` layer (and, with batch
norm, a ``BatchNormalization`` layer in between), so that both the pre-activation z and the
activation s(z) can be read out.

``course_cnn(dataset)`` returns the course's trained CNN, trained once per recipe and cached in
``data.cache_dir() / "models"``; later notebooks (feature visualisation, adversarial examples,
transfer learning) reuse it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from course_utils import data

# Keras' default 0.99 needs ~500 steps before the moving statistics used at inference forget their
# initial values; the notebooks train for a few hundred steps, so inference would use wrong ones.
BN_MOMENTUM = 0.9

OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
}


# ----------------------------------------------------------------------------------- dense networks


def build_mlp(n_inputs: int | Sequence[int], hidden: int | Sequence[int], n_outputs: int,
              activation: str = "sigmoid", output_activation: str = "softmax",
              name: str | None = None) -> keras.Sequential:
    """The lecture's dense network: ``Input -> Dense(hidden) ... -> Dense(n_outputs)``, uncompiled.

    n_inputs: number of input features, or an input shape such as (28, 28, 1) (then a ``flatten``
        layer comes first).
    hidden: units of each hidden layer, e.g. 100 or (100,) for the slide's network, (100, 50) for
        two hidden layers, () for none (multinomial logistic regression).
    n_outputs: number of classes (output units).
    Layer names: ``hidden``, ``hidden2``, ..., ``output``.
    """
    input_shape = (n_inputs,) if isinstance(n_inputs, int) else tuple(n_inputs)
    hidden = (hidden,) if isinstance(hidden, int) else tuple(hidden)
    if any(int(d) < 1 for d in input_shape) or n_outputs < 1 or any(h < 1 for h in hidden):
        raise ValueError(f"sizes must be positive: n_inputs={n_inputs}, hidden={hidden}, "
                         f"n_outputs={n_outputs}")
    layers = [keras.Input(input_shape)]
    if len(input_shape) > 1:
        layers.append(keras.layers.Flatten(name="flatten"))
    for i, units in enumerate(hidden, start=1):
        layers.append(keras.layers.Dense(units, activation=activation,
                                         name="hidden" if i == 1 else f"hidden{i}"))
    layers.append(keras.layers.Dense(n_outputs, activation=output_activation, name="output"))
    return keras.Sequential(layers, name=name or "mlp")


# --------------------------------------------------------------------------- convolutional networks


def augmentation(shift: float = 0.1, rotation: float = 0.05, zoom: float = 0.0,
                 flip: bool | str = False, contrast: float = 0.0,
                 seed: int = 0) -> keras.Sequential:
    """Random image transformations that are applied in training only (identity at inference).

    shift: largest translation as a fraction of the height/width. rotation: largest rotation as a
        fraction of a full turn (0.05 = 18 degrees). zoom: largest zoom in/out as a fraction.
    flip: True (or "horizontal"), "vertical" or "horizontal_and_vertical"; False for none (flipping
        changes the meaning of digits, so it is off by default).
    contrast: largest contrast change as a fraction; images are taken to be in [0, 1], and stay so.
    Pixels that move in from outside the image are black (0), the background of MNIST.
    Returns a ``keras.Sequential`` named "augmentation" with one layer per non-zero option; pass it
    to ``build_cnn(augmentation=...)`` or call it on an (N, H, W, C) batch with ``training=True``.
    """
    fill = {"fill_mode": "constant", "fill_value": 0.0}
    layers = []
    if shift:
        layers.append(keras.layers.RandomTranslation(shift, shift, seed=seed, name="shift", **fill))
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation, seed=seed + 1, name="rotation", **fill))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, seed=seed + 2, name="zoom", **fill))
    if flip:
        mode = "horizontal" if flip is True else flip
        layers.append(keras.layers.RandomFlip(mode, seed=seed + 3, name="flip"))
    if contrast:
        layers.append(keras.layers.RandomContrast(contrast, value_range=(0, 1), seed=seed + 4,
                                                  name="contrast"))
    if not layers:
        raise ValueError("every augmentation is switched off; pass augmentation=None to the model "
                         "builder instead")
    return keras.Sequential(layers, name="augmentation")


def _conv_bn_relu(x, filters: int, kernel_size: int, batch_norm: bool, names: tuple[str, str, str],
                  padding: str = "same", kernel_initializer: str = "glorot_uniform"):
    """Conv2D -> (BatchNormalization) -> ReLU; no conv bias under batch norm (its beta is one)."""
    conv, bn, relu = names
    x = keras.layers.Conv2D(filters, kernel_size, padding=padding, use_bias=not batch_norm,
                            kernel_initializer=kernel_initializer, name=conv)(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=bn)(x)
    return keras.layers.ReLU(name=relu)(x)


def _residual_block(x, prefix: str, kernel_size: int, batch_norm: bool, residual: bool,
                    kernel_initializer: str = "glorot_uniform"):
    """Two same-padded convolutions with, if ``residual``, an identity skip: relu(x + F(x)).

    x: (N, H, W, C) tensor; the output has the same shape. Without ``residual`` it is the plain
    stack relu(F(x)) with the same layers, so the two variants differ only by the ``Add`` layer.
    """
    filters = x.shape[-1]
    y = _conv_bn_relu(x, filters, kernel_size, batch_norm,
                      (f"{prefix}_conv1", f"{prefix}_bn1", f"{prefix}_relu1"),
                      kernel_initializer=kernel_initializer)
    y = keras.layers.Conv2D(filters, kernel_size, padding="same", use_bias=not batch_norm,
                            kernel_initializer=kernel_initializer, name=f"{prefix}_conv2")(y)
    if batch_norm:
        y = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{prefix}_bn2")(y)
    if residual:
        y = keras.layers.Add(name=f"{prefix}_add")([x, y])
    return keras.layers.ReLU(name=f"{prefix}_relu2")(y)


def build_cnn(input_shape: Sequence[int] = (28, 28, 1), n_classes: int = 10,
              filters: Sequence[int] = (32, 64), kernel_size: int = 3,
              dense: Sequence[int] = (128,),
              batch_norm: bool = False, dropout: float = 0.0, residual_blocks: int = 0,
              padding: str = "same", augmentation: keras.Layer | None = None,
              name: str | None = None) -> keras.Model:
    """A small CNN: conv blocks, then dense layers, then a softmax output; uncompiled.

    input_shape: (H, W, C) of one image. filters: number of filters of each conv block; a block is
        conv(kernel_size x kernel_size) -> [batch norm] -> ReLU -> 2x2 max-pool.
    dense: units of the hidden dense layers after flattening, each dense -> [batch norm] -> ReLU.
    batch_norm: put a BatchNormalization layer between every conv/dense layer and its ReLU
        (u = relu(gamma * (z - mu) / sigma + beta)); the conv/dense layer then has no bias.
    dropout: rate of a Dropout layer before each dense layer (hidden ones and output); 0 for none.
    residual_blocks: number of residual blocks (two convolutions with an identity skip connection)
        added after the last conv block, at its width.
    padding: "same" keeps the map size through each conv, "valid" shrinks it by kernel_size - 1.
    augmentation: a layer applied to the input first, e.g. ``augmentation()``; it is active in
        training only.
    Returns a functional ``keras.Model``: (N, H, W, C) images -> (N, n_classes) probabilities.
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be a rate in [0, 1), got {dropout}")
    size = min(input_shape[:2])
    for _ in filters:
        size = (size - (kernel_size - 1 if padding == "valid" else 0)) // 2
    if size < 1:
        raise ValueError(f"{len(filters)} conv blocks with {padding!r} {kernel_size}x{kernel_size} "
                         f"convolutions and 2x2 pooling shrink a {input_shape[:2]} image to "
                         "nothing; use fewer blocks, a smaller kernel or padding='same'")
    inputs = keras.Input(input_shape)
    x = inputs if augmentation is None else augmentation(inputs)
    for i, n_filters in enumerate(filters, start=1):
        x = _conv_bn_relu(x, n_filters, kernel_size, batch_norm, (f"conv{i}", f"bn{i}", f"relu{i}"),
                          padding=padding)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    for j in range(1, residual_blocks + 1):
        x = _residual_block(x, f"res{j}", kernel_size, batch_norm, residual=True)
    x = keras.layers.Flatten(name="flatten")(x)
    for k, units in enumerate(dense, start=1):
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{k}")(x)
        x = keras.layers.Dense(units, use_bias=not batch_norm, name=f"dense{k}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"dense_bn{k}")(x)
        x = keras.layers.ReLU(name=f"dense_relu{k}")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="output_dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=name or "cnn")


def build_deep_cnn(depth: int = 20, width: int = 16, residual: bool = False,
                   batch_norm: bool = False, input_shape: Sequence[int] = (28, 28, 1),
                   n_classes: int = 10, kernel_size: int = 3,
                   kernel_initializer: str = "glorot_uniform",
                   name: str | None = None) -> keras.Model:
    """A deep, narrow CNN with or without residual connections for the depth experiment; uncompiled.

    depth: number of layers with weights, counted as in ResNet-20: a stem conv, (depth - 2) / 2
        blocks of two convs each, and the output dense layer; an even number >= 4.
    width: filters of every conv layer. residual: add an identity skip around each block
        (relu(x + F(x)) instead of relu(F(x))); the plain and residual models have the same layers
        and the same number of parameters.
    Layout: stem conv -> 2x2 pool (14x14 on MNIST) -> first half of the blocks -> 2x2 pool (7x7) ->
        second half -> global average pool -> dense softmax.
    kernel_initializer: Keras' default glorot_uniform halves the signal variance at every
        conv -> ReLU, so a deep plain stack starts with vanishing activations and gradients, which
        the identity paths of the residual variant avoid; "he_normal" keeps the variance instead.
    """
    if depth < 4 or depth % 2:
        raise ValueError(f"depth must be an even number >= 4 (stem conv + pairs of convs + output "
                         f"layer), got {depth}")
    n_blocks = (depth - 2) // 2
    inputs = keras.Input(tuple(input_shape))
    x = _conv_bn_relu(inputs, width, kernel_size, batch_norm, ("stem_conv", "stem_bn", "stem_relu"),
                      kernel_initializer=kernel_initializer)
    x = keras.layers.MaxPooling2D(2, name="stem_pool")(x)
    for j in range(1, n_blocks + 1):
        x = _residual_block(x, f"block{j}", kernel_size, batch_norm, residual, kernel_initializer)
        if j == n_blocks // 2:
            x = keras.layers.MaxPooling2D(2, name="mid_pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="output")(x)
    kind = "residual" if residual else "plain"
    return keras.Model(inputs, outputs, name=name or f"{kind}_cnn_{depth}")


# ----------------------------------------------------------------------------------------- training


def warmup_cosine_schedule(peak_learning_rate: float, total_steps: int,
                           warmup_fraction: float = 0.1) -> keras.optimizers.schedules.CosineDecay:
    """A one-cycle-like learning-rate schedule: linear warm-up to the peak, then cosine decay to 0.

    The rate starts at peak / 10, rises linearly for ``warmup_fraction * total_steps`` optimizer
    steps (batches) and then decays as a half cosine to 0 at ``total_steps``.
    """
    if total_steps < 1 or not 0 <= warmup_fraction < 1:
        raise ValueError(f"need total_steps >= 1 and warmup_fraction in [0, 1), got {total_steps} "
                         f"and {warmup_fraction}")
    warmup = int(warmup_fraction * total_steps)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak_learning_rate / 10, decay_steps=total_steps - warmup,
        warmup_target=peak_learning_rate, warmup_steps=warmup)


LearningRate = float | keras.optimizers.schedules.LearningRateSchedule


def compile_classifier(model: keras.Model, learning_rate: LearningRate = 1e-3,
                       optimizer: str | keras.optimizers.Optimizer = "adam",
                       **compile_kwargs) -> keras.Model:
    """Compile a softmax classifier with sparse categorical cross-entropy and accuracy; returns it.

    Labels are integer classes (N,). optimizer: "adam", "adamw", "sgd" or "rmsprop" (created with
    ``learning_rate``, a number or a schedule), or a ready ``keras.optimizers.Optimizer``.
    compile_kwargs: passed on to ``model.compile`` (e.g. ``steps_per_execution``).
    """
    if isinstance(optimizer, str):
        if optimizer.lower() not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZERS)} "
                             "or pass a keras.optimizers.Optimizer")
        optimizer = OPTIMIZERS[optimizer.lower()](learning_rate=learning_rate)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  **compile_kwargs)
    return model


def fit(model: keras.Model, x, y, epochs: int, batch_size: int, validation_data=None,
        verbose: str | int = "auto", **kwargs) -> keras.callbacks.History:
    """``model.fit`` that also times the training: prints the time and sets ``history.seconds``.

    Keras' progress bar stays as ``verbose`` says ("auto"/1 bar, 2 one line per epoch, 0 silent).
    Other keyword arguments go to ``model.fit``.
    """
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                        verbose=verbose, **kwargs)
    history.seconds = time.perf_counter() - start
    n_epochs = max(len(history.epoch), 1)
    print(f"trained {len(history.epoch)} epochs in {history.seconds:.1f} s "
          f"({history.seconds / n_epochs:.1f} s/epoch)")
    return history


# --------------------------------------------------------------------------------------- inspection


def activations(model: keras.Model, x: np.ndarray, layer_names: Sequence[str] | None = None,
                batch_size: int = 256) -> dict[str, np.ndarray]:
    """Outputs of the named layers for an input batch, in inference mode.

    model: a functional model, or a Sequential one that has been built (created with
        ``keras.Input`` or called on data). x: (N, ...) input batch of the model's input shape.
    layer_names: layers to read out; default every layer (except the input).
    Returns {layer name: (N, ...) array}, in the order of ``layer_names``.
    """
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):  # a Sequential model that was never built
        inputs = None
    if not inputs:
        raise ValueError(f"model {model.name!r} has no defined input yet: create it with "
                         "keras.Input or call it on a batch first")
    layers = {layer.name: layer for layer in model.layers
              if not isinstance(layer, keras.layers.InputLayer)}
    names = list(layers) if layer_names is None else list(layer_names)
    unknown = [n for n in names if n not in layers]
    if unknown:
        raise ValueError(f"model {model.name!r} has no layer {unknown}; its layers are "
                         f"{list(layers)}")
    expected = tuple(inputs[0].shape[1:])
    if tuple(np.shape(x)[1:]) != expected:
        raise ValueError(f"x has shape {np.shape(x)}, the model expects (N, "
                         f"{', '.join(map(str, expected))})")
    probe = keras.Model(inputs, {n: layers[n].output for n in names})
    outputs = probe.predict(x, batch_size=batch_size, verbose=0)
    return {n: np.asarray(outputs[n]) for n in names}


# ----------------------------------------------------------------------------------- the course CNN

# One recipe reaches the targets on both datasets; they are separate entries to change either alone.
# Measured on the 2-core test machine: Fashion-MNIST 91.1% after 8 epochs (~5-10 s each), the offline
# MNIST subset 97.8%. No batch norm: on a CPU its layers double the time per step for little gain here.
COURSE_CNN_RECIPES: dict[str, dict] = {
    dataset: {
        "architecture": {"filters": [16, 32], "kernel_size": 3, "dense": [128], "batch_norm": False,
                         "dropout": 0.0, "padding": "valid"},
        "training": {"epochs": 8, "min_steps": 600, "batch_size": 128, "learning_rate": 3e-3,
                     "warmup_fraction": 0.1, "seed": 0},
    }
    for dataset in ("mnist", "fashion_mnist")
}
"""One recipe per dataset: ``architecture`` = keyword arguments of ``build_cnn``; ``training`` =
epochs, batch size, peak learning rate of ``warmup_cosine_schedule`` (Adam), random seed, and
``min_steps``: a small training set is trained for more epochs, until at least that many batches."""


def _check_recipe(dataset: str, recipe: dict | None) -> dict:
    if recipe is None:
        if dataset not in COURSE_CNN_RECIPES:
            raise ValueError(f"no course CNN recipe for {dataset!r}; choose one of "
                             f"{sorted(COURSE_CNN_RECIPES)} or pass recipe=")
        recipe = COURSE_CNN_RECIPES[dataset]
    missing = {"architecture", "training"} - set(recipe)
    if missing or not {"epochs", "batch_size", "learning_rate"} <= set(recipe["training"]):
        raise ValueError("a recipe is {'architecture': build_cnn kwargs, 'training': {'epochs', "
                         f"'batch_size', 'learning_rate', ...}}, got {recipe}")
    return recipe


def training_epochs(training: dict, n_train: int) -> int:
    """Epochs a recipe's ``training`` part runs on ``n_train`` images (more for small sets)."""
    steps_per_epoch = math.ceil(n_train / training["batch_size"])
    return max(training["epochs"], math.ceil(training.get("min_steps", 0) / steps_per_epoch))


def _cache_paths(dataset: str, recipe: dict, n_train: int) -> tuple[Path, Path]:
    """(model file, JSON sidecar) of a recipe trained on ``n_train`` images."""
    fingerprint = json.dumps({"recipe": recipe, "n_train": n_train,
                              "keras": keras.__version__.split(".")[0]}, sort_keys=True)
    key = hashlib.sha256(fingerprint.encode()).hexdigest()[:10]
    stem = data.cache_dir() / "models" / f"course_cnn_{dataset}_{key}"
    return stem.with_suffix(".keras"), stem.with_suffix(".json")


def _atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load_cached(model_path: Path, info_path: Path) -> tuple[keras.Model, dict] | None:
    """(model, sidecar dict) if both cached files load; None (with a printed note) otherwise."""
    if not model_path.exists():
        return None
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        return keras.saving.load_model(model_path), info
    except Exception as err:  # noqa: BLE001 - any unreadable cache file means: rebuild it
        print(f"The cached course CNN {model_path} cannot be loaded ({type(err).__name__}: "
              f"{err}); training it again.")
        return None


def course_cnn(dataset: str = "mnist", retrain: bool = False, verbose: bool = True,
               recipe: dict | None = None) -> keras.Model:
    """The course's trained CNN for ``dataset`` ("mnist" or "fashion_mnist"), compiled.

    Loaded from ``data.cache_dir() / "models"`` when it was trained before with the same recipe on a
    training set of the same size (the file name holds a hash of both and of the Keras major
    version); otherwise, or with ``retrain=True``, or when the cached file is unreadable, trained
    now (with Keras' progress bar), evaluated on the test set and saved atomically, together with a
    JSON sidecar of its metrics (see ``course_cnn_info``).
    recipe: override ``COURSE_CNN_RECIPES[dataset]`` (same structure), e.g. for an experiment.
    Training re-seeds Python, NumPy and Keras with the recipe's seed, so the model is reproducible.
    """
    recipe = _check_recipe(dataset, recipe)
    (x_train, y_train), (x_test, y_test) = data.load_dataset(dataset, verbose=verbose)
    model_path, info_path = _cache_paths(dataset, recipe, len(x_train))
    cached = None if retrain else _load_cached(model_path, info_path)
    if cached is not None:
        model, info = cached
        if verbose:
            print(f"Course CNN for {dataset}: loaded {model_path.name} (test accuracy "
                  f"{info['test_accuracy']:.2%}, trained in {info['train_seconds']:.0f} s on "
                  f"{info['n_train']:,} images)")
        return model

    training = recipe["training"]
    epochs = training_epochs(training, len(x_train))
    keras.utils.set_random_seed(training.get("seed", 0))
    model = build_cnn(input_shape=x_train.shape[1:], n_classes=int(y_train.max()) + 1,
                      name=f"course_cnn_{dataset}", **recipe["architecture"])
    steps = epochs * math.ceil(len(x_train) / training["batch_size"])
    compile_classifier(model, warmup_cosine_schedule(training["learning_rate"], steps,
                                                     training.get("warmup_fraction", 0.1)))
    print(f"Training the course CNN on {dataset} ({len(x_train):,} images, {epochs} epochs) ...")
    history = fit(model, x_train, y_train, epochs=epochs, batch_size=training["batch_size"],
                  verbose="auto" if verbose else 0)
    test = model.evaluate(x_test, y_test, batch_size=512, verbose=0, return_dict=True)
    info = {"dataset": dataset, "test_accuracy": float(test["accuracy"]),
            "test_loss": float(test["loss"]), "train_seconds": round(history.seconds, 1),
            "epochs": epochs, "n_train": len(x_train), "n_test": len(x_test),
            "keras_version": keras.__version__, "file": model_path.name, "recipe": recipe}
    _atomic_write(info_path, lambda tmp: Path(tmp).write_text(json.dumps(info, indent=2),
                                                              encoding="utf-8"))
    _atomic_write(model_path, model.save)
    print(f"test accuracy {info['test_accuracy']:.2%}; saved to {model_path}")
    return model


def course_cnn_info(dataset: str = "mnist", recipe: dict | None = None) -> dict:
    """Metrics of the cached course CNN for ``dataset``: the JSON sidecar written by ``course_cnn``.

    Keys: test_accuracy (fraction), test_loss, train_seconds, epochs, n_train, n_test,
    keras_version, file, recipe. Raises FileNotFoundError if that model has not been trained yet.
    """
    recipe = _check_recipe(dataset, recipe)
    (x_train, _), _ = data.load_dataset(dataset, verbose=False)
    _, info_path = _cache_paths(dataset, recipe, len(x_train))
    if not info_path.exists():
        raise FileNotFoundError(f"no trained course CNN for {dataset!r} with this recipe at "
                                f"{info_path}; run course_cnn({dataset!r}) first")
    return json.loads(info_path.read_text(encoding="utf-8"))
