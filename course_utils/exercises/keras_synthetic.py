"""Exercises of notebook 02 (the slide's Keras network on 2D data).

* :func:`check_parameter_count`: the parameters of a network with two hidden layers, by hand.
* :func:`check_xor_units`: two hand-set hidden units whose half-planes make XOR separable.
* :func:`check_spiral_network`: the smallest network that separates the spirals.

Each check returns a :class:`course_utils.exercises.Feedback`.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import expit

from course_utils import data, training
from course_utils.exercises import Feedback, attempted, correct, incorrect, not_attempted

__all__ = [
    "COUNT_LAYERS",
    "SPIRAL_ACTIVATION",
    "SPIRAL_REFERENCE",
    "SPIRAL_TARGET",
    "XOR_TARGET",
    "check_parameter_count",
    "check_spiral_network",
    "check_xor_units",
    "xor_features_accuracy",
]


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral)


# ----------------------------------------------------------------------------- counting by hand

COUNT_LAYERS = (2, 16, 16, 2)
"""Units per layer of the network to count: 2 inputs, two hidden layers of 16, 2 outputs."""


def _count(layers, biases: bool = True) -> int:
    pairs = zip(layers[:-1], layers[1:], strict=True)
    return sum(n_in * n_out + (n_out if biases else 0) for n_in, n_out in pairs)


def check_parameter_count(answer) -> Feedback:
    """Check a hand count of the parameters of the dense network :data:`COUNT_LAYERS`.

    Parameters
    ----------
    answer : int
        Number of weights and biases.

    Returns
    -------
    feedback : Feedback
    """
    if not attempted(answer):
        return not_attempted("count layer by layer and set answer = the total (an int).")
    if not _is_int(answer):
        return incorrect(f"answer must be a whole number (an int), got {answer!r}.")
    right = _count(COUNT_LAYERS)
    pairs = zip(COUNT_LAYERS[:-1], COUNT_LAYERS[1:], strict=True)
    layers = " + ".join(f"({a}·{b} + {b})" for a, b in pairs)
    if answer == right:
        return correct(f"{layers} = {right}. Each layer has a weight per (input, unit) pair and "
                       "a bias per unit; the layers are added, not multiplied.")
    mistakes = [
        (_count(COUNT_LAYERS, biases=False), "you counted the weights but not the biases: every "
                                             "unit of every layer (hidden and output) also has "
                                             "one bias."),
        (_count(COUNT_LAYERS[:-1]), "you left out the output layer: it has a weight from every "
                                    "unit of the last hidden layer to each of its 2 units, plus "
                                    "their biases."),
        (int(np.prod(COUNT_LAYERS)), "the layers are not multiplied: each layer connects only to "
                                     "the next, so count each pair of neighbouring layers and "
                                     "add the counts."),
    ]
    # Two mistakes can give the same number (here, no biases and no output layer both give 320).
    matches = [message for count, message in mistakes if count == answer]
    if matches:
        return incorrect(" Or: ".join(matches))
    return incorrect(f"{answer} is not it. For each layer: (inputs × units) weights + units "
                     "biases; then add the layers up.")


# -------------------------------------------------------------------------------- XOR by hand

XOR_TARGET = 0.95
"""Accuracy on the XOR points that two well-placed hidden units make possible."""


def xor_features_accuracy(weights, biases) -> float:
    """Accuracy on XOR of the best output layer on top of two given sigmoid hidden units.

    The hidden units are fixed, ``h = σ(x W + b)``; only the output layer is fitted (logistic
    regression on the two features h1, h2), on the 600 seeded XOR points of the notebook.

    Parameters
    ----------
    weights : array, shape (2, 2)
        Keras' layout: column j holds the weights (w1, w2) of unit j.
    biases : array, shape (2,)

    Returns
    -------
    accuracy : float
    """
    from sklearn.linear_model import LogisticRegression

    x, y = data.make_2d_dataset("xor", n=training.SYNTHETIC_POINTS, seed=0)
    features = expit(x.astype(np.float64) @ weights + biases)
    output_layer = LogisticRegression(C=1e4, max_iter=2000).fit(features, y)
    return float(output_layer.score(features, y))


def check_xor_units(answer) -> Feedback:
    """Check two hand-set hidden units that let an output layer separate XOR.

    Parameters
    ----------
    answer : tuple
        ``(W, b)``: W of shape (2, 2), one column (w1, w2) per unit as in a Keras ``Dense``
        layer, and b of shape (2,).

    Returns
    -------
    feedback : Feedback
        Correct when the best output layer on the two units reaches :data:`XOR_TARGET`.
    """
    if not attempted(answer):
        return not_attempted("set answer = (W, b) with W a 2 × 2 array (one column per unit) "
                             "and b an array of 2 biases.")
    try:
        weights, biases = (np.asarray(part, dtype=np.float64) for part in answer)
    except (TypeError, ValueError):
        return incorrect(f"answer must be a pair (W, b) of arrays, got {answer!r}.")
    if weights.shape != (2, 2) or biases.shape != (2,):
        return incorrect(f"W must have shape (2, 2) and b shape (2,), got {weights.shape} and "
                         f"{biases.shape}.")
    if not (np.isfinite(weights).all() and np.isfinite(biases).all()):
        return incorrect("the weights and biases must be finite numbers.")
    if np.any(np.linalg.norm(weights, axis=0) == 0):
        return incorrect("a unit with both weights 0 is constant over the plane: it draws no "
                         "line. Give each unit a direction (w1, w2).")
    accuracy = xor_features_accuracy(weights, biases)
    if accuracy >= XOR_TARGET:
        return correct(f"the output layer on your two units classifies {accuracy:.1%} of the "
                       "XOR points: two half-planes that cut off the two class-1 corners leave "
                       "the class-0 band between them.")
    cos = abs(weights[:, 0] @ weights[:, 1]) / np.prod(np.linalg.norm(weights, axis=0))
    hint = ("your two lines are not parallel: a crossing pair cuts the plane into four wedges "
            "that do not follow the clusters. Try two parallel lines, one on each side of the "
            "band that holds (-1, -1) and (1, 1)." if cos < 0.9 else
            "your lines are parallel, good; place them on either side of the diagonal band "
            "through (-1, -1) and (1, 1), e.g. at x₂ = x₁ + 1 and x₂ = x₁ − 1, with each unit "
            "switching on away from the band.")
    return incorrect(f"the best output layer on your units reaches only {accuracy:.1%} (the goal "
                     f"is {XOR_TARGET:.0%}): {hint}")


# ---------------------------------------------------------------------- smallest spiral network

SPIRAL_TARGET = 0.95
"""Held-out accuracy a network must reach on the spirals."""

SPIRAL_ACTIVATION = "tanh"

SPIRAL_REFERENCE = (8, 8)
"""The notebook's smallest network that separates the spirals; the answer must be smaller."""

