"""Checks of notebook 08's exercises (adversarial examples).

1. :func:`check_smallest_flip` (quick): the smallest FGSM budget, in grey levels, that changes the
   network's prediction of one digit.
2. :func:`check_targeted_digit` (needs thought): a perturbed digit within ε that the network
   calls a chosen class, e.g. "make the network call this digit a 7".
3. :func:`check_universal_perturbation` (open-ended): one perturbation δ, the same for every
   image, that lowers the accuracy on the whole test set far more than random noise.

Each check takes the model and the images it is about, so that it can measure the answer itself.
"""

from __future__ import annotations

import numpy as np

from course_utils import attacks
from course_utils.exercises import Feedback, attempted, correct, incorrect, not_attempted

__all__ = ["check_smallest_flip", "check_targeted_digit", "check_universal_perturbation",
           "fgsm_flip_levels", "universal_accuracy"]

# The perturbation has to beat random noise of the same size clearly.
UNIVERSAL_TARGET_ACCURACY = 0.85

# Pixel values are float32: allow one float32 rounding step on top of ε.
_BUDGET_TOLERANCE = 1e-6


def _predict(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(np.asarray(x, dtype=np.float32), training=False))


def fgsm_flip_levels(model, image, label: int) -> np.ndarray:
    """For ε = 1, 2, ..., 255 grey levels: does FGSM change the prediction of one image?

    The FGSM direction sign(∇_x ℓ) does not depend on ε, so all 255 budgets are one batch.

    Parameters
    ----------
    model : keras.Model
        The classifier.
    image : array, shape (H, W, C)
        One image in [0, 1].
    label : int
        Its true class.

    Returns
    -------
    flipped : bool array, shape (255,)
        ``flipped[k - 1]`` is True when FGSM with ε = k / 255 changes the predicted class away
        from ``label``.
    """
    x = np.asarray(image, dtype=np.float32)[None]
    direction = np.sign(attacks.input_gradient(model, x, [label]))
    levels = np.arange(1, 256, dtype=np.float32).reshape(-1, 1, 1, 1) / 255
    batch = np.clip(x + levels * direction, 0.0, 1.0)
    return _predict(model, batch).argmax(axis=1) != label


def check_smallest_flip(answer, model, image, label: int) -> Feedback:
    """Exercise 1: the smallest ε, in whole grey levels, for which FGSM flips this digit.

    Parameters
    ----------
    answer : int
        A number of grey levels k (ε = k / 255).
    model, image, label
        The network, the digit (H, W, C) and its true class.
    """
    if not attempted(answer):
        return not_attempted("set answer to a whole number of grey levels k (ε = k / 255); try "
                             "attacks.fgsm(cnn, digit[None], [label], k / 255) for k = 1, 2, ...")
    if isinstance(answer, float) and 0 < answer < 1:
        return incorrect(f"{answer} looks like ε in pixel units; give it in grey levels, "
                         f"{answer} * 255 = {answer * 255:.1f}, rounded to a whole number")
    if isinstance(answer, bool) or not isinstance(answer, (int, np.integer)) or not 1 <= answer <= 255:
        return incorrect(f"the answer must be a whole number of grey levels from 1 to 255, got "
                         f"{answer!r}")
    flipped = fgsm_flip_levels(model, image, label)
    if not flipped.any():
        raise ValueError("FGSM flips this image at no ε up to 255 grey levels; pick another image")
    smallest = int(np.argmax(flipped)) + 1
    if answer == smallest:
        return correct(f"ε = {smallest}/255 = {smallest / 255:.3f} is the smallest budget at which "
                       f"FGSM changes the prediction; at {smallest - 1} grey levels the network "
                       "still gets it right.")
    if flipped[answer - 1]:
        return incorrect(f"FGSM with {answer} grey levels does flip the prediction, but a smaller "
                         "budget already does: go down one grey level at a time")
    if answer > smallest:
        return incorrect(f"at {answer} grey levels the prediction is back to the true class (FGSM "
                         "is not monotone in ε), and a smaller budget flips it: search upwards "
                         "from 1")
    return incorrect(f"at {answer} grey levels the network still predicts the true class "
                     f"{label}: increase ε")


