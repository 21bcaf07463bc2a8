"""Plumbing for the training experiments of the "tricks of the trade" notebook.

- ``ValidationCurve``: a Keras callback that measures validation accuracy every few optimizer steps,
  for accuracy-versus-steps curves (Ioffe & Szegedy's figure 2 at small scale).
- ``StopAtAccuracy``: a callback that ends training once an epoch's accuracy reaches a target.
- ``steps_to_reach`` and ``history_curve``: when a curve first reaches a value.
- ``random_labels``: uniformly random class labels (Zhang et al.'s memorisation experiment).
- ``compare_runs``: overlay the curves of several runs, with an optional target line.

A curve is a pair ``(x, y)`` of equally long 1D arrays: x the optimizer step (or epoch), increasing;
y the measured value (accuracy as a fraction) at that x.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

Curve = tuple[np.ndarray, np.ndarray]


# ---------------------------------------------------------------------------------------- callbacks


class ValidationCurve(keras.callbacks.Callback):
    """Record the model's accuracy on a fixed validation set every ``every`` optimizer steps.

    x_val: (N, H, W, C) inputs; y_val: (N,) integer labels. every: interval in optimizer steps
        (batches), counted over the whole fit, across epochs. batch_size: images per forward pass.
    The accuracy is measured in inference mode (dropout off, batch norm on moving statistics) before
    the first step (step 0) and after every ``every``-th step. Read it as ``callback.curve``:
    (steps (n,) int array, accuracy (n,) float array in [0, 1]).
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
    """Stop training at the end of the first epoch whose ``monitor`` log value is >= ``target``.

    monitor: a key of the epoch logs, e.g. "accuracy" (training accuracy of the epoch, as Keras
        reports it) or "val_accuracy". target: a fraction in (0, 1].
    ``reached_epoch`` is that epoch counted from 1, or None if training ended first.
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
    """The first x (step or epoch) at which the curve's y is >= ``target``; None if it never is.

    curve: (x (n,), y (n,)) with x strictly increasing, e.g. ``ValidationCurve.curve``.
    The result is a recorded x value, so it is exact only up to the recording interval.
    """
    x, y = _check_curve(curve)
    reached = np.flatnonzero(y >= target)
    return float(x[reached[0]]) if reached.size else None


def history_curve(history, metric: str = "accuracy") -> Curve:
    """A per-epoch metric of a Keras ``History`` (or its ``.history`` dict) as a curve.

    Returns (epochs (n,) counted from 1, values (n,)).
    """
    logs = getattr(history, "history", history)
    if metric not in logs:
        raise ValueError(f"{metric!r} is not in the history; it has {sorted(logs)}")
    values = np.asarray(logs[metric], dtype=np.float64)
    return np.arange(1, len(values) + 1), values


# ---------------------------------------------------------------------------------- test transforms


# ------------------------------------------------------------------------------------------- labels


def random_labels(y: np.ndarray, seed: int, n_classes: int | None = None) -> np.ndarray:
    """Labels drawn uniformly at random, independently of the images: Zhang et al.'s random labels.

    y: (N,) integer true labels (only their number and, by default, the number of classes,
        max + 1, are used). Returns an (N,) int64 array in 0..n_classes-1; about 1/n_classes of
        them agree with y by chance.
    """
    y = np.asarray(y).ravel()
    if y.size == 0:
        raise ValueError("y is empty")
    n_classes = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if n_classes < 2:
        raise ValueError(f"need at least 2 classes, got n_classes={n_classes}")
    return np.random.default_rng(seed).integers(0, n_classes, size=y.size, dtype=np.int64)


# ------------------------------------------------------------------------------------------ figures


def compare_runs(runs: Mapping[str, Curve], xlabel: str = "step", ylabel: str = "accuracy",
                 target: float | None = None, ax: Axes | None = None,
                 title: str | None = None) -> Figure | Axes:
    """Overlay one curve per run, with a legend; optionally a dashed line at ``target`` and a dot
    where each run first reaches it.

    runs: {legend label: (x (n,), y (n,))}, drawn in order.
    Returns the new Figure, or ``ax`` when one is given.
    """
    if not runs:
        raise ValueError("runs is empty; pass at least one {label: (x, y)} entry")
    checked = {label: _check_curve(curve) for label, curve in runs.items()}
    if ax is None:
        fig, axes = plt.subplots(figsize=(7.5, 4.0), layout="constrained")
    else:
        fig, axes = ax.figure, ax
    for label, (x, y) in checked.items():
        (line,) = axes.plot(x, y, label=label)
        reached = None if target is None else steps_to_reach((x, y), target)
        if reached is not None:
            axes.plot(reached, y[x == reached][0], "o", color=line.get_color(), markersize=7)
    if target is not None:
        axes.axhline(target, color="gray", linestyle="--", linewidth=1,
                     label=f"target {target:.0%}" if target <= 1 else f"target {target}")
    if all(np.all(x == np.round(x)) for x, _ in checked.values()):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps and epochs are whole
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.legend()
    if title:
        axes.set_title(title)
    return fig if ax is None else ax
