"""Exercises of notebook 04 (convolutional networks): parameters, output sizes, a small CNN.

* :func:`check_parameter_count`: count the parameters of :data:`COUNT_EXERCISE_LAYERS` by hand.
* :func:`check_size_and_receptive_field`: the output size and receptive field of
  :data:`STEM_LAYERS` (the first three layers of a ResNet) on a 64 x 64 image.
* :func:`check_small_cnn`: a trained CNN that beats the dense network with a quarter of its
  parameters.

Each check returns a :class:`course_utils.exercises.Feedback`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from course_utils.exercises import Feedback, attempted, correct, incorrect, not_attempted

__all__ = [
    "COUNT_EXERCISE_INPUT",
    "COUNT_EXERCISE_LAYERS",
    "STEM_INPUT_SIZE",
    "STEM_LAYERS",
    "SMALL_CNN_PARAMETER_SHARE",
    "build_count_exercise_model",
    "check_parameter_count",
    "check_size_and_receptive_field",
    "check_small_cnn",
]

# ------------------------------------------------------------------------ counting parameters

COUNT_EXERCISE_INPUT = (32, 32, 3)
"""(height, width, channels) of the input of the network to count."""

COUNT_EXERCISE_LAYERS = (("conv", 8, 5), ("pool", 2), ("conv", 16, 3), ("pool", 2), ("dense", 10))
"""The network to count: ("conv", filters, kernel size) with "valid" padding, stride 1 and a bias
per filter; ("pool", size) max pooling; ("dense", units) after flattening, with biases."""


def _count(input_shape, layers, biases: bool = True, channels: bool = True,
           padding: str = "valid") -> int:
    """Parameters of a conv/pool/dense stack, optionally with the classic mistakes built in.

    biases=False forgets the biases; channels=False forgets that a filter spans every input
    channel; padding="same" forgets that a valid convolution shrinks the map.
    """
    height, width, depth = input_shape
    total = 0
    flat = None
    for kind, *args in layers:
        if kind == "conv":
            filters, k = args
            total += k * k * (depth if channels else 1) * filters + (filters if biases else 0)
            if padding == "valid":
                height, width = height - k + 1, width - k + 1
            depth = filters
        elif kind == "pool":
            height, width = height // args[0], width // args[0]
        else:
            units = args[0]
            flat = height * width * depth if flat is None else flat
            total += flat * units + (units if biases else 0)
            flat = units
    return total


def build_count_exercise_model():
    """The network of :data:`COUNT_EXERCISE_LAYERS` in Keras, uncompiled, to check a count with.

    Returns
    -------
    model : keras.Sequential
        (N, 32, 32, 3) -> (N, 10); ``model.count_params()`` is the answer of the exercise.
    """
    import keras

    layers = [keras.Input(COUNT_EXERCISE_INPUT)]
    flattened = False
    for kind, *args in COUNT_EXERCISE_LAYERS:
        if kind == "conv":
            layers.append(keras.layers.Conv2D(args[0], args[1]))
        elif kind == "pool":
            layers.append(keras.layers.MaxPooling2D(args[0]))
        else:
            if not flattened:
                layers.append(keras.layers.Flatten())
                flattened = True
            layers.append(keras.layers.Dense(args[0]))
    return keras.Sequential(layers, name="count_me")


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral)


def check_parameter_count(answer) -> Feedback:
    """Check a hand count of the parameters of :data:`COUNT_EXERCISE_LAYERS`.

    Parameters
    ----------
    answer : int
        The number of weights and biases of the whole network.

    Returns
    -------
    feedback : Feedback
        Correct, or which classic mistake the number matches, with a hint.
    """
    if not attempted(answer):
        return not_attempted("count layer by layer, then set answer = your total (an int).")
    if not _is_int(answer):
        return incorrect(f"answer must be a whole number of parameters (an int), got {answer!r}.")
    right = _count(COUNT_EXERCISE_INPUT, COUNT_EXERCISE_LAYERS)
    if answer == right:
        return correct(f"{right:,} parameters, and most of them in the dense layer: the two "
                       "convolutions together have fewer than a third of them.")
    conv_only = _count(COUNT_EXERCISE_INPUT, COUNT_EXERCISE_LAYERS[:-1])
    mistakes = {
        _count(COUNT_EXERCISE_INPUT, COUNT_EXERCISE_LAYERS, biases=False):
            "that is the count without biases: every filter and every dense unit has one bias.",
        _count(COUNT_EXERCISE_INPUT, COUNT_EXERCISE_LAYERS, channels=False):
            "each filter spans all channels of its input: 3 colour channels for the first "
            "layer, the 8 feature maps for the second (k x k x c_in weights per filter).",
        _count(COUNT_EXERCISE_INPUT, COUNT_EXERCISE_LAYERS, padding="same"):
            "a 'valid' convolution shrinks the map by k - 1 before each pooling "
            "((d - k + 2p)/s + 1): recompute the size that reaches Flatten.",
        conv_only:
            "that counts the convolutions only: the dense layer after Flatten has weights too "
            "(one per flattened value and output unit), and a bias per unit.",
    }
    if answer in mistakes:
        return incorrect(f"{answer:,} is not it: {mistakes[answer]}")
    return incorrect(f"{answer:,} is not it. Go layer by layer: a conv layer has "
                     "k x k x c_in x n weights + n biases; pooling has none; follow the map size "
                     "(valid conv: d - k + 1; 2x2 pooling halves, rounding down) to the size of "
                     "the flattened vector, which the dense layer multiplies by its 10 units.")



# ------------------------------------------------------------- output size and receptive field

STEM_INPUT_SIZE = 64
"""Height and width of the input image of the receptive-field exercise."""

STEM_LAYERS = (("conv", 7, 2, 3), ("max pool", 3, 2, 1), ("conv", 3, 1, 1))
"""(layer, kernel size k, stride s, padding p) of the first three layers of a ResNet."""


def _size_and_receptive_field(rounding=math.floor, padding: bool = True,
                              jump: str = "product") -> tuple[int, int]:
    """Output size and receptive field of :data:`STEM_LAYERS`, or a classic mistake.

    rounding=math.ceil rounds the size up; padding=False forgets the padding; jump="one" ignores
    the strides in the receptive field, jump="last" uses only the previous layer's stride instead
    of the product of all earlier ones.
    """
    size, field, step, last_stride = STEM_INPUT_SIZE, 1, 1, 1
    for _, k, s, p in STEM_LAYERS:
        size = rounding((size - k + 2 * (p if padding else 0)) / s) + 1
        field += (k - 1) * {"product": step, "one": 1, "last": last_stride}[jump]
        step, last_stride = step * s, s
    return size, field


def check_size_and_receptive_field(answer) -> Feedback:
    """Check the output size and receptive field of :data:`STEM_LAYERS` on a 64 x 64 image.

    Parameters
    ----------
    answer : (int, int)
        (height = width of the last layer's output, side of the square receptive field of one
        of its units, in input pixels).

    Returns
    -------
    feedback : Feedback
    """
    if not attempted(answer):
        return not_attempted("set answer = (output size, receptive field), two ints.")
    if (not isinstance(answer, (tuple, list)) or len(answer) != 2
            or not all(_is_int(a) for a in answer)):
        return incorrect(f"answer must be two ints, (output size, receptive field), got {answer!r}.")
    size, field = (int(a) for a in answer)
    right_size, right_field = _size_and_receptive_field()
    problems = []
    if size != right_size:
        if size == _size_and_receptive_field(rounding=math.ceil)[0]:
            problems.append("the output size rounds down: ⌊(d - k + 2p)/s⌋ + 1 (a window that "
                            "does not fit completely is not computed).")
        elif size == _size_and_receptive_field(padding=False)[0]:
            problems.append("the output size forgets the padding: each layer adds p zeros on "
                            "both sides, hence the 2p.")
        else:
            problems.append(f"an output size of {size} is not it: apply ⌊(d - k + 2p)/s⌋ + 1 "
                            "layer by layer, the max pool included.")
    if field != right_field:
        if field == sum(k for _, k, _, _ in STEM_LAYERS):
            problems.append("the receptive field is not the sum of the kernel sizes: each layer "
                            "adds k - 1 of its own input pixels.")
        elif field == _size_and_receptive_field(jump="one")[1]:
            problems.append("the receptive field ignores the strides: after stride-2 layers, "
                            "neighbouring units of a layer are several input pixels apart, so "
                            "its k - 1 extra units cover (k - 1) x (product of the earlier "
                            "strides) input pixels.")
        elif field == _size_and_receptive_field(jump="last")[1]:
            problems.append("the step between neighbouring units is the product of all earlier "
                            "strides, not only the previous layer's.")
        else:
            problems.append(f"a receptive field of {field} is not it: start with r = 1 and a "
                            "step j = 1; for each layer r += (k - 1) j, then j *= s.")
    if not problems:
        return correct(f"{right_size} x {right_size} outputs, each seeing a {right_field} x "
                       f"{right_field} patch of the image after only three layers.")
    return incorrect(" ".join(problems))


# ------------------------------------------------------------------------- a small, better CNN

SMALL_CNN_PARAMETER_SHARE = 0.25
"""The small CNN may have at most this share of the dense network's parameters."""



