"""Widget of notebook 02 (the slide's Keras network on 2D data): the hidden units one by one.

A hidden-unit count that has not been trained yet costs a few seconds of training (30 epochs of
:func:`course_utils.training.train_2d_classifier`); the view then prints one line before it starts
and one when it is done, so the class sees that work is under way, and the count slider updates on
release (``continuous_update=False``) so that dragging across it does not train every count it
passes. Every setting seen before is instant.

Examples
--------
>>> from ipywidgets import interact
>>> from course_utils.views import shown
>>> interact(shown(hidden_units_view), **hidden_units_controls())  # doctest: +SKIP
"""

from __future__ import annotations

import math
import time

import matplotlib.pyplot as plt
import numpy as np
from ipywidgets import Dropdown, IntSlider
from matplotlib.figure import Figure
from scipy.special import expit

from course_utils import data, plotting, training

__all__ = ["MAX_HIDDEN_UNITS", "hidden_unit_titles", "hidden_units_controls", "hidden_units_view"]

MAX_HIDDEN_UNITS = 8

# Descriptions take the width they need instead of ipywidgets' fixed 80 px, which cut
# "hidden units" to "hidden un…".
LABEL_STYLE = {"description_width": "initial"}

# The settings this view has drawn: a setting not in it may need training, so the view says so
# before it starts. (The trainer's own cache makes a setting that a notebook cell trained instant;
# the line then shows for a moment only.)
_drawn: set[tuple] = set()

# Training even one epoch takes longer than this; a call that returns sooner hit the cache.
_CACHE_HIT_SECONDS = 0.05


def hidden_unit_titles(weights: np.ndarray, biases: np.ndarray) -> list[str]:
    """Per hidden unit, its formula σ(w1·x1 + w2·x2 + b) with the numbers to one decimal.

    Parameters
    ----------
    weights : array, shape (2, n_units)
        First-layer kernel (Keras' layout: one column per unit).
    biases : array, shape (n_units,)
        First-layer biases.

    Returns
    -------
    titles : list of str
        One per unit, e.g. ``"unit 1: σ(+2.0x₁ -1.5x₂ +0.3)"``.

    Examples
    --------
    >>> hidden_unit_titles(np.array([[2.0], [-1.5]]), np.array([0.3]))
    ['unit 1: σ(+2.0x₁ -1.5x₂ +0.3)']
    """
    return [f"unit {j + 1}: σ({w1:+.1f}x₁ {w2:+.1f}x₂ {b:+.1f})"
            for j, (w1, w2, b) in enumerate(zip(weights[0], weights[1], biases, strict=True))]


