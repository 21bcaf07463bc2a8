"""Tests of course_utils.exercises.cnn: notebook 04's self-checking exercises."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils.exercises import cnn

# ------------------------------------------------------------------------- parameter count


def test_parameter_count_accepts_what_keras_counts():
    right = cnn.build_count_exercise_model().count_params()
    feedback = cnn.check_parameter_count(right)
    assert feedback.correct, feedback
    assert cnn.check_parameter_count(np.int64(right)).correct


@pytest.mark.parametrize(("answer", "message"), [
    (7512, "without biases"),  # 600 + 1152 + 5760 weights only
    (6138, "spans all channels"),  # 5*5*8+8 + 3*3*16+16 + 5770: input channels forgotten
    (12026, "shrinks the map"),  # flattened as if the convolutions kept 32 -> 16 -> 8
    (1776, "convolutions only"),  # 608 + 1168
    (7000, "layer by layer"),
])
def test_parameter_count_names_the_mistake(answer, message):
    feedback = cnn.check_parameter_count(answer)
    assert feedback.status == "incorrect"
    assert message in feedback.message


def test_parameter_count_wants_an_int_and_waits_for_an_answer():
    assert cnn.check_parameter_count(...).status == "not attempted"
    assert "whole number" in cnn.check_parameter_count(7546.0).message
    assert "whole number" in cnn.check_parameter_count(True).message


# ------------------------------------------------------------ output size and receptive field


def _stem_model():
    """The stem of STEM_LAYERS in Keras: linear convolutions and a max pool, random weights."""
    layers = [keras.Input((cnn.STEM_INPUT_SIZE, cnn.STEM_INPUT_SIZE, 1))]
    for name, k, s, p in cnn.STEM_LAYERS:
        layers.append(keras.layers.ZeroPadding2D(p))
        layers.append(keras.layers.Conv2D(2, k, strides=s) if name == "conv"
                      else keras.layers.MaxPooling2D(k, strides=s))
    return keras.Sequential(layers)


def test_size_and_receptive_field_accepts_what_tensorflow_measures():
    keras.utils.set_random_seed(0)
    stem = _stem_model()
    size = stem.output_shape[1]
    # The receptive field: the input pixels the centre unit's value depends on, over many
    # random images so that every position of every max pool has been the max somewhere.
    x = tf.Variable(np.random.default_rng(0).random((64, 64, 64, 1), dtype=np.float32))
    with tf.GradientTape() as tape:
        centre = tf.reduce_sum(stem(x)[:, size // 2, size // 2, :])
    rows, cols = np.nonzero(np.abs(tape.gradient(centre, x).numpy()).sum(axis=(0, 3)))
    field = int(np.ptp(rows)) + 1
    assert field == int(np.ptp(cols)) + 1
    feedback = cnn.check_size_and_receptive_field((size, field))
    assert feedback.correct, feedback
    assert cnn.check_size_and_receptive_field([size, field]).correct


@pytest.mark.parametrize(("answer", "message"), [
    ((17, 19), "rounds down"),
    ((12, 19), "forgets the padding"),
    ((16, 13), "not the sum of the kernel sizes"),
    ((16, 11), "ignores the strides"),
    ((16, 15), "product of all earlier strides"),
    ((15, 20), "output size of 15"),
])
def test_size_and_receptive_field_names_the_mistake(answer, message):
    feedback = cnn.check_size_and_receptive_field(answer)
    assert feedback.status == "incorrect"
    assert message in feedback.message


def test_size_and_receptive_field_wants_two_ints():
    assert cnn.check_size_and_receptive_field(...).status == "not attempted"
    for answer in (16, (16, 19, 1), (16.0, 19), "16, 19"):
        assert "two ints" in cnn.check_size_and_receptive_field(answer).message


# ------------------------------------------------------------------------------ a small CNN

DENSE_PARAMETERS = 108_925


@pytest.fixture(scope="module")
def labelled_by_a_cnn():
    """Images and the classes a fixed small CNN assigns them, so that it scores 100% on them."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(10, 28),
                              keras.layers.Flatten(), keras.layers.Softmax()])
    x = np.random.default_rng(0).random((200, 28, 28, 1), dtype=np.float32)
    labels = np.asarray(model.predict(x, verbose=0)).argmax(axis=1)
    assert len(np.unique(labels)) > 3  # a labelling with several classes, not a constant
    return model, x, labels


def test_small_cnn_accepts_a_better_cnn_within_budget(labelled_by_a_cnn):
    model, x, labels = labelled_by_a_cnn
    assert model.count_params() <= cnn.SMALL_CNN_PARAMETER_SHARE * DENSE_PARAMETERS
    feedback = cnn.check_small_cnn(model, x, labels, 0.94, DENSE_PARAMETERS)
    assert feedback.correct, feedback
    assert "100.00%" in feedback.message


def test_small_cnn_rejects_a_cnn_that_does_not_beat_the_dense_network(labelled_by_a_cnn):
    model, x, labels = labelled_by_a_cnn
    wrong = labels.copy()
    wrong[:30] = (wrong[:30] + 1) % 10  # 85% right
    feedback = cnn.check_small_cnn(model, x, wrong, 0.94, DENSE_PARAMETERS)
    assert feedback.status == "incorrect" and "does not beat" in feedback.message


def test_small_cnn_rejects_an_untrained_looking_model(labelled_by_a_cnn):
    model, x, labels = labelled_by_a_cnn
    feedback = cnn.check_small_cnn(model, x, (labels + 1) % 10, 0.94, DENSE_PARAMETERS)
    assert "was the model trained" in feedback.message


def test_small_cnn_rejects_a_model_over_budget_or_without_convolutions():
    too_big = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(40, 28),
                                keras.layers.Flatten()])
    assert "over the budget" in cnn.check_small_cnn(too_big, None, None, 0.9,
                                                    DENSE_PARAMETERS).message
    dense = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    assert "no Conv2D" in cnn.check_small_cnn(dense, None, None, 0.9, DENSE_PARAMETERS).message
    assert "keras.Model" in cnn.check_small_cnn("my model", None, None, 0.9,
                                                DENSE_PARAMETERS).message
    assert cnn.check_small_cnn(..., None, None, 0.9, DENSE_PARAMETERS).status == "not attempted"
