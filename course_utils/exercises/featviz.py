"""Exercises of notebook 06 (feature visualisation).

* :func:`check_receptive_box` (quick): which input pixels the centre unit of a layer can see, the
  only pixels that gradient ascent on it can change.
* :func:`check_bounded_ascent` (needs thought): drive a unit harder than its best test image
  while changing no pixel by more than epsilon: gradient ascent with two projections.
* :func:`check_unit_story` (open-ended): visualise a unit of your choice and describe it.

Each check returns a :class:`course_utils.exercises.Feedback`.
"""

from __future__ import annotations

import numbers

import numpy as np

from course_utils import featviz
from course_utils.exercises import Feedback, attempted, correct, incorrect, not_attempted
from course_utils.views.featviz import UnitExplorer

__all__ = [
    "BOUNDED_GAIN",
    "STORY_MIN_WORDS",
    "STORY_SHARE",
    "centre_box",
    "check_bounded_ascent",
    "check_receptive_box",
    "check_unit_story",
]

BOUNDED_GAIN = 1.25
"""How much more than its best test image the unit must respond to the bounded image."""
STORY_MIN_WORDS = 12
"""Fewest words of a description in :func:`check_unit_story`."""
STORY_SHARE = 0.5
"""The image must excite its unit at least this share as much as the explorer's visualisation."""
_PIXEL_TOL = 1e-5


