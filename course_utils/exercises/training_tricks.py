"""Exercises of notebook 05 (tricks of the trade): batch norm by hand, and a deep plain network.

* :func:`check_which_had_batch_norm`: which of two histograms of the values entering a ReLU came
  from the network with batch norm.
* :func:`check_batch_norm_training_mode`: a batch-norm layer's output in training mode, by hand.
* :func:`check_deep_plain_signal`: a 20-layer network *without* skip connections whose signal
  still reaches the last layer.

Each check returns a :class:`course_utils.exercises.Feedback`.
"""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Feedback, attempted, correct, incorrect, not_attempted

__all__ = [
    "MIN_DEPTH",
    "SIGNAL_RATIO_RANGE",
    "check_batch_norm_training_mode",
    "check_deep_plain_signal",
    "check_which_had_batch_norm",
]

# --------------------------------------------------------------------- which one had batch norm


def check_which_had_batch_norm(answer, batch_norm_letter: str) -> Feedback:
    """Check the letter of the histogram that came from the batch-norm network.

    Parameters
    ----------
    answer : str
        "A" or "B".
    batch_norm_letter : str
        The right letter, "A" or "B".

    Returns
    -------
    feedback : Feedback
    """
    if not attempted(answer):
        return not_attempted('set answer = "A" or answer = "B".')
    if not isinstance(answer, str) or answer.strip().upper() not in ("A", "B"):
        return incorrect(f'answer must be "A" or "B", got {answer!r}.')
    if answer.strip().upper() == batch_norm_letter.upper():
        return correct("batch norm puts each channel at mean ≈ c and standard deviation ≈ γ, "
                       "which start at 0 and 1 and move little in a short training; without it "
                       "the scale is whatever the weights make it, here far narrower.")
    return incorrect("look at the horizontal axes: batch norm rescales each channel to "
                     "(z - μ)/σ and then γ·ū + c, so its values spread about as wide as a "
                     "standard normal distribution.")


# -------------------------------------------------------------------- batch norm in training mode


def _normalised(z: np.ndarray, mean: np.ndarray, variance: np.ndarray, gamma, beta,
                epsilon: float) -> np.ndarray:
    return gamma * (z - mean) / np.sqrt(variance + epsilon) + beta


def check_batch_norm_training_mode(answer, z, gamma, beta, moving_mean, moving_variance,
                                   epsilon: float) -> Feedback:
    """Check a batch-norm layer's output in training mode, computed by hand.

    Parameters
    ----------
    answer : array, shape (n, f)
        The layer's output for the batch ``z``.
    z : array, shape (n, f)
        A batch of n examples of f features (the pre-activations z̄).
    gamma, beta : arrays, shape (f,)
        The layer's learned scale γ and shift (Keras' ``beta``, the lecture's c).
    moving_mean, moving_variance : arrays, shape (f,)
        The statistics the layer uses at inference.
    epsilon : float
        Added to the variance before the square root.

    Returns
    -------
    feedback : Feedback
        Correct, or which mistake the numbers match (inference mode, the n - 1 variance,
        normalising each example instead of each feature, no γ and c).
    """
    if not attempted(answer):
        return not_attempted("compute the layer's output with NumPy and set answer = that array.")
    z = np.asarray(z, dtype=np.float64)
    try:
        got = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return incorrect(f"answer must be an array of numbers of shape {z.shape}.")
    if got.shape != z.shape:
        return incorrect(f"answer has shape {got.shape}; the output has the shape of the batch, "
                         f"{z.shape}.")
    mean, variance = z.mean(axis=0), z.var(axis=0)
    expected = _normalised(z, mean, variance, gamma, beta, epsilon)
    if np.allclose(got, expected, atol=1e-4):
        return correct("in training mode the layer normalises with the statistics of the batch in "
                       "front of it (divide by n, as NumPy's var does); at inference it switches "
                       "to its moving averages.")
    mistakes = [
        (_normalised(z, moving_mean, moving_variance, gamma, beta, epsilon),
         "those are the moving statistics, which the layer uses at inference. In training mode "
         "μ and σ² come from the batch itself."),
        (_normalised(z, mean, z.var(axis=0, ddof=1), gamma, beta, epsilon),
         "the variance divides by n - 1; batch norm uses the plain mean of the squared "
         "deviations (divide by n, NumPy's default ddof=0)."),
        (_normalised(z, z.mean(axis=1, keepdims=True), z.var(axis=1, keepdims=True), gamma,
                     beta, epsilon),
         "each example (row) was normalised over its features; batch norm normalises each "
         "feature (column) over the examples of the batch: axis=0."),
        (_normalised(z, mean, variance, 1.0, 0.0, epsilon),
         "that is ū, the normalised value; the layer then applies its learned scale and "
         "shift, γ·ū + c."),
    ]
    for values, message in mistakes:
        if np.allclose(got, values, atol=1e-4):
            return incorrect(message)
    return incorrect("not the layer's output: per feature (column), subtract the batch mean, "
                     "divide by sqrt(batch variance + ε), then multiply by γ and add c.")


