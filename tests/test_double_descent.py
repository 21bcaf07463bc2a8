"""Tests of course_utils.double_descent: feature maps, minimum-norm / GD / ridge fits, the sweep."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from numpy.polynomial import legendre  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402

from course_utils import double_descent as dd  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def gaussian_problem(seed=0, n=20, n_test=50, n_features=60, outputs=None):
    """Gaussian features (rows independent): the interpolation threshold is exactly n."""
    rng = np.random.default_rng(seed)
    X, X_test = rng.standard_normal((n, n_features)), rng.standard_normal((n_test, n_features))
    w = rng.standard_normal(n_features if outputs is None else (n_features, outputs)) / np.sqrt(n_features)
    noise = 0.3 * rng.standard_normal((n,) if outputs is None else (n, outputs))
    return dd.Problem(X, X @ w + noise, X_test, X_test @ w)


# ------------------------------------------------------------------------------- feature maps


def test_legendre_features_are_orthonormal_legendre_polynomials():
    nodes, weights = legendre.leggauss(30)  # exact for polynomials up to degree 59
    F = dd.legendre_features(nodes, 12)
    gram = F.T @ (weights[:, None] * F) / 2  # mean over x uniform on [-1, 1]
    np.testing.assert_allclose(gram, np.eye(12), atol=1e-12)
    x = np.linspace(-1, 1, 7)
    for k in (0, 3, 11):
        expected = np.sqrt(2 * k + 1) * legendre.Legendre.basis(k)(x) / (k + 1) ** 1.5
        np.testing.assert_allclose(dd.legendre_features(x, 12, decay=1.5)[:, k], expected, atol=1e-12)


def test_legendre_features_are_nested_and_well_conditioned():
    x = np.cos(np.pi * (np.arange(40) + 0.5) / 40)  # Chebyshev points
    big = dd.legendre_features(x, 500, decay=1.0)
    np.testing.assert_array_equal(big[:, :40], dd.legendre_features(x, 40, decay=1.0))
    # As many polynomials as points: Legendre stays usable where monomials are hopeless.
    assert np.linalg.cond(dd.legendre_features(x, 40)) < 10
    assert np.linalg.cond(np.vander(x, 40)) > 1e12


@pytest.mark.parametrize(("x", "n_features", "decay", "message"), [
    ([0.0, 1.5], 3, 0.0, r"x in \[-1, 1\]"),
    ([[0.0, 0.5]], 3, 0.0, "1D array"),
    ([0.0, np.nan], 3, 0.0, "non-finite"),
    ([0.0], 0, 0.0, "n_features must be an integer >= 1"),
    ([0.0], 2.5, 0.0, "n_features must be an integer"),
    ([0.0], 3, -1.0, "decay must be a finite number >= 0"),
])
def test_legendre_features_reject_bad_input(x, n_features, decay, message):
    with pytest.raises(ValueError, match=message):
        dd.legendre_features(x, n_features, decay)


def test_random_relu_features_scale_nesting_and_seeds(rng):
    X = rng.standard_normal((5, 16))
    F = dd.random_relu_features(X, 20_000, seed=3)
    assert F.shape == (5, 20_000) and F.dtype == np.float64 and F.min() >= 0
    # W ~ N(0, I/d): w.x ~ N(0, |x|^2/d) and E[ReLU(z)^2] = var/2.
    expected = np.sum(X**2, axis=1) / (2 * 16)
    np.testing.assert_allclose(np.mean(F**2, axis=1), expected, rtol=0.05)
    np.testing.assert_allclose(F[:, :300], dd.random_relu_features(X, 300, seed=3), rtol=1e-6)
    assert not np.allclose(F[:, :300], dd.random_relu_features(X, 300, seed=4))
    images = rng.random((3, 4, 4, 1))
    np.testing.assert_array_equal(dd.random_relu_features(images, 10),
                                  dd.random_relu_features(images.reshape(3, 16), 10))


def test_random_fourier_features_approximate_the_gaussian_kernel(rng):
    X = 0.5 * rng.standard_normal((6, 3))
    F = dd.random_fourier_features(X, 40_000, seed=1, bandwidth=0.8)
    distances = np.sum((X[:, None] - X[None]) ** 2, axis=-1)
    np.testing.assert_allclose(F @ F.T / 40_000, np.exp(-distances / (2 * 0.8**2)), atol=0.03)
    np.testing.assert_allclose(F[:, :50], dd.random_fourier_features(X, 50, seed=1, bandwidth=0.8),
                               atol=1e-5)
    with pytest.raises(ValueError, match="bandwidth must be a finite number > 0"):
        dd.random_fourier_features(X, 5, bandwidth=0.0)


def test_feature_maps_reject_bad_inputs():
    with pytest.raises(ValueError, match=r"shape \(n, d\)"):
        dd.random_relu_features(np.ones(5), 3)
    with pytest.raises(ValueError, match="non-finite"):
        dd.random_relu_features(np.array([[1.0, np.inf]]), 3)


# --------------------------------------------------------------------------------------- fits


@pytest.mark.parametrize("shape", [(30, 8), (8, 30), (12, 12)], ids=["overdetermined", "underdetermined",
                                                                      "square"])
@pytest.mark.parametrize("outputs", [None, 3])
def test_min_norm_fit_equals_pinv(rng, shape, outputs):
    X = rng.standard_normal(shape)
    y = rng.standard_normal(shape[0] if outputs is None else (shape[0], outputs))
    np.testing.assert_allclose(dd.min_norm_fit(X, y), np.linalg.pinv(X) @ y, atol=1e-9)


@pytest.mark.parametrize("shape", [(30, 8), (8, 30)])
def test_min_norm_fit_handles_dependent_columns_and_rows(rng, shape):
    X = rng.standard_normal(shape)
    X = np.concatenate([X, X[:, :2]], axis=1) if shape[0] > shape[1] else np.concatenate([X, X[:2]])
    y = rng.standard_normal(len(X))
    np.testing.assert_allclose(dd.min_norm_fit(X, y), np.linalg.pinv(X) @ y, atol=1e-9)


@pytest.mark.parametrize("rcond", [0.0, 1.0], ids=["gram-route", "orthogonal-factorisation"])
def test_both_solvers_give_the_pinv_solution(rng, monkeypatch, rcond):
    monkeypatch.setattr(dd, "_GRAM_RCOND", rcond)
    for shape in ((25, 10), (10, 25)):
        X, y = rng.standard_normal(shape), rng.standard_normal(shape[0])
        np.testing.assert_allclose(dd.min_norm_fit(X, y), np.linalg.pinv(X) @ y, atol=1e-9)


def test_min_norm_fit_interpolates_with_the_smallest_norm(rng):
    X, y = rng.standard_normal((5, 12)), rng.standard_normal(5)
    w = dd.min_norm_fit(X, y)
    np.testing.assert_allclose(X @ w, y, atol=1e-12)
    null_direction = np.linalg.svd(X)[2][-1]  # X @ null_direction = 0
    assert np.linalg.norm(w + 0.1 * null_direction) > np.linalg.norm(w)


@pytest.mark.parametrize(("X", "y", "message"), [
    (np.ones((4, 3)), np.ones(5), r"one row per example of X: shape \(4,\)"),
    (np.ones(4), np.ones(4), "2D array"),
    (np.array([[1.0, np.nan]]), np.ones(1), "non-finite"),
    (np.ones((2, 3)), np.array([1.0, np.inf]), "y has 1 non-finite"),
])
def test_fits_reject_bad_input(X, y, message):
    for fit in (dd.min_norm_fit, dd.gd_fit, lambda X, y: dd.ridge_fit(X, y, 1.0)):
        with pytest.raises(ValueError, match=message):
            fit(X, y)


def test_gd_fit_from_zero_converges_to_the_min_norm_solution(rng):
    X = rng.standard_normal((6, 20)) + 2 * np.eye(6, 20)
    y = rng.standard_normal((6, 2))
    np.testing.assert_allclose(dd.gd_fit(X, y, steps=2000), dd.min_norm_fit(X, y), atol=1e-8)
    assert not np.allclose(dd.gd_fit(X, y, steps=3), dd.min_norm_fit(X, y), atol=1e-3)


def test_gd_fit_from_a_start_converges_to_the_nearest_interpolant(rng):
    X = rng.standard_normal((6, 20)) + 2 * np.eye(6, 20)
    y, w0 = rng.standard_normal(6), rng.standard_normal(20)
    w = dd.gd_fit(X, y, steps=2000, start=w0)
    np.testing.assert_allclose(w, w0 + np.linalg.pinv(X) @ (y - X @ w0), atol=1e-8)
    assert not np.allclose(w, dd.min_norm_fit(X, y), atol=1e-2)


def test_gd_fit_rejects_a_bad_start_and_reports_divergence(rng):
    X, y = rng.standard_normal((4, 6)), rng.standard_normal(4)
    with pytest.raises(ValueError, match=r"start must have the shape of the weights, \(6,\)"):
        dd.gd_fit(X, y, start=np.zeros(4))
    too_large = 3 / np.linalg.norm(X, 2) ** 2
    with pytest.raises(ValueError, match="diverged"):
        dd.gd_fit(X, y, steps=5000, learning_rate=too_large)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        dd.gd_fit(X, y, steps=-1)


@pytest.mark.parametrize("shape", [(30, 8), (8, 30)])
def test_ridge_fit_equals_scikit_learn(rng, shape):
    X, y = rng.standard_normal(shape), rng.standard_normal((shape[0], 2))
    expected = Ridge(alpha=0.7, fit_intercept=False).fit(X, y).coef_.T
    np.testing.assert_allclose(dd.ridge_fit(X, y, alpha=0.7), expected, atol=1e-10)
    np.testing.assert_allclose(dd.ridge_fit(X, y, alpha=1e-9), dd.min_norm_fit(X, y), atol=1e-6)
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        dd.ridge_fit(X, y, alpha=0.0)


# ---------------------------------------------------------------------------------- gd_curve


@pytest.mark.parametrize("shape", [(6, 15), (15, 6)], ids=["wide", "tall"])
def test_gd_curve_equals_running_gd_fit(rng, shape):
    X, X_test = rng.standard_normal(shape), rng.standard_normal((9, shape[1]))
    y = np.eye(3)[rng.integers(0, 3, shape[0])]
    y_test = np.eye(3)[rng.integers(0, 3, 9)]
    steps = [0, 1, 7, 60]
    curve = dd.gd_curve(X, y, steps, X_test, y_test)
    assert list(curve.columns) == ["step", "train_mse", "train_error", "test_mse", "test_error"]
    assert curve["step"].tolist() == steps
    for row in curve.itertuples():
        w = dd.gd_fit(X, y, steps=row.step)
        assert row.train_mse == pytest.approx(np.mean(np.sum((X @ w - y) ** 2, axis=1)), rel=1e-9)
        assert row.test_mse == pytest.approx(np.mean(np.sum((X_test @ w - y_test) ** 2, axis=1)), rel=1e-9)
        assert row.train_error == np.mean((X @ w).argmax(1) != y.argmax(1))
    assert curve["train_mse"].iloc[0] == pytest.approx(1.0)  # w = 0 predicts 0 for one-hot targets


def test_gd_curve_reaches_the_min_norm_fit_and_rejects_bad_rates(rng):
    X, y = rng.standard_normal((5, 12)), rng.standard_normal(5)
    curve = dd.gd_curve(X, y, [10**7])
    assert curve["train_mse"].iloc[0] < 1e-20 and "train_error" not in curve
    with pytest.raises(ValueError, match="diverges"):
        dd.gd_curve(X, y, [1], learning_rate=3 / np.linalg.norm(X, 2) ** 2)
    with pytest.raises(ValueError, match="both X_test and y_test"):
        dd.gd_curve(X, y, [1], X_test=X)


# -------------------------------------------------------------------------------- 1D problems


def test_curve_sample_puts_one_point_in_each_chebyshev_cell():
    sample = dd.curve_sample(np.sin, 25, noise=0.0, seed=3, n_test=101)
    cells = np.floor(np.arccos(sample.x) / np.pi * 25).astype(int)
    assert sorted(cells) == list(range(25)) and np.all(np.diff(sample.x) > 0)
    np.testing.assert_allclose(sample.y, np.sin(sample.x))
    np.testing.assert_allclose(sample.x_test, np.linspace(-1, 1, 101))
    assert sample.seed == 3
    noisy = dd.curve_sample(np.sin, 25, noise=0.5, seed=3)
    np.testing.assert_array_equal(noisy.x, sample.x)  # same seed, same positions
    assert 0.2 < np.std(noisy.y - np.sin(noisy.x)) < 0.8


def test_polynomial_problem_holds_the_features_of_a_sample():
    sample = dd.curve_sample(np.cos, 10, noise=0.1, seed=0, n_test=50)
    problem = dd.polynomial_problem(sample, 30, decay=1.0)
    assert problem.X_train.shape == (10, 30) and problem.X_test.shape == (50, 30)
    np.testing.assert_array_equal(problem.X_train, dd.legendre_features(sample.x, 30, 1.0))
    np.testing.assert_array_equal(problem.y_test, sample.y_test)


# ------------------------------------------------------------------------------------ sweep


def test_sweep_table_has_one_row_per_seed_and_size():
    sizes, seeds = [40, 5, 20, 10], [3, 1]
    table = dd.sweep(lambda seed: gaussian_problem(seed=seed), sizes, seeds, verbose=False)
    assert list(table.columns) == ["seed", "size", "n_train", "ratio", "train_mse", "test_mse"]
    assert len(table) == 8 and table["seed"].tolist() == [3] * 4 + [1] * 4
    assert table["size"].tolist() == [5, 10, 20, 40] * 2
    np.testing.assert_allclose(table["ratio"], table["size"] / 20)
    row = table[(table.seed == 1) & (table["size"] == 10)].iloc[0]
    X, y, X_test, y_test = gaussian_problem(seed=1)
    w = dd.min_norm_fit(X[:, :10], y)
    assert row.test_mse == pytest.approx(np.mean((X_test[:, :10] @ w - y_test) ** 2))


def test_sweep_interpolation_threshold_is_where_train_error_first_reaches_zero():
    table = dd.sweep(lambda seed: gaussian_problem(n=20, seed=seed), range(1, 41), seeds=range(3),
                     verbose=False)
    assert dd.interpolation_threshold(table) == 20
    assert table.loc[table["size"] < 20, "train_mse"].min() > 1e-3
    assert table.loc[table["size"] >= 20, "train_mse"].max() < 1e-20
    curve = dd.summary(table, "test_mse")["median"]
    assert abs(curve.idxmax() - 20) <= 2  # the spike of the test error sits at the threshold


def test_sweep_with_ridge_never_interpolates_and_classes_get_an_error_rate():
    table = dd.sweep(lambda seed: gaussian_problem(outputs=4), [5, 20, 60], verbose=False,
                     fit=lambda X, y: dd.ridge_fit(X, y, 1.0))
    assert {"train_error", "test_error"} <= set(table.columns)
    assert table["train_mse"].min() > 1e-4 and dd.interpolation_threshold(table) is None


def test_sweep_prints_one_line_per_seed(capsys):
    dd.sweep(gaussian_problem, [5, 10], seeds=[0, 1])  # called as gaussian_problem(seed)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("seed 0: 2 sizes from 5 to 10 (n = 20 training examples)")


@pytest.mark.parametrize(("problem", "sizes", "seeds", "message"), [
    (gaussian_problem, [61], [0], "has 60 features but the largest size asked for is 61"),
    (gaussian_problem, [], [0], "at least one size"),
    (gaussian_problem, [5], [0, 0], "seeds must be distinct"),
    (gaussian_problem, [0], [0], "every size must be an integer >= 1"),
    (lambda seed: (np.ones((3, 5)), np.ones(3)), [2], [0], r"must return \(X_train, y_train, X_test"),
    (lambda seed: dd.Problem(np.ones((3, 5)), np.ones(3), np.ones((2, 4)), np.ones(2)), [2], [0],
     "training and test data disagree"),
    (lambda seed: dd.Problem(np.ones((3, 5)), np.ones(4), np.ones((2, 5)), np.ones(2)), [2], [0],
     "y_train must have one row per example"),
])
def test_sweep_rejects_bad_input(problem, sizes, seeds, message):
    with pytest.raises(ValueError, match=message):
        dd.sweep(problem, sizes, seeds, verbose=False)


# ------------------------------------------------------------------------------------ figures


def test_plot_sweep_draws_the_median_and_the_spread():
    table = dd.sweep(lambda seed: gaussian_problem(seed=seed), [5, 10, 20, 40], seeds=range(3),
                     verbose=False)
    fig = dd.plot_sweep(table, "test_mse", label="test")
    ax = fig.axes[0]
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), table.groupby("size")["test_mse"].median())
    assert line.get_label() == "test" and ax.get_xscale() == "log" and len(ax.collections) == 1
    dd.mark_threshold(ax, 20)
    assert any(np.allclose(l.get_xdata(), 20) for l in ax.get_lines()[1:])  # noqa: E741
    (top,) = ax.child_axes  # the secondary axis N / n
    assert "N / n" in top.get_xlabel()
    stats = dd.summary(table, "train_mse")
    assert list(stats.columns) == ["median", "min", "max"] and list(stats.index) == [5, 10, 20, 40]
    with pytest.raises(ValueError, match="need a sweep"):
        dd.plot_sweep(pd.DataFrame({"size": [1]}), "test_mse")
