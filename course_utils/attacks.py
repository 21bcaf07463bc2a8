"""Adversarial examples: the gradient of the loss with respect to the pixels, and attacks built on it.

The lecture's problem: for a fixed model f_θ, image x and label y, find the perturbation

    δ* = argmax over ||δ|| <= ε of  ℓ(θ, x + δ, y),

with the gradient ∇_x ℓ from backpropagation. Here ℓ is the cross-entropy computed from the
logits (the pre-softmax scores, :func:`inspection.logits_model`): float32 rounds the softmax of a
confidently classified image to exactly 1, and a loss computed from those probabilities (clipped
away from log 0, as Keras does) has a gradient of exactly zero. From the logits the gradient only
vanishes once the winning logit leads by about 87 (where exp underflows in float32).

* :func:`cross_entropy` and :func:`input_gradient`: ℓ(θ, x, y) per image and ∇_x ℓ.
* :func:`fgsm`: the fast gradient sign method, one step x + ε sign(∇_x ℓ) (Goodfellow et al. 2015).
* :func:`pgd`: projected gradient ascent with a random start, in the L∞ or L2 ball (Madry et al.
  2018); ``targeted=True`` descends the loss of a chosen class instead.
* :func:`random_perturbation`: the lecture's control, random noise with exactly the same norm.
* :func:`accuracy_under_attack`: accuracy against ε for any of these.
* Trained models for notebook 08, cached through ``zoo.cached_model``: :func:`second_cnn`, an
  independently trained network with another architecture and seed (do attacks transfer?), and
  :func:`adversarially_trained_cnn`, trained on PGD examples in every batch (Madry et al.).

Every function takes NHWC images with pixel values in [0, 1] and integer labels (N,), works in
batches, clips to [0, 1], and returns float32 images x_adv with ||x_adv - x|| <= ε exactly
(measured in float64 on the returned float32 values). Norms: ``"inf"`` (largest change of any pixel,
ε = 8/255 means at most 8 grey levels) or ``"2"`` (Euclidean length of δ over all pixels and
channels).
"""

from __future__ import annotations

import functools
import math
import numbers
import time
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from course_utils import data, inspection, models, training, zoo

__all__ = [
    "ADVERSARIAL_TRAINING_RECIPES",
    "NORMS",
    "RANDOM_KINDS",
    "SECOND_CNN_RECIPES",
    "accuracy_under_attack",
    "adversarially_trained_cnn",
    "adversarially_trained_cnn_info",
    "cross_entropy",
    "fgsm",
    "input_gradient",
    "perturbation_norms",
    "pgd",
    "random_perturbation",
    "second_cnn",
]

NORMS = ("inf", "2")
RANDOM_KINDS = ("signs", "uniform", "gaussian")
BATCH_SIZE = 500

_NORM_ALIASES = {"inf": "inf", "linf": "inf", "2": "2", "l2": "2"}


# ------------------------------------------------------------------------------------ checking input


def _norm_name(norm) -> str:
    if isinstance(norm, numbers.Real) and not isinstance(norm, bool):
        key = "inf" if norm == math.inf else ("2" if norm == 2 else None)
    else:
        key = _NORM_ALIASES.get(str(norm).lower())
    if key is None:
        raise ValueError(f"unknown norm {norm!r}; use 'inf' (the largest change of any pixel) or "
                         "'2' (the Euclidean length of the whole perturbation)")
    return key


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps):
        raise ValueError(f"eps must be a finite number >= 0 (pixel units: 8/255 is 8 grey levels), "
                         f"got {eps!r}")
    if eps < 0:
        raise ValueError(f"eps must be >= 0 (it is the radius of the ball of allowed perturbations), "
                         f"got {eps}")
    return float(eps)


