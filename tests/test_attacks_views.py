"""Tests of the figures and widgets of notebook 08 (course_utils.views.attacks)."""

import inspect

import matplotlib

matplotlib.use("Agg")

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils import zoo
from course_utils.views import attacks as views


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digit_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    h = keras.layers.Conv2D(2, 3, strides=3, activation="relu")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(h))
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    x = np.zeros((3, 28, 28, 1), np.float32)
    x[:, 8:20, 10:18] = rng.uniform(0.5, 1, (3, 12, 8, 1))  # a bright stroke on black, like MNIST
    return x, np.array([1, 7, 3])


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def _shown(ax):
    return np.asarray(ax.images[0].get_array(), dtype=np.float64)


# -------------------------------------------------------------------------------------- plot_attack


def test_plot_attack_shows_x_delta_and_x_adv_with_norms_in_grey_levels(digits):
    x, _ = digits
    x_adv = np.clip(x + 0.2 * np.sign(np.random.default_rng(1).standard_normal(x.shape)), 0, 1)
    fig = views.plot_attack(x, x_adv, ["a", "b", "c"], ["A", "B", "C"], suptitle="test")
    axes = _image_axes(fig)
    assert len(axes) == 9
    grid = np.array(fig.axes[:9]).reshape(3, 3)
    for i in range(3):
        np.testing.assert_allclose(_shown(grid[0, i]), x[i, :, :, 0])
        np.testing.assert_allclose(_shown(grid[1, i]), (x_adv - x)[i, :, :, 0], atol=1e-6)
        np.testing.assert_allclose(_shown(grid[2, i]), x_adv[i, :, :, 0])
        assert "51 grey levels" in grid[1, i].get_title()  # 0.2 * 255
    assert [grid[0, i].get_title() for i in range(3)] == ["a", "b", "c"]
    assert [grid[2, i].get_title() for i in range(3)] == ["A", "B", "C"]
    assert grid[1, 0].images[0].get_cmap().name == "RdBu_r"
    assert grid[1, 0].images[0].get_clim() == pytest.approx((-0.2, 0.2))


def test_plot_attack_shows_colour_perturbations_around_mid_grey():
    x = np.full((1, 8, 8, 3), 0.5, np.float32)
    x_adv = x.copy()
    x_adv[0, 0, 0] = [0.52, 0.48, 0.5]
    fig = views.plot_attack(x, x_adv, ["before"], ["after"])
    delta_panel = _shown(fig.axes[1])
    np.testing.assert_allclose(delta_panel[0, 0], [1.0, 0.0, 0.5], atol=1e-5)
    np.testing.assert_allclose(delta_panel[1, 1], [0.5, 0.5, 0.5])


def test_plot_attack_rejects_mismatches(digits):
    x, _ = digits
    with pytest.raises(ValueError, match="same shape"):
        views.plot_attack(x, x[:2], ["a"] * 3, ["b"] * 3)
    with pytest.raises(ValueError, match="one title per image"):
        views.plot_attack(x, x, ["a"], ["b"] * 3)


def test_prediction_title():
    assert views.prediction_title([0.1, 0.7, 0.2], ["cat", "dog", "cow"]) == "dog (p = 0.70)"


# --------------------------------------------------------------------------------- digit widget


@pytest.mark.parametrize("attack", views.DIGIT_ATTACKS)
def test_digit_attack_view_draws_the_attack_it_names(digit_model, digits, attack):
    x, y = digits
    fig = views.digit_attack_view(digit_model, x, y, index=1, eps=0.15, attack=attack)
    image_axes = _image_axes(fig)
    assert len(image_axes) == 3 and len(fig.axes) == 4
    np.testing.assert_allclose(_shown(image_axes[0]), x[1, :, :, 0])
    delta = _shown(image_axes[1])
    assert np.abs(delta).max() == pytest.approx(0.15, abs=1e-6)
    x_adv = _shown(image_axes[2])
    np.testing.assert_allclose(x_adv - x[1, :, :, 0], delta, atol=1e-6)
    assert attack in image_axes[2].get_title() and "true 7" in image_axes[0].get_title()
    bars = [p.get_width() for p in fig.axes[3].patches]
    probs = np.asarray(digit_model(x_adv[None, :, :, None]))[0]
    np.testing.assert_allclose(bars, probs, atol=1e-5)


