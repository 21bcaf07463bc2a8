"""Exercises of notebook 01 (convolutions): match the convolution, output sizes, a 45° edge
kernel, and how fast gradient descent can learn a kernel.

* :func:`match_quiz` and :func:`check_match`: the slide's "match the convolution" quiz, three
  kernels and their three outputs in shuffled order.
* :func:`check_output_size`: the output size of one layer with padding and stride.
* :func:`check_diagonal_kernel`: a kernel that detects 45° edges better than Sobel's W1.
* :func:`check_learning_speed`: a step size and a number of steps with which gradient descent
  recovers Sobel's W1 from input/output pairs faster than the notebook does.

Each check returns a :class:`course_utils.exercises.Feedback`.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course_utils import kernels
from course_utils.exercises import Feedback, attempted, correct, incorrect, not_attempted

__all__ = [
    "DIAGONAL_NORMAL",
    "LEARNING_STEPS",
    "MatchQuiz",
    "OUTPUT_SIZE_QUESTION",
    "check_diagonal_kernel",
    "check_learning_speed",
    "check_match",
    "check_output_size",
    "edge_image",
    "edge_responses",
    "learn_kernel",
    "match_quiz",
    "plot_match_quiz",
    "probe_images",
]


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral)


def _is_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)


# ------------------------------------------------------------------------------- match the quiz


class MatchQuiz(NamedTuple):
    """The "match the convolution" quiz.

    Attributes
    ----------
    signal : float64 array, shape (d,)
        The input x.
    kernels : dict of str to float64 array
        The filters "A", "B", "C", each of length k (all the same k, so that the output lengths
        give nothing away).
    outputs : list of float64 arrays, shape (d - k + 1,)
        The three outputs x ⊛ w ("valid"), numbered 1, 2, 3 in a shuffled order.
    """

    signal: np.ndarray
    kernels: dict[str, np.ndarray]
    outputs: list[np.ndarray]


# Output number -> kernel name. Fixed, so that the notebook and its solution agree on every run.
_QUIZ_ORDER = {1: "B", 2: "C", 3: "A"}


def match_quiz() -> MatchQuiz:
    """The quiz: a noisy signal with two steps and a bump, three filters of length 7.

    A is a moving average, B a (smoothed) difference, C a single 1 at the end: a shift.

    Returns
    -------
    quiz : MatchQuiz

    Examples
    --------
    >>> quiz = match_quiz()
    >>> sorted(quiz.kernels), len(quiz.outputs)
    (['A', 'B', 'C'], 3)
    """
    rng = np.random.default_rng(3)
    i = np.arange(120)
    signal = 0.2 + 0.8 * ((i >= 30) & (i < 70)) + 0.6 * np.exp(-0.5 * ((i - 95) / 3.0) ** 2)
    signal = signal + 0.08 * rng.standard_normal(i.size)
    filters = {
        "A": np.full(7, 1 / 7),
        "B": np.array([1.0, 1.0, 1.0, 0.0, -1.0, -1.0, -1.0]) / 3,
        "C": np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]),
    }
    outputs = [kernels.correlate1d(signal, filters[_QUIZ_ORDER[n]]) for n in sorted(_QUIZ_ORDER)]
    return MatchQuiz(signal, filters, outputs)


def plot_match_quiz(quiz: MatchQuiz) -> Figure:
    """Draw the quiz: the signal, the three kernels, and the three outputs numbered 1 to 3.

    Parameters
    ----------
    quiz : MatchQuiz
        From :func:`match_quiz`.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Top row: x and the kernels A, B, C (stems); bottom row: outputs 1, 2, 3 over the same
        axis as x.
    """
    fig = plt.figure(figsize=(13, 5.6), layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    ax_x, *ax_kernels = top.subplots(1, 4, width_ratios=[3, 1, 1, 1])
    ax_x.plot(np.arange(1, len(quiz.signal) + 1), quiz.signal, color="k", linewidth=1.5)
    ax_x.set_title("x (d = 120)")
    for ax, (name, w) in zip(ax_kernels, quiz.kernels.items(), strict=True):
        ax.stem(np.arange(1, len(w) + 1), w, basefmt="k-")
        ax.set_title(f"kernel {name} (k = {len(w)})")
        ax.set_xticks(np.arange(1, len(w) + 1))
        ax.set_ylim(-0.6, 1.1)
    for n, (ax, out) in enumerate(zip(bottom.subplots(1, 3, sharey=True), quiz.outputs,
                                      strict=True), start=1):
        ax.plot(np.arange(1, len(out) + 1), out, color="tab:purple", linewidth=1.5)
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.set_title(f"output {n}")
        ax.set_xlim(0, len(quiz.signal))
    bottom.suptitle("Which output is x ⊛ A, which x ⊛ B, which x ⊛ C?")
    return fig


def check_match(answer) -> Feedback:
    """Check the matching of kernels to outputs.

    Parameters
    ----------
    answer : dict
        ``{"A": output number, "B": ..., "C": ...}`` with the numbers 1, 2, 3.

    Returns
    -------
    feedback : Feedback
    """
    if not attempted(answer):
        return not_attempted('set answer = {"A": 1, "B": 2, "C": 3}, with the output numbers you '
                             "think belong to each kernel.")
    if not isinstance(answer, dict) or sorted(answer) != ["A", "B", "C"]:
        return incorrect('answer must be a dict with the keys "A", "B" and "C", e.g. '
                         '{"A": 1, "B": 2, "C": 3}.')
    if sorted(answer.values()) != [1, 2, 3]:
        return incorrect(f"each output is used once: the values must be 1, 2 and 3 in some order, "
                         f"got {sorted(answer.values())}.")
    truth = {name: n for n, name in _QUIZ_ORDER.items()}
    wrong = sorted(name for name in truth if answer[name] != truth[name])
    if not wrong:
        return correct("A averages 7 neighbours (a smoothed x, noise gone), B takes the average of "
                       "3 samples minus the average of the 3 after them (zero where x is flat, a "
                       "peak at every step, negative for a step up), and C = [0, …, 0, 1] picks "
                       "x_{i+6}: x itself, noise and all, moved 6 samples to the left.")
    hints = {
        "A": "A's weights are all positive and sum to 1: its output keeps x's level on flat "
             "stretches, and averaging 7 noisy samples removes most of the noise.",
        "B": "B's weights sum to 0: its output is about 0 wherever x is flat, and large only "
             "where x changes.",
        "C": "C has a single 1: [x ⊛ C]_i = x_{i+6}, so its output is x itself, noise included, "
             "moved along.",
    }
    return incorrect(f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} not matched yet. "
                     + " ".join(hints[name] for name in wrong))


# -------------------------------------------------------------------------------- output size

OUTPUT_SIZE_QUESTION = {"d": 28, "k": 5, "p": 1, "s": 2}
"""Input side d, kernel side k, zero padding p on every side, stride s."""


def check_output_size(answer) -> Feedback:
    """Check the output side of a correlation with padding and stride (:data:`OUTPUT_SIZE_QUESTION`).

    Parameters
    ----------
    answer : int
        The side of the square output.

    Returns
    -------
    feedback : Feedback
        Correct, or which classic mistake the number matches, with a hint.
    """
    if not attempted(answer):
        return not_attempted("use the output-size formula, then set answer = the output side "
                             "(an int).")
    d, k, p, s = (OUTPUT_SIZE_QUESTION[key] for key in "dkps")
    right = (d - k + 2 * p) // s + 1
    if _is_number(answer) and not float(answer).is_integer():
        return incorrect(f"{answer} is not a whole number of positions: the window starts at "
                         "0, s, 2s, ... as long as it fits, so the division is rounded down.")
    if not (_is_int(answer) or _is_number(answer)):
        return incorrect(f"answer must be an int, got {answer!r}.")
    answer = int(answer)
    if answer == right:
        return correct(f"⌊({d} − {k} + 2·{p}) / {s}⌋ + 1 = ⌊{d - k + 2 * p}/{s}⌋ + 1 = {right}: "
                       f"the window fits at {right} positions per axis.")
    mistakes = {
        (d - k + 2 * p) // s: "you forgot the + 1: the first position counts too.",
        (d - k) // s + 1: "you forgot the padding: it adds p zeros on each side, 2p per axis.",
        d - k + 2 * p + 1: "you forgot the stride: the window moves s pixels at a time.",
        d - k + 1: "that is the valid output with stride 1: add the padding and the stride.",
        math.ceil(d / s): "that is what Keras' padding='same' gives with stride s: here the "
                          "padding is p = 1, not 'same'.",
    }
    return incorrect(mistakes.get(answer, f"{answer} is not it: count the positions where the "
                                          "k × k window fits inside the padded image, "
                                          "stepping s pixels at a time."))


# ---------------------------------------------------------------------------- the 45° kernel

DIAGONAL_NORMAL = 45.0
"""Normal of the edges to detect, degrees clockwise from the x axis (image rows run down):
edges running from bottom left to top right, like "/"."""

_EDGE_SIDE = 65


def edge_image(normal_deg: float, size: int = _EDGE_SIDE) -> np.ndarray:
    """A straight, anti-aliased black-to-white edge through the centre of a square image.

    Parameters
    ----------
    normal_deg : float
        Direction of the edge's normal in degrees, clockwise from the x axis (rows run down);
        the edge itself runs at ``normal_deg + 90``.
    size : int
        Side of the image in pixels.

    Returns
    -------
    img : float64 array, shape (size, size), values in [0, 1]
    """
    yy, xx = np.mgrid[:size, :size] - size // 2
    angle = np.deg2rad(normal_deg)
    return np.clip(0.5 - (np.cos(angle) * xx + np.sin(angle) * yy), 0.0, 1.0)


def edge_responses(w) -> dict[float, float]:
    """Strongest response of a kernel to straight edges, per unit of kernel norm.

    Parameters
    ----------
    w : array, shape (k, k)
        The kernel.

    Returns
    -------
    responses : dict of float to float
        For edges with normals 45° ("/"), 135° ("\\"), 0° (vertical) and 90° (horizontal):
        ``max |edge ⊛ w| / ||w||``. Dividing by the norm makes kernels comparable: doubling a
        kernel doubles its response but detects nothing better.
    """
    w = np.asarray(w, dtype=np.float64)
    norm = np.linalg.norm(w)
    return {angle: float(np.abs(kernels.correlate2d(edge_image(angle), w)).max() / norm)
            for angle in (DIAGONAL_NORMAL, DIAGONAL_NORMAL + 90, 0.0, 90.0)}


def check_diagonal_kernel(answer) -> Feedback:
    """Check a kernel that should detect "/" edges (normal at 45°) better than Sobel's W1.

    The kernel must ignore flat regions (entries summing to 0), respond to "/" edges at least
    three times as strongly as to "\\" edges (Sobel's W1 cannot tell them apart), and respond to
    "/" edges more strongly than W1 does, per unit of kernel norm.

    Parameters
    ----------
    answer : array, shape (k, k)
        An odd square kernel, 3 <= k <= 9.

    Returns
    -------
    feedback : Feedback
    """
    if not attempted(answer):
        return not_attempted("write a k × k array (e.g. 3 × 3) as answer; the check measures "
                             "it on straight edges.")
    try:
        w = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return incorrect(f"answer must be an array of numbers, got {answer!r}.")
    if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] % 2 == 0 or not 3 <= w.shape[0] <= 9:
        return incorrect(f"answer must be a square k × k array with k odd between 3 and 9, got "
                         f"shape {w.shape}.")
    if not np.isfinite(w).all() or not np.any(w):
        return incorrect("the kernel must hold finite numbers, not all zero.")
    if abs(w.sum()) > 1e-6 * np.abs(w).sum():
        return incorrect(f"your entries sum to {w.sum():g}, so the kernel responds to plain "
                         "brightness, not only to edges: make them sum to 0 (positive on one "
                         "side of the edge, negative on the other).")
    yours = edge_responses(w)
    sobel = edge_responses(kernels.sobel_kernels()[0])
    diagonal, other = DIAGONAL_NORMAL, DIAGONAL_NORMAL + 90
    selectivity = yours[diagonal] / max(yours[other], 1e-12)
    if yours[other] > 3 * yours[diagonal]:
        return incorrect(f"your kernel responds {yours[other]:.2f} to '\\' edges and "
                         f"{yours[diagonal]:.2f} to '/' edges: it detects the other diagonal. "
                         "Mirror it left to right.")
    if selectivity < 3:
        return incorrect(f"your kernel responds {yours[diagonal]:.2f} to '/' edges but "
                         f"{yours[other]:.2f} to '\\' edges: it cannot tell them apart. The "
                         "positive and negative weights must sit on either side of a '/' line, "
                         "i.e. change along the direction (1, 1) (right and down).")
    if yours[diagonal] <= sobel[diagonal]:
        return incorrect(f"your kernel tells '/' from '\\' edges, but its response to '/' "
                         f"edges, {yours[diagonal]:.2f} per unit norm, does not beat Sobel W1's "
                         f"{sobel[diagonal]:.2f}. Like Sobel's [1, 2, 1], add up several pixels "
                         "along the edge on each side, not just one pair across it.")
    return correct(f"on '/' edges your kernel gives {yours[diagonal]:.2f} per unit norm against "
                   f"Sobel W1's {sobel[diagonal]:.2f}, and it ignores '\\' edges "
                   f"({yours[other]:.2f}), which W1 cannot ({sobel[other]:.2f}).")


# ------------------------------------------------------------------------ learning the kernel

LEARNING_STEPS = 300
"""Steps of gradient descent the notebook takes to recover W1 (to beat in the exercise)."""

_PROBE_SIDE = 64
_LEARNING_TOLERANCE = 1e-3


def probe_images(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Input/output pairs of the "unknown" filter: white-noise images and their W1 responses.

    Parameters
    ----------
    seed : int
        Seed of the noise.

    Returns
    -------
    x : float64 array, shape (64, 64)
        Pixels drawn uniformly from [0, 1].
    y : float64 array, shape (62, 62)
        ``x ⊛ W1`` ("valid"), with Sobel's W1.
    """
    x = np.random.default_rng(seed).uniform(size=(_PROBE_SIDE, _PROBE_SIDE))
    return x, kernels.correlate2d(x, kernels.sobel_kernels()[0])


def learn_kernel(x, y, step_size: float, steps: int, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent on the mean squared error of ``x ⊛ w`` against ``y``, from w = 0.

    The gradient of L(w) = mean((x ⊛ w - y)^2) is itself a correlation,
    ``2 / N * (x ⊛ r)`` with the residual r = x ⊛ w - y ("valid", k x k).

    Parameters
    ----------
    x : array, shape (H, W)
        Input image.
    y : array, shape (H - k + 1, W - k + 1)
        Target output.
    step_size : float
        Learning rate.
    steps : int
        Number of steps.
    k : int
        Kernel side.

    Returns
    -------
    w : float64 array, shape (k, k)
        The kernel after the last step.
    losses : float64 array, shape (steps,)
        The loss before each step.
    """
    w = np.zeros((k, k))
    losses = np.empty(steps)
    for step in range(steps):
        residual = kernels.correlate2d(x, w) - y
        losses[step] = np.mean(residual**2)
        w -= step_size * 2 * kernels.correlate2d(x, residual) / residual.size
    return w, losses


def check_learning_speed(answer) -> Feedback:
    """Check a (step size, steps) pair that recovers W1 to within 0.001 in fewer steps.

    Runs :func:`learn_kernel` on :func:`probe_images` (the notebook's probes).

    Parameters
    ----------
    answer : tuple
        ``(step_size, steps)``: a positive number and an int, fewer than :data:`LEARNING_STEPS`.

    Returns
    -------
    feedback : Feedback
    """
    if not attempted(answer):
        return not_attempted("set answer = (step size, number of steps), e.g. (0.2, 250).")
    if (not isinstance(answer, (tuple, list)) or len(answer) != 2 or not _is_number(answer[0])
            or not _is_int(answer[1])):
        return incorrect(f"answer must be a pair (step size, steps): a number and an int, got "
                         f"{answer!r}.")
    step_size, steps = float(answer[0]), int(answer[1])
    if step_size <= 0 or not 1 <= steps <= 10 * LEARNING_STEPS:
        return incorrect(f"the step size must be > 0 and the steps between 1 and "
                         f"{10 * LEARNING_STEPS}, got {answer!r}.")
    x, y = probe_images()
    with np.errstate(over="ignore", invalid="ignore"):
        w, losses = learn_kernel(x, y, step_size, steps)
    error = float(np.abs(w - kernels.sobel_kernels()[0]).max())
    if not np.isfinite(error) or losses[-1] > losses[0]:
        return incorrect(f"with step size {step_size:g} the loss grows instead of falling: each "
                         "step overshoots the minimum. Along the steepest direction of the loss a "
                         "step must be smaller than 2 / (its curvature); try a smaller one.")
    if error > _LEARNING_TOLERANCE:
        return incorrect(f"after {steps} steps the kernel is still {error:.2g} away from W1 (the "
                         f"goal is {_LEARNING_TOLERANCE:g}). A larger step size converges faster, "
                         "up to the point where it starts to overshoot; or take more steps.")
    if steps >= LEARNING_STEPS:
        return incorrect(f"it works ({error:.1g} from W1), but in {steps} steps; the notebook "
                         f"took {LEARNING_STEPS}. Find a step size that gets there in fewer.")
    return correct(f"within {error:.1g} of W1 in {steps} steps instead of {LEARNING_STEPS}. The "
                   "limit is the shape of the loss: the mean brightness of the images makes one "
                   "direction much steeper than the others, and the step size has to suit the "
                   "steepest one. Centre the images (subtract 0.5) and see how few steps it "
                   "then takes.")
