"""Over-parameterised linear models: feature maps, minimum-norm fits, and the double-descent sweep.

Notebook 07 fits linear models on fixed features: Legendre polynomials of a scalar input, and random
ReLU (or Fourier) features of images, which are two-layer networks whose first layer is frozen at
random. With more features ``p`` than training examples ``n`` the least-squares problem has
infinitely many exact solutions; :func:`min_norm_fit` picks the one of smallest Euclidean norm,
``pinv(X) @ y``, which is also where gradient descent from zero ends (:func:`gd_fit`,
:func:`gd_curve`). :func:`sweep` fits a model of every size on nested features and returns a tidy
table (a pandas DataFrame) of training and test error, one row per size and seed, from which the
double-descent curve is drawn (:func:`plot_sweep`).

Conventions: a design matrix ``X`` is (n, p) float64, one row per example; targets ``y`` are (n,)
or (n, k) (k outputs fitted independently, e.g. one-hot classes); weights are (p,) or (p, k).
Squared errors are summed over the k outputs and averaged over the examples.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.linalg
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator
from numpy.polynomial import legendre

__all__ = [
    "CurveSample",
    "Problem",
    "curve_sample",
    "gd_curve",
    "gd_fit",
    "interpolation_threshold",
    "legendre_features",
    "mark_threshold",
    "min_norm_fit",
    "plot_sweep",
    "polynomial_problem",
    "random_fourier_features",
    "random_relu_features",
    "ridge_fit",
    "summary",
    "sweep",
]

# The Gram-matrix route squares the condition number of X. Below this reciprocal condition number
# of the Gram matrix (cond(X) above 1e4) it could lose more than 8 of float64's 16 digits, and an
# orthogonal factorisation of X itself is used instead.
_GRAM_RCOND = 1e-8
# Eigen-directions of X X^T below this fraction of the largest eigenvalue are round-off, not data.
_EIGEN_CUTOFF = 1e-13


# ---------------------------------------------------------------------------------- validation


def _as_matrix(X: Any, name: str = "X") -> np.ndarray:
    """X as a finite float64 (n, p) array; raises ValueError saying what is wrong."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2D array (n examples, p features), got shape "
                         f"{X.shape}; reshape a single feature with {name}[:, None]")
    if not np.all(np.isfinite(X)):
        bad = int(np.sum(~np.isfinite(X)))
        raise ValueError(f"{name} has {bad} non-finite values (NaN or inf); check the inputs and the "
                         f"feature map (e.g. x outside [-1, 1], or an overflow)")
    return X


def _as_targets(y: Any, n: int, name: str = "y") -> np.ndarray:
    """y as a finite float64 (n,) or (n, k) array matching n rows of X."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim not in (1, 2) or len(y) != n:
        raise ValueError(f"{name} must have one row per example of X: shape ({n},) or ({n}, k), got "
                         f"shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name} has {int(np.sum(~np.isfinite(y)))} non-finite values (NaN or inf)")
    return y


def _as_count(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _as_number(value: Any, name: str, minimum: float = 0.0, strict: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < minimum or (strict and value == minimum):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {relation} {minimum}, got {value!r}")
    return float(value)


def _flat_inputs(X: Any, name: str = "X") -> np.ndarray:
    """Inputs of a feature map as (n, d): images (n, H, W, C) are flattened."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"{name} must hold one example per row: shape (n, d) or (n, H, W, C), got "
                         f"shape {X.shape}")
    return _as_matrix(X.reshape(len(X), -1), name)


# ------------------------------------------------------------------------------- feature maps


