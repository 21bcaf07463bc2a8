"""Tests of course_utils.exercises.training_tricks: notebook 05's self-checking exercises."""

import keras
import numpy as np
import pytest

from course_utils import models
from course_utils.exercises import training_tricks as tt

# ------------------------------------------------------------------ which one had batch norm


def test_which_had_batch_norm():
    assert tt.check_which_had_batch_norm("B", "B").correct
    assert tt.check_which_had_batch_norm(" b ", "B").correct
    wrong = tt.check_which_had_batch_norm("A", "B")
    assert wrong.status == "incorrect" and "horizontal axes" in wrong.message
    assert '"A" or "B"' in tt.check_which_had_batch_norm("C", "B").message
    assert '"A" or "B"' in tt.check_which_had_batch_norm(1, "B").message
    assert tt.check_which_had_batch_norm(..., "B").status == "not attempted"


# -------------------------------------------------------------- batch norm in training mode

Z = np.array([[1.0, 2.0, 0.5], [3.0, -1.0, 0.0], [2.0, 0.0, 1.5], [0.0, 1.0, 1.0]])
GAMMA, BETA = np.array([1.5, 0.5, 2.0]), np.array([0.1, -0.2, 0.0])
MOVING_MEAN, MOVING_VARIANCE = np.array([0.5, 0.3, 0.2]), np.array([2.0, 1.0, 0.5])
EPSILON = 1e-3


def _keras_layer_output(training):
    layer = keras.layers.BatchNormalization(epsilon=EPSILON)
    layer.build((None, 3))
    layer.set_weights([GAMMA, BETA, MOVING_MEAN, MOVING_VARIANCE])
    return np.asarray(layer(Z.astype(np.float32), training=training), dtype=np.float64)


def _check(answer):
    return tt.check_batch_norm_training_mode(answer, Z, GAMMA, BETA, MOVING_MEAN, MOVING_VARIANCE,
                                             EPSILON)


def test_batch_norm_accepts_what_keras_computes_in_training_mode():
    feedback = _check(_keras_layer_output(training=True))
    assert feedback.correct, feedback
    assert _check(_keras_layer_output(training=True).tolist()).correct


def test_batch_norm_recognises_inference_mode():
    feedback = _check(_keras_layer_output(training=False))
    assert feedback.status == "incorrect" and "moving statistics" in feedback.message


@pytest.mark.parametrize(("answer", "message"), [
    (GAMMA * (Z - Z.mean(0)) / np.sqrt(Z.var(0, ddof=1) + EPSILON) + BETA, "n - 1"),
    (GAMMA * (Z - Z.mean(1, keepdims=True)) / np.sqrt(Z.var(1, keepdims=True) + EPSILON) + BETA,
     "each feature (column)"),
    ((Z - Z.mean(0)) / np.sqrt(Z.var(0) + EPSILON), "learned scale and shift"),
    (GAMMA * (Z - Z.mean(0)) + BETA, "per feature (column), subtract"),
])
def test_batch_norm_names_the_mistake(answer, message):
    feedback = _check(answer)
    assert feedback.status == "incorrect" and message in feedback.message


def test_batch_norm_wants_an_array_of_the_batch_shape():
    assert _check(...).status == "not attempted"
    assert "shape" in _check(np.zeros((3, 4))).message
    assert "array of numbers" in _check([["a", "b", "c"]] * 4).message


# ------------------------------------------------------------------ a deep plain network


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((32, 28, 28, 1), dtype=np.float32)


def _deep(**kwargs):
    keras.utils.set_random_seed(0)
    return models.build_deep_cnn(20, width=16, **kwargs)


@pytest.mark.parametrize("kwargs", [{"kernel_initializer": "he_normal"}, {"batch_norm": True}])
def test_deep_plain_signal_accepts_he_initialisation_and_batch_norm(images, kwargs):
    model = _deep(**kwargs)
    weights = model.get_weights()
    feedback = tt.check_deep_plain_signal(model, images)
    assert feedback.correct, feedback
    # The check runs the model in training mode but leaves batch norm's statistics as they were.
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_deep_plain_signal_rejects_the_vanishing_signal(images):
    feedback = tt.check_deep_plain_signal(_deep(), images)
    assert feedback.status == "incorrect" and "vanishes" in feedback.message


def test_deep_plain_signal_rejects_an_exploding_signal(images):
    model = _deep(kernel_initializer=keras.initializers.VarianceScaling(scale=8.0))
    assert "explodes" in tt.check_deep_plain_signal(model, images).message


def test_deep_plain_signal_rejects_skips_shallow_networks_and_non_models(images):
    assert "Add layers" in tt.check_deep_plain_signal(_deep(residual=True), images).message
    keras.utils.set_random_seed(0)
    shallow = models.build_deep_cnn(6, width=16, kernel_initializer="he_normal")
    assert "6 layers with weights" in tt.check_deep_plain_signal(shallow, images).message
    assert "keras.Model" in tt.check_deep_plain_signal("a network", images).message
    assert tt.check_deep_plain_signal(..., images).status == "not attempted"
