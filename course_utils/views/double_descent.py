"""Widget of notebook 07 (double descent): move the number of features p along the curve.

:func:`polynomial_view` fits one noisy sample with p Legendre features (minimum-norm) and shows the
fit next to the double-descent curve of a :func:`course_utils.double_descent.sweep` table, with a
marker where this fit sits. The curve is precomputed (the table); a change of p costs one small
least-squares fit and one redraw (a few tenths of a second on a laptop).

Examples
--------
>>> from ipywidgets import fixed, interact
>>> from course_utils.views import shown
>>> interact(shown(polynomial_view), sample=fixed(sample), table=fixed(table),
...          decay=fixed(1.0), **polynomial_controls(table))  # doctest: +SKIP
"""

from __future__ import annotations

import numbers

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from ipywidgets import SelectionSlider
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from course_utils import double_descent as dd

__all__ = ["polynomial_controls", "polynomial_view"]

LABEL_STYLE = {"description_width": "initial"}

# Vertical room around the data in the fit panel: near p = n the fit leaves it by orders of
# magnitude, and a fixed window shows that (the curve leaves the frame) without losing the data.
_Y_MARGIN = 0.6


def _check_size(p, table: pd.DataFrame) -> int:
    sizes = table["size"].unique()
    if isinstance(p, bool) or not isinstance(p, numbers.Integral) or p not in sizes:
        raise ValueError(f"p must be one of the sizes of the table ({sizes.min()} to {sizes.max()}), "
                         f"got {p!r}")
    return int(p)


def _describe(p: int, n: int) -> str:
    if p < n:
        return f"p = {p} < n = {n}: least squares"
    if p == n:
        return f"p = n = {n}: the only interpolant"
    return f"p = {p:,} > n = {n}: smallest-norm interpolant"


def polynomial_view(sample: dd.CurveSample, table: pd.DataFrame, decay: float, p: int) -> Figure:
    """The minimum-norm fit with p Legendre features, and where it sits on the double-descent curve.

    Parameters
    ----------
    sample : CurveSample
        The training points and test grid (:func:`course_utils.double_descent.curve_sample`).
    table : pandas.DataFrame
        A :func:`course_utils.double_descent.sweep` table of polynomial fits with the same n, noise
        and decay; its row for ``sample.seed`` (if present) is drawn as a thin line.
    decay : float
        The ``decay`` of :func:`course_utils.double_descent.legendre_features` used for the table.
    p : int
        Number of features (polynomial degree + 1), one of the table's sizes.

    Returns
    -------
    fig : Figure
        Two Axes: the data, the true function and the fit; and the test error (median over seeds
        with min-max band, this sample's curve, the training error) against p on log-log axes, with
        a marker at this fit's test error.
    """
    if not isinstance(sample, dd.CurveSample):
        raise ValueError(f"sample must be a CurveSample (from curve_sample), got {type(sample).__name__}")
    p = _check_size(p, table)
    n = len(sample.x)
    if table["n_train"].iloc[0] != n:
        raise ValueError(f"the table was computed with n = {table['n_train'].iloc[0]} training points, "
                         f"the sample has {n}")
    X = dd.legendre_features(sample.x, p, decay)
    w = dd.min_norm_fit(X, sample.y)
    fitted = dd.legendre_features(sample.x_test, p, decay) @ w
    train_mse = float(np.mean((X @ w - sample.y) ** 2))
    test_mse = float(np.mean((fitted - sample.y_test) ** 2))

    # A fixed layout: constrained layout would measure every tick label on each redraw, which
    # takes most of the time of a slider move.
    fig, (ax_fit, ax_curve) = plt.subplots(1, 2, figsize=(13, 4.8), width_ratios=(1, 1.15),
                                           layout="none")
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.8, wspace=0.18)
    ax_fit.plot(sample.x_test, sample.y_test, color="gray", linestyle="--", linewidth=1.5,
                label="true function")
    ax_fit.plot(sample.x_test, fitted, color="tab:blue", label=f"fit, p = {p:,}")
    ax_fit.plot(sample.x, sample.y, "o", color="black", markersize=5, label=f"n = {n} noisy samples")
    low, high = sample.y.min() - _Y_MARGIN, sample.y.max() + _Y_MARGIN
    ax_fit.set_ylim(low, high)
    ax_fit.set_xlabel("x")
    ax_fit.set_ylabel("y")
    ax_fit.set_title(f"{_describe(p, n)}\ntrain MSE {train_mse:.2g}, test MSE {test_mse:.3g}",
                     fontsize=12)
    ax_fit.legend(loc="lower left", fontsize=9)

    dd.plot_sweep(table, "test_mse", ax=ax_curve, color="tab:red",
                  label=f"test MSE (median, band: {table['seed'].nunique()} samples)")
    dd.plot_sweep(table, "train_mse", ax=ax_curve, color="tab:green", linestyle=":",
                  label="training MSE (median)")
    own = table[table["seed"] == sample.seed]
    if len(own):
        ax_curve.plot(own["size"], own["test_mse"], color="tab:red", linewidth=0.8, alpha=0.7,
                      label=f"this sample (seed {sample.seed})")
    ax_curve.plot([p], [test_mse], "o", color="tab:blue", markersize=10, zorder=5,
                  label=f"p = {p:,}")
    dd.mark_threshold(ax_curve, n)
    ax_curve.set_yscale("log")
    # Minor ticks of a log axis are dozens of Tick objects, the slowest part of a redraw.
    ax_curve.xaxis.set_minor_locator(NullLocator())
    ax_curve.yaxis.set_minor_locator(NullLocator())
    lowest = min(table["test_mse"].min(), test_mse)
    ax_curve.set_ylim(0.1 * lowest, 3 * max(table["test_mse"].max(), test_mse))
    ax_curve.text(n * 1.1, 0.15 * lowest, "training MSE = 0 from p = n on", fontsize=9,
                  color="tab:green")
    ax_curve.set_xlabel("number of features p")
    ax_curve.set_ylabel("mean squared error")
    ax_curve.legend(loc="upper right", fontsize=9, framealpha=0.9)
    return fig


def polynomial_controls(table: pd.DataFrame, value: int | None = None) -> dict[str, SelectionSlider]:
    """The slider of :func:`polynomial_view`: p among the sizes of ``table``.

    Parameters
    ----------
    table : pandas.DataFrame
        The sweep table the view draws.
    value : int, optional
        Initial p (default: the interpolation threshold, ``n``).

    Returns
    -------
    controls : dict
        ``p``: a SelectionSlider over the table's sizes, updating when released (a drag would
        otherwise queue a redraw for each of the sizes it passes).
    """
    sizes = [int(s) for s in sorted(table["size"].unique())]
    value = int(table["n_train"].iloc[0]) if value is None else value
    if value not in sizes:
        raise ValueError(f"value must be one of the table's sizes, got {value!r}")
    return {"p": SelectionSlider(options=sizes, value=value, description="features p",
                                 continuous_update=False, style=LABEL_STYLE)}