def hidden_units_view(dataset: str = "rings", n_hidden: int = 4) -> Figure:
    """The slide's network with ``n_hidden`` sigmoid units: each unit's map and their combination.

    Trains (or takes from the cache of :func:`training.train_2d_classifier`) 2 -> n_hidden
    sigmoid -> 2 softmax on ``dataset``. Each small panel is one hidden unit's activation
    σ(w·x + b) over the plane, from the layer's own weights: a soft half-plane whose edge
    w·x + b = 0 is drawn dashed. The big panel is the output layer's decision region, with the
    held-out points and the held-out accuracy.

    The training budget and data size are the trainer's module constants
    ``training.SYNTHETIC_EPOCHS`` and ``training.SYNTHETIC_POINTS``, read at call time.

    Parameters
    ----------
    dataset : {"rings", "xor", "spirals"}
        Which of :func:`course_utils.data.make_2d_dataset`'s datasets (seed 0).
    n_hidden : int
        Number of hidden units, 1 to ``MAX_HIDDEN_UNITS``. A count not drawn before may need a
        few seconds of training: the view prints a line when it starts and one when it is done.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The decision-region Axes first, then one Axes per hidden unit (plus colour bars).

    Raises
    ------
    ValueError
        For an unknown dataset or a count that is not an int in 1 to ``MAX_HIDDEN_UNITS``.

    Examples
    --------
    >>> fig = hidden_units_view("xor", n_hidden=2)  # doctest: +SKIP
    2 → 2 sigmoid → 2 on xor: training for 30 epochs (a few seconds; later visits are instant)…
    trained in 1.9 s
    """
    if dataset not in data.DATASETS_2D:
        raise ValueError(f"unknown 2D dataset {dataset!r}; choose one of {data.DATASETS_2D}")
    if isinstance(n_hidden, bool) or not isinstance(n_hidden, (int, np.integer)):
        raise ValueError(f"n_hidden must be an int, got n_hidden={n_hidden!r}")
    if not 1 <= n_hidden <= MAX_HIDDEN_UNITS:
        raise ValueError(f"n_hidden must be an int in 1..{MAX_HIDDEN_UNITS}, got n_hidden={n_hidden}")
    trained = _train_with_progress(dataset, int(n_hidden))
    weights, biases = trained.model.get_layer("hidden").get_weights()
    x, y = trained.x_test, trained.y_test

    nrows = 1 if n_hidden == 1 else 2 if n_hidden <= 4 else 3
    ncols = math.ceil(n_hidden / nrows)
    fig = plt.figure(figsize=(6.0 + 2.9 * ncols, 6.0), layout="constrained")
    grid = fig.add_gridspec(nrows, 2 * ncols + 2)
    ax_region = fig.add_subplot(grid[:, :2])
    plotting.plot_decision_regions(
        _ProbabilityModel(trained.model), x, y, ax=ax_region, resolution=150,
        title=f"{dataset}: {n_hidden} sigmoid hidden unit{'s' if n_hidden > 1 else ''}\n"
              f"held-out accuracy {trained.test_accuracy:.1%}")
    for j, title in enumerate(hidden_unit_titles(weights, biases)):
        row, col = divmod(j, ncols)
        ax = fig.add_subplot(grid[row, 2 + 2 * col:4 + 2 * col])
        w, b = weights[:, j], biases[j]
        plotting.plot_field(x, y, lambda p, w=w, b=b: expit(p @ w + b), ax=ax, resolution=100)
        ax.get_legend().remove()
        ax.set_title(title, fontsize=10)
        _draw_line(ax, w, b)
    return fig


def hidden_units_controls() -> dict[str, Dropdown | IntSlider]:
    """The controls of :func:`hidden_units_view`, for ``interact``.

    Returns
    -------
    controls : dict
        ``dataset`` (a drop-down, starting at the rings) and ``n_hidden`` (1 to
        ``MAX_HIDDEN_UNITS``, starting at 4; updates on release, since a new count trains a
        network).
    """
    return {
        "dataset": Dropdown(options=data.DATASETS_2D, value="rings", description="dataset",
                            style=LABEL_STYLE),
        "n_hidden": IntSlider(value=4, min=1, max=MAX_HIDDEN_UNITS, description="hidden units",
                              continuous_update=False, style=LABEL_STYLE),
    }


def _train_with_progress(dataset: str, n_hidden: int) -> training.Trained2D:
    """The cached 2 -> n_hidden sigmoid -> 2 network; says so while a new setting trains."""
    setting = (dataset, n_hidden, training.SYNTHETIC_EPOCHS, training.SYNTHETIC_POINTS)
    if setting in _drawn:
        return training.train_2d_classifier(dataset, n_hidden, "sigmoid")
    print(f"2 → {n_hidden} sigmoid → 2 on {dataset}: training for {training.SYNTHETIC_EPOCHS} "
          "epochs (a few seconds; later visits are instant)…", flush=True)
    start = time.perf_counter()
    trained = training.train_2d_classifier(dataset, n_hidden, "sigmoid")
    seconds = time.perf_counter() - start
    # A setting that a notebook cell trained comes back from the trainer's cache at once.
    print("already trained: taken from the cache" if seconds < _CACHE_HIT_SECONDS
          else f"trained in {seconds:.1f} s", flush=True)
    _drawn.add(setting)
    return trained


class _ProbabilityModel:
    """Duck-typed view of a Keras classifier for plotting: ``predict_proba`` by a direct call."""

    def __init__(self, model):
        self.model = model

    def predict_proba(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(self.model(points, training=False))


def _draw_line(ax, w: np.ndarray, b: float) -> None:
    """Dashed line w·x + b = 0 across the Axes' current limits (where a sigmoid unit is 0.5)."""
    if not np.any(w):
        return
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    if abs(w[1]) >= abs(w[0]):
        xs = np.array([x0, x1])
        ys = -(w[0] * xs + b) / w[1]
    else:
        ys = np.array([y0, y1])
        xs = -(w[1] * ys + b) / w[0]
    ax.plot(xs, ys, "k--", linewidth=1.2)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
