"""Training plumbing: compile, a timed fit with one line per epoch, schedules, recipes, callbacks.

* :func:`compile_classifier` and :func:`timed_fit`: the two calls every training run makes.
  ``timed_fit`` prints one compact line per epoch (or nothing) and the total time, instead of
  Keras' progress bar, so an executed notebook stays short.
* :func:`warmup_cosine_schedule`: warm-up, then cosine decay of the learning rate.
* :func:`train_with_recipe`: seed, build, compile and fit from a recipe dict; the cached course
  models (``zoo``) and the notebooks' comparison models are trained by it, so they differ only
  where their recipes do.
* Callbacks: :class:`EpochLine`, :class:`ValidationCurve` (accuracy every few steps),
  :class:`StopAtAccuracy`; curves: :func:`steps_to_reach`, :func:`history_curve`.
* :func:`random_labels` (Zhang et al.'s memorisation experiment) and :func:`train_2d_classifier`
  (the lecture's dense network on 2D points, cached for the widgets).

A curve is a pair ``(x, y)`` of equally long 1D arrays: x the optimizer step (or epoch),
strictly increasing; y the value measured there (accuracy as a fraction).
"""

from __future__ import annotations

import functools
import math
import numbers
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import keras
import numpy as np
from sklearn.model_selection import train_test_split

from course_utils import data, models

__all__ = [
    "EpochLine",
    "OPTIMIZERS",
    "StopAtAccuracy",
    "Trained2D",
    "ValidationCurve",
    "check_training_recipe",
    "compile_classifier",
    "history_curve",
    "random_labels",
    "recipe_epochs",
    "steps_to_reach",
    "timed_fit",
    "train_2d_classifier",
    "train_with_recipe",
    "warmup_cosine_schedule",
]

OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
}

Curve = tuple[np.ndarray, np.ndarray]
LearningRate = float | keras.optimizers.schedules.LearningRateSchedule


# ------------------------------------------------------------------------------------ compile, fit


def compile_classifier(model: keras.Model, learning_rate: LearningRate = 1e-3,
                       optimizer: str | keras.optimizers.Optimizer = "adam",
                       **compile_kwargs) -> keras.Model:
    """Compile a softmax classifier with sparse categorical cross-entropy and accuracy.

    Parameters
    ----------
    model : keras.Model
        Outputs (N, n_classes) probabilities; labels are integer classes (N,).
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule
        Step size, or a schedule such as :func:`warmup_cosine_schedule`.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or keras.optimizers.Optimizer
        A name (created with ``learning_rate``) or a ready optimizer.
    **compile_kwargs
        Passed on to ``model.compile`` (e.g. ``steps_per_execution``).

    Returns
    -------
    model : keras.Model
        The same model, compiled.
    """
    if isinstance(optimizer, str):
        if optimizer.lower() not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZERS)} "
                             "or pass a keras.optimizers.Optimizer")
        optimizer = OPTIMIZERS[optimizer.lower()](learning_rate=learning_rate)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  **compile_kwargs)
    return model


class EpochLine(keras.callbacks.Callback):
    """Print one compact line per epoch: its number, its logged metrics and its duration.

    Parameters
    ----------
    every : int
        Print every ``every``-th epoch (and always the last one).
    """

    def __init__(self, every: int = 1):
        super().__init__()
        self.every = max(1, int(every))
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None) -> None:
        total = self.params.get("epochs") or 0
        if (epoch + 1) % self.every and epoch + 1 != total:
            return
        values = "  ".join(f"{name} {value:.4f}" for name, value in (logs or {}).items()
                           if name != "learning_rate")
        print(f"epoch {epoch + 1:>3}/{total}  {values}  ({time.perf_counter() - self._start:.1f} s)")


