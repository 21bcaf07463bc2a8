"""Tests of notebook 08's exercise checks (course_utils.exercises.attacks)."""

import keras
import numpy as np
import pytest

from course_utils import attacks
from course_utils.exercises import attacks as ex


@pytest.fixture(scope="module")
def model():
    """A linear softmax classifier on 8 x 8 images: quick, and its gradients are exact."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def images(model):
    x = np.random.default_rng(0).uniform(0.2, 0.8, (50, 8, 8, 1)).astype(np.float32)
    return x, np.asarray(model(x)).argmax(axis=1)  # labels the model gets right


def test_all_checks_say_not_attempted_for_the_placeholder(model, images):
    x, y = images
    for feedback in (ex.check_smallest_flip(..., model, x[0], y[0]),
                     ex.check_targeted_digit(..., model, x[0], 7, 0.2),
                     ex.check_universal_perturbation(..., model, x, y, 0.2)):
        assert feedback.status == "not attempted" and not feedback.correct


# ------------------------------------------------------------------------------- smallest flip


def _smallest_flip_by_search(model, image, label):
    for k in range(1, 256):
        x_adv = attacks.fgsm(model, image[None], [label], k / 255)
        if np.asarray(model(x_adv)).argmax() != label:
            return k
    raise AssertionError("never flips")


def test_smallest_flip_accepts_the_searched_answer_and_rejects_others(model, images):
    x, y = images
    image, label = x[0], int(y[0])
    smallest = _smallest_flip_by_search(model, image, label)
    assert smallest > 1
    assert ex.check_smallest_flip(smallest, model, image, label).correct
    assert ex.check_smallest_flip(np.int64(smallest), model, image, label).correct
    too_small = ex.check_smallest_flip(smallest - 1, model, image, label)
    assert not too_small.correct and "still predicts" in too_small.message
    flipped = ex.fgsm_flip_levels(model, image, label)
    larger = next(k for k in range(smallest + 1, 256) if flipped[k - 1])
    too_large = ex.check_smallest_flip(larger, model, image, label)
    assert not too_large.correct and "a smaller budget already does" in too_large.message
    pixels = ex.check_smallest_flip(smallest / 255, model, image, label)
    assert not pixels.correct and "grey levels" in pixels.message
    assert "whole number" in ex.check_smallest_flip(300, model, image, label).message


# ------------------------------------------------------------------------------- targeted digit


def test_targeted_digit_accepts_a_targeted_attack_and_rejects_wrong_answers(model, images):
    x, y = images
    index = int(np.flatnonzero(y != 7)[0])
    image = x[index]
    solution = attacks.pgd(model, image[None], 7, 0.2, targeted=True)
    assert ex.check_targeted_digit(solution, model, image, 7, 0.2).correct
    assert ex.check_targeted_digit(solution[0], model, image, 7, 0.2).correct
    untargeted = attacks.fgsm(model, image[None], [int(y[index])], 0.2)[0]
    assert np.asarray(model(untargeted[None])).argmax() != 7
    wrong = ex.check_targeted_digit(untargeted, model, image, 7, 0.2)
    assert not wrong.correct and "targeted=True" in wrong.message
    too_big = attacks.pgd(model, image[None], 7, 0.5, targeted=True)
    over = ex.check_targeted_digit(too_big, model, image, 7, 0.2)
    assert not over.correct and "more than ε" in over.message
    outside = ex.check_targeted_digit(solution * 2 - 0.5, model, image, 7, 0.2)
    assert not outside.correct and "[0, 1]" in outside.message
    shape = ex.check_targeted_digit(solution[0, :4], model, image, 7, 0.2)
    assert not shape.correct and "shape" in shape.message


# -------------------------------------------------------------------------- universal perturbation


def test_universal_perturbation_accepts_a_shared_gradient_ascent_and_rejects_noise(model, images,
                                                                                   monkeypatch):
    x, y = images
    eps = 0.2
    delta = np.zeros(x.shape[1:], np.float32)
    for _ in range(10):
        grad = attacks.input_gradient(model, np.clip(x + delta, 0, 1), y).mean(axis=0)
        delta = np.clip(delta + eps / 4 * np.sign(grad), -eps, eps)
    fooled = ex.universal_accuracy(model, x, y, delta)
    noise = np.random.default_rng(1).choice([-eps, eps], size=delta.shape)
    noise_accuracy = ex.universal_accuracy(model, x, y, noise)
    assert fooled < noise_accuracy
    # Put the bar between what the shared gradient ascent reaches and what noise leaves.
    monkeypatch.setattr(ex, "UNIVERSAL_TARGET_ACCURACY", (fooled + noise_accuracy) / 2)
    right = ex.check_universal_perturbation(delta, model, x, y, eps)
    assert right.correct and "random signs" in right.message
    wrong = ex.check_universal_perturbation(noise, model, x, y, eps)
    assert not wrong.correct and "get it below" in wrong.message
    over = ex.check_universal_perturbation(2 * delta, model, x, y, eps)
    assert not over.correct and "more than ε" in over.message
    per_image = ex.check_universal_perturbation(np.zeros_like(x), model, x, y, eps)
    assert not per_image.correct and "one perturbation" in per_image.message
