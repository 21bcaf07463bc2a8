"""Tests of notebook 07's widget (views.double_descent) and exercises (exercises.double_descent)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from ipywidgets import SelectionSlider, fixed, interactive  # noqa: E402

from course_utils import double_descent as dd  # noqa: E402
from course_utils.exercises import double_descent as ex  # noqa: E402
from course_utils.views import shown  # noqa: E402
from course_utils.views.double_descent import polynomial_controls, polynomial_view  # noqa: E402

N, DECAY, SIZES = 12, 1.0, [1, 4, 8, 11, 12, 13, 20, 60]


def truth(x):
    return np.sin(np.pi * x)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def table():
    return dd.sweep(lambda seed: dd.polynomial_problem(dd.curve_sample(truth, N, 0.3, seed, n_test=200),
                                                       max(SIZES), DECAY),
                    SIZES, seeds=range(3), verbose=False)


@pytest.fixture(scope="module")
def sample():
    return dd.curve_sample(truth, N, 0.3, seed=1, n_test=200)


# ------------------------------------------------------------------------------------ the view


@pytest.mark.parametrize(("p", "regime"), [(4, "least squares"), (12, "the only interpolant"),
                                           (60, "smallest-norm interpolant")])
def test_polynomial_view_shows_the_fit_and_its_place_on_the_curve(table, sample, p, regime):
    fig = polynomial_view(sample, table, DECAY, p)
    ax_fit, ax_curve = fig.axes
    assert regime in ax_fit.get_title()
    fit_line = next(line for line in ax_fit.get_lines() if line.get_label() == f"fit, p = {p:,}")
    np.testing.assert_allclose(fit_line.get_xdata(), sample.x_test)
    # The marker is this sample's test error at p: the table's row for the sample's seed.
    marker = next(line for line in ax_curve.get_lines() if line.get_label() == f"p = {p:,}")
    row = table[(table.seed == sample.seed) & (table["size"] == p)].iloc[0]
    assert marker.get_ydata()[0] == pytest.approx(row.test_mse, rel=1e-9)
    own = next(line for line in ax_curve.get_lines() if "this sample" in line.get_label())
    np.testing.assert_allclose(own.get_ydata(), table[table.seed == sample.seed]["test_mse"])
    assert ax_curve.get_yscale() == "log" and ax_curve.get_xscale() == "log"


def test_polynomial_view_interpolates_from_p_equal_n(table, sample):
    fig = polynomial_view(sample, table, DECAY, N)
    title = fig.axes[0].get_title()
    train_mse = float(title.split("train MSE ")[1].split(",")[0])
    assert train_mse < 1e-20


def test_polynomial_view_rejects_bad_input(table, sample):
    with pytest.raises(ValueError, match="p must be one of the sizes of the table"):
        polynomial_view(sample, table, DECAY, 7)
    with pytest.raises(ValueError, match="the sample has 10"):
        polynomial_view(dd.curve_sample(truth, 10, 0.3, 0), table, DECAY, 4)
    with pytest.raises(ValueError, match="must be a CurveSample"):
        polynomial_view((sample.x, sample.y), table, DECAY, 4)


def test_polynomial_controls_drive_the_view_in_interact(table, sample):
    controls = polynomial_controls(table)
    slider = controls["p"]
    assert isinstance(slider, SelectionSlider) and list(slider.options) == SIZES and slider.value == N
    widget = interactive(shown(polynomial_view), sample=fixed(sample), table=fixed(table),
                         decay=fixed(DECAY), **controls)
    widget.children[0].value = 60  # moving the slider redraws without error
    assert polynomial_controls(table, value=4)["p"].value == 4
    with pytest.raises(ValueError, match="one of the table's sizes"):
        polynomial_controls(table, value=5)


# ------------------------------------------------------------------------------- the exercises


def test_check_peak_prediction():
    assert ex.check_peak_prediction(..., n=40).status == "not attempted"
    assert ex.check_peak_prediction(80, n=40).correct
    stays = ex.check_peak_prediction(40, n=40)
    assert not stays.correct and "does not stay at p = 40" in stays.message
    wrong = ex.check_peak_prediction(160, n=40)
    assert not wrong.correct and "interpolation threshold" in wrong.message
    assert "should be a number" in ex.check_peak_prediction("eighty", n=40).message


def test_check_gd_limit():
    assert ex.check_gd_limit(...).status == "not attempted"
    assert ex.check_gd_limit(lambda X, y, w0: w0 + np.linalg.pinv(X) @ (y - X @ w0)).correct
    from_zero = ex.check_gd_limit(lambda X, y, w0: dd.min_norm_fit(X, y))
    assert not from_zero.correct and "the start matters" in from_zero.message
    not_fitting = ex.check_gd_limit(lambda X, y, w0: w0 + dd.min_norm_fit(X, y))
    assert not not_fitting.correct and "do not fit the training data" in not_fitting.message
    assert "got ndarray" in ex.check_gd_limit(np.zeros(3)).message
    raising = ex.check_gd_limit(lambda X, y, w0: X @ X)
    assert not raising.correct and "raised ValueError" in raising.message
    assert "shape" in ex.check_gd_limit(lambda X, y, w0: np.zeros(2)).message


def fourier_table(fit=dd.min_norm_fit, sizes=(10, 20, 27, 30, 33, 40, 60, 90)):
    """A tiny random Fourier feature sweep on Gaussian inputs, n = 30."""
    rng = np.random.default_rng(0)
    x, x_test = rng.standard_normal((30, 5)), rng.standard_normal((100, 5))
    y, y_test = (np.eye(3)[(z[:, 0] > 0).astype(int) + (z[:, 1] > 1).astype(int)] for z in (x, x_test))
    return dd.sweep(lambda seed: dd.Problem(dd.random_fourier_features(x, 90, seed, 2.0), y,
                                            dd.random_fourier_features(x_test, 90, seed, 2.0), y_test),
                    sizes, seeds=(0, 1), fit=fit, verbose=False)


def test_check_fourier_sweep():
    assert ex.check_fourier_sweep(...).status == "not attempted"
    good = ex.check_fourier_sweep(fourier_table())
    assert good.correct and "n = 30" in good.message
    narrow = ex.check_fourier_sweep(fourier_table(sizes=(20, 30, 40)))
    assert not narrow.correct and "at least 2n = 60" in narrow.message
    gap = ex.check_fourier_sweep(fourier_table(sizes=(10, 20, 40, 60, 90)))
    assert not gap.correct and "no size lies within 10% of n = 30" in gap.message
    ridge = ex.check_fourier_sweep(fourier_table(fit=lambda X, y: dd.ridge_fit(X, y, 10.0)))
    assert not ridge.correct and "no size fits the training data exactly" in ridge.message
    assert "DataFrame" in ex.check_fourier_sweep([1, 2]).message