def timed_fit(model: keras.Model, x, y, epochs: int, batch_size: int, validation_data=None,
              verbose: bool | int = True, **fit_kwargs) -> keras.callbacks.History:
    """``model.fit`` with compact output: one line per epoch, then the total time.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    x, y : arrays
        Training inputs (N, ...) and labels (N,).
    epochs, batch_size : int
        As in ``model.fit``.
    validation_data : tuple, optional
        ``(x_val, y_val)``, evaluated after every epoch (adds ``val_*`` to the logs).
    verbose : bool or int
        True (or an int n >= 1): a line every n-th epoch and the total; False/0: silent.
    **fit_kwargs
        Passed on to ``model.fit`` (``callbacks`` are kept and run after the epoch line).

    Returns
    -------
    history : keras.callbacks.History
        With an extra attribute ``seconds``, the wall time of the whole fit.
    """
    every = int(verbose)
    callbacks = list(fit_kwargs.pop("callbacks", None) or [])
    if every:
        callbacks.insert(0, EpochLine(every))
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size,
                        validation_data=validation_data, verbose=0, callbacks=callbacks,
                        **fit_kwargs)
    history.seconds = time.perf_counter() - start
    if every:
        n_epochs = max(len(history.epoch), 1)
        print(f"trained {len(history.epoch)} epochs in {history.seconds:.1f} s "
              f"({history.seconds / n_epochs:.1f} s/epoch)")
    return history


def warmup_cosine_schedule(peak_learning_rate: float, total_steps: int,
                           warmup_fraction: float = 0.1) -> keras.optimizers.schedules.CosineDecay:
    """Linear warm-up to a peak learning rate, then cosine decay to 0.

    Parameters
    ----------
    peak_learning_rate : float
        The largest step size, reached at the end of the warm-up.
    total_steps : int
        Optimizer steps (batches) of the whole training run.
    warmup_fraction : float
        Fraction of the steps spent rising linearly from peak / 10 to the peak.

    Returns
    -------
    schedule : keras.optimizers.schedules.CosineDecay
        Pass it as the ``learning_rate`` of an optimizer.
    """
    if total_steps < 1 or not 0 <= warmup_fraction < 1:
        raise ValueError(f"need total_steps >= 1 and warmup_fraction in [0, 1), got {total_steps} "
                         f"and {warmup_fraction}")
    warmup = int(warmup_fraction * total_steps)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak_learning_rate / 10, decay_steps=total_steps - warmup,
        warmup_target=peak_learning_rate, warmup_steps=warmup)


# ------------------------------------------------------------------------------------------ recipes

_REQUIRED_SETTINGS = ("epochs", "batch_size", "learning_rate")


def check_training_recipe(settings: dict) -> dict:
    """Check the ``training`` part of a recipe and return it.

    Parameters
    ----------
    settings : dict
        ``epochs``, ``batch_size``, ``learning_rate`` (peak of :func:`warmup_cosine_schedule`),
        and optionally ``warmup_fraction`` (default 0.1), ``seed`` (default 0) and
        ``min_steps``: a small training set is trained for more epochs, until at least that
        many batches.
    """
    missing = [key for key in _REQUIRED_SETTINGS if key not in settings]
    if missing:
        raise ValueError(f"the training recipe {settings} lacks {missing}; it needs "
                         f"{list(_REQUIRED_SETTINGS)}")
    return settings


def recipe_epochs(settings: dict, n_train: int) -> int:
    """Epochs a training recipe runs on ``n_train`` examples (more for small sets, see min_steps)."""
    steps_per_epoch = math.ceil(n_train / settings["batch_size"])
    return max(settings["epochs"], math.ceil(settings.get("min_steps", 0) / steps_per_epoch))