# ------------------------------------------------------------------- a deep plain network

MIN_DEPTH = 20
"""Layers with weights (convolutions and dense layers) the deep network must have."""

SIGNAL_RATIO_RANGE = (0.1, 10.0)
"""Allowed std(last conv output) / std(first conv output) at initialisation."""



def check_deep_plain_signal(answer, images) -> Feedback:
    """Check an untrained deep network without skip connections whose signal does not vanish.

    Parameters
    ----------
    answer : keras.Model
        Untrained (or trained), (N, 28, 28, 1) -> class probabilities, with at least
        :data:`MIN_DEPTH` convolution and dense layers and no ``Add`` layer.
    images : array, shape (N, 28, 28, 1)
        Real images to push through it, values in [0, 1].

    Returns
    -------
    feedback : Feedback
        Correct when the standard deviation of the last convolution's output is within
        :data:`SIGNAL_RATIO_RANGE` of the first convolution's, measured in training mode (as
        the first steps of gradient descent see the network).
    """
    import keras

    if not attempted(answer):
        return not_attempted("build the network and set answer = model (no training needed).")
    if not isinstance(answer, keras.Model):
        return incorrect(f"answer must be a keras.Model, got {type(answer).__name__}.")
    layers = answer.layers
    if any(isinstance(layer, keras.layers.Add) for layer in layers):
        return incorrect("the model has Add layers, i.e. skip connections: the exercise asks for "
                         "a plain stack (residual=False) that works without them.")
    convs = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
    depth = len(convs) + sum(isinstance(layer, keras.layers.Dense) for layer in layers)
    if depth < MIN_DEPTH or len(convs) < 2:
        return incorrect(f"the model has {depth} layers with weights; the exercise is about a "
                         f"deep one: at least {MIN_DEPTH}.")
    # Training mode, as gradient descent sees the network: batch norm then normalises with the
    # batch's statistics (at inference an untrained one would use its initial 0 and 1). A call
    # in training mode also updates batch norm's moving averages: restore them afterwards.
    probe = keras.Model(answer.input, [convs[0].output, convs[-1].output])
    saved = answer.get_weights()
    first, last = (float(np.std(out)) for out in probe(np.asarray(images, dtype="float32"),
                                                        training=True))
    answer.set_weights(saved)
    ratio = last / first if first > 0 else 0.0
    low, high = SIGNAL_RATIO_RANGE
    if ratio < low:
        return incorrect(f"the last convolution's output has {ratio:.1e} times the spread of the "
                         "first's: the signal still vanishes. Each conv -> ReLU with Glorot "
                         "weights halves its variance; an initialisation that doubles it, or a "
                         "layer that renormalises, keeps it.")
    if ratio > high:
        return incorrect(f"the signal grows {ratio:.0f}-fold from the first to the last "
                         "convolution: now it explodes. Scale the initial weights down.")
    return correct(f"the last convolution's output has {ratio:.2f} times the spread of the "
                   "first's, with no skip connection. Train it for a few epochs to see whether "
                   "it also learns as well as the residual network.")
