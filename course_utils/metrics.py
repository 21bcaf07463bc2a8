"""Numbers that compare two images or signals, and a classifier's accuracy with its uncertainty.

Pixel values are in [0, 1] unless a function says otherwise.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["accuracy_with_error", "psnr", "rms_error"]


def _same_shape(estimate, reference, func: str) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(estimate, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{func} needs equal shapes, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError(f"{func}: the arrays are empty")
    return a, b


def rms_error(estimate, reference) -> float:
    """Root-mean-square difference of two equally shaped arrays.

    Parameters
    ----------
    estimate, reference : array_like, same shape

    Returns
    -------
    rms : float
        In the units of the inputs (grey levels for images in [0, 1]).

    Examples
    --------
    >>> rms_error([0.0, 0.0], [0.3, 0.4])
    0.3535...
    """
    a, b = _same_shape(estimate, reference, "rms_error")
    return float(np.sqrt(np.mean((a - b) ** 2)))


def psnr(estimate, reference, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio, ``10 log10(data_range**2 / MSE)``, in decibels.

    Parameters
    ----------
    estimate, reference : array_like, same shape
        Images (or batches) with values in [0, data_range].
    data_range : float
        The largest possible pixel value minus the smallest (1 for images in [0, 1]).

    Returns
    -------
    psnr : float
        Higher is better; +inf for identical arrays. 20 dB is a visibly degraded image, 30 dB a good
        one. Equals ``skimage.metrics.peak_signal_noise_ratio``.
    """
    a, b = _same_shape(estimate, reference, "psnr")
    if not data_range > 0:
        raise ValueError(f"data_range must be > 0, got {data_range}")
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(data_range**2 / mse)


def accuracy_with_error(y_true, y_pred) -> tuple[float, float]:
    """Fraction of correct predictions and its binomial standard error.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (n,)
        True and predicted classes.

    Returns
    -------
    accuracy : float
        In [0, 1].
    standard_error : float
        ``sqrt(acc (1 - acc) / n)``: the spread of the accuracy measured on another test set of
        the same size. Two accuracies that differ by less than about two of these are not told
        apart by this test set.
    """
    t, p = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if t.shape != p.shape or t.size == 0:
        raise ValueError(f"need two non-empty label arrays of equal length, got {t.shape} and "
                         f"{p.shape}")
    accuracy = float(np.mean(t == p))
    return accuracy, math.sqrt(accuracy * (1 - accuracy) / t.size)