def _check_images(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x has shape {x.shape}; expected a non-empty batch (N, H, W, C) of images "
                         "(use x[None] for a single image)")
    if x.dtype.kind not in "fiu":
        raise ValueError(f"x has dtype {x.dtype}; expected pixel values as numbers in [0, 1]")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or inf; expected pixel values in [0, 1]")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0 or hi > 1:
        raise ValueError(f"pixel values must lie in [0, 1], got the range [{lo:.4g}, {hi:.4g}]; "
                         "divide 8-bit images by 255 (and undo any other preprocessing: the "
                         "course's models take [0, 1] pixels)")
    return x


def _check_model_input(model: keras.Model, x: np.ndarray) -> None:
    expected = tuple(model.input_shape[1:])
    if len(expected) != x.ndim - 1 or any(e is not None and e != s
                                          for e, s in zip(expected, x.shape[1:], strict=True)):
        shape = ", ".join("?" if e is None else str(e) for e in expected)
        raise ValueError(f"x has shape {x.shape} but {model.name!r} takes images of shape "
                         f"(N, {shape})")


def _check_labels(y, x: np.ndarray, n_classes: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 0 and y.dtype.kind in "iu":
        y = np.full(len(x), int(y))
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"y must be integer class labels of shape (N,), got {y.dtype} of shape "
                         f"{y.shape}")
    if len(y) != len(x):
        raise ValueError(f"x holds {len(x)} images but y holds {len(y)} labels; give one label "
                         "per image (or one int for all of them)")
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"labels must be classes 0..{n_classes - 1} of the model, got "
                         f"{y.min()}..{y.max()}")
    return y.astype(np.int64)


def _check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


# ------------------------------------------------------------------------------- loss and gradient


@functools.lru_cache(maxsize=8)
def _loss_and_gradient_fn(model: keras.Model) -> Callable:
    """A compiled function (x, y) -> (cross-entropy per image, its gradient with respect to x).

    Cached per model (the cache keeps the few most recent models alive; an attack calls this for
    every step, and tracing it once per model makes PGD several times faster).
    """
    logits = inspection.logits_model(model)

    @tf.function(reduce_retracing=True)
    def loss_and_gradient(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits(x, training=False))
        # Each image's loss depends on its own pixels only, so the gradient of the sum is the
        # gradient of every image's own loss.
        return loss, tape.gradient(loss, x)

    return loss_and_gradient


def _n_classes(model: keras.Model) -> int:
    return int(model.output_shape[-1])


def _prepare(model: keras.Model, x, y) -> tuple[np.ndarray, np.ndarray]:
    x = _check_images(x)
    _check_model_input(model, x)
    return x, _check_labels(y, x, _n_classes(model))


def _batches(n: int, batch_size: int):
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def _loss_and_gradient(model, x: np.ndarray, y: np.ndarray, batch_size: int):
    fn = _loss_and_gradient_fn(model)
    losses, grads = [], []
    for part in _batches(len(x), batch_size):
        loss, grad = fn(tf.constant(x[part]), tf.constant(y[part]))
        losses.append(loss.numpy())
        grads.append(grad.numpy())
    return np.concatenate(losses), np.concatenate(grads)