def train_with_recipe(build: Callable[[], keras.Model], settings: dict, x, y,
                      validation_data=None, verbose: bool | int = True,
                      **fit_kwargs) -> tuple[keras.Model, keras.callbacks.History]:
    """Seed, build, compile and train a classifier as a recipe says.

    Parameters
    ----------
    build : callable
        ``build() -> keras.Model``, called after seeding so that the initial weights follow the
        recipe's seed (e.g. ``lambda: models.build_cnn(**architecture)``).
    settings : dict
        The training part of a recipe, see :func:`check_training_recipe`.
    x, y : arrays
        Training inputs (N, ...) and integer labels (N,).
    validation_data : tuple, optional
        ``(x_val, y_val)`` measured after each epoch.
    verbose : bool or int
        As in :func:`timed_fit`.
    **fit_kwargs
        Passed on to ``model.fit`` (e.g. ``callbacks``).

    Returns
    -------
    model : keras.Model
        Trained, compiled with Adam on :func:`warmup_cosine_schedule`.
    history : keras.callbacks.History
        With ``history.seconds``, the training time.
    """
    settings = check_training_recipe(settings)
    epochs = recipe_epochs(settings, len(x))
    keras.utils.set_random_seed(settings.get("seed", 0))
    model = build()
    steps = epochs * math.ceil(len(x) / settings["batch_size"])
    compile_classifier(model, warmup_cosine_schedule(settings["learning_rate"], steps,
                                                     settings.get("warmup_fraction", 0.1)))
    history = timed_fit(model, x, y, epochs=epochs, batch_size=settings["batch_size"],
                        validation_data=validation_data, verbose=verbose, **fit_kwargs)
    return model, history


# ---------------------------------------------------------------------------------------- callbacks


class ValidationCurve(keras.callbacks.Callback):
    """Record a model's accuracy on a fixed validation set every few optimizer steps.

    Parameters
    ----------
    x_val : array, shape (N, ...)
        Validation inputs.
    y_val : array of int, shape (N,)
        Their labels.
    every : int
        Interval in optimizer steps (batches), counted over the whole fit, across epochs.
    batch_size : int
        Images per forward pass.

    Notes
    -----
    Accuracy is measured in inference mode (dropout off, batch norm on its moving statistics)
    before the first step (step 0) and after every ``every``-th step. Read it as ``.curve``.
    """

    def __init__(self, x_val: np.ndarray, y_val: np.ndarray, every: int = 5,
                 batch_size: int = 1000):
        super().__init__()
        if len(x_val) != len(y_val) or len(x_val) == 0:
            raise ValueError(f"x_val and y_val must be non-empty and equally long, got "
                             f"{len(x_val)} and {len(y_val)}")
        if every < 1 or batch_size < 1:
            raise ValueError(f"every and batch_size must be >= 1, got {every} and {batch_size}")
        self.x_val = np.asarray(x_val)
        self.y_val = np.asarray(y_val).ravel()
        self.every = int(every)
        self.batch_size = int(batch_size)
        self.steps: list[int] = []
        self.accuracy: list[float] = []
        self._step = 0

    def _record(self) -> None:
        correct = 0
        for start in range(0, len(self.x_val), self.batch_size):
            probs = self.model.predict_on_batch(self.x_val[start:start + self.batch_size])
            labels = self.y_val[start:start + self.batch_size]
            correct += int(np.sum(np.argmax(probs, axis=-1) == labels))
        self.steps.append(self._step)
        self.accuracy.append(correct / len(self.y_val))

    def on_train_begin(self, logs=None) -> None:
        self.steps, self.accuracy, self._step = [], [], 0
        self._record()

    def on_train_batch_end(self, batch, logs=None) -> None:
        self._step += 1
        if self._step % self.every == 0:
            self._record()

    @property
    def curve(self) -> Curve:
        """(steps (n,) int64, accuracy (n,) float64) recorded so far."""
        return np.asarray(self.steps, dtype=np.int64), np.asarray(self.accuracy, dtype=np.float64)


