"""Tests of course_utils.exercises.keras_mnist: notebook 03's self-checking exercises."""

import keras
import numpy as np
import pytest

from course_utils import models, training
from course_utils.exercises import keras_mnist as ex

# ---------------------------------------------------------------------------- the 784-vector


def test_vector_entry_accepts_the_pixel_below():
    row, col = ex.VECTOR_QUESTION
    index = np.ravel_multi_index((row + 1, col), (28, 28))  # NumPy's own row-major order
    assert ex.check_vector_entry(int(index)).correct
    assert ex.check_vector_entry(np.int64(index)).correct


@pytest.mark.parametrize(("answer", "message"), [
    (112, "the first pixel of the next row"),  # the next entry in the vector
    (111, "the pixel below it"),  # the pixel itself
    (140, "count from 0"),
    (167, "count from 0"),
    (5, "entry 5 is pixel (0, 5)"),
    (784, "from 0 to 783"),
    (139.0, "from 0 to 783"),
])
def test_vector_entry_names_the_mistake(answer, message):
    feedback = ex.check_vector_entry(answer)
    assert feedback.status == "incorrect" and message in feedback.message
    assert ex.check_vector_entry(...).status == "not attempted"


# ----------------------------------------------------------------------------------- recall


@pytest.fixture
def cm():
    # Rows: true class; columns: answer. Class 2 is the hardest (5 of 10 right).
    return np.array([[9, 1, 0], [2, 18, 0], [3, 2, 5]])


def test_recall_accepts_the_row_normalised_diagonal(cm):
    feedback = ex.check_recall(np.diag(cm) / cm.sum(axis=1), cm)
    assert feedback.correct, feedback
    assert "hardest digit is 2" in feedback.message


@pytest.mark.parametrize(("answer", "message"), [
    (lambda cm: np.diag(cm) / cm.sum(axis=0), "precision"),
    (lambda cm: np.diag(cm), "counts"),
    (lambda cm: 100 * np.diag(cm) / cm.sum(axis=1), "percentages"),
    (lambda cm: np.diag(cm) / cm.sum(), "number of all test images"),
    (lambda cm: np.ones(3), "not quite"),
    (lambda cm: np.ones(4), "one value per digit"),
])
def test_recall_names_the_mistake(cm, answer, message):
    feedback = ex.check_recall(answer(cm), cm)
    assert feedback.status == "incorrect" and message in feedback.message
    assert ex.check_recall(..., cm).status == "not attempted"


# -------------------------------------------------------------------------- a smaller network


@pytest.fixture(scope="module")
def digits_like():
    """A learnable 10-class problem on 784-vectors: the class is which block of pixels is lit."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 600)
    x = rng.uniform(0, 0.3, (600, 784)).astype("float32")
    for i, label in enumerate(y):
        x[i, 78 * label:78 * label + 78] += 0.7
    return x, y


def _trained(hidden, x, y, epochs):
    keras.utils.set_random_seed(0)
    model = models.build_mlp(784, hidden, 10, activation="relu")
    training.compile_classifier(model, learning_rate=0.01)
    training.timed_fit(model, x, y, epochs=epochs, batch_size=50, verbose=False)
    return model


def test_small_network_accepts_a_small_accurate_model(digits_like):
    x, y = digits_like
    model = _trained(8, x, y, epochs=5)
    feedback = ex.check_small_network(model, x, y, reference_accuracy=1.0, reference_params=101_770)
    assert feedback.correct, feedback


def test_small_network_rejects_a_big_or_an_untrained_model(digits_like):
    x, y = digits_like
    big = models.build_mlp(784, 40, 10)  # 31,810 parameters > a quarter of 101,770
    feedback = ex.check_small_network(big, x, y, reference_accuracy=0.9, reference_params=101_770)
    assert feedback.status == "incorrect" and "more than 25%" in feedback.message
    untrained = models.build_mlp(784, 8, 10)
    feedback = ex.check_small_network(untrained, x, y, reference_accuracy=0.99,
                                      reference_params=101_770)
    assert feedback.status == "incorrect" and "validation accuracy" in feedback.message


def test_small_network_rejects_what_is_not_a_fitting_model(digits_like):
    x, y = digits_like
    assert ex.check_small_network(..., x, y, 0.9, 101_770).status == "not attempted"
    assert "trained Keras model" in ex.check_small_network("model", x, y, 0.9, 101_770).message
    wrong_input = models.build_mlp((28, 28, 1), 8, 10)
    assert "cannot take" in ex.check_small_network(wrong_input, x, y, 0.9, 101_770).message
    three_classes = models.build_mlp(784, 8, 3)
    assert "10 class probabilities" in ex.check_small_network(three_classes, x, y, 0.9,
                                                              101_770).message
