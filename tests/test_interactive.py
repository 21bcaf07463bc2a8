"""Tests of the widget view functions in course_utils.interactive."""

import inspect
import re
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils import data, interactive, kernels, plotting


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


# ---------------------------------------------------------------------------------- add_noise etc.


def test_add_noise_is_seeded_clipped_and_has_the_requested_strength(camera):
    mid_grey = np.full((200, 200), 0.5)
    noisy = interactive.add_noise(mid_grey, 0.1, seed=3)
    np.testing.assert_array_equal(noisy, interactive.add_noise(mid_grey, 0.1, seed=3))
    assert not np.array_equal(noisy, interactive.add_noise(mid_grey, 0.1, seed=4))
    # Mid-grey +- 5 sigma never clips, so the empirical std is the requested one.
    assert abs((noisy - 0.5).std() - 0.1) < 0.005
    strong = interactive.add_noise(camera, 0.5)
    assert strong.min() == 0.0 and strong.max() == 1.0
    np.testing.assert_array_equal(interactive.add_noise(camera, 0.0), camera)


@pytest.mark.parametrize("noise", [-0.1, float("nan"), "0.1", True])
def test_add_noise_rejects_bad_noise(camera, noise):
    with pytest.raises(ValueError, match="noise"):
        interactive.add_noise(camera, noise)


def test_rms_error():
    assert interactive.rms_error([0.0, 0.0], [3.0, 4.0]) == pytest.approx(np.sqrt(12.5))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        interactive.rms_error(np.zeros(2), np.zeros(3))


# -------------------------------------------------------------------------------- smoothing_view


@pytest.mark.parametrize(("k", "sigma"), [(9, 2.0), (5, 0.7), (1, 1.0)])
def test_smoothing_view_shows_noisy_uniform_and_gaussian(camera, k, sigma):
    fig = interactive.smoothing_view(camera, k=k, sigma=sigma, noise=0.2, seed=1)
    axes = _image_axes(fig)
    assert len(axes) == 3

    noisy = interactive.add_noise(camera, 0.2, seed=1)
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
    fig = interactive.smoothing_view(camera, k=3, sigma=1.0, noise=0.2)
    errors = [float(re.search(r"RMS error ([0-9.]+)", ax.get_title()).group(1))
              for ax in _image_axes(fig)]
    assert errors[1] < 0.7 * errors[0] and errors[2] < 0.7 * errors[0]


def test_smoothing_view_sigma_changes_only_the_gaussian_panel(camera):
    narrow = [_shown(ax) for ax in _image_axes(interactive.smoothing_view(camera, 7, 0.5))]
    wide = [_shown(ax) for ax in _image_axes(interactive.smoothing_view(camera, 7, 3.0))]
    np.testing.assert_array_equal(narrow[0], wide[0])
    np.testing.assert_array_equal(narrow[1], wide[1])
    assert np.abs(np.diff(wide[2], axis=1)).mean() < np.abs(np.diff(narrow[2], axis=1)).mean()


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
        interactive.smoothing_view(camera, **kwargs)


@pytest.mark.parametrize("shape", [(16,), (16, 16, 3), (0, 0)])
def test_smoothing_view_rejects_non_grey_images(shape):
    with pytest.raises(ValueError, match="smoothing_view"):
        interactive.smoothing_view(np.zeros(shape), k=1)


# ------------------------------------------------------------------------------------- edge_view


@pytest.mark.parametrize(("theta", "size"), [(30.0, 3), (-45.0, 5), (90, 3)])
def test_edge_view_shows_the_kernel_and_its_response(camera, theta, size):
    fig = interactive.edge_view(camera, theta=theta, size=size)
    kernel_ax, response_ax = _image_axes(fig)
    kernel = kernels.directional_edge_kernel(theta, size)
    np.testing.assert_allclose(_shown(kernel_ax), kernel, atol=1e-12)
    np.testing.assert_allclose(_shown(response_ax), kernels.correlate2d(camera, kernel), atol=1e-12)
    assert f"θ={theta:g}°" in kernel_ax.get_title() and f"{size}×{size}" in kernel_ax.get_title()
    assert f"θ={theta:g}°" in response_ax.get_title()
    lo, hi = response_ax.images[0].get_clim()
    assert hi > 0 and lo == -hi, "signed response needs symmetric limits so that zero is white"