def cross_entropy(model: keras.Model, x, y, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """The loss ℓ(θ, x, y) of each image: cross-entropy of the true class, from the logits.

    Parameters
    ----------
    model : keras.Model
        A classifier, (N, ...) -> (N, n_classes); a softmax output is taken off first
        (:func:`inspection.logits_model`).
    x : array, shape (N, H, W, C)
        Images, pixel values in [0, 1].
    y : int array, shape (N,), or int
        Classes (one int: the same class for every image).
    batch_size : int
        Images per forward pass.

    Returns
    -------
    loss : float32 array, shape (N,)
        -log softmax(z)[y] in nats; it is about 0 for a confident right prediction.
    """
    x, y = _prepare(model, x, y)
    return _loss_and_gradient(model, x, y, _check_batch_size(batch_size))[0]


def input_gradient(model: keras.Model, x, y, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """The gradient of each image's loss with respect to its pixels, ∇_x ℓ(θ, x, y), by backprop.

    Parameters
    ----------
    model : keras.Model
        A classifier; with a softmax output the loss is computed from the logits, whose gradient
        does not vanish when the softmax saturates.
    x : array, shape (N, H, W, C)
        Images, pixel values in [0, 1].
    y : int array, shape (N,), or int
        The class whose cross-entropy is differentiated (the true class, or a target).
    batch_size : int
        Images per backward pass.

    Returns
    -------
    gradient : float32 array, shape (N, H, W, C)
        In loss units (nats) per unit of pixel value; moving pixel i by a small h changes the loss
        by about h * gradient[i].

    Raises
    ------
    ValueError
        For images outside [0, 1], a shape the model does not take, or labels that are not one
        class per image.

    Examples
    --------
    >>> g = input_gradient(cnn, x_test[:8], y_test[:8])  # doctest: +SKIP
    >>> g.shape  # doctest: +SKIP
    (8, 28, 28, 1)
    """
    x, y = _prepare(model, x, y)
    return _loss_and_gradient(model, x, y, _check_batch_size(batch_size))[1]


# ------------------------------------------------------------------------------ norms and budgets


def perturbation_norms(x, x_adv) -> dict[str, np.ndarray]:
    """How large the perturbations δ = x_adv - x are, per image, in float64.

    Parameters
    ----------
    x, x_adv : arrays, shape (N, ...)
        Original and perturbed images in [0, 1].

    Returns
    -------
    norms : dict of (N,) arrays
        ``"inf"``: the largest change of any pixel; ``"2"``: the Euclidean length of δ;
        ``"mean_abs"``: the average change per pixel; ``"changed"``: the fraction of pixel values
        that changed at all. Multiply pixel units by 255 for grey levels.
    """
    x, x_adv = np.asarray(x, dtype=np.float64), np.asarray(x_adv, dtype=np.float64)
    if x.shape != x_adv.shape or x.ndim < 2:
        raise ValueError(f"x and x_adv must be batches of the same shape, got {x.shape} and "
                         f"{x_adv.shape}")
    delta = (x_adv - x).reshape(len(x), -1)
    return {"inf": np.abs(delta).max(axis=1), "2": np.linalg.norm(delta, axis=1),
            "mean_abs": np.abs(delta).mean(axis=1), "changed": np.mean(delta != 0, axis=1)}


def _flat_norms(v: np.ndarray, norm: str) -> np.ndarray:
    """Per-image norms of a (N, ...) float64 array, shaped (N, 1, ..., 1) to broadcast."""
    flat = v.reshape(len(v), -1)
    values = np.abs(flat).max(axis=1) if norm == "inf" else np.linalg.norm(flat, axis=1)
    return values.reshape((len(v),) + (1,) * (v.ndim - 1))


def _project(x0: np.ndarray, x: np.ndarray, eps: float, norm: str) -> np.ndarray:
    """The point of {x0 + δ : ||δ|| <= eps} ∩ [0, 1]^d reached by projecting δ, then clipping.

    Clipping to [0, 1] only moves a pixel towards x0's value (which is in [0, 1]), so it never
    makes δ longer in either norm.
    """
    delta = x - x0
    if norm == "inf":
        delta = np.clip(delta, -eps, eps)
    else:
        lengths = _flat_norms(delta, "2")
        delta = delta * np.minimum(1.0, eps / np.maximum(lengths, 1e-300))
    return np.clip(x0 + delta, 0.0, 1.0)


def _to_budget(x0: np.ndarray, x: np.ndarray, eps: float, norm: str) -> np.ndarray:
    """Round float64 images to float32 so that ||x_adv - x0|| <= eps still holds exactly.

    Rounding can overshoot by an ulp; such values are moved one float32 step back towards x0.
    """
    x0_32 = x0.astype(np.float32)
    out = x.astype(np.float32)
    for _ in range(64):
        delta = out.astype(np.float64) - x0_32
        if norm == "inf":
            over = np.abs(delta) > eps
        else:
            over = np.broadcast_to(_flat_norms(delta, "2") > eps, delta.shape) & (delta != 0)
        if not over.any():
            return out
        out[over] = np.nextafter(out[over], x0_32[over])
    raise AssertionError("could not round the perturbation into its budget")  # pragma: no cover


# ---------------------------------------------------------------------------------------- attacks


def _ascent_direction(grad: np.ndarray, norm: str) -> np.ndarray:
    """The steepest-ascent direction of unit norm: sign(g) for L∞, g / ||g||_2 for L2."""
    if norm == "inf":
        return np.sign(grad)
    lengths = _flat_norms(grad, "2")
    return np.divide(grad, lengths, out=np.zeros_like(grad), where=lengths > 0)


def _random_start(x0: np.ndarray, eps: float, norm: str, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random point of the ε-ball around each image (then clipped to [0, 1])."""
    if norm == "inf":
        delta = rng.uniform(-eps, eps, size=x0.shape)
    else:
        direction = _ascent_direction(rng.standard_normal(x0.shape), "2")
        d = x0[0].size
        radius = eps * rng.uniform(size=(len(x0),) + (1,) * (x0.ndim - 1)) ** (1.0 / d)
        delta = direction * radius
    return _project(x0, x0 + delta, eps, norm)


def _gradient_attack(model, x, y, eps, steps: int, step_size: float, norm: str,
                     random_start: bool, targeted: bool, seed: int, batch_size: int,
                     progress: bool) -> np.ndarray:
    eps = _check_eps(eps)
    norm = _norm_name(norm)
    x, y = _prepare(model, x, y)
    batch_size = _check_batch_size(batch_size)
    if eps == 0:
        return x.copy()
    fn = _loss_and_gradient_fn(model)
    rng = np.random.default_rng(seed)
    sign = -1.0 if targeted else 1.0
    out = np.empty_like(x)
    bar = _progress_bar(steps * math.ceil(len(x) / batch_size), progress)
    for part in _batches(len(x), batch_size):
        x0 = x[part].astype(np.float64)
        labels = tf.constant(y[part])
        x_adv = _random_start(x0, eps, norm, rng) if random_start else x0
        for _ in range(steps):
            grad = fn(tf.constant(x_adv, dtype=tf.float32), labels)[1].numpy().astype(np.float64)
            x_adv = _project(x0, x_adv + sign * step_size * _ascent_direction(grad, norm), eps, norm)
            if bar is not None:
                bar.update()
        out[part] = _to_budget(x0, x_adv, eps, norm)
    if bar is not None:
        bar.close()
    return out


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="attack steps", leave=False)


def fgsm(model: keras.Model, x, y, eps: float, targeted: bool = False, norm: str = "inf",
         batch_size: int = BATCH_SIZE) -> np.ndarray:
    """The fast gradient sign method: one step of size ε along the sign of the input gradient.

    x_adv = clip(x + ε sign(∇_x ℓ(θ, x, y)), 0, 1), or x - ε sign(∇_x ℓ(θ, x, target)) when
    targeted (Goodfellow, Shlens and Szegedy, 2015).

    Parameters
    ----------
    model : keras.Model
        A classifier (a softmax output is taken off; the loss comes from the logits).
    x : array, shape (N, H, W, C)
        Images in [0, 1].
    y : int array, shape (N,), or int
        True classes; with ``targeted=True`` the classes to reach.
    eps : float
        Size of the step, in pixel units (0.1 = 25.5 grey levels).
    targeted : bool
        Step down the loss of class y (towards it) instead of up the loss of class y.
    norm : {"inf", "2"}
        "inf": the sign step above (every pixel moves by ±ε). "2": the fast gradient method,
        x + ε g / ||g||_2, the single step of length ε that raises the loss fastest.
    batch_size : int
        Images per backward pass.

    Returns
    -------
    x_adv : float32 array, shape (N, H, W, C)
        In [0, 1], with ||x_adv - x|| <= ε in the chosen norm.

    Raises
    ------
    ValueError
        For ε < 0, an unknown norm, images outside [0, 1] or a label count that does not match.

    Examples
    --------
    >>> x_adv = fgsm(cnn, x_test[:100], y_test[:100], eps=0.2)  # doctest: +SKIP
    >>> np.abs(x_adv - x_test[:100]).max() <= 0.2  # doctest: +SKIP
    True
    """
    return _gradient_attack(model, x, y, eps, steps=1, step_size=_check_eps(eps), norm=norm,
                            random_start=False, targeted=targeted, seed=0, batch_size=batch_size,
                            progress=False)


def pgd(model: keras.Model, x, y, eps: float, steps: int = 20, step_size: float | None = None,
        norm: str = "inf", random_start: bool = True, targeted: bool = False, seed: int = 0,
        batch_size: int = BATCH_SIZE, progress: bool = False) -> np.ndarray:
    """Projected gradient ascent on the loss inside the ball ||δ|| <= ε (Madry et al., 2018).

    Starting from a random point of the ball (or from x), repeat ``steps`` times: take a step of
    length ``step_size`` in the steepest-ascent direction of the loss (sign(g) for L∞,
    g / ||g||_2 for L2), then project back into the ball and clip to [0, 1].

    Parameters
    ----------
    model : keras.Model
        A classifier (a softmax output is taken off; the loss comes from the logits).
    x : array, shape (N, H, W, C)
        Images in [0, 1].
    y : int array, shape (N,), or int
        True classes; with ``targeted=True`` the classes to reach.
    eps : float
        Radius of the ball in pixel units (L∞: 8/255 = 8 grey levels per pixel; L2: the length
        of δ over all pixel values).
    steps : int
        Gradient steps (each one forward and one backward pass).
    step_size : float, optional
        Length of each step; default 2.5 ε / steps, so that the iterates can cross the ball
        (Madry et al.'s choice).
    norm : {"inf", "2"}
        The ball's norm.
    random_start : bool
        Start from a uniformly random point of the ball rather than from x.
    targeted : bool
        Descend the loss of class y (make the model predict y) instead of ascending it.
    seed : int
        Seed of the random start.
    batch_size : int
        Images per backward pass.
    progress : bool
        Show a progress bar (tqdm) over steps and batches.

    Returns
    -------
    x_adv : float32 array, shape (N, H, W, C)
        The last iterate: in [0, 1], with ||x_adv - x|| <= ε in the chosen norm.

    Raises
    ------
    ValueError
        For ε < 0, steps < 1, a step size <= 0, an unknown norm, images outside [0, 1] or a label
        count that does not match.

    Examples
    --------
    >>> x_adv = pgd(cnn, x_test[:100], 3, eps=0.2, targeted=True)  # "make every digit a 3"  # doctest: +SKIP
    """
    eps = _check_eps(eps)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if step_size is None:
        step_size = 2.5 * eps / steps
    elif not (isinstance(step_size, numbers.Real) and math.isfinite(step_size) and step_size > 0):
        raise ValueError(f"step_size must be a number > 0 (pixel units), got {step_size!r}")
    return _gradient_attack(model, x, y, eps, steps=int(steps), step_size=float(step_size),
                            norm=norm, random_start=random_start, targeted=targeted, seed=seed,
                            batch_size=batch_size, progress=progress)


def random_perturbation(x, eps: float, norm: str = "inf", kind: str = "signs",
                        seed: int = 0) -> np.ndarray:
    """Random noise of exactly the size an attack may use: the lecture's control experiment.

    Parameters
    ----------
    x : array, shape (N, ...)
        Images in [0, 1].
    eps : float
        The norm of every δ before clipping: ||δ|| = ε exactly.
    norm : {"inf", "2"}
        Which norm equals ε.
    kind : {"signs", "uniform", "gaussian"}
        "signs": every pixel ±1 at random (for L∞, δ = ±ε per pixel: the same size as an FGSM
        step, only the signs differ); "uniform": values uniform in [-1, 1]; "gaussian": standard
        normal values. Each δ is then rescaled so that its norm is ε.
    seed : int
        Seed of the noise.

    Returns
    -------
    x_noisy : float32 array, the shape of x
        clip(x + δ, 0, 1); clipping can only shorten δ.

    Examples
    --------
    >>> noisy = random_perturbation(x_test, 0.2)  # doctest: +SKIP
    """
    eps = _check_eps(eps)
    norm = _norm_name(norm)
    x = _check_images(x).astype(np.float64)
    rng = np.random.default_rng(seed)
    if kind == "signs":
        noise = rng.choice([-1.0, 1.0], size=x.shape)
    elif kind == "uniform":
        noise = rng.uniform(-1.0, 1.0, size=x.shape)
    elif kind == "gaussian":
        noise = rng.standard_normal(x.shape)
    else:
        raise ValueError(f"unknown kind {kind!r}; choose one of {RANDOM_KINDS}")
    delta = eps * noise / np.maximum(_flat_norms(noise, norm), 1e-300)
    return _to_budget(x, np.clip(x + delta, 0.0, 1.0), eps, norm)


def _predict_classes(model: keras.Model, x: np.ndarray, batch_size: int) -> np.ndarray:
    return np.concatenate([np.asarray(model(x[part], training=False)).argmax(axis=1)
                           for part in _batches(len(x), batch_size)])


def accuracy_under_attack(model: keras.Model, x, y, attack: Callable, eps_values: Sequence[float],
                          batch_size: int = BATCH_SIZE) -> np.ndarray:
    """The model's accuracy on images perturbed by an attack, for each ε.

    Parameters
    ----------
    model : keras.Model
        The classifier under attack.
    x : array, shape (N, H, W, C)
        Test images in [0, 1].
    y : int array, shape (N,)
        Their true classes.
    attack : callable
        ``attack(model, x, y, eps) -> x_adv``, e.g. :func:`fgsm`,
        ``functools.partial(pgd, steps=20)`` or
        ``lambda model, x, y, eps: random_perturbation(x, eps)``.
    eps_values : sequence of float
        The budgets to try.
    batch_size : int
        Images per forward pass when classifying.

    Returns
    -------
    accuracy : float64 array, shape (len(eps_values),)
        Fraction of the N images classified correctly after the attack.

    Raises
    ------
    ValueError
        For bad images, labels or ε, or if the attack returns images of another shape.
    """
    x, y = _prepare(model, x, y)
    batch_size = _check_batch_size(batch_size)
    eps_values = [_check_eps(e) for e in eps_values]
    accuracy = []
    for eps in eps_values:
        x_adv = np.asarray(attack(model, x, y, eps))
        if x_adv.shape != x.shape:
            raise ValueError(f"the attack returned shape {x_adv.shape} for images of shape "
                             f"{x.shape}")
        accuracy.append(float(np.mean(_predict_classes(model, x_adv, batch_size) == y)))
    return np.asarray(accuracy)


# ------------------------------------------------------------------------------ ImageNet photos


# ------------------------------------------------------------------------- models for notebook 08

SECOND_CNN_RECIPES: dict[str, dict] = {
    dataset: {
        "architecture": {"filters": [8, 16], "kernel_size": 5, "dense": [64], "batch_norm": False,
                         "dropout": 0.0, "padding": "same"},
        "training": {**zoo.COURSE_CNN_RECIPES[dataset]["training"], "seed": 1},
    }
    for dataset in zoo.COURSE_CNN_RECIPES
}
"""The second network of the transfer experiment: trained like the course CNN (same data, same
optimizer and schedule) but from another seed, with 5 x 5 filters, 'same' padding, fewer filters
and a smaller dense layer (``architecture`` = keyword arguments of ``models.build_cnn``)."""

ADVERSARIAL_TRAINING_RECIPES: dict[str, dict] = {
    "mnist": {
        "architecture": zoo.COURSE_CNN_RECIPES["mnist"]["architecture"],
        "training": {"epochs": 8, "batch_size": 128, "learning_rate": 3e-3, "warmup_fraction": 0.1,
                     "seed": 0, "max_train": 10_000},
        "attack": {"eps": 0.2, "steps": 3, "norm": "inf", "ramp_epochs": 2},
    },
}
"""Adversarial training: the course CNN's architecture trained on PGD examples only.

``training``: Adam with ``training.warmup_cosine_schedule``; at most ``max_train`` training images
(the first ones), to keep the cost bounded on the full dataset. ``attack``: the PGD of every batch
(ε in pixel units, ``steps`` with step size 2.5 ε / steps, random start); ε grows linearly over the
first ``ramp_epochs`` epochs, since a network that starts on the full ε learns slowly."""


def _train_data(dataset: str, verbose: bool) -> tuple[np.ndarray, np.ndarray]:
    (x_train, y_train), _ = data.load_dataset(dataset, verbose=verbose)
    return x_train, y_train


def second_cnn(dataset: str = "mnist", verbose: bool = True) -> keras.Model:
    """An independently trained second CNN, to test whether adversarial examples transfer.

    Parameters
    ----------
    dataset : {"mnist", "fashion_mnist"}
        Training data, as for ``zoo.course_cnn``.
    verbose : bool
        Print where the data and the model come from, and one line per training epoch.

    Returns
    -------
    model : keras.Model
        Compiled; (N, 28, 28, 1) images in [0, 1] -> (N, 10) probabilities. Trained once with
        ``SECOND_CNN_RECIPES[dataset]`` and cached (folder ``second_cnn_<dataset>_<hash>``).
    """
    if dataset not in SECOND_CNN_RECIPES:
        raise ValueError(f"no second CNN recipe for {dataset!r}; choose one of "
                         f"{sorted(SECOND_CNN_RECIPES)}")
    recipe = SECOND_CNN_RECIPES[dataset]
    x_train, y_train = _train_data(dataset, verbose)

    def train() -> tuple[keras.Model, dict]:
        if verbose:
            print(f"Training the second CNN on {dataset} ({len(x_train):,} images) ...")
        model, history = training.train_with_recipe(
            lambda: models.build_cnn(input_shape=x_train.shape[1:], n_classes=10,
                                     name=f"second_cnn_{dataset}", **recipe["architecture"]),
            recipe["training"], x_train, y_train, verbose=verbose)
        return model, {"dataset": dataset, "train_seconds": round(history.seconds, 1),
                       "epochs": len(history.epoch), "n_train": len(x_train)}

    return zoo.cached_model(f"second_cnn_{dataset}", {**recipe, "n_train": len(x_train)}, train,
                            verbose=verbose)[0]


def _adversarial_fit(model: keras.Model, x: np.ndarray, y: np.ndarray, recipe: dict,
                     verbose: bool) -> dict:
    """Train ``model`` on PGD examples of every batch; returns the training record."""
    settings, attack = recipe["training"], recipe["attack"]
    batch_size, epochs = settings["batch_size"], settings["epochs"]
    n_batches = math.ceil(len(x) / batch_size)
    training.compile_classifier(model, training.warmup_cosine_schedule(
        settings["learning_rate"], epochs * n_batches, settings["warmup_fraction"]))
    rng = np.random.default_rng(settings["seed"])
    start = time.perf_counter()
    for epoch in range(epochs):
        epoch_start = time.perf_counter()
        eps = attack["eps"] * min(1.0, (epoch + 1) / attack["ramp_epochs"])
        order = rng.permutation(len(x))
        losses, hits = [], []
        for part in _batches(len(x), batch_size):
            idx = order[part]
            x_adv = pgd(model, x[idx], y[idx], eps, steps=attack["steps"], norm=attack["norm"],
                        seed=int(rng.integers(2**31)))
            logs = model.train_on_batch(x_adv, y[idx], return_dict=True)
            losses.append(logs["loss"])
            hits.append(logs["accuracy"])
        if verbose:
            print(f"epoch {epoch + 1:>2}/{epochs}  ε {eps:.3f}  loss {np.mean(losses):.4f}  "
                  f"accuracy on PGD examples {np.mean(hits):.4f}  "
                  f"({time.perf_counter() - epoch_start:.1f} s)")
    seconds = time.perf_counter() - start
    if verbose:
        print(f"adversarially trained {epochs} epochs in {seconds:.1f} s")
    return {"train_seconds": round(seconds, 1), "epochs": epochs, "n_train": len(x)}


def _adversarially_trained(dataset: str, verbose: bool) -> tuple[keras.Model, dict]:
    if dataset not in ADVERSARIAL_TRAINING_RECIPES:
        raise ValueError(f"no adversarial training recipe for {dataset!r}; choose one of "
                         f"{sorted(ADVERSARIAL_TRAINING_RECIPES)}")
    recipe = ADVERSARIAL_TRAINING_RECIPES[dataset]
    x_train, y_train = _train_data(dataset, verbose)
    x_train, y_train = x_train[: recipe["training"]["max_train"]], y_train[: recipe["training"]["max_train"]]

    def train() -> tuple[keras.Model, dict]:
        if verbose:
            print(f"Adversarial training on {dataset} ({len(x_train):,} images, PGD "
                  f"ε = {recipe['attack']['eps']}, {recipe['attack']['steps']} steps per batch) ...")
        keras.utils.set_random_seed(recipe["training"]["seed"])
        model = models.build_cnn(input_shape=x_train.shape[1:], n_classes=10,
                                 name=f"adversarially_trained_cnn_{dataset}", **recipe["architecture"])
        record = _adversarial_fit(model, x_train, y_train, recipe, verbose)
        return model, {"dataset": dataset, **record}

    return zoo.cached_model(f"adversarially_trained_cnn_{dataset}",
                            {**recipe, "n_train": len(x_train)}, train, verbose=verbose)


def adversarially_trained_cnn(dataset: str = "mnist", verbose: bool = True) -> keras.Model:
    """The course CNN's architecture, trained on PGD adversarial examples (Madry et al., 2018).

    Every batch is replaced by its PGD examples (``ADVERSARIAL_TRAINING_RECIPES[dataset]``:
    L∞ ball, random start) against the current weights, and the network takes a training step on
    those: it learns to minimise the loss of the worst perturbation it is shown,
    min_θ E[max over ||δ|| <= ε of ℓ(θ, x + δ, y)].

    Parameters
    ----------
    dataset : {"mnist"}
        Training data.
    verbose : bool
        Print where the data and the model come from, and one line per training epoch.

    Returns
    -------
    model : keras.Model
        Compiled; (N, 28, 28, 1) images in [0, 1] -> (N, 10) probabilities; trained once and
        cached (folder ``adversarially_trained_cnn_<dataset>_<hash>``). Its record (training
        time, epochs, training images) is :func:`adversarially_trained_cnn_info`.
    """
    return _adversarially_trained(dataset, verbose)[0]


def adversarially_trained_cnn_info(dataset: str = "mnist", verbose: bool = False) -> dict:
    """The training record of :func:`adversarially_trained_cnn` (trains it first if not cached).

    Returns
    -------
    record : dict
        ``train_seconds``, ``epochs``, ``n_train``, ``dataset``, ``folder``.
    """
    return _adversarially_trained(dataset, verbose)[1]
