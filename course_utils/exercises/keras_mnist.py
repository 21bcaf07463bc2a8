"""Exercises of notebook 03 (a dense network on MNIST).

* :func:`check_vector_entry`: which entry of the 784-vector holds a given pixel's neighbour.
* :func:`check_recall`: per-digit accuracy (recall) read off a confusion matrix.
* :func:`check_small_network`: a dense network with a quarter of the parameters that keeps the
  slide network's validation accuracy.

Each check returns a :class:`course_utils.exercises.Feedback`.
"""

from __future__ import annotations

import numbers

import numpy as np

from course_utils.exercises import Feedback, attempted, correct, incorrect, not_attempted

__all__ = [
    "SMALL_NETWORK_MARGIN",
    "SMALL_NETWORK_SHARE",
    "VECTOR_QUESTION",
    "check_recall",
    "check_small_network",
    "check_vector_entry",
]

SIDE = 28


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral)


# ------------------------------------------------------------------------------ the 784-vector

VECTOR_QUESTION = (3, 27)
"""(row, column) of the pixel whose neighbour *below* is asked for."""


def check_vector_entry(answer) -> Feedback:
    """Check the entry of the flattened 784-vector that holds the pixel below :data:`VECTOR_QUESTION`.

    Parameters
    ----------
    answer : int
        An index 0 to 783 (entry 28 r + c is pixel (r, c)).

    Returns
    -------
    feedback : Feedback
    """
    if not attempted(answer):
        return not_attempted("set answer = the index (an int from 0 to 783).")
    if not _is_int(answer) or not 0 <= answer < SIDE * SIDE:
        return incorrect(f"answer must be an int from 0 to 783, got {answer!r}.")
    row, col = VECTOR_QUESTION
    right = SIDE * (row + 1) + col
    if answer == right:
        return correct(f"pixel ({row + 1}, {col}) is entry 28·{row + 1} + {col} = {right}, 28 "
                       f"entries after pixel ({row}, {col}) at {SIDE * row + col}. Entry "
                       f"{SIDE * row + col + 1}, right next to it in the vector, is pixel "
                       f"({row + 1}, 0) at the far left of the image.")
    if answer == SIDE * row + col + 1:
        return incorrect(f"entry {answer} comes right after pixel ({row}, {col}) in the vector, "
                         f"but it is pixel ({row + 1}, 0): the first pixel of the next row, at "
                         "the other side of the image. The pixel below is a whole row later.")
    if answer == SIDE * row + col:
        return incorrect(f"entry {answer} is pixel ({row}, {col}) itself; the question asks for "
                         "the pixel below it.")
    if answer in (SIDE * (row + 1) + col + 1, SIDE * (row + 2) + col):
        return incorrect("rows and columns count from 0: row r starts at entry 28 r.")
    found = divmod(answer, SIDE)
    return incorrect(f"entry {answer} is pixel {found}; the pixel below ({row}, {col}) is "
                     f"({row + 1}, {col}). Entry 28 r + c holds pixel (r, c).")


# ---------------------------------------------------------------------------- per-digit recall