def test_digit_attack_view_aims_at_the_target(digit_model, digits, monkeypatch):
    x, y = digits
    monkeypatch.setattr(views, "PGD_STEPS", 5)
    fig = views.digit_attack_view(digit_model, x, y, index=0, eps=0.5, attack="PGD", target="4")
    x_adv = _shown(_image_axes(fig)[2])[None, :, :, None]
    before = np.asarray(digit_model(x[:1]))[0, 4]
    assert np.asarray(digit_model(x_adv))[0, 4] > before
    assert "→ 4" in _image_axes(fig)[2].get_title()


def test_digit_attack_view_rejects_bad_settings(digit_model, digits):
    x, y = digits
    with pytest.raises(ValueError, match="index"):
        views.digit_attack_view(digit_model, x, y, index=3)
    with pytest.raises(ValueError, match="unknown attack"):
        views.digit_attack_view(digit_model, x, y, attack="DeepFool")
    with pytest.raises(ValueError, match="target"):
        views.digit_attack_view(digit_model, x, y, target="12")
    with pytest.raises(ValueError, match="eps"):
        views.digit_attack_view(digit_model, x, y, eps=-0.1)


def test_digit_controls_are_the_views_parameters():
    controls = views.digit_attack_controls(100)
    params = list(inspect.signature(views.digit_attack_view).parameters)
    assert list(controls) == params[3:]
    assert controls["index"].max == 99 and not controls["eps"].continuous_update
    assert set(controls["attack"].options) == set(views.DIGIT_ATTACKS)


# ------------------------------------------------------------------------------------ ImageNet lab


@pytest.fixture(scope="module")
def class_names():
    try:
        return zoo.imagenet_class_names()
    except zoo.PretrainedUnavailable as err:
        pytest.skip(f"ImageNet class index not available: {err}")


@pytest.fixture(scope="module")
def imagenet_like_model():
    """1000 classes from 32 x 32 colour images: the lab's interface at a fraction of the cost."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    h = keras.layers.AveragePooling2D(8)(inputs)
    outputs = keras.layers.Dense(1000, activation="softmax")(keras.layers.Flatten()(h))
    return keras.Model(inputs, outputs)


def test_imagenet_lab_view_attacks_towards_the_target(imagenet_like_model, class_names,
                                                      monkeypatch, capsys):
    monkeypatch.setattr(views, "LAB_SIZE", 32)
    monkeypatch.setattr(views, "LAB_STEPS", 5)
    fig = views.imagenet_lab_view(imagenet_like_model, "coffee", "broccoli", 8)
    out = capsys.readouterr().out
    assert "5 PGD steps towards 'broccoli' within 8 grey levels" in out and "done in" in out
    images = _image_axes(fig)
    assert len(images) == 3
    x, x_adv = _shown(images[0]), _shown(images[2])
    np.testing.assert_allclose(x, zoo.imagenet_photo("coffee", 32)[0], atol=1e-6)
    assert np.abs(x_adv - x).max() <= 8 / 255 + 1e-6
    goal = class_names.index("broccoli")
    probs = np.asarray(imagenet_like_model(np.stack([x, x_adv]).astype(np.float32)))
    assert probs[1, goal] > probs[0, goal]
    assert "broccoli" in fig.axes[-1].get_title()
    assert "8 grey levels" in images[1].get_title()


def test_imagenet_lab_view_explains_bad_targets(imagenet_like_model, class_names, monkeypatch):
    monkeypatch.setattr(views, "LAB_SIZE", 32)
    with pytest.raises(ValueError, match="did you mean.*'broccoli'"):
        views.imagenet_lab_view(imagenet_like_model, "coffee", "brocc", 4)
    with pytest.raises(ValueError, match="choose a target class"):
        views.imagenet_lab_view(imagenet_like_model, "coffee", "", 4)
    with pytest.raises(ValueError, match="eps_grey_levels"):
        views.imagenet_lab_view(imagenet_like_model, "coffee", "broccoli", 0.5)


def test_imagenet_lab_controls_are_the_views_parameters(class_names):
    controls = views.imagenet_lab_controls()
    params = list(inspect.signature(views.imagenet_lab_view).parameters)
    assert list(controls) == params[1:]
    assert len(controls["target"].options) == 1000 and controls["target"].ensure_option
    assert controls["photo"].value == "coffee" and not controls["eps_grey_levels"].continuous_update
