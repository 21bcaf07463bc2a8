"""Exercises of notebook 07 (over-parameterisation and double descent).

* :func:`check_peak_prediction` (quick): where is the spike when the number of training points
  doubles?
* :func:`check_gd_limit` (needs thought): where does gradient descent end when it does not start
  at zero?
* :func:`check_fourier_sweep` (open-ended): does the spike stay at N = n with random Fourier
  features instead of ReLU features? The student builds the sweep; the check reads its table.

Each check returns a :class:`course_utils.exercises.Feedback`.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from course_utils import double_descent as dd
from course_utils.exercises import Feedback, attempted, correct, incorrect, not_attempted

__all__ = ["check_fourier_sweep", "check_gd_limit", "check_peak_prediction"]

# ------------------------------------------------------------------------------ peak prediction


def check_peak_prediction(answer, n: int) -> Feedback:
    """Check a prediction of the number of features p at which the spike sits with 2n points.

    Parameters
    ----------
    answer : int
        The predicted p.
    n : int
        The number of training points of the notebook's sweep (the spike was at p = n there).
    """
    if not attempted(answer):
        return not_attempted(f"set answer to the number of features p at which you expect the "
                             f"spike of the test error with {2 * n} training points instead of {n}")
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return incorrect(f"answer should be a number of features (an int), got {answer!r}")
    target = 2 * n
    if abs(answer - target) <= 0.1 * target:
        return correct(f"the spike sits where the number of parameters equals the number of "
                       f"equations, p = n: with {target} points it moves to p = {target}. The worked "
                       f"solution measures it.")
    if abs(answer - n) <= 0.1 * n:
        return incorrect(f"the spike does not stay at p = {n}: it is not a property of the function "
                         f"or the basis but of the count. Hint: at which p does the training error "
                         f"first reach zero, and how does that depend on the number of points?")
    return incorrect(f"not {answer}. Hint: the spike is at the interpolation threshold, the smallest p "
                     f"for which a polynomial can pass through every training point exactly.")


# ------------------------------------------------------------------------------------ GD limit


def _gd_limit_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Small wide problems (X, y, w0) on which gradient descent converges in a few hundred steps."""
    rng = np.random.default_rng(7)
    cases = []
    for n, p in ((3, 8), (5, 12), (6, 7)):
        X = rng.standard_normal((n, p)) + 2.0 * np.eye(n, p)  # well conditioned: GD converges fast
        cases.append((X, rng.standard_normal(n), rng.standard_normal(p)))
    return cases


def check_gd_limit(answer) -> Feedback:
    """Check ``answer(X, y, w0)``: the weights that gradient descent from w0 converges to.

    Parameters
    ----------
    answer : callable
        ``answer(X, y, w0) -> w`` for X (n, p) with p >= n and full row rank, y (n,), w0 (p,).
    """
    if not attempted(answer):
        return not_attempted("set answer to a function limit(X, y, w0) that returns the weights "
                             "where gradient descent started at w0 ends")
    if not callable(answer):
        return incorrect(f"answer should be a function limit(X, y, w0), got {type(answer).__name__}")
    for X, y, w0 in _gd_limit_cases():
        expected = dd.gd_fit(X, y, steps=3000, start=w0)
        try:
            got = np.asarray(answer(X.copy(), y.copy(), w0.copy()), dtype=np.float64)
        except Exception as error:  # noqa: BLE001 - any error in the student's code is feedback
            return incorrect(f"calling answer(X, y, w0) with X of shape {X.shape} raised "
                             f"{type(error).__name__}: {error}")
        if got.shape != expected.shape:
            return incorrect(f"the weights should have shape {expected.shape} (one per feature), got "
                             f"{got.shape}")
        if np.allclose(got, expected, atol=1e-6):
            continue
        if not np.allclose(X @ got, y, atol=1e-6):
            return incorrect("your weights do not fit the training data (X w != y), but gradient "
                             "descent on an over-parameterised problem interpolates. Hint: start from "
                             "w0 and correct it by the smallest change that fixes the residual "
                             "y - X w0.")
        if np.allclose(got, dd.min_norm_fit(X, y), atol=1e-6):
            return incorrect("that is where gradient descent from zero ends, but the start matters: "
                             "the gradients X^T r only move w within the row space of X, so the part "
                             "of w0 orthogonal to the rows of X is never changed. Hint: keep w0 and add "
                             "a correction in the row space.")
        return incorrect("your weights interpolate, but they are not the ones gradient descent finds "
                         "from w0. Hint: of all interpolants it ends at the one closest to w0.")
    return correct("gradient descent ends at w0 + pinv(X) (y - X w0): the interpolant closest to the "
                   "start. Only from w0 = 0 is that the minimum-norm solution.")


# ------------------------------------------------------------------------------- Fourier sweep


def check_fourier_sweep(answer) -> Feedback:
    """Check a student's double-descent sweep with random Fourier features.

    Parameters
    ----------
    answer : pandas.DataFrame
        A :func:`course_utils.double_descent.sweep` table of minimum-norm fits with random Fourier
        features, with sizes from at most n / 2 to at least 2 n, including sizes within 10% of n.
    """
    if not attempted(answer):
        return not_attempted("set answer to the table returned by dd.sweep(...) for random Fourier "
                             "features")
    needed = {"seed", "size", "n_train", "test_mse", "train_mse"}
    if not isinstance(answer, pd.DataFrame) or not needed <= set(answer.columns):
        return incorrect("answer should be the table (a DataFrame) that dd.sweep returns, with columns "
                         f"{sorted(needed)}")
    n = int(answer["n_train"].iloc[0])
    sizes = np.sort(answer["size"].unique())
    if sizes.min() > n / 2 or sizes.max() < 2 * n:
        return incorrect(f"the sizes run from {sizes.min():,} to {sizes.max():,}: to see a peak, and "
                         f"the descents on both sides, go from at most n/2 = {n // 2:,} to at least "
                         f"2n = {2 * n:,} features")
    if not np.any(np.abs(sizes - n) <= 0.1 * n):
        return incorrect(f"no size lies within 10% of n = {n:,}: a narrow spike can fall between the "
                         f"sizes you tried; add a few around n")
    median = answer.groupby("size")["test_mse"].median()
    peak = int(median.idxmax())
    threshold = dd.interpolation_threshold(answer)
    if abs(peak - n) <= 0.2 * n:
        return correct(f"the test error peaks at N = {peak:,} for n = {n:,} (median {median.max():.3g} "
                       f"there, {median.iloc[-1]:.3g} at N = {sizes.max():,}): the spike comes with "
                       f"the interpolation threshold, whatever the features.")
    if threshold is None:
        return incorrect(f"no size fits the training data exactly, so there is no interpolation "
                         f"threshold to cause a spike (your curve peaks at N = {peak:,}). Did you pass "
                         f"a ridge fit? The default fit of dd.sweep is the minimum-norm one. Features "
                         f"that are nearly linear in x (a bandwidth far larger than the distances "
                         f"between inputs) also fail to interpolate.")
    return incorrect(f"the test error peaks at N = {peak:,}, not near n = {n:,}, and the training error "
                     f"reaches zero at N = {threshold:,}. Hint: look at the curve between the two; "
                     f"with several seeds the median is less noisy.")