class StopAtAccuracy(keras.callbacks.Callback):
    """Stop training at the end of the first epoch whose ``monitor`` value reaches ``target``.

    Parameters
    ----------
    target : float
        An accuracy in (0, 1].
    monitor : str
        A key of the epoch logs, e.g. "accuracy" (training accuracy of the epoch, as Keras
        reports it) or "val_accuracy".

    Attributes
    ----------
    reached_epoch : int or None
        That epoch counted from 1, or None if training ended first.
    """

    def __init__(self, target: float, monitor: str = "accuracy"):
        super().__init__()
        if not 0 < target <= 1:
            raise ValueError(f"target must be an accuracy in (0, 1], got {target}")
        self.target = float(target)
        self.monitor = monitor
        self.reached_epoch: int | None = None

    def on_train_begin(self, logs=None) -> None:
        self.reached_epoch = None

    def on_epoch_end(self, epoch, logs=None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(f"{self.monitor!r} is not in the epoch logs {sorted(logs)}; "
                             "compile with metrics=['accuracy'] or pass validation data")
        if logs[self.monitor] >= self.target:
            self.reached_epoch = epoch + 1
            self.model.stop_training = True


# ------------------------------------------------------------------------------------------- curves


def _check_curve(curve: Curve) -> Curve:
    x, y = (np.asarray(c, dtype=np.float64) for c in curve)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"a curve is (x, y) with two (n,) arrays, got shapes {x.shape} and "
                         f"{y.shape}")
    if np.any(np.diff(x) <= 0):
        raise ValueError("the x values of a curve (steps or epochs) must be strictly increasing")
    return x, y


def steps_to_reach(curve: Curve, target: float) -> float | None:
    """The first x (step or epoch) at which a curve reaches ``target``.

    Parameters
    ----------
    curve : (array, array)
        (x (n,), y (n,)) with x strictly increasing, e.g. ``ValidationCurve.curve``.
    target : float
        The y value to reach.

    Returns
    -------
    x : float or None
        A recorded x value (exact only up to the recording interval), or None if y never
        reaches the target.
    """
    x, y = _check_curve(curve)
    reached = np.flatnonzero(y >= target)
    return float(x[reached[0]]) if reached.size else None


def history_curve(history, metric: str = "accuracy") -> Curve:
    """A per-epoch metric of a Keras ``History`` (or its ``.history`` dict) as a curve.

    Returns
    -------
    epochs : array of int, shape (n,)
        Counted from 1.
    values : array of float, shape (n,)
    """
    logs = getattr(history, "history", history)
    if metric not in logs:
        raise ValueError(f"{metric!r} is not in the history; it has {sorted(logs)}")
    values = np.asarray(logs[metric], dtype=np.float64)
    return np.arange(1, len(values) + 1), values


# ------------------------------------------------------------------------------------------- labels


def random_labels(y, seed: int, n_classes: int | None = None) -> np.ndarray:
    """Labels drawn uniformly at random, independently of the images (Zhang et al. 2017).

    Parameters
    ----------
    y : array of int, shape (N,)
        True labels; only their number and (by default) the number of classes, max + 1, are used.
    seed : int
        Seed of the draw.
    n_classes : int, optional
        Number of classes.

    Returns
    -------
    labels : int64 array, shape (N,)
        In 0..n_classes-1; about 1/n_classes of them agree with ``y`` by chance.
    """
    y = np.asarray(y).ravel()
    if y.size == 0:
        raise ValueError("y is empty")
    n_classes = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if n_classes < 2:
        raise ValueError(f"need at least 2 classes, got n_classes={n_classes}")
    return np.random.default_rng(seed).integers(0, n_classes, size=y.size, dtype=np.int64)


# ------------------------------------------------------------------ the 2D demo network (notebook 02)

# The slide's fit is epochs=30, batch_size=100. Our 420 training points make only 5 batches of 100
# per epoch, too few Adam steps for sigmoid units to settle; batches of 20 give 630 steps in the
# same 30 epochs, and a step size of 0.05 (Adam's default 0.001 suits big networks on big data)
# converges there reliably.
SYNTHETIC_EPOCHS = 30
SYNTHETIC_BATCH_SIZE = 20
SYNTHETIC_LEARNING_RATE = 0.05
SYNTHETIC_POINTS = 600
SYNTHETIC_TEST_FRACTION = 0.3