def check_targeted_digit(answer, model, image, target: int, eps: float) -> Feedback:
    """Exercise 2: a version of ``image`` within ``eps`` (L∞) that the model calls ``target``.

    Parameters
    ----------
    answer : array, shape (H, W, C) or (1, H, W, C)
        The perturbed image, pixel values in [0, 1].
    model, image
        The network and the original image (H, W, C).
    target : int
        The class the network must predict.
    eps : float
        The L∞ budget in pixel units.
    """
    if not attempted(answer):
        return not_attempted("set answer to the perturbed digit, an array of the digit's shape; "
                             "an attack that aims at a class descends the loss of that class")
    image = np.asarray(image, dtype=np.float64)
    x_adv = np.asarray(answer, dtype=np.float64)
    if x_adv.shape == (1, *image.shape):
        x_adv = x_adv[0]
    if x_adv.shape != image.shape:
        return incorrect(f"the answer has shape {x_adv.shape}; give one image of the digit's "
                         f"shape {image.shape}")
    if not np.isfinite(x_adv).all() or x_adv.min() < 0 or x_adv.max() > 1:
        return incorrect("pixel values must stay in [0, 1]: clip the perturbed image")
    change = float(np.abs(x_adv - image).max())
    if change > eps + _BUDGET_TOLERANCE:
        return incorrect(f"some pixel changed by {change:.3f} = {255 * change:.0f} grey levels, "
                         f"more than ε = {eps} allows: project δ back into [-ε, ε]")
    probs = _predict(model, x_adv[None])[0]
    predicted = int(probs.argmax())
    if predicted != target:
        return incorrect(f"the network calls it a {predicted} (p = {probs[predicted]:.2f}; "
                         f"{target} has p = {probs[target]:.2f}). An untargeted attack only moves "
                         f"away from the true class; use targeted=True with y = {target}")
    return correct(f"the network calls it a {target} with p = {probs[target]:.2f}, although no "
                   f"pixel changed by more than {255 * change:.0f} grey levels.")


def universal_accuracy(model, x, y, delta) -> float:
    """Accuracy on clip(x + δ, 0, 1) with the same δ (H, W, C) added to every image."""
    perturbed = np.clip(np.asarray(x, dtype=np.float32) + np.asarray(delta, dtype=np.float32), 0, 1)
    return float(np.mean(_predict(model, perturbed).argmax(axis=1) == np.asarray(y)))


def check_universal_perturbation(answer, model, x, y, eps: float) -> Feedback:
    """Exercise 3: one δ with ||δ||∞ <= eps that, added to every test image, fools the model.

    Correct when the accuracy on clip(x + δ) is below ``UNIVERSAL_TARGET_ACCURACY``, far below
    what random signs of the same size leave (the message states both).

    Parameters
    ----------
    answer : array, shape (H, W, C)
        The perturbation δ, in pixel units.
    model, x, y
        The network and the test images (N, H, W, C) with their labels (N,).
    eps : float
        The L∞ budget.
    """
    if not attempted(answer):
        return not_attempted(f"set answer to one perturbation delta of the images' shape that brings "
                             f"the accuracy below {UNIVERSAL_TARGET_ACCURACY:.0%}; the gradient of the "
                             "mean loss over many training images is a start")
    x = np.asarray(x, dtype=np.float32)
    delta = np.asarray(answer, dtype=np.float64)
    if delta.shape != x.shape[1:]:
        return incorrect(f"delta has shape {delta.shape}; it must be one perturbation of an "
                         f"image's shape {x.shape[1:]}, added to every image")
    if not np.isfinite(delta).all():
        return incorrect("delta contains NaN or inf")
    size = float(np.abs(delta).max())
    if size > eps + _BUDGET_TOLERANCE:
        return incorrect(f"‖δ‖∞ = {size:.3f} is more than ε = {eps}: clip delta to [-ε, ε]")
    accuracy = universal_accuracy(model, x, y, delta)
    noise = np.random.default_rng(0).choice([-eps, eps], size=delta.shape)
    noise_accuracy = universal_accuracy(model, x, y, noise)
    if accuracy < UNIVERSAL_TARGET_ACCURACY:
        return correct(f"one δ for all {len(x):,} images: accuracy {accuracy:.1%}, where random "
                       f"signs of the same size leave {noise_accuracy:.1%}.")
    return incorrect(f"accuracy with your δ is {accuracy:.1%} (random signs of the same size: "
                     f"{noise_accuracy:.1%}); get it below {UNIVERSAL_TARGET_ACCURACY:.0%}. Ascend "
                     "the mean loss of many training images with one shared δ: step along the sign "
                     "of the average input gradient, clip to [-ε, ε], repeat")
