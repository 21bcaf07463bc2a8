"""Tests of notebook 06's exercise checks (course_utils.exercises.featviz)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_featviz import course_stack

from course_utils import featviz
from course_utils.exercises import featviz as ex
from course_utils.views import featviz as V


@pytest.fixture(scope="module")
def cnn():
    return course_stack()  # pool2's map is 2 x 2


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((40, 16, 16, 1), dtype=np.float32)


@pytest.fixture(scope="module")
def explorer(cnn, images):
    return V.UnitExplorer({"CNN": V.Subject(cnn, images, ["relu2", "dense_relu1"])})


def test_every_check_says_not_attempted_for_the_placeholder(cnn, images, explorer):
    for feedback in (ex.check_receptive_box(..., cnn),
                     ex.check_bounded_ascent(..., cnn, "dense_relu1", 0, images[0], 0.1),
                     ex.check_unit_story(..., explorer)):
        assert feedback.status == "not attempted" and not feedback.correct


# ----------------------------------------------------------------------------- receptive box


def test_receptive_box_accepts_the_hand_computation_and_names_the_mistakes(cnn):
    # conv3 -> 14, pool -> 7, conv3 -> 5, pool -> 2: centre unit (1, 1), field 10, jump 4.
    assert ex.centre_box(cnn, "pool2") == (4, 4, 14, 14)
    assert ex.check_receptive_box((4, 4, 14, 14), cnn).correct
    assert ex.check_receptive_box([np.int64(4), 4, 14, 14], cnn).correct
    assert "one pixel short" in ex.check_receptive_box((4, 4, 13, 13), cnn).message
    assert "your window is 8 x 8" in ex.check_receptive_box((4, 4, 12, 12), cnn).message
    assert "not the place" in ex.check_receptive_box((1, 1, 11, 11), cnn).message
    assert "four ints" in ex.check_receptive_box((4.0, 4, 14, 14), cnn).message
    assert ex.check_receptive_box((4, 4, 12, 12), cnn, layer="relu2").correct  # 5 x 5 map


# ----------------------------------------------------------------------------- bounded ascent


def bounded_solution(model, start, epsilon, steps=20):
    dense = keras.Model(model.input, model.get_layer("dense_relu1").output)
    x0 = tf.constant(start[None])
    x = tf.Variable(x0)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            h = dense(x)[0, 0]
        x.assign_add(epsilon / 4 * tf.sign(tape.gradient(h, x)))
        x.assign(tf.clip_by_value(tf.clip_by_value(x, x0 - epsilon, x0 + epsilon), 0.0, 1.0))
    return x.numpy()[0]


def test_bounded_ascent_accepts_projected_ascent_and_rejects_what_breaks_a_rule(cnn, images):
    start = images[featviz.top_activating(cnn, "dense_relu1", 0, images, k=1).indices[0]]
    epsilon = 0.2
    solution = bounded_solution(cnn, start, epsilon)
    feedback = ex.check_bounded_ascent(solution, cnn, "dense_relu1", 0, start, epsilon)
    assert feedback.correct, feedback.message
    assert ex.check_bounded_ascent(solution[None], cnn, "dense_relu1", 0, start, epsilon).correct

    unprojected = np.clip(start + 2 * (solution - start), 0, 1)  # twice as far: leaves the box
    assert "moved by" in ex.check_bounded_ascent(unprojected, cnn, "dense_relu1", 0, start,
                                                 epsilon).message
    unclipped = solution.copy()
    unclipped[0, 0, 0] = 1.1
    assert "valid pixels" in ex.check_bounded_ascent(unclipped, cnn, "dense_relu1", 0, start,
                                                     epsilon).message
    weak = ex.check_bounded_ascent(start, cnn, "dense_relu1", 0, start, epsilon)
    assert not weak.correct and "x1.00" in weak.message
    assert "NaN" in ex.check_bounded_ascent(np.full_like(start, np.nan), cnn, "dense_relu1", 0,
                                            start, epsilon).message
    assert "shape" in ex.check_bounded_ascent(np.zeros(5), cnn, "dense_relu1", 0, start,
                                              epsilon).message


# -------------------------------------------------------------------------------- unit story


def test_unit_story_accepts_a_described_visualisation_and_rejects_the_rest(cnn, explorer):
    image = featviz.activation_maximization(cnn, "dense_relu1", 2, steps=40)
    words = "a blob of bright pixels in the upper left with a dark ring around it, like its top images"
    answer = {"model": "CNN", "layer": "dense_relu1", "unit": 2, "image": image, "description": words}
    feedback = ex.check_unit_story(answer, explorer)
    assert feedback.correct, feedback.message

    def variant(**change):
        return ex.check_unit_story({**answer, **change}, explorer)

    assert "at least 12" in variant(description="a blob").message
    assert "unknown model" in variant(model="MNIST").message
    assert "offers no layer" in variant(layer="relu1").message
    assert "unit must be an int from 0 to 7" in variant(unit=8).message
    assert "shape" in variant(image=image[:8]).message
    assert "outside [0, 1]" in variant(image=image + 2).message
    other = featviz.activation_maximization(cnn, "dense_relu1", 2, steps=40, start=np.zeros_like(image),
                                            lr=1e-6)
    assert "the explorer's own visualisation" in variant(image=other).message
    assert "keys" in ex.check_unit_story({"model": "CNN"}, explorer).message
