"""Tests of course_utils.views (shown) and course_utils.views.convolutions (notebook 01's widgets)."""

import inspect
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from ipywidgets import fixed, interactive

from course_utils import data, kernels
from course_utils.transforms import add_noise
from course_utils.views import convolutions, shown
from course_utils.views.convolutions import edge_controls, edge_view, smoothing_controls, smoothing_view


@pytest.fixture(scope="module")
def camera():
    """A 128 x 128 real grey image (the camera man, every 4th pixel): small, so tests are fast."""
    return data.load_image("camera", color="grey")[::4, ::4]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def _shown(ax):
    return np.asarray(ax.images[0].get_array())


def _rms(a, b):
    return np.sqrt(np.mean((a - b) ** 2))


# -------------------------------------------------------------------------------- smoothing_view


@pytest.mark.parametrize(("k", "sigma"), [(9, 2.0), (5, 0.7), (1, 1.0)])
def test_smoothing_view_shows_noisy_uniform_and_gaussian(camera, k, sigma):
    fig = smoothing_view(camera, k=k, sigma=sigma, noise=0.2)
    axes = _image_axes(fig)
    assert len(axes) == 3

    noisy = add_noise(camera, 0.2, seed=convolutions.NOISE_SEED)
    b = k // 2
    interior = (slice(b, camera.shape[0] - b), slice(b, camera.shape[1] - b))
    expected = [
        noisy[interior],
        kernels.correlate2d(noisy, kernels.uniform_kernel(k, ndim=2)),
        kernels.correlate2d(noisy, kernels.gaussian_kernel(k, sigma, ndim=2)),
    ]
    for ax, image in zip(axes, expected, strict=True):
        assert _shown(ax).shape == (camera.shape[0] - k + 1, camera.shape[1] - k + 1)
        np.testing.assert_allclose(_shown(ax), image, atol=1e-12)
        # The title's error is the RMS error of this very panel against the clean interior.
        shown_error = float(re.search(r"RMS error ([0-9.]+)", ax.get_title()).group(1))
        assert shown_error == pytest.approx(_rms(image, camera[interior]), abs=6e-4)

    titles = [ax.get_title() for ax in axes]
    assert "0.2" in titles[0]
    assert f"k={k}" in titles[1] and f"k={k}" in titles[2]
    assert f"σ={sigma:g}" in titles[2]


def test_smoothing_view_smoothing_reduces_the_error(camera):
    fig = smoothing_view(camera, k=3, sigma=1.0, noise=0.2)
    errors = [float(re.search(r"RMS error ([0-9.]+)", ax.get_title()).group(1))
              for ax in _image_axes(fig)]
    assert errors[1] < 0.7 * errors[0] and errors[2] < 0.7 * errors[0]


def test_smoothing_view_sigma_changes_only_the_gaussian_panel(camera):
    narrow = [_shown(ax) for ax in _image_axes(smoothing_view(camera, 7, 0.5))]
    wide = [_shown(ax) for ax in _image_axes(smoothing_view(camera, 7, 3.0))]
    np.testing.assert_array_equal(narrow[0], wide[0])
    np.testing.assert_array_equal(narrow[1], wide[1])
    assert np.abs(np.diff(wide[2], axis=1)).mean() < np.abs(np.diff(narrow[2], axis=1)).mean()


def test_smoothing_view_draws_the_same_noise_every_time(camera, monkeypatch):
    # Only the filter changes while a slider moves: k=3 and k=5 show the same noise, cropped.
    first = _shown(_image_axes(smoothing_view(camera, 3, 1.0, noise=0.2))[0])
    second = _shown(_image_axes(smoothing_view(camera, 5, 2.0, noise=0.2))[0])
    np.testing.assert_array_equal(first[1:-1, 1:-1], second)
    monkeypatch.setattr(convolutions, "NOISE_SEED", convolutions.NOISE_SEED + 1)
    other = _shown(_image_axes(smoothing_view(camera, 3, 1.0, noise=0.2))[0])
    assert not np.array_equal(first, other), "the noise must come from NOISE_SEED"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 4}, "odd int"),
        ({"k": 0}, "odd int"),
        ({"k": -3}, "odd int"),
        ({"k": 129}, "smaller side 128"),
        ({"k": 9.0}, "odd int"),
        ({"k": True}, "odd int"),
        ({"sigma": 0.0}, "sigma must be > 0"),
        ({"sigma": -1.0}, "sigma must be > 0"),
        ({"sigma": float("inf")}, "sigma must be finite"),
        ({"noise": -0.5}, "noise must be >= 0"),
    ],
)
def test_smoothing_view_rejects_bad_arguments(camera, kwargs, message):
    with pytest.raises(ValueError, match=message):
        smoothing_view(camera, **kwargs)


@pytest.mark.parametrize("shape", [(16,), (16, 16, 3), (0, 0)])
def test_smoothing_view_rejects_non_grey_images(shape):
    with pytest.raises(ValueError, match="smoothing_view"):
        smoothing_view(np.zeros(shape), k=1)