def check_recall(answer, cm) -> Feedback:
    """Check the per-digit accuracy (recall) computed from a confusion matrix.

    Parameters
    ----------
    answer : array, shape (n_classes,)
        For each true class, the fraction of its test images that the network got right.
    cm : array of int, shape (n_classes, n_classes)
        Confusion matrix, rows the true class, columns the predicted one.

    Returns
    -------
    feedback : Feedback
    """
    if not attempted(answer):
        return not_attempted("set answer = an array of 10 fractions, one per digit.")
    cm = np.asarray(cm, dtype=np.float64)
    try:
        values = np.asarray(answer, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return incorrect(f"answer must be an array of numbers, got {answer!r}.")
    if values.shape != (len(cm),):
        return incorrect(f"answer must hold one value per digit, {len(cm)} in all; got "
                         f"{values.size}.")
    recall = np.diag(cm) / cm.sum(axis=1)
    if np.allclose(values, recall, atol=1e-6):
        worst = int(recall.argmin())
        return correct(f"the hardest digit is {worst}: {recall[worst]:.1%} of its test images "
                       f"are read correctly, against {recall.max():.1%} for digit "
                       f"{int(recall.argmax())}.")
    if np.allclose(values, 100 * recall, atol=1e-4):
        return incorrect("these are percentages: give fractions between 0 and 1.")
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.diag(cm) / cm.sum(axis=0)
    if np.allclose(values, precision, atol=1e-6, equal_nan=True):
        return incorrect("you divided by the column sums: that is the precision (of the images "
                         "the network called d, how many were d). Recall divides by the row sums, "
                         "the number of test images of each true digit.")
    if np.allclose(values, np.diag(cm)):
        return incorrect("these are counts of correct answers: divide each by the number of test "
                         "images of that digit (the row sums).")
    if np.allclose(values, np.diag(cm) / cm.sum()):
        return incorrect("you divided by the number of all test images; divide each digit's "
                         "correct answers by the number of test images of that digit (its row).")
    return incorrect("not quite: for digit d take the diagonal entry cm[d, d] (d read as d) and "
                     "divide by the sum of row d (all test images of d).")


# ------------------------------------------------------------------------ a smaller network

SMALL_NETWORK_SHARE = 0.25
"""The small network may have at most this share of the reference network's parameters."""

SMALL_NETWORK_MARGIN = 0.02
"""...and may lose at most this much validation accuracy against it."""


def check_small_network(model, x_val, y_val, reference_accuracy: float,
                        reference_params: int) -> Feedback:
    """Check a trained dense network that is much smaller and about as accurate.

    Parameters
    ----------
    model : keras.Model or ...
        The trained network, taking the (N, 784) vectors and returning (N, 10) probabilities;
        ``...`` while not attempted.
    x_val : array, shape (N, 784)
        Validation vectors (not the test set: the test set is for the final number only).
    y_val : array of int, shape (N,)
        Their labels.
    reference_accuracy : float
        Validation accuracy of the slide network.
    reference_params : int
        Its number of parameters.

    Returns
    -------
    feedback : Feedback
        Correct when the model has at most :data:`SMALL_NETWORK_SHARE` of the parameters and
        loses at most :data:`SMALL_NETWORK_MARGIN` of validation accuracy.
    """
    if not attempted(model):
        return not_attempted("build, compile and train a smaller network, then set "
                             "answer = the trained model.")
    if not (hasattr(model, "count_params") and hasattr(model, "predict")):
        return incorrect(f"answer must be a trained Keras model, got {type(model).__name__}.")
    n_params = model.count_params()
    try:
        probs = np.asarray(model.predict(np.asarray(x_val), verbose=0))
    except (ValueError, TypeError) as err:
        return incorrect(f"the model cannot take the (N, 784) validation vectors: {err}")
    if probs.shape != (len(y_val), 10):
        return incorrect(f"the model must output 10 class probabilities per image, got shape "
                         f"{probs.shape}.")
    accuracy = float(np.mean(probs.argmax(axis=1) == np.asarray(y_val)))
    budget = int(SMALL_NETWORK_SHARE * reference_params)
    if n_params > budget:
        return incorrect(f"{n_params:,} parameters is more than {SMALL_NETWORK_SHARE:.0%} of the "
                         f"slide network's {reference_params:,} (at most {budget:,}). Almost all "
                         "of them sit in the first layer, 785 per hidden unit.")
    if accuracy < reference_accuracy - SMALL_NETWORK_MARGIN:
        return incorrect(f"{n_params:,} parameters, but {accuracy:.1%} validation accuracy "
                         f"against the slide network's {reference_accuracy:.1%} (allowed: "
                         f"{SMALL_NETWORK_MARGIN:.0%} less). Train it longer, try ReLU units, or "
                         "a few more hidden units.")
    return correct(f"{n_params:,} parameters ({n_params / reference_params:.0%} of the slide "
                   f"network's) and {accuracy:.1%} validation accuracy against its "
                   f"{reference_accuracy:.1%}: most of the 128 hidden units were not needed.")
