"""Tests of course_utils.views.keras_mnist (notebook 03's widget)."""

import inspect

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from ipywidgets import fixed, interactive

from course_utils.views import shown
from course_utils.views.keras_mnist import prediction_controls, prediction_view


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


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

    fig = prediction_view(model, images, labels, index=3, class_names=("a", "b", "c"))
    ax_image, ax_probs = fig.axes
    np.testing.assert_array_equal(ax_image.images[0].get_array(), images[3, :, :, 0])
    np.testing.assert_allclose([bar.get_width() for bar in ax_probs.patches], probs[3])
    names = "abc"
    assert ax_image.get_title() == f"test image 3: true {names[labels[3]]}"
    assert ax_probs.get_title().startswith(f"predicted {names[probs[3].argmax()]} (")
    assert ax_probs.get_title().endswith("right")
    assert model.batch_shapes == [(1, 16)], "one image, flattened to the model's input shape"

    wrong = prediction_view(model, images, labels, index=1, class_names=("a", "b", "c"))
    assert f"wrong, true {names[labels[1]]}" in wrong.axes[1].get_title()


def test_prediction_view_names_classes_by_number_by_default(tiny_digits):
    model, images = tiny_digits
    fig = prediction_view(model, images, np.zeros(5, int), index=0)
    assert fig.axes[0].get_title() == "test image 0: true 0"


@pytest.mark.parametrize("index", [-1, 5, 2.0, True, None])
def test_prediction_view_rejects_an_index_out_of_range(tiny_digits, index):
    model, images = tiny_digits
    with pytest.raises(ValueError, match=r"index must be an int in 0\.\.4"):
        prediction_view(model, images, np.zeros(5, int), index=index)


def test_prediction_view_rejects_mismatched_inputs(tiny_digits):
    model, images = tiny_digits
    with pytest.raises(ValueError, match="5, 4, 4, 1.*4 labels"):
        prediction_view(model, images, np.zeros(4, int), index=0)
    with pytest.raises(ValueError, match=r"model takes inputs of shape \(16,\)"):
        prediction_view(model, np.zeros((2, 3, 3, 1)), np.zeros(2, int), index=0)


def test_prediction_controls_cover_every_image_and_update_on_release():
    (name, slider), = prediction_controls(1000, start=499).items()
    assert name == "index" and name in inspect.signature(prediction_view).parameters
    assert (slider.min, slider.max, slider.value) == (0, 999, 499)
    assert slider.continuous_update is False
    assert slider.style.description_width == "initial"


@pytest.mark.parametrize(("n_images", "start", "message"),
                         [(0, 0, "n_images"), (5, 5, r"start must be in 0\.\.4"),
                          (5, -1, "start"), (2.0, 0, "n_images")])
def test_prediction_controls_reject_bad_arguments(n_images, start, message):
    with pytest.raises(ValueError, match=message):
        prediction_controls(n_images, start)


def test_prediction_controls_drive_the_view_in_interact(tiny_digits, monkeypatch):
    model, images = tiny_digits
    displayed = []
    monkeypatch.setattr("IPython.display.display", displayed.append)
    widget = interactive(shown(prediction_view), model=fixed(model), images=fixed(images),
                         labels=fixed(np.zeros(5, int)), class_names=fixed(None),
                         **prediction_controls(len(images), start=2))
    widget.update()
    widget.children[0].value = 4
    titles = [fig.axes[0].get_title() for fig in displayed]
    assert titles[0].startswith("test image 2") and titles[-1].startswith("test image 4")