def check_small_cnn(answer, x_test, y_test, dense_accuracy: float,
                    dense_parameters: int) -> Feedback:
    """Check a trained CNN that beats the dense network with a quarter of its parameters.

    Parameters
    ----------
    answer : keras.Model
        Trained; (N, 28, 28, 1) images -> (N, 10) class scores.
    x_test : array, shape (N, 28, 28, 1)
        Test images, values in [0, 1].
    y_test : array of int, shape (N,)
        Their labels.
    dense_accuracy : float
        The test accuracy of the dense network to beat, in [0, 1].
    dense_parameters : int
        Its number of parameters.

    Returns
    -------
    feedback : Feedback
    """
    import keras

    if not attempted(answer):
        return not_attempted("build, compile and train a small CNN, then set answer = model.")
    if not isinstance(answer, keras.Model):
        return incorrect(f"answer must be a trained keras.Model, got {type(answer).__name__}.")
    if not any(isinstance(layer, keras.layers.Conv2D) for layer in answer.layers):
        return incorrect("the model has no Conv2D layer: the point is to let weight sharing "
                         "do what the dense layer cannot.")
    budget = int(SMALL_CNN_PARAMETER_SHARE * dense_parameters)
    n_params = answer.count_params()
    if n_params > budget:
        return incorrect(f"{n_params:,} parameters is over the budget of {budget:,}: most of a "
                         "small CNN's parameters sit in the first dense layer after Flatten; "
                         "fewer filters in the last conv layer, a smaller dense layer or one "
                         "more pooling shrink it.")
    predicted = np.asarray(answer.predict(x_test, batch_size=500, verbose=0)).argmax(axis=1)
    accuracy = float(np.mean(predicted == np.asarray(y_test).ravel()))
    if accuracy < 0.2:
        return incorrect(f"test accuracy {accuracy:.1%} is chance level: was the model trained "
                         "(compile, then fit)?")
    if accuracy <= dense_accuracy:
        return incorrect(f"test accuracy {accuracy:.2%} does not beat the dense network's "
                         f"{dense_accuracy:.2%} yet: train a few more epochs, or spend the "
                         "budget on more filters rather than on the dense layer.")
    return correct(f"{accuracy:.2%} against the dense network's {dense_accuracy:.2%}, with "
                   f"{n_params:,} parameters ({n_params / dense_parameters:.0%} of its "
                   f"{dense_parameters:,}).")