# A fresh sample of the spirals (another seed) that no choice was made on: the final check.
_FRESH_SEED = 1
_MAX_UNITS = 128


def check_spiral_network(answer) -> Feedback:
    """Check a network that separates the spirals with fewer parameters than the notebook's.

    Trains ``training.train_2d_classifier("spirals", answer, "tanh")`` (the notebook's budget),
    then requires :data:`SPIRAL_TARGET` on its held-out points (which you may have used to
    choose) and on 600 fresh points that no choice was made on, with fewer parameters than
    :data:`SPIRAL_REFERENCE`.

    Parameters
    ----------
    answer : int or tuple of int
        Units per hidden layer, e.g. ``(6, 6)``.

    Returns
    -------
    feedback : Feedback
    """
    if not attempted(answer):
        return not_attempted("set answer = a tuple of hidden-layer sizes, e.g. (6, 6).")
    hidden = (answer,) if _is_int(answer) else answer
    if (not isinstance(hidden, (tuple, list)) or not 1 <= len(hidden) <= 4
            or not all(_is_int(units) and units >= 1 for units in hidden)):
        return incorrect(f"answer must be a tuple of 1 to 4 positive ints (units per hidden "
                         f"layer), got {answer!r}.")
    if sum(hidden) > _MAX_UNITS:
        return incorrect(f"{sum(hidden)} hidden units is far from small: stay under "
                         f"{_MAX_UNITS} in total.")
    trained = training.train_2d_classifier("spirals", tuple(int(u) for u in hidden),
                                           SPIRAL_ACTIVATION)
    n_params = trained.model.count_params()
    reference = training.train_2d_classifier("spirals", SPIRAL_REFERENCE, SPIRAL_ACTIVATION)
    reference_params = reference.model.count_params()
    x_fresh, y_fresh = data.make_2d_dataset("spirals", n=training.SYNTHETIC_POINTS, seed=_FRESH_SEED)
    fresh = float(np.mean(np.asarray(trained.model(x_fresh)).argmax(axis=1) == y_fresh))
    shape = " → ".join(map(str, (2, *hidden, 2)))
    if trained.test_accuracy < SPIRAL_TARGET:
        depth = ("" if len(hidden) > 1 else " One hidden layer is not enough within this "
                 "budget: try two.")
        return incorrect(f"{shape} ({n_params} parameters) reaches {trained.test_accuracy:.1%} "
                         f"on the held-out points, short of {SPIRAL_TARGET:.0%}.{depth}")
    if fresh < SPIRAL_TARGET - 0.02:
        return incorrect(f"{shape} reaches {trained.test_accuracy:.1%} on the held-out points "
                         f"but only {fresh:.1%} on fresh points: a lucky fit of this split. "
                         "Try a slightly larger network.")
    if n_params >= reference_params:
        return incorrect(f"{shape} separates the spirals ({trained.test_accuracy:.1%}), but "
                         f"with {n_params} parameters; the notebook's "
                         f"{' + '.join(map(str, SPIRAL_REFERENCE))} already has "
                         f"{reference_params}. Find a smaller one.")
    return correct(f"{shape}: {n_params} parameters (the notebook's smallest had "
                   f"{reference_params}), {trained.test_accuracy:.1%} on the held-out points and "
                   f"{fresh:.1%} on 600 fresh ones. Can you go lower still?")
