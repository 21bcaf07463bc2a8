"""Checks of notebook 09's exercises (transfer learning and few-shot learning).

1. :func:`check_nearest_ball` (quick): which ball a new sighting's nearest neighbour is, on the
   slide's raw feature values and on features scaled to comparable ranges.
2. :func:`check_catch_up` (needs thought): how many labelled images per class raw pixels need to
   do as well as the learned features do with 5.
3. :func:`check_hand_made_features` (open-ended): features of digit images designed by hand (no
   trained network) that beat raw pixels clearly at one shot per class.

Each check takes the data it is about and measures the answer itself.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from course_utils import transfer
from course_utils.exercises import Feedback, attempted, correct, incorrect, not_attempted

__all__ = ["CATCH_UP_SHOTS", "HAND_MADE_MARGIN", "SIGHTING", "check_catch_up",
           "check_hand_made_features", "check_nearest_ball", "nearest_ball"]

SIGHTING = np.array([0.55, 4.6, 0.5])
"""The sighting of exercise 1: roundness, size in hands, yellowish colour."""

CATCH_UP_SHOTS = 5
"""Exercise 2 matches the learned features' accuracy at this many shots per class."""

# Exercise 2: a mean accuracy this close to the target counts as reaching it (other seeds or
# episode counts move the curve's crossing by about one shot).
_CATCH_UP_TOLERANCE = 0.005

HAND_MADE_MARGIN = 0.08
"""Exercise 3: the hand-made features must beat pixels by this much (mean 1-shot accuracy)."""

# Episodes per evaluation: the standard error of a mean over 100 episodes is below 0.01.
_EPISODES = 100


def nearest_ball(sighting, scaled: bool) -> str:
    """Letter (A-F) of the ball of ``transfer.BALL_FEATURES`` nearest to a sighting.

    Parameters
    ----------
    sighting : array, shape (3,)
        Roundness, size in hands, yellowish colour.
    scaled : bool
        False: Euclidean distance on the raw values. True: every feature divided by its range
        over the six balls first.

    Returns
    -------
    letter : str
    """
    table = transfer.BALL_FEATURES
    scale = np.ptp(table, axis=0) if scaled else np.ones(table.shape[1])
    distances = np.linalg.norm((table - np.asarray(sighting, dtype=np.float64)) / scale, axis=1)
    return transfer.BALL_NAMES[int(distances.argmin())]


def check_nearest_ball(answer) -> Feedback:
    """Exercise 1: ``answer = (letter on raw features, letter on scaled features)`` for ``SIGHTING``."""
    if not attempted(answer):
        return not_attempted("compute the distance from the sighting to each row of "
                             "transfer.BALL_FEATURES, then again with each column divided by its "
                             "range (np.ptp), and give the two nearest balls as ('X', 'Y').")
    if (not isinstance(answer, (tuple, list)) or len(answer) != 2
            or not all(isinstance(a, str) for a in answer)):
        return incorrect(f"give two letters, like ('A', 'B'); got {answer!r}")
    raw, scaled = (a.strip().upper() for a in answer)
    unknown = [a for a in (raw, scaled) if a not in transfer.BALL_NAMES]
    if unknown:
        return incorrect(f"the balls are {', '.join(transfer.BALL_NAMES)}; {unknown} is not one")
    right_raw, right_scaled = nearest_ball(SIGHTING, False), nearest_ball(SIGHTING, True)
    if raw != right_raw:
        return incorrect(f"on the raw values ball {raw} is not the nearest. Hint: the size "
                         "differences (in hands, up to 9) are much larger than those of roundness "
                         "and colour (at most 1), so size decides almost alone.")
    if scaled != right_scaled:
        return incorrect(f"the raw answer {raw} is right, but on scaled features ball {scaled} is "
                         "not the nearest. Hint: divide each column, and the sighting, by that "
                         "column's range over the six balls (np.ptp(BALL_FEATURES, axis=0)).")
    return correct(f"raw values pick {raw}, whose size is closest; once every feature counts "
                   f"equally, the sighting's roundness and colour make it ball {scaled}. Nearest "
                   "neighbour is only as good as the distance it uses.")