def test_edge_view_at_zero_degrees_is_sobel_w1(camera):
    kernel_ax, _ = _image_axes(interactive.edge_view(camera, theta=0.0))
    np.testing.assert_allclose(_shown(kernel_ax), kernels.sobel_kernels()[0], atol=1e-12)


def test_edge_view_of_a_flat_image_still_has_symmetric_limits():
    _, response_ax = _image_axes(interactive.edge_view(np.full((20, 20), 0.3), theta=10.0))
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
        interactive.edge_view(camera, **kwargs)


def test_edge_view_rejects_colour_images():
    with pytest.raises(ValueError, match=r"grey \(H, W\) image, got shape \(8, 8, 3\)"):
        interactive.edge_view(np.zeros((8, 8, 3)))


# ----------------------------------------------------------------------------------------- shown


def test_shown_displays_once_closes_and_keeps_the_signature(camera, monkeypatch):
    displayed = []
    monkeypatch.setattr("IPython.display.display", displayed.append)
    wrapped = interactive.shown(interactive.edge_view)
    assert inspect.signature(wrapped) == inspect.signature(interactive.edge_view)
    assert wrapped(camera, theta=45.0) is None
    assert len(displayed) == 1
    assert not plt.fignum_exists(displayed[0].number)


# ------------------------------------------------------------- 02 Keras synthetic: hidden units

# A tiny training budget: the tests check what is drawn, the notebook checks what is learned.
TINY = {"epochs": 2, "n_points": 40}


def _unit_axes(fig):
    return [ax for ax in fig.axes if ax.get_title().startswith("unit ")]


def _region_axes(fig):
    return [ax for ax in fig.axes
            if any(im.get_label() == plotting.PREDICTED_CLASS_LABEL for im in ax.images)]


def _grid_points(x, image):
    """The grid points behind a (resolution, resolution) image drawn over the points x."""
    return plotting.grid_over(x, resolution=image.shape[0])[2]


def test_hidden_units_view_draws_every_unit_and_the_decision_region():
    fig = interactive.hidden_units_view("xor", 3, seed=1, **TINY)
    trained = interactive.train_2d_classifier("xor", 3, "sigmoid", 1, **TINY)  # cached: same model
    units = _unit_axes(fig)
    (region,) = _region_axes(fig)
    assert len(units) == 3
    assert "xor" in region.get_title() and "3 sigmoid hidden units" in region.get_title()
    assert f"{trained.test_accuracy:.1%}" in region.get_title()

    # Each small panel is its own unit's activation, as the Keras layer computes it.
    for j, ax in enumerate(units):
        shown_map = np.asarray(ax.images[0].get_array())
        points = _grid_points(trained.x_test, shown_map)
        hidden = np.asarray(trained.model.get_layer("hidden")(points.astype(np.float32)))
        np.testing.assert_allclose(shown_map.ravel(), hidden[:, j], atol=1e-5)
        assert ax.get_title().startswith(f"unit {j + 1}: σ(")
    # The big panel is the network's predicted class over the plane.
    regions = np.asarray(region.images[0].get_array())
    points = _grid_points(trained.x_test, regions)
    predicted = np.asarray(trained.model(points.astype(np.float32))).argmax(axis=1)
    np.testing.assert_array_equal(regions.ravel(), predicted)


def test_train_2d_classifier_splits_seeded_data_and_builds_the_requested_layers():
    trained = interactive.train_2d_classifier("rings", (3, 2), "tanh", seed=2, **TINY)
    assert len(trained.x_train) == 28 and len(trained.x_test) == 12
    x, _ = data.make_2d_dataset("rings", n=40, seed=2)
    both = np.concatenate([trained.x_train, trained.x_test])
    np.testing.assert_array_equal(np.sort(both, axis=0), np.sort(x, axis=0))
    assert [layer.units for layer in trained.model.layers] == [3, 2, 2]
    assert trained.model.get_layer("hidden2").activation.__name__ == "tanh"
    accuracy = np.mean(np.asarray(trained.model(trained.x_test)).argmax(axis=1) == trained.y_test)
    assert trained.test_accuracy == pytest.approx(accuracy)


