"""Tests of course_utils.views.keras_synthetic (notebook 02's widget) and the 2D trainer behind it,
training.train_2d_classifier."""

import inspect

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection

from course_utils import data, plotting, training
from course_utils.views import keras_synthetic
from course_utils.views.keras_synthetic import (
    MAX_HIDDEN_UNITS,
    hidden_unit_titles,
    hidden_units_controls,
    hidden_units_view,
)

# A tiny training budget: the tests check what is drawn, the notebook checks what is learned.
TINY_EPOCHS, TINY_POINTS = 2, 40


@pytest.fixture(autouse=True)
def tiny_budget(monkeypatch):
    """The view and the trainer read these constants at call time."""
    monkeypatch.setattr(training, "SYNTHETIC_EPOCHS", TINY_EPOCHS)
    monkeypatch.setattr(training, "SYNTHETIC_POINTS", TINY_POINTS)
    monkeypatch.setattr(keras_synthetic, "_drawn", set())


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _unit_axes(fig):
    return [ax for ax in fig.axes if ax.get_title().startswith("unit ")]


def _region_axes(fig):
    return [ax for ax in fig.axes
            if any(im.get_label() == plotting.PREDICTED_CLASS_LABEL for im in ax.images)]


def _points_drawn(ax):
    (scatter,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    return scatter.get_offsets()


def _grid_points(x, image):
    """The grid points behind a (resolution, resolution) image drawn over the points x."""
    return plotting.grid_over(x, resolution=image.shape[0])[2]


# ---------------------------------------------------------------------------- hidden_units_view


def test_hidden_units_view_draws_every_unit_and_the_decision_region():
    fig = hidden_units_view("xor", 3)
    trained = training.train_2d_classifier("xor", 3, "sigmoid")  # cached: the view's model
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


def test_hidden_units_view_uses_the_budget_constants_at_call_time(monkeypatch):
    fig = hidden_units_view("rings", 1)
    (region,) = _region_axes(fig)
    # The held-out points drawn are 30% of SYNTHETIC_POINTS, as set by the fixture.
    assert len(_points_drawn(region)) == int(0.3 * TINY_POINTS)
    monkeypatch.setattr(training, "SYNTHETIC_POINTS", 2 * TINY_POINTS)
    (region,) = _region_axes(hidden_units_view("rings", 1))
    assert len(_points_drawn(region)) == int(0.3 * 2 * TINY_POINTS)


def test_hidden_units_view_says_when_it_trains_and_is_silent_when_it_does_not(capsys):
    hidden_units_view("spirals", 2)  # a setting no other test trains
    first = capsys.readouterr().out.splitlines()
    assert len(first) == 2
    assert first[0].startswith("2 → 2 sigmoid → 2 on spirals: training for 2 epochs")
    assert first[1].startswith("trained in ") and first[1].endswith(" s")
    hidden_units_view("spirals", 2)
    assert capsys.readouterr().out == "", "a setting drawn before needs no progress line"


def test_hidden_units_view_reports_a_setting_trained_elsewhere_as_cached(capsys):
    training.train_2d_classifier("rings", 2, "sigmoid")  # as a notebook cell would
    capsys.readouterr()
    hidden_units_view("rings", 2)
    assert capsys.readouterr().out.splitlines()[-1] == "already trained: taken from the cache"


def test_hidden_units_view_second_call_comes_from_the_cache():
    before = training._train_2d_cached.cache_info()
    first = hidden_units_view("xor", 4)  # a setting no other test trains
    second = hidden_units_view("xor", 4)
    after = training._train_2d_cached.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1), (
        "the second call must not train again")
    for a, b in zip(first.axes, second.axes, strict=True):
        assert a.get_title() == b.get_title()
        for image_a, image_b in zip(a.images, b.images, strict=True):
            np.testing.assert_array_equal(image_a.get_array(), image_b.get_array())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dataset": "moons"}, "unknown 2D dataset 'moons'"),
        ({"n_hidden": 0}, r"n_hidden must be an int in 1\.\.8, got n_hidden=0"),
        ({"n_hidden": -3}, r"n_hidden must be an int in 1\.\.8"),
        ({"n_hidden": 2.0}, "n_hidden must be an int, got n_hidden=2.0"),
        ({"n_hidden": True}, "n_hidden must be an int"),
        ({"n_hidden": MAX_HIDDEN_UNITS + 1}, rf"in 1\.\.8, got n_hidden={MAX_HIDDEN_UNITS + 1}"),
    ],
)
def test_hidden_units_view_rejects_bad_arguments(kwargs, message):
    arguments = {"dataset": "xor", "n_hidden": 2} | kwargs
    with pytest.raises(ValueError, match=message):
        hidden_units_view(**arguments)