def _mean_accuracy(features, labels, shots: int) -> float:
    return float(np.mean(transfer.few_shot_episodes(features, labels, shots, _EPISODES)))


def check_catch_up(answer, pixels, features, labels) -> Feedback:
    """Exercise 2: the fewest shots per class with which pixels + 1-NN reach the mean accuracy
    that ``features`` + 1-NN reach with ``CATCH_UP_SHOTS`` (episodes as ``few_shot_episodes``'s
    defaults: 100 episodes, seed 0)."""
    if not attempted(answer):
        return not_attempted("use transfer.few_shot_episodes on the pixels for increasing shots "
                             f"until the mean reaches that of the features at {CATCH_UP_SHOTS} "
                             "shots; the curve of section 3 tells you where to look.")
    if isinstance(answer, bool) or not isinstance(answer, numbers.Integral) or answer < 1:
        return incorrect(f"give a number of shots per class, an int >= 1; got {answer!r}")
    k = int(answer)
    target = _mean_accuracy(features, labels, CATCH_UP_SHOTS)
    if k <= CATCH_UP_SHOTS:
        return incorrect(f"with {k} shots the pixels are below the features at {CATCH_UP_SHOTS} "
                         f"shots ({target:.3f}); pixels need more labels than learned features, "
                         "not fewer.")
    reached = _mean_accuracy(pixels, labels, k)
    if reached < target - _CATCH_UP_TOLERANCE:
        return incorrect(f"with {k} shots the pixels reach {reached:.3f}, still below the "
                         f"features' {target:.3f} at {CATCH_UP_SHOTS} shots: try more.")
    before = _mean_accuracy(pixels, labels, k - 1)
    if before >= target + _CATCH_UP_TOLERANCE:
        return incorrect(f"already with {k - 1} shots the pixels reach {before:.3f} >= "
                         f"{target:.3f}: you want the fewest shots.")
    return correct(f"pixels need {k} labelled images per class ({reached:.3f}) to match what the "
                   f"learned features do with {CATCH_UP_SHOTS} ({target:.3f}): each label is worth "
                   f"about {k / CATCH_UP_SHOTS:.1f} pixel labels.")


def check_hand_made_features(answer: Callable[[np.ndarray], np.ndarray] | None, images,
                             labels) -> Feedback:
    """Exercise 3: ``answer`` is a function (N, 28, 28, 1) images -> (N, d) features, built by hand
    (no trained network); 1-NN on them at one shot per class must beat pixels by
    ``HAND_MADE_MARGIN`` in mean accuracy over 100 episodes."""
    if not attempted(answer):
        return not_attempted("write a function of the images only (edges, their orientations, "
                             "blurring, pooling, ...) and assign the function itself to answer.")
    if not callable(answer):
        return incorrect(f"answer must be a function images -> features, got {type(answer).__name__}")
    x = np.asarray(images)
    try:
        z = np.asarray(answer(x.copy()), dtype=np.float64)
    except Exception as err:  # noqa: BLE001 - any failure of the student's code is feedback
        return incorrect(f"calling your function on the images raised {type(err).__name__}: {err}")
    if z.ndim < 2 or len(z) != len(x):
        return incorrect(f"your function must return one feature vector per image, shape "
                         f"({len(x)}, d); got shape {z.shape}")
    if not np.isfinite(z).all():
        return incorrect("your features contain NaN or inf (a division by zero?)")
    pixels = _mean_accuracy(x.reshape(len(x), -1), labels, 1)
    yours = _mean_accuracy(z, labels, 1)
    if yours < pixels + HAND_MADE_MARGIN:
        return incorrect(f"1-shot accuracy {yours:.3f} vs pixels {pixels:.3f}: you need at least "
                         f"{pixels + HAND_MADE_MARGIN:.3f}. Hint: a digit is its strokes; features "
                         "that describe edge directions in small regions (notebook 01's Sobel "
                         "filters) tolerate the small shifts that pixels do not.")
    return correct(f"1-shot accuracy {yours:.3f} vs pixels {pixels:.3f} with "
                   f"{z.reshape(len(z), -1).shape[1]} hand-made features per image. Compare with "
                   "the learned features of section 3.")