def centre_box(model, layer: str) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the receptive field of the centre unit of ``layer``'s map.

    Bottom and right are exclusive, like slices: ``x[top:bottom, left:right]``.
    """
    rows, cols = model.get_layer(layer).output.shape[1:3]
    return featviz.receptive_field(model, layer).box(rows // 2, cols // 2)


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral)


# ------------------------------------------------------------------------ quick: the receptive box


def check_receptive_box(answer, model, layer: str = "pool2") -> Feedback:
    """Check the input window seen by the centre unit of ``layer`` (default the course CNN's pool2).

    Parameters
    ----------
    answer : tuple of 4 ints
        (top, left, bottom, right) in input pixels, bottom and right exclusive, so that
        ``x[top:bottom, left:right]`` is the window.
    model : keras.Model
        The network (a chain of convolutions and poolings).
    layer : str
        The layer whose centre unit is meant: position (h // 2, w // 2) of its h x w map.

    Returns
    -------
    feedback : Feedback
    """
    if not attempted(answer):
        return not_attempted("set answer = (top, left, bottom, right), bottom and right "
                             "exclusive like a slice.")
    if (not isinstance(answer, tuple | list) or len(answer) != 4
            or not all(_is_int(v) for v in answer)):
        return incorrect(f"answer must be four ints (top, left, bottom, right), got {answer!r}.")
    top, left, bottom, right = (int(v) for v in answer)
    right_box = centre_box(model, layer)
    rf = featviz.receptive_field(model, layer)
    rows, cols = model.get_layer(layer).output.shape[1:3]
    if (top, left, bottom, right) == right_box:
        return correct(f"rows and columns {right_box[0]} to {right_box[2] - 1}: a "
                       f"{rf.size[0]} x {rf.size[1]} window, starting {rows // 2} steps of "
                       f"{rf.stride[0]} pixels in. Gradient ascent on this unit changes these "
                       "pixels and no others.")
    if (bottom - top, right - left) == (rf.size[0] - 1, rf.size[1] - 1) and (top, left) == right_box[:2]:
        return incorrect("right start, but one pixel short: bottom and right are exclusive (like "
                         "x[top:bottom]), so bottom = top + size.")
    if (bottom - top, right - left) != rf.size:
        return incorrect(f"your window is {bottom - top} x {right - left} pixels. Grow the field "
                         "layer by layer: each k x k window adds (k - 1) times the current jump "
                         "(the input distance between neighbouring units), and each pooling "
                         "multiplies the jump by its stride.")
    return incorrect(f"the size ({rf.size[0]} x {rf.size[1]}) is right, but not the place. Unit "
                     f"(i, j) of the map starts i x jump pixels down and j x jump pixels right; "
                     f"the centre of a {rows} x {cols} map is ({rows // 2}, {cols // 2}).")


# ------------------------------------------------------------------- thought: bounded ascent


def check_bounded_ascent(answer, model, layer: str, unit: int, start, epsilon: float) -> Feedback:
    """Check an image that drives ``unit`` BOUNDED_GAIN times harder than ``start`` does while
    no pixel moved by more than ``epsilon``.

    Parameters
    ----------
    answer : array, shape (H, W, C) (or (1, H, W, C))
        The student's image.
    model : keras.Model
    layer : str
    unit : int
    start : array, shape (H, W, C)
        The starting image (the unit's most exciting test image).
    epsilon : float
        Largest allowed change of a pixel, |answer - start| <= epsilon everywhere.

    Returns
    -------
    feedback : Feedback
    """
    if not attempted(answer):
        return not_attempted("set answer = your optimised image, shaped like start.")
    start = np.asarray(start, dtype=np.float32)
    try:
        x = np.asarray(answer, dtype=np.float32).reshape(start.shape)
    except (TypeError, ValueError):
        return incorrect(f"answer must be one image of shape {start.shape} (np.asarray(x) of your "
                         f"tf.Variable), got shape {np.shape(answer)}.")
    if not np.isfinite(x).all():
        return incorrect("your image contains NaN or inf: check the step (a division by a zero "
                         "gradient?).")
    if x.min() < -_PIXEL_TOL or x.max() > 1 + _PIXEL_TOL:
        return incorrect(f"pixel values range over [{x.min():.3f}, {x.max():.3f}]: project back to "
                         "valid pixels after each step, tf.clip_by_value(x, 0, 1).")
    moved = float(np.abs(x - start).max())
    if moved > epsilon + _PIXEL_TOL:
        return incorrect(f"a pixel moved by {moved:.3f} > epsilon = {epsilon}: also project onto "
                         "the box around the start after each step, "
                         "tf.clip_by_value(x, start - epsilon, start + epsilon).")
    before, after = featviz.unit_activation(model, layer, unit, np.stack([start, x]))
    gain = after / before if before > 0 else np.inf
    if gain < BOUNDED_GAIN:
        return incorrect(f"the unit went from {before:.2f} to {after:.2f} (x{gain:.2f}); it should "
                         f"reach x{BOUNDED_GAIN}. Take more or larger steps: with steps of "
                         "epsilon / 4 along the sign of the gradient, 20 steps reach every corner "
                         "of the box.")
    return correct(f"the unit went from {before:.2f} to {after:.2f} (x{gain:.2f}) although no "
                   f"pixel changed by more than {moved:.3f}. A small, bounded change that drives "
                   "a unit harder than any real image: with a class score instead of a hidden "
                   "unit, this is an adversarial example (notebook 08).")


# -------------------------------------------------------------------- open-ended: a unit's story


def check_unit_story(answer, explorer: UnitExplorer) -> Feedback:
    """Check a visualised unit and its description.

    Parameters
    ----------
    answer : dict
        ``{"model": name in explorer.subjects, "layer": str, "unit": int, "image": (H, W, C)
        array from activation_maximization, "description": str}``: what the unit responds to, in
        at least STORY_MIN_WORDS words, comparing the visualisation with the top images.
    explorer : UnitExplorer
        The notebook's explorer: its models and the images they search.

    Returns
    -------
    feedback : Feedback
        Correct when the unit exists, the image really excites it (at least STORY_SHARE times as
        much as the explorer's own visualisation of the unit does), and the description has the
        words; the description itself is for you and your tutor to judge.
    """
    if not attempted(answer):
        return not_attempted('set answer = {"model": ..., "layer": ..., "unit": ..., '
                             '"image": ..., "description": ...}.')
    keys = {"model", "layer", "unit", "image", "description"}
    if not isinstance(answer, dict) or not keys <= set(answer):
        return incorrect(f"answer must be a dict with the keys {sorted(keys)}.")
    try:
        subject = explorer.subject_for(answer["model"], answer["layer"])
        n_units = explorer.units(answer["model"], answer["layer"])
    except ValueError as err:
        return incorrect(f"{err}.")
    unit = answer["unit"]
    if not _is_int(unit) or not 0 <= unit < n_units:
        return incorrect(f"unit must be an int from 0 to {n_units - 1}, got {unit!r}.")
    shape = subject.images.shape[1:]
    image = np.asarray(answer["image"], dtype=np.float32)
    if image.shape != shape:
        return incorrect(f"image must be one input of shape {shape}, got {image.shape}.")
    if image.min() < -_PIXEL_TOL or image.max() > 1 + _PIXEL_TOL:
        return incorrect("image has pixel values outside [0, 1]: use the output of "
                         "featviz.activation_maximization.")
    description = answer["description"]
    words = len(str(description).split())
    if not isinstance(description, str) or words < STORY_MIN_WORDS:
        return incorrect(f"the description has {words} words; write at least {STORY_MIN_WORDS}: "
                         "what pattern, where, at what scale, and do the top images agree?")
    reference, _, _ = explorer.visualization(answer["model"], answer["layer"], int(unit))
    reached, expected = featviz.unit_activation(subject.model, answer["layer"], int(unit),
                                                np.stack([image, reference]))
    if reached < STORY_SHARE * expected:
        return incorrect(f"your image drives the unit to {reached:.2f}; the explorer's own "
                         f"visualisation of it reaches {expected:.2f}. Is it the visualisation of "
                         "this unit (same model, layer and unit number), with enough steps?")
    searched = explorer.activations(answer["model"], answer["layer"], int(unit))
    share = float(np.mean(searched < reached))
    return correct(f"{answer['layer']} unit {unit} reaches {reached:.2f} on your image, more than "
                   f"on {share:.0%} of the {len(searched):,} searched images (the best: "
                   f"{searched.max():.2f}). Compare your description with a neighbour's unit: do the "
                   "units of one layer divide the work between them (orientations, positions, "
                   "stroke ends, textures)?")