def legendre_features(x: Any, n_features: int, decay: float = 0.0) -> np.ndarray:
    """Legendre polynomials of degree 0 to ``n_features - 1`` of scalar inputs in [-1, 1].

    Column ``k`` is ``sqrt(2k + 1) P_k(x) / (k + 1)**decay``. With ``decay = 0`` the columns are
    orthonormal for x uniform on [-1, 1] (every mean square is 1), a well-conditioned basis in which
    a degree-1000 polynomial is no harder to handle than a cubic (monomials ``x**k`` would be
    numerically useless beyond degree ~20). ``decay > 0`` shrinks the high degrees, so that a
    minimum-norm fit prefers smooth curves.

    Parameters
    ----------
    x : array_like, shape (n,)
        Inputs in [-1, 1].
    n_features : int
        Number of polynomials p >= 1 (degrees 0 to p - 1).
    decay : float
        Exponent >= 0 of the down-weighting of degree k by ``(k + 1)**-decay``.

    Returns
    -------
    features : ndarray, shape (n, n_features), float64
        Nested: the first q columns are ``legendre_features(x, q, decay)``.

    Raises
    ------
    ValueError
        If x is not 1D, not finite or outside [-1, 1], or n_features or decay are invalid.

    Examples
    --------
    >>> legendre_features([-1.0, 0.0, 1.0], 3)
    array([[ 1.        , -1.73205081,  2.23606798],
           [ 1.        ,  0.        , -1.11803399],
           [ 1.        ,  1.73205081,  2.23606798]])
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must be a non-empty 1D array of scalar inputs, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x has non-finite values (NaN or inf)")
    if np.abs(x).max() > 1.0 + 1e-12:
        raise ValueError(f"Legendre features need x in [-1, 1], got values in [{x.min():.3g}, "
                         f"{x.max():.3g}]; rescale first: 2 * (x - lo) / (hi - lo) - 1")
    n_features = _as_count(n_features, "n_features")
    decay = _as_number(decay, "decay")
    degrees = np.arange(n_features)
    scale = np.sqrt(2 * degrees + 1) / (degrees + 1.0) ** decay
    return legendre.legvander(np.clip(x, -1.0, 1.0), n_features - 1) * scale


def _weights(seed: int, n_features: int, d: int) -> np.ndarray:
    """(n_features, d) standard normal weights whose first k rows do not depend on n_features.

    A Generator fills an array row by row, so the rows of a larger draw extend those of a smaller
    one: the features of a sweep are nested.
    """
    return np.random.default_rng(seed).standard_normal((n_features, d), dtype=np.float32)


def _projections(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """X @ W.T in single precision, (n, N) float32.

    For 10,000 features of 3,000 images this product is the most expensive step of notebook 07;
    float32 halves its time, and features need no more digits than 8-bit pixels have.
    """
    return X.astype(np.float32) @ W.T


def random_relu_features(X: Any, n_features: int, seed: int = 0) -> np.ndarray:
    """Random ReLU features ``max(0, X W^T)``: the hidden layer of a two-layer network frozen at random.

    Parameters
    ----------
    X : array_like, shape (n, d) or (n, H, W, C)
        Inputs, one per row; images are flattened. Centre them (subtract the mean training input),
        otherwise every feature is dominated by the common mean.
    n_features : int
        Number of features N (hidden units).
    seed : int
        Seed of the weights W, (N, d) with entries N(0, 1/d), so that a feature is O(|x| / sqrt(d)).

    Returns
    -------
    features : ndarray, shape (n, n_features), float64
        Nested: the first k columns are ``random_relu_features(X, k, seed)``, so a sweep over sizes
        computes only the largest. The product ``X W^T`` is computed in single precision (twice as
        fast; about 7 significant digits).

    Examples
    --------
    >>> F = random_relu_features(np.eye(3), 5, seed=1)
    >>> F.shape, bool(np.all(F >= 0))
    ((3, 5), True)
    """
    X = _flat_inputs(X)
    n_features = _as_count(n_features, "n_features")
    d = X.shape[1]
    W = _weights(seed, n_features, d) / np.float32(math.sqrt(d))
    return np.maximum(_projections(X, W), 0.0).astype(np.float64)


def random_fourier_features(X: Any, n_features: int, seed: int = 0,
                            bandwidth: float = 1.0) -> np.ndarray:
    """Random Fourier features ``sqrt(2) cos(X W^T / bandwidth + b)`` (Rahimi & Recht, 2007).

    Their inner products approximate the Gaussian kernel ``exp(-|x - x'|^2 / (2 bandwidth^2))``.

    Parameters
    ----------
    X : array_like, shape (n, d) or (n, H, W, C)
        Inputs, one per row; images are flattened.
    n_features : int
        Number of features N.
    seed : int
        Seed of the frequencies W (N, d), standard normal, and the phases b (N,), uniform in
        [0, 2 pi).
    bandwidth : float
        Length scale > 0 in the units of X; a good start is the typical distance between inputs.

    Returns
    -------
    features : ndarray, shape (n, n_features), float64
        Nested in n_features like :func:`random_relu_features`.

    Examples
    --------
    >>> F = random_fourier_features(np.zeros((2, 4)), 3, seed=0)
    >>> bool(np.allclose(F[0], F[1])), bool(np.all(np.abs(F) <= np.sqrt(2)))
    (True, True)
    """
    X = _flat_inputs(X)
    n_features = _as_count(n_features, "n_features")
    bandwidth = _as_number(bandwidth, "bandwidth", strict=True)
    W = _weights(seed, n_features, X.shape[1])
    # Phases from their own stream, so that they too are nested in n_features.
    phases = np.random.default_rng([seed, 1]).uniform(0.0, 2 * np.pi, n_features)
    angles = _projections(X / bandwidth, W).astype(np.float64) + phases
    return math.sqrt(2.0) * np.cos(angles)


# -------------------------------------------------------------------------------------- fits


def _solve_gram(G: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Solve the symmetric positive definite system G z = b by Cholesky.

    Returns None when G is not numerically positive definite or too ill-conditioned for the
    answer to be accurate (see ``_GRAM_RCOND``).
    """
    try:
        factor = scipy.linalg.cho_factor(G, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    anorm = float(np.abs(G).sum(axis=0).max())
    pocon = scipy.linalg.get_lapack_funcs("pocon", (G,))
    rcond, info = pocon(factor[0], anorm, uplo="L" if factor[1] else "U")
    if info != 0 or not rcond > _GRAM_RCOND:
        return None
    return scipy.linalg.cho_solve(factor, b, check_finite=False)


def min_norm_fit(X: Any, y: Any) -> np.ndarray:
    """Least-squares weights of smallest norm: ``pinv(X) @ y``.

    If p <= n and X has full column rank, the ordinary least-squares solution. If p > n, the
    interpolating weights (``X w = y`` exactly) of smallest Euclidean norm, ``X^T (X X^T)^-1 y``:
    every other interpolant adds a vector w0 with ``X w0 = 0``, which only makes the norm larger.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Design matrix (features of the n training examples).
    y : array_like, shape (n,) or (n, k)
        Targets.

    Returns
    -------
    w : ndarray, shape (p,) or (p, k)

    Raises
    ------
    ValueError
        If X is not 2D, y does not have n rows, or either has non-finite values.

    Notes
    -----
    Solves the smaller of the two Gram systems (``X^T X`` or ``X X^T``) by Cholesky when it is
    well conditioned, which is several times faster than an SVD; otherwise (near p = n, or with
    dependent columns) ``scipy.linalg.lstsq``, which handles any rank. Either way the result equals
    ``np.linalg.pinv(X) @ y`` up to round-off.

    Examples
    --------
    >>> X = np.array([[1.0, 1.0]])  # one equation, two unknowns: w1 + w2 = 2
    >>> min_norm_fit(X, [2.0])
    array([1., 1.])
    """
    X = _as_matrix(X)
    y = _as_targets(y, X.shape[0])
    n, p = X.shape
    if p <= n:
        w = _solve_gram(X.T @ X, X.T @ y)
    else:
        alpha = _solve_gram(X @ X.T, y)
        w = None if alpha is None else X.T @ alpha
    if w is None:
        # A complete orthogonal factorisation (QR with column pivoting): the minimum-norm solution
        # for any rank, several times faster than the SVD for square X.
        w = scipy.linalg.lstsq(X, y, lapack_driver="gelsy", check_finite=False)[0]
    return w


def ridge_fit(X: Any, y: Any, alpha: float) -> np.ndarray:
    """Ridge regression: the weights minimising ``|X w - y|^2 + alpha |w|^2``.

    Parameters
    ----------
    X : array_like, shape (n, p)
    y : array_like, shape (n,) or (n, k)
    alpha : float
        Penalty > 0 (in the units of the squared features; no intercept, nothing rescaled). As
        alpha -> 0 the weights tend to :func:`min_norm_fit`'s.

    Returns
    -------
    w : ndarray, shape (p,) or (p, k)
        Equals ``sklearn.linear_model.Ridge(alpha, fit_intercept=False)``'s ``coef_.T``.

    Raises
    ------
    ValueError
        For alpha <= 0 (use :func:`min_norm_fit` for no penalty) and bad X or y.

    Examples
    --------
    >>> ridge_fit(np.array([[1.0, 1.0]]), [2.0], alpha=1.0)  # (X^T X + I)^-1 X^T y
    array([0.66666667, 0.66666667])
    """
    X = _as_matrix(X)
    y = _as_targets(y, X.shape[0])
    alpha = _as_number(alpha, "alpha", strict=True)
    n, p = X.shape
    # The penalty makes either Gram matrix positive definite; solve the smaller one.
    if p <= n:
        return scipy.linalg.solve(X.T @ X + alpha * np.eye(p), X.T @ y, assume_a="pos")
    return X.T @ scipy.linalg.solve(X @ X.T + alpha * np.eye(n), y, assume_a="pos")


def _largest_eigenvalue(X: np.ndarray) -> float:
    """Largest eigenvalue of X^T X (the squared spectral norm of X), from the smaller Gram matrix."""
    G = X.T @ X if X.shape[1] <= X.shape[0] else X @ X.T
    k = len(G)
    return float(scipy.linalg.eigh(G, eigvals_only=True, subset_by_index=[k - 1, k - 1])[0])


def _learning_rate(X: np.ndarray, learning_rate: float | None) -> float:
    if learning_rate is None:
        top = _largest_eigenvalue(X)
        if top == 0:
            raise ValueError("X is all zeros: gradient descent has nothing to do")
        return 1.0 / top
    return _as_number(learning_rate, "learning_rate", strict=True)


def gd_fit(X: Any, y: Any, steps: int = 1000, learning_rate: float | None = None,
           start: Any = None) -> np.ndarray:
    """Full-batch gradient descent on the squared loss ``1/2 |X w - y|^2``.

    Each step is ``w <- w - learning_rate * X^T (X w - y)``. Every update is a combination of the
    rows of X, so from ``start = 0`` the weights never leave the row space of X and converge to
    the minimum-norm solution :func:`min_norm_fit`; from another start, to the interpolant
    nearest to it.

    Parameters
    ----------
    X : array_like, shape (n, p)
    y : array_like, shape (n,) or (n, k)
    steps : int
        Number of steps >= 0.
    learning_rate : float, optional
        Step size > 0; default ``1 / sigma_max(X)^2``, the largest that shrinks the error in
        every direction monotonically (GD diverges above ``2 / sigma_max(X)^2``).
    start : array_like, shape (p,) or (p, k), optional
        Initial weights; default zeros.

    Returns
    -------
    w : ndarray, shape (p,) or (p, k)

    Raises
    ------
    ValueError
        For bad X, y, steps, learning_rate, a start of the wrong shape, or if the iteration
        diverged (learning rate too large).

    Examples
    --------
    >>> X = np.array([[1.0, 1.0]])
    >>> gd_fit(X, [2.0], steps=50)  # converges to the minimum-norm solution [1, 1]
    array([1., 1.])
    """
    X = _as_matrix(X)
    y = _as_targets(y, X.shape[0])
    steps = _as_count(steps, "steps", minimum=0)
    rate = _learning_rate(X, learning_rate)
    shape = (X.shape[1],) + y.shape[1:]
    if start is None:
        w = np.zeros(shape)
    else:
        w = np.array(start, dtype=np.float64)
        if w.shape != shape:
            raise ValueError(f"start must have the shape of the weights, {shape}, got {w.shape}")
    with np.errstate(over="ignore", invalid="ignore"):  # a divergence is reported below
        for _ in range(steps):
            w -= rate * (X.T @ (X @ w - y))
    if not np.all(np.isfinite(w)):
        raise ValueError(f"gradient descent diverged with learning_rate={rate:.3g}; use a smaller "
                         f"one (at most 2 / sigma_max(X)^2), or the default")
    return w


def _squared_error(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Squared error summed over the outputs, averaged over the examples."""
    diff = (predictions - targets).reshape(len(targets), -1)
    return float(np.mean(np.sum(diff**2, axis=1)))


def _class_error(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of examples whose largest output is not the one-hot target's class."""
    return float(np.mean(predictions.argmax(axis=1) != targets.argmax(axis=1)))


def _errors(prefix: str, predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    errors = {f"{prefix}_mse": _squared_error(predictions, targets)}
    if targets.ndim == 2 and targets.shape[1] > 1:
        errors[f"{prefix}_error"] = _class_error(predictions, targets)
    return errors


def gd_curve(X: Any, y: Any, steps: Iterable[int], X_test: Any = None, y_test: Any = None,
             learning_rate: float | None = None) -> pd.DataFrame:
    """Training (and test) error of gradient descent from zero after each number of steps, exactly.

    Gradient descent on ``1/2 |X w - y|^2`` from ``w = 0`` is a linear recursion: in the
    eigenvector u_i of ``X X^T`` (eigenvalue lambda_i) the training residual shrinks by the factor
    ``(1 - learning_rate * lambda_i)`` per step. So the weights after t steps are known in closed
    form for any t, and a curve up to millions of steps costs one eigendecomposition: directions
    with large lambda_i are fitted first, those with small lambda_i last.

    Parameters
    ----------
    X : array_like, shape (n, p)
    y : array_like, shape (n,) or (n, k)
        Targets; with k > 1 columns (one-hot classes) the classification error is reported too.
    steps : iterable of int
        Step counts >= 0 at which to report.
    X_test, y_test : array_like, optional
        Test design matrix (m, p) and targets (m,) or (m, k).
    learning_rate : float, optional
        As in :func:`gd_fit` (default ``1 / sigma_max(X)^2``).

    Returns
    -------
    curve : pandas.DataFrame
        One row per step count: ``step``, ``train_mse`` (and ``train_error``), with test data
        ``test_mse`` (and ``test_error``). Equal to evaluating :func:`gd_fit` with that many steps.

    Examples
    --------
    The direction with eigenvalue 1 is fitted in one step, the one with eigenvalue 0.01 slowly:

    >>> X = np.array([[1.0, 0.0], [0.0, 0.1]])
    >>> gd_curve(X, [1.0, 1.0], [0, 1, 100])["train_mse"].round(4).tolist()
    [1.0, 0.49, 0.067]
    """
    X = _as_matrix(X)
    y = _as_targets(y, X.shape[0])
    steps = np.array([_as_count(s, "every step count", minimum=0) for s in steps], dtype=np.int64)
    if X_test is not None or y_test is not None:
        if X_test is None or y_test is None:
            raise ValueError("pass both X_test and y_test, or neither")
        X_test = _as_matrix(X_test, "X_test")
        y_test = _as_targets(y_test, X_test.shape[0], "y_test")
        if X_test.shape[1] != X.shape[1] or y_test.shape[1:] != y.shape[1:]:
            raise ValueError(f"X_test {X_test.shape} and y_test {y_test.shape} must have the columns "
                             f"of X {X.shape} and y {y.shape}")
    rate = _learning_rate(X, learning_rate)
    eigenvalues, U = np.linalg.eigh(X @ X.T)
    keep = eigenvalues > _EIGEN_CUTOFF * eigenvalues.max()
    eigenvalues, U = eigenvalues[keep], U[:, keep]
    factor = 1.0 - rate * eigenvalues  # per step, the residual along u_i is multiplied by this
    if np.any(np.abs(factor) > 1.0 + 1e-12):
        raise ValueError(f"gradient descent diverges with learning_rate={rate:.3g}; use at most "
                         f"2 / sigma_max(X)^2 = {2 / eigenvalues.max():.3g}, or the default")
    with np.errstate(divide="ignore", invalid="ignore"):
        # log|factor|, via log1p where the factor is close to 1 (slow directions) for accuracy.
        log_abs = np.where(factor > 0, np.log1p(-rate * eigenvalues), np.log(np.abs(factor)))
    targets = y.reshape(len(y), -1)
    coords = U.T @ targets  # the targets in the eigenbasis, (r, k)
    null_part = targets - U @ coords  # what no weights can fit (the part outside X's columns)
    cross = None if X_test is None else X_test @ X.T  # (m, n)
    rows = []
    for t in steps:
        # After t steps w_t = X^T U diag(fitted / lambda) U^T y, with fitted = 1 - factor^t.
        if t == 0:
            fitted = np.zeros_like(factor)
        else:
            sign = np.where(factor < 0, (-1.0) ** t, 1.0)
            fitted = np.where(factor >= 0, -np.expm1(t * log_abs), 1.0 - sign * np.exp(t * log_abs))
        residual = U @ ((1.0 - fitted)[:, None] * coords) + null_part
        row = {"step": int(t), **_errors("train", targets - residual, targets)}
        if cross is not None:
            alpha = U @ ((fitted / eigenvalues)[:, None] * coords)
            row |= _errors("test", cross @ alpha, y_test.reshape(len(y_test), -1))
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ 1D problems


class CurveSample(NamedTuple):
    """Noisy samples of a function of one variable on [-1, 1], and a noise-free test grid."""

    x: np.ndarray
    """(n,) training inputs in [-1, 1]."""
    y: np.ndarray
    """(n,) noisy training targets f(x) + noise."""
    x_test: np.ndarray
    """(m,) test inputs: a uniform grid on [-1, 1]."""
    y_test: np.ndarray
    """(m,) noise-free f(x_test): the test error is the distance of a fit from f itself."""
    seed: int
    """The seed that drew the sample (its row in a :func:`sweep` table)."""


def curve_sample(f: Callable[[np.ndarray], np.ndarray], n: int, noise: float, seed: int,
                 n_test: int = 1000) -> CurveSample:
    """n noisy samples of ``f`` at random points, one in each of n cells of a Chebyshev grid.

    The points are ``cos(pi (i + u_i) / n)`` with u_i uniform in [0, 1): random, but spread like
    Chebyshev points (denser near -1 and 1), where polynomial interpolation is well posed. Fully
    uniform random points leave gaps in which a degree-(n - 1) interpolant explodes (Runge's
    phenomenon), and the spike of the double-descent curve then measures the gaps rather than
    the model.

    Parameters
    ----------
    f : callable
        Vectorised function on [-1, 1].
    n : int
        Number of training points >= 1.
    noise : float
        Standard deviation >= 0 of the Gaussian noise added to the training targets.
    seed : int
        Seed of the positions and the noise.
    n_test : int
        Number of points of the uniform test grid.

    Returns
    -------
    sample : CurveSample
        Training points sorted by x.
    """
    n = _as_count(n, "n")
    noise = _as_number(noise, "noise")
    n_test = _as_count(n_test, "n_test", minimum=2)
    rng = np.random.default_rng(seed)
    x = np.sort(np.cos(np.pi * (np.arange(n) + rng.uniform(0.0, 1.0, n)) / n))
    y = np.asarray(f(x), dtype=np.float64) + noise * rng.standard_normal(n)
    x_test = np.linspace(-1.0, 1.0, n_test)
    y_test = np.asarray(f(x_test), dtype=np.float64)
    if y.shape != x.shape or y_test.shape != x_test.shape:
        raise ValueError("f must map an array of inputs to an array of the same shape")
    return CurveSample(x, y, x_test, y_test, seed)


class Problem(NamedTuple):
    """Features and targets of one training set and one test set, for :func:`sweep`."""

    X_train: np.ndarray
    """(n, P) features of the training examples; a model of size N uses the first N columns."""
    y_train: np.ndarray
    """(n,) or (n, k) training targets."""
    X_test: np.ndarray
    """(m, P) features of the test examples."""
    y_test: np.ndarray
    """(m,) or (m, k) test targets."""


def polynomial_problem(sample: CurveSample, n_features: int, decay: float = 0.0) -> Problem:
    """The Legendre features (:func:`legendre_features`) of a :class:`CurveSample`, for :func:`sweep`."""
    return Problem(legendre_features(sample.x, n_features, decay), sample.y,
                   legendre_features(sample.x_test, n_features, decay), sample.y_test)


# ---------------------------------------------------------------------------------- the sweep


def _check_problem(problem: Any, largest: int) -> Problem:
    try:
        X_train, y_train, X_test, y_test = problem
    except (TypeError, ValueError):
        raise ValueError("problem(seed) must return (X_train, y_train, X_test, y_test), e.g. a "
                         "Problem") from None
    X_train, X_test = _as_matrix(X_train, "X_train"), _as_matrix(X_test, "X_test")
    y_train = _as_targets(y_train, len(X_train), "y_train")
    y_test = _as_targets(y_test, len(X_test), "y_test")
    if X_train.shape[1] != X_test.shape[1] or y_train.shape[1:] != y_test.shape[1:]:
        raise ValueError(f"training and test data disagree: features {X_train.shape} and "
                         f"{X_test.shape}, targets {y_train.shape} and {y_test.shape}")
    if X_train.shape[1] < largest:
        raise ValueError(f"the problem has {X_train.shape[1]} features but the largest size asked "
                         f"for is {largest}; compute at least that many")
    return Problem(X_train, y_train, X_test, y_test)


def sweep(problem: Callable[[int], Problem], sizes: Iterable[int], seeds: Iterable[int] = (0,),
          fit: Callable[[np.ndarray, np.ndarray], np.ndarray] = min_norm_fit,
          verbose: bool = True) -> pd.DataFrame:
    """Fit a model of every size on nested features, for several seeds: the double-descent table.

    For each seed, ``problem(seed)`` gives the features of the largest model; the model of size N
    uses their first N columns (features, polynomial degrees, hidden units), fitted by
    ``fit(X_train[:, :N], y_train)``.

    Parameters
    ----------
    problem : callable
        ``problem(seed) -> Problem(X_train (n, P), y_train, X_test (m, P), y_test)`` with
        P >= max(sizes). The seed may change the training sample, the random features, or both.
    sizes : iterable of int
        Model sizes N >= 1 (number of features used).
    seeds : iterable of int
        One run per seed.
    fit : callable
        ``fit(X, y) -> w``; default :func:`min_norm_fit`. For ridge, e.g.
        ``lambda X, y: ridge_fit(X, y, alpha=1e-3)``.
    verbose : bool
        Print one line per seed with its time.

    Returns
    -------
    table : pandas.DataFrame
        One row per seed and size, sorted by seed and size, with columns ``seed``, ``size``,
        ``n_train``, ``ratio`` (size / n_train, parameters per training example per output),
        ``train_mse``, ``test_mse`` (squared error summed over outputs, mean over examples) and,
        for 2D targets with k > 1 columns (one-hot classes), ``train_error`` and ``test_error``
        (fraction misclassified by the largest output).

    Raises
    ------
    ValueError
        For empty or invalid sizes or seeds, or a problem whose data are inconsistent or have
        fewer than max(sizes) features.
    """
    sizes = sorted({_as_count(s, "every size") for s in sizes})
    seeds = list(seeds)
    if not sizes or not seeds:
        raise ValueError("sweep needs at least one size and one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    rows = []
    for seed in seeds:
        start = time.perf_counter()
        X_train, y_train, X_test, y_test = _check_problem(problem(seed), sizes[-1])
        for size in sizes:
            w = fit(X_train[:, :size], y_train)
            rows.append({"seed": seed, "size": size, "n_train": len(X_train),
                         "ratio": size / len(X_train),
                         **_errors("train", X_train[:, :size] @ w, y_train),
                         **_errors("test", X_test[:, :size] @ w, y_test)})
        if verbose:
            print(f"seed {seed}: {len(sizes)} sizes from {sizes[0]:,} to {sizes[-1]:,} "
                  f"(n = {len(X_train):,} training examples) in {time.perf_counter() - start:.1f} s")
    return pd.DataFrame(rows)


def interpolation_threshold(table: pd.DataFrame, tol: float = 1e-8) -> int | None:
    """The smallest size at which the training error is about zero for every seed.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`sweep` table.
    tol : float
        "About zero": ``train_mse <= tol`` (round-off of an exact interpolation is ~1e-20).

    Returns
    -------
    size : int or None
        None if no size interpolates the training data.
    """
    _check_table(table, "train_mse")
    worst = table.groupby("size")["train_mse"].max()
    interpolating = worst.index[worst <= tol]
    return int(interpolating.min()) if len(interpolating) else None


# ------------------------------------------------------------------------------------ figures


def _check_table(table: Any, column: str) -> None:
    if not isinstance(table, pd.DataFrame) or not {"size", "seed", column} <= set(table.columns):
        columns = list(table.columns) if isinstance(table, pd.DataFrame) else type(table).__name__
        raise ValueError(f"need a sweep() table with columns size, seed and {column!r}; got {columns}")


def plot_sweep(table: pd.DataFrame, column: str = "test_mse", ax: Axes | None = None,
               label: str | None = None, color: Any = None, linestyle: str = "-") -> Figure:
    """One curve of a :func:`sweep` table: the median over seeds, and a band from min to max.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`sweep`.
    column : str
        Which error to draw, e.g. ``"test_mse"``, ``"train_error"``.
    ax : matplotlib Axes, optional
        Draw into it (several curves on one Axes); default a new figure. The x-axis is the size on
        a log scale; call :func:`mark_threshold` once per Axes for the line at N = n.
    label : str, optional
        Legend label (default: the column and the number of seeds).
    color, linestyle : optional
        Of the median line; the band has the same colour.

    Returns
    -------
    fig : Figure
    """
    stats = summary(table, column)
    n_seeds = table["seed"].nunique()
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4.5))
    (line,) = ax.plot(stats.index, stats["median"], color=color, linestyle=linestyle,
                      label=label or f"{column} (median of {n_seeds} seeds)")
    if n_seeds > 1:
        ax.fill_between(stats.index, stats["min"], stats["max"], color=line.get_color(),
                        alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_xlabel("model size (number of features)")
    return ax.figure


def mark_threshold(ax: Axes, n_train: int, label: str | None = None) -> None:
    """Mark the interpolation threshold N = n on a size axis, and add a top axis N / n.

    Parameters
    ----------
    ax : matplotlib Axes
        With the model size on the x-axis.
    n_train : int
        Number of training examples n.
    label : str, optional
        Legend label of the dashed vertical line (default ``"N = n = <n>"``).
    """
    n_train = _as_count(n_train, "n_train")
    ax.axvline(n_train, color="gray", linestyle="--", linewidth=1,
               label=label or f"N = n = {n_train:,}")
    top = ax.secondary_xaxis("top", functions=(lambda s: s / n_train, lambda r: r * n_train))
    top.set_xlabel("parameters per training example (N / n)")
    top.xaxis.set_minor_locator(NullLocator())


def summary(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Median, min and max over seeds of one column of a :func:`sweep` table, per size."""
    _check_table(table, column)
    return table.groupby("size")[column].agg(["median", "min", "max"])