class Trained2D(NamedTuple):
    """A classifier trained on one of the 2D datasets, with its data split and held-out score.

    Attributes
    ----------
    model : keras.Model
        2 inputs -> 2 softmax outputs.
    x_train, x_test : float32 arrays, shape (n, 2)
    y_train, y_test : int64 arrays, shape (n,), in {0, 1}
    test_accuracy : float
        Fraction of held-out points classified correctly.
    seconds : float
        Wall time of ``model.fit``.
    """

    model: Any
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_accuracy: float
    seconds: float


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {name}={value!r}")
    return int(value)


def train_2d_classifier(dataset: str, hidden: int | Sequence[int] = 4,
                        activation: str = "sigmoid", seed: int = 0, *,
                        learning_rate: float | None = None, epochs: int | None = None,
                        n_points: int | None = None) -> Trained2D:
    """Train the lecture's dense network on a 2D dataset; cached, so a repeated call is instant.

    The same steps as notebook 02's explicit Keras code: ``data.make_2d_dataset(dataset,
    n_points, seed=seed)``, a 70 / 30 train / held-out split, ``models.build_mlp(2, hidden, 2,
    activation)``, Adam with ``learning_rate``, ``fit(epochs=epochs,
    batch_size=SYNTHETIC_BATCH_SIZE)``, all seeded with ``seed``.

    Parameters
    ----------
    dataset : {"rings", "xor", "spirals"}
    hidden : int or sequence of int
        Units per hidden layer, e.g. 4 or (8, 8); () for logistic regression.
    activation : str
        Activation of the hidden layers ("sigmoid", "tanh", "relu", ...).
    seed : int
        Seeds the data, the split, the initial weights and the batch order.
    learning_rate, epochs, n_points : optional
        Training budget and data size; None takes ``SYNTHETIC_LEARNING_RATE``,
        ``SYNTHETIC_EPOCHS`` and ``SYNTHETIC_POINTS`` at call time.

    Returns
    -------
    trained : Trained2D
        The model is shared by every call with the same arguments: do not train it further.
    """
    if dataset not in data.DATASETS_2D:
        raise ValueError(f"unknown 2D dataset {dataset!r}; choose one of {data.DATASETS_2D}")
    hidden = (hidden,) if isinstance(hidden, numbers.Integral) else tuple(hidden)
    hidden = tuple(_positive_int(units, "hidden layer size") for units in hidden)
    learning_rate = SYNTHETIC_LEARNING_RATE if learning_rate is None else learning_rate
    epochs = SYNTHETIC_EPOCHS if epochs is None else epochs
    n_points = SYNTHETIC_POINTS if n_points is None else n_points
    return _train_2d_cached(dataset, hidden, activation, int(seed), float(learning_rate),
                            _positive_int(epochs, "epochs"), _positive_int(n_points, "n_points"))


@functools.lru_cache(maxsize=64)
def _train_2d_cached(dataset: str, hidden: tuple[int, ...], activation: str, seed: int,
                     learning_rate: float, epochs: int, n_points: int) -> Trained2D:
    x, y = data.make_2d_dataset(dataset, n=n_points, seed=seed)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=SYNTHETIC_TEST_FRACTION, random_state=seed, stratify=y)
    keras.utils.set_random_seed(seed)
    model = models.build_mlp(2, hidden, 2, activation=activation, name=f"mlp_{dataset}")
    # One execution per epoch instead of one per batch: the same updates (identical weights) for
    # about a third less time, since these batches are too small to hide Python's overhead.
    steps_per_epoch = math.ceil(len(x_train) / SYNTHETIC_BATCH_SIZE)
    compile_classifier(model, learning_rate, steps_per_execution=steps_per_epoch)
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=SYNTHETIC_BATCH_SIZE, verbose=0)
    seconds = time.perf_counter() - start
    predicted = np.asarray(model(x_test, training=False)).argmax(axis=1)
    accuracy = float(np.mean(predicted == y_test))
    return Trained2D(model, x_train, y_train, x_test, y_test, accuracy, seconds)
