"""Tests of course_utils.metrics: RMS error, PSNR, accuracy with its standard error."""

import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from course_utils import metrics


def test_rms_error_by_hand():
    assert metrics.rms_error([0.0, 0.0], [0.3, 0.4]) == pytest.approx(math.sqrt(0.125))
    assert metrics.rms_error(np.ones((3, 3)), np.ones((3, 3))) == 0.0
    with pytest.raises(ValueError, match="equal shapes"):
        metrics.rms_error(np.ones(3), np.ones(4))


def test_psnr_by_hand_and_equal_to_scikit_image():
    clean = np.zeros((4, 4))
    noisy = clean.copy()
    noisy[0, 0] = 0.4  # MSE = 0.16 / 16 = 0.01 -> PSNR = 10 log10(1 / 0.01) = 20 dB
    assert metrics.psnr(noisy, clean) == pytest.approx(20.0)
    rng = np.random.default_rng(0)
    a, b = rng.random((8, 9)), rng.random((8, 9))
    assert metrics.psnr(a, b) == pytest.approx(peak_signal_noise_ratio(b, a, data_range=1.0))
    assert metrics.psnr(a * 255, b * 255, data_range=255) == pytest.approx(metrics.psnr(a, b))
    assert metrics.psnr(a, a) == math.inf


def test_psnr_rejects_bad_input():
    with pytest.raises(ValueError, match="equal shapes"):
        metrics.psnr(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="data_range"):
        metrics.psnr(np.ones(2), np.zeros(2), data_range=0)
    with pytest.raises(ValueError, match="empty"):
        metrics.psnr(np.ones(0), np.ones(0))


def test_accuracy_with_error_is_the_binomial_standard_error():
    y = np.arange(400) % 10
    predicted = y.copy()
    predicted[:40] = (predicted[:40] + 1) % 10  # 10% wrong
    accuracy, se = metrics.accuracy_with_error(y, predicted)
    assert accuracy == pytest.approx(0.9)
    assert se == pytest.approx(math.sqrt(0.9 * 0.1 / 400))
    assert metrics.accuracy_with_error(y, y) == (1.0, 0.0)
    with pytest.raises(ValueError, match="equal length"):
        metrics.accuracy_with_error(y, y[:-1])