def test_hidden_units_view_second_call_comes_from_the_cache():
    interactive._train_2d_cached.cache_clear()
    start = time.perf_counter()
    first = interactive.hidden_units_view("rings", 2, **TINY)
    first_seconds = time.perf_counter() - start
    assert interactive._train_2d_cached.cache_info().misses == 1
    start = time.perf_counter()
    second = interactive.hidden_units_view("rings", 2, **TINY)
    second_seconds = time.perf_counter() - start
    info = interactive._train_2d_cached.cache_info()
    assert (info.hits, info.misses) == (1, 1), "the second call must not train again"
    assert second_seconds < first_seconds
    for a, b in zip(first.axes, second.axes, strict=True):
        assert a.get_title() == b.get_title()
        for image_a, image_b in zip(a.images, b.images, strict=True):
            np.testing.assert_array_equal(image_a.get_array(), image_b.get_array())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dataset": "moons"}, "unknown 2D dataset 'moons'"),
        ({"n_hidden": 0}, r"n_hidden must be an int >= 1, got n_hidden=0"),
        ({"n_hidden": -3}, "n_hidden must be an int >= 1"),
        ({"n_hidden": 2.0}, "n_hidden must be an int"),
        ({"n_hidden": True}, "n_hidden must be an int"),
        ({"n_hidden": interactive.MAX_HIDDEN_UNITS + 1}, "n_hidden must be at most"),
    ],
)
def test_hidden_units_view_rejects_bad_arguments(kwargs, message):
    arguments = {"dataset": "xor", "n_hidden": 2} | kwargs
    with pytest.raises(ValueError, match=message):
        interactive.hidden_units_view(**arguments, **TINY)


@pytest.mark.parametrize(
    ("args", "message"),
    [(("spiral", 4), "unknown 2D dataset"), (("xor", (4, 0)), "hidden layer size"),
     (("xor", [2, -1]), "hidden layer size")],
)
def test_train_2d_classifier_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        interactive.train_2d_classifier(*args, **TINY)


# ---------------------------------------------------------------- 03 Keras MNIST: prediction_view


class _SoftmaxOnPixels:
    """A stand-in dense classifier: softmax(x W) of the flattened 4 x 4 image, 3 classes."""

    input_shape = (None, 16)

    def __init__(self):
        self.weights = np.random.default_rng(0).normal(scale=3.0, size=(16, 3))
        self.batch_shapes = []

    def predict(self, x, verbose=0):
        self.batch_shapes.append(x.shape)
        z = np.asarray(x) @ self.weights
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def tiny_digits():
    images = np.random.default_rng(1).uniform(size=(5, 4, 4, 1))
    return _SoftmaxOnPixels(), images


def test_prediction_view_shows_the_image_and_its_probabilities(tiny_digits):
    model, images = tiny_digits
    probs = model.predict(images.reshape(5, 16))
    labels = probs.argmax(axis=1)
    labels[1] = (labels[1] + 1) % 3  # image 1 is misclassified
    model.batch_shapes.clear()

    fig = interactive.prediction_view(model, images, labels, index=3, class_names=("a", "b", "c"))
    ax_image, ax_probs = fig.axes
    np.testing.assert_array_equal(ax_image.images[0].get_array(), images[3, :, :, 0])
    np.testing.assert_allclose([bar.get_width() for bar in ax_probs.patches], probs[3])
    names = "abc"
    assert ax_image.get_title() == f"test image 3: true {names[labels[3]]}"
    assert ax_probs.get_title().startswith(f"predicted {names[probs[3].argmax()]} (")
    assert ax_probs.get_title().endswith("right")
    assert model.batch_shapes == [(1, 16)], "one image, flattened to the model's input shape"

    wrong = interactive.prediction_view(model, images, labels, index=1, class_names=("a", "b", "c"))
    assert f"wrong, true {names[labels[1]]}" in wrong.axes[1].get_title()


@pytest.mark.parametrize("index", [-1, 5, 2.0, True, None])
def test_prediction_view_rejects_an_index_out_of_range(tiny_digits, index):
    model, images = tiny_digits
    with pytest.raises(ValueError, match=r"index must be an int in 0\.\.4"):
        interactive.prediction_view(model, images, np.zeros(5, int), index=index)


def test_prediction_view_rejects_mismatched_inputs(tiny_digits):
    model, images = tiny_digits
    with pytest.raises(ValueError, match="5, 4, 4, 1.*4 labels"):
        interactive.prediction_view(model, images, np.zeros(4, int), index=0)
    with pytest.raises(ValueError, match=r"model takes inputs of shape \(16,\)"):
        interactive.prediction_view(model, np.zeros((2, 3, 3, 1)), np.zeros(2, int), index=0)