# ------------------------------------------------------------------------------------- edge_view


@pytest.mark.parametrize(("theta", "size"), [(30.0, 3), (-45.0, 5), (90, 3)])
def test_edge_view_shows_the_kernel_and_its_response(camera, theta, size):
    fig = edge_view(camera, theta=theta, size=size)
    kernel_ax, response_ax = _image_axes(fig)
    kernel = kernels.directional_edge_kernel(theta, size)
    np.testing.assert_allclose(_shown(kernel_ax), kernel, atol=1e-12)
    np.testing.assert_allclose(_shown(response_ax), kernels.correlate2d(camera, kernel), atol=1e-12)
    assert f"θ={theta:g}°" in kernel_ax.get_title() and f"{size}×{size}" in kernel_ax.get_title()
    assert f"θ={theta:g}°" in response_ax.get_title()
    lo, hi = response_ax.images[0].get_clim()
    assert hi > 0 and lo == -hi, "signed response needs symmetric limits so that zero is white"


def test_edge_view_at_zero_degrees_is_sobel_w1(camera):
    kernel_ax, _ = _image_axes(edge_view(camera, theta=0.0))
    np.testing.assert_allclose(_shown(kernel_ax), kernels.sobel_kernels()[0], atol=1e-12)


def test_edge_view_of_a_flat_image_still_has_symmetric_limits():
    _, response_ax = _image_axes(edge_view(np.full((20, 20), 0.3), theta=10.0))
    np.testing.assert_allclose(_shown(response_ax), 0.0, atol=1e-12)
    lo, hi = response_ax.images[0].get_clim()
    assert hi > 0 and lo == -hi
    # Rounding noise (~1e-17) must stay white, not be stretched over the whole colour map.
    assert hi > 1e3 * np.abs(_shown(response_ax)).max()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 4}, "odd int"),
        ({"size": 1}, "between 3"),
        ({"size": 131}, "smaller side 128"),
        ({"size": 3.0}, "odd int"),
        ({"theta": float("nan")}, "theta must be finite"),
        ({"theta": "30"}, "theta must be a number"),
    ],
)
def test_edge_view_rejects_bad_arguments(camera, kwargs, message):
    with pytest.raises(ValueError, match=message):
        edge_view(camera, **kwargs)


def test_edge_view_rejects_colour_images():
    with pytest.raises(ValueError, match=r"grey \(H, W\) image, got shape \(8, 8, 3\)"):
        edge_view(np.zeros((8, 8, 3)))


# -------------------------------------------------------------------------------------- controls


@pytest.mark.parametrize(("view", "controls"), [(smoothing_view, smoothing_controls),
                                                (edge_view, edge_controls)])
def test_controls_are_the_views_parameters_update_on_release_and_label_in_full(view, controls):
    widgets = controls()
    # The controls and the fixed image are exactly the view's parameters (no test-only ones).
    assert ["img", *widgets] == list(inspect.signature(view).parameters)
    for name, widget in widgets.items():
        assert widget.continuous_update is False, f"{name}: each redraw costs a large image"
        assert widget.style.description_width == "initial", f"{name}: the label must not be cut"
        # The starting value is the view's default, so the static call and the widget agree.
        assert widget.value == inspect.signature(view).parameters[name].default


def test_controls_drive_the_view_in_interact(camera, monkeypatch):
    displayed = []
    monkeypatch.setattr("IPython.display.display", displayed.append)
    widget = interactive(shown(edge_view), img=fixed(camera), **edge_controls())
    widget.update()
    theta_slider = widget.children[0]
    theta_slider.value = 90.0  # what releasing the slider does
    kernels_shown = [_shown(_image_axes(fig)[0]) for fig in displayed]
    np.testing.assert_allclose(kernels_shown[0], kernels.directional_edge_kernel(30.0, 3))
    np.testing.assert_allclose(kernels_shown[-1], kernels.sobel_kernels()[1], atol=1e-12)


def test_every_slider_value_is_accepted_by_the_view(camera):
    for name, widget in (smoothing_controls() | edge_controls()).items():
        view = smoothing_view if name in smoothing_controls() else edge_view
        for value in (widget.min, widget.max):
            assert view(camera, **{name: value}) is not None
            plt.close("all")


# ----------------------------------------------------------------------------------------- shown


def test_shown_displays_once_closes_and_keeps_the_signature(camera, monkeypatch):
    displayed = []  # (figure, still open in pyplot when displayed)
    monkeypatch.setattr("IPython.display.display",
                        lambda fig: displayed.append((fig, plt.fignum_exists(fig.number))))
    wrapped = shown(edge_view)
    assert inspect.signature(wrapped) == inspect.signature(edge_view)
    assert wrapped(camera, theta=45.0) is None
    assert len(displayed) == 1
    # Closed before it is displayed: pyplot never draws it a second time (or from another thread).
    fig, open_when_displayed = displayed[0]
    assert fig.axes and not open_when_displayed and not plt.fignum_exists(fig.number)