def test_hidden_unit_titles_write_each_units_formula():
    titles = hidden_unit_titles(np.array([[2.0, -0.04], [-1.5, 3.0]]), np.array([0.3, -1.0]))
    assert titles == ["unit 1: σ(+2.0x₁ -1.5x₂ +0.3)", "unit 2: σ(-0.0x₁ +3.0x₂ -1.0)"]


# ------------------------------------------------------------------------------------- controls


def test_controls_are_the_views_parameters_with_labels_in_full():
    controls = hidden_units_controls()
    assert list(controls) == list(inspect.signature(hidden_units_view).parameters)
    assert controls["dataset"].options == data.DATASETS_2D
    slider = controls["n_hidden"]
    assert (slider.min, slider.max) == (1, MAX_HIDDEN_UNITS)
    # A new count trains a network: update on release, not for every value a drag passes.
    assert slider.continuous_update is False
    assert slider.description == "hidden units"
    for name, widget in controls.items():
        assert widget.style.description_width == "initial", f"{name}: the label must not be cut"
        assert widget.value == inspect.signature(hidden_units_view).parameters[name].default


# -------------------------------------------------------------------------- train_2d_classifier


def test_train_2d_classifier_splits_seeded_data_and_builds_the_requested_layers():
    trained = training.train_2d_classifier("rings", (3, 2), "tanh", seed=2)
    assert len(trained.x_train) == 28 and len(trained.x_test) == 12
    x, _ = data.make_2d_dataset("rings", n=TINY_POINTS, seed=2)
    both = np.concatenate([trained.x_train, trained.x_test])
    np.testing.assert_array_equal(np.sort(both, axis=0), np.sort(x, axis=0))
    assert [layer.units for layer in trained.model.layers] == [3, 2, 2]
    assert trained.model.get_layer("hidden2").activation.__name__ == "tanh"
    accuracy = np.mean(np.asarray(trained.model(trained.x_test)).argmax(axis=1) == trained.y_test)
    assert trained.test_accuracy == pytest.approx(accuracy)
    assert trained.seconds > 0


def test_train_2d_classifier_without_hidden_layers_is_logistic_regression():
    trained = training.train_2d_classifier("xor", (), seed=0)
    assert [layer.name for layer in trained.model.layers] == ["output"]
    assert trained.model.count_params() == 2 * 2 + 2


def test_train_2d_classifier_is_reproducible():
    cached = training.train_2d_classifier("xor", 2, seed=3)
    # The same function without its cache trains again from scratch: the same weights.
    again = training._train_2d_cached.__wrapped__("xor", (2,), "sigmoid", 3,
                                                 training.SYNTHETIC_LEARNING_RATE, TINY_EPOCHS,
                                                 TINY_POINTS)
    for a, b in zip(cached.model.get_weights(), again.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_train_2d_classifier_learns_with_a_real_budget(monkeypatch):
    # Enough training to learn XOR with 4 units: a broken optimiser or data split cannot.
    monkeypatch.setattr(training, "SYNTHETIC_EPOCHS", 15)
    monkeypatch.setattr(training, "SYNTHETIC_POINTS", 200)
    assert training.train_2d_classifier("xor", 4, seed=0).test_accuracy > 0.9


@pytest.mark.parametrize(
    ("args", "message"),
    [(("spiral", 4), "unknown 2D dataset"), (("xor", (4, 0)), "hidden layer size"),
     (("xor", [2, -1]), "hidden layer size")],
)
def test_train_2d_classifier_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        training.train_2d_classifier(*args)


def test_train_2d_classifier_rejects_a_bad_budget():
    with pytest.raises(ValueError, match="epochs"):
        training.train_2d_classifier("xor", 2, epochs=0)
    with pytest.raises(ValueError, match="n_points"):
        training.train_2d_classifier("xor", 2, n_points=2.5)
