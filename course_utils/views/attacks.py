"""Figures and widgets of notebook 08 (adversarial examples).

* :func:`plot_attack`: originals, perturbations δ (amplified, diverging colours) and perturbed
  images, with predictions and the size of each δ in grey levels. The notebook calls it directly.
* :func:`digit_attack_view` (+ :func:`digit_attack_controls`): attack one test digit with FGSM,
  PGD or random signs of the same size, untargeted or towards a chosen class. One digit takes a
  fraction of a second, so its sliders can update on release.
* :func:`imagenet_lab_view` (+ :func:`imagenet_lab_controls`): the lecture's lab. Pick a photo, a
  target class and ε; a targeted PGD attack on the pretrained MobileNet makes the network see the
  target, with a progress bar while it runs (a few seconds on a laptop CPU). Use it with
  ``interact_manual`` so that it runs when the button is pressed, not at every keystroke.

Examples
--------
>>> from ipywidgets import fixed, interact, interact_manual
>>> from course_utils.views import shown
>>> interact(shown(digit_attack_view), model=fixed(cnn), images=fixed(x_test),
...          labels=fixed(y_test), **digit_attack_controls(len(x_test)))  # doctest: +SKIP
>>> interact_manual(shown(imagenet_lab_view), model=fixed(mobilenet),
...                 **imagenet_lab_controls())  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from ipywidgets import Combobox, Dropdown, FloatSlider, IntSlider
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_utils import attacks, data, plotting, zoo

__all__ = [
    "DIGIT_ATTACKS",
    "LAB_PHOTOS",
    "digit_attack_controls",
    "digit_attack_view",
    "imagenet_lab_controls",
    "imagenet_lab_view",
    "plot_attack",
    "prediction_title",
]

DIGIT_ATTACKS = ("FGSM", "PGD", "random signs")
PGD_STEPS = 20
LAB_STEPS = 20
LAB_SIZE = 128
LAB_PHOTOS = ("coffee", "chelsea", "astronaut", "rocket", "china", "flower")
NO_TARGET = "none (untargeted)"

LABEL_STYLE = {"description_width": "initial"}


# ------------------------------------------------------------------------------------- the figure


def prediction_title(probabilities, class_names: Sequence[str]) -> str:
    """"name (p = 0.97)" for the most probable class of one (n_classes,) probability vector."""
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    best = int(p.argmax())
    return f"{class_names[best]} (p = {p[best]:.2f})"


def _norms_text(x: np.ndarray, x_adv: np.ndarray) -> str:
    norms = attacks.perturbation_norms(x[None], x_adv[None])
    return (f"‖δ‖∞ = {255 * norms['inf'][0]:.0f} grey levels\n‖δ‖₂ = {norms['2'][0]:.2f}, "
            f"mean |δ| = {255 * norms['mean_abs'][0]:.1f}")


def _draw_triplet(axes: Sequence[Axes], x: np.ndarray, x_adv: np.ndarray, before: str, after: str,
                  limit: float, norms_fontsize: float = 9) -> None:
    """x | δ amplified to ±limit | x + δ into three Axes; grey images use a diverging map for δ."""
    delta = x_adv.astype(np.float64) - x
    colour = x.shape[-1] == 3
    axes[0].imshow(np.squeeze(x), cmap=None if colour else plotting.IMAGE_CMAP, vmin=0, vmax=1)
    if colour:
        # Mid-grey is "no change"; each channel's change is stretched so that ±limit fills 0..1.
        axes[1].imshow(np.clip(0.5 + delta / (2 * limit), 0, 1))
    else:
        axes[1].imshow(np.squeeze(delta), cmap=plotting.SIGNED_CMAP, vmin=-limit, vmax=limit)
    axes[2].imshow(np.squeeze(x_adv), cmap=None if colour else plotting.IMAGE_CMAP, vmin=0, vmax=1)
    axes[0].set_title(before)
    axes[1].set_title(_norms_text(x, x_adv), fontsize=norms_fontsize)
    axes[2].set_title(after)
    for ax in axes:
        ax.set_axis_off()


def plot_attack(x, x_adv, before: Sequence[str], after: Sequence[str],
                suptitle: str | None = None, size: float = 2.2) -> Figure:
    """Originals, perturbations and perturbed images in three rows, one column per image.

    Parameters
    ----------
    x, x_adv : arrays, shape (N, H, W, 1) or (N, H, W, 3)
        Original and perturbed images in [0, 1].
    before, after : sequences of N str
        Titles of the originals and of the perturbed images (e.g. :func:`prediction_title`).
    suptitle : str, optional
        Title of the figure.
    size : float
        Inches per image.

    Returns
    -------
    fig : Figure
        Row 1 the originals, row 2 δ = x_adv - x amplified so that the largest |δ| of the batch
        fills the colour scale (grey images: diverging map, red up, blue down, white unchanged,
        with a colour bar in grey levels; colour images: mid-grey is unchanged), titled with its
        L∞ norm in grey levels, its L2 norm and its mean absolute change; row 3 the perturbed
        images. A single image is drawn as one row: x, δ, x + δ.
    """
    x, x_adv = np.asarray(x, dtype=np.float64), np.asarray(x_adv, dtype=np.float64)
    if x.shape != x_adv.shape or x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"x and x_adv must be batches (N, H, W, 1 or 3) of the same shape, got "
                         f"{x.shape} and {x_adv.shape}")
    n = len(x)
    if len(before) != n or len(after) != n:
        raise ValueError(f"give one title per image: {n} images, {len(before)} 'before' and "
                         f"{len(after)} 'after' titles")
    limit = max(float(np.abs(x_adv - x).max()), 1 / 255)
    if n == 1:
        fig, row = plt.subplots(1, 3, figsize=(3 * size + 1.0, size + 0.9), layout="constrained")
        triplets = [row]
    else:
        fig, grid = plt.subplots(3, n, figsize=(size * n + 1.0, 3 * size + 0.9), squeeze=False,
                                 layout="constrained")
        triplets = [grid[:, i] for i in range(n)]
        for ax, name in zip(grid[:, 0], ["x", "δ", "x + δ"], strict=True):
            ax.text(-0.1, 0.5, name, transform=ax.transAxes, ha="right", va="center")
    for i, axes in enumerate(triplets):
        _draw_triplet(axes, x[i], x_adv[i], before[i], after[i], limit,
                      norms_fontsize=min(9.0, 4.0 * size))
    if x.shape[-1] == 1:
        delta_axes = [axes[1] for axes in triplets]
        bar = fig.colorbar(delta_axes[-1].images[0], ax=delta_axes, shrink=0.8)
        bar.set_label("δ (grey levels)")
        ticks = np.linspace(-limit, limit, 5)
        bar.set_ticks(ticks, labels=[f"{255 * t:+.0f}" for t in ticks])
    if suptitle:
        fig.suptitle(suptitle)
    return fig


# ---------------------------------------------------------------------------------- one digit


def _check_index(index, n: int) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
        raise ValueError(f"index must be an int in 0..{n - 1}, got {index!r}")
    return int(index)


def _digit_attack(model, image: np.ndarray, label: int, eps: float, attack: str,
                  target: int | None) -> np.ndarray:
    x = image[None]
    if attack == "random signs":
        return attacks.random_perturbation(x, eps, kind="signs")[0]
    y, targeted = (label, False) if target is None else (target, True)
    if attack == "FGSM":
        return attacks.fgsm(model, x, y, eps, targeted=targeted)[0]
    return attacks.pgd(model, x, y, eps, steps=PGD_STEPS, targeted=targeted)[0]


def digit_attack_view(model, images, labels, index: int = 0, eps: float = 0.2,
                      attack: str = "FGSM", target: str = NO_TARGET) -> Figure:
    """Attack one digit: the digit, δ, the perturbed digit and the network's new probabilities.

    Parameters
    ----------
    model : keras.Model
        The classifier under attack (softmax output).
    images : array, shape (N, 28, 28, 1)
        Test images in [0, 1].
    labels : int array, shape (N,)
        Their true classes.
    index : int
        Which image.
    eps : float
        Budget in pixel units (L∞: every pixel changes by at most ε).
    attack : {"FGSM", "PGD", "random signs"}
        FGSM (one step), PGD (``PGD_STEPS`` steps, random start) or random signs of the same size,
        the control that should not work.
    target : str
        ``NO_TARGET``, or a class as a string ("7") to aim the gradient attacks at.

    Returns
    -------
    fig : Figure
        Four panels: x with the model's prediction, δ (diverging map, with its norms in grey
        levels), x + δ with the new prediction, and the new class probabilities (true class
        green, a wrong prediction red).
    """
    images, labels = np.asarray(images), np.asarray(labels).ravel()
    if images.ndim != 4 or len(images) != len(labels):
        raise ValueError(f"need images (N, H, W, C) and N labels, got {images.shape} and "
                         f"{len(labels)} labels")
    index = _check_index(index, len(images))
    if attack not in DIGIT_ATTACKS:
        raise ValueError(f"unknown attack {attack!r}; choose one of {DIGIT_ATTACKS}")
    names = [str(c) for c in range(int(model.output_shape[-1]))]
    if target != NO_TARGET and str(target) not in names:
        raise ValueError(f"target must be {NO_TARGET!r} or one of {names}, got {target!r}")
    goal = None if target == NO_TARGET else int(target)
    image, label = images[index].astype(np.float32), int(labels[index])
    x_adv = _digit_attack(model, image, label, eps, attack, goal)
    probs = np.asarray(model(np.stack([image, x_adv]), training=False))
    fig, axes = plt.subplots(1, 4, figsize=(12.5, 3.6), width_ratios=[1, 1, 1, 1.3],
                             layout="constrained")
    aim = "" if goal is None or attack == "random signs" else f" → {goal}"
    _draw_triplet(axes[:3], image, x_adv, f"digit {index} (true {label}): "
                  f"{prediction_title(probs[0], names)}",
                  f"{attack}{aim}, ε = {eps:.2f}: {prediction_title(probs[1], names)}",
                  max(eps, 1 / 255))
    plotting.plot_probabilities(probs[1], names, true_label=label, ax=axes[3],
                                title="probabilities of x + δ")
    return fig


def digit_attack_controls(n_images: int) -> dict:
    """The widgets of :func:`digit_attack_view`: image index, ε, attack, target class."""
    return {
        "index": IntSlider(value=0, min=0, max=n_images - 1, description="test image",
                           continuous_update=False, style=LABEL_STYLE),
        "eps": FloatSlider(value=0.2, min=0.0, max=0.5, step=0.01, description="ε (pixels)",
                           continuous_update=False, readout_format=".2f", style=LABEL_STYLE),
        "attack": Dropdown(options=DIGIT_ATTACKS, value="FGSM", description="attack",
                           style=LABEL_STYLE),
        "target": Dropdown(options=[NO_TARGET, *map(str, range(10))], value=NO_TARGET,
                           description="target class", style=LABEL_STYLE),
    }


# ------------------------------------------------------------------------------ the ImageNet lab


def _top_k_bars(ax: Axes, probs: np.ndarray, names: Sequence[str], highlight: int,
                title: str, k: int = 5) -> None:
    top = np.argsort(-probs)[:k]
    colours = [plotting.CORRECT_COLOR if c == highlight else plotting.BAR_COLOR for c in top]
    bars = ax.barh(np.arange(k), probs[top], color=colours, edgecolor="k", linewidth=0.5)
    ax.bar_label(bars, fmt="%.2f", padding=3)
    ax.set_yticks(np.arange(k), [names[c] for c in top])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.2)
    ax.set_xlabel("probability")
    ax.set_title(title)


def imagenet_lab_view(model, photo: str = "coffee", target: str = "broccoli",
                      eps_grey_levels: int = 4) -> Figure:
    """Find your own adversarial example: make the network see ``target`` in a photo.

    Runs ``LAB_STEPS`` steps of targeted L∞ PGD (:func:`attacks.pgd`) with a progress bar.

    Parameters
    ----------
    model : keras.Model
        An ImageNet classifier taking (1, LAB_SIZE, LAB_SIZE, 3) images in [0, 1], e.g.
        ``zoo.imagenet_mobilenet(128)``.
    photo : str
        A colour photo of ``data.image_names()`` (``LAB_PHOTOS`` are offered in the widget).
    target : str
        An ImageNet class name (``zoo.imagenet_class_names()``), e.g. "broccoli".
    eps_grey_levels : int
        Budget: no pixel value changes by more than this many grey levels (of 255).

    Returns
    -------
    fig : Figure
        Top: the photo with its prediction, δ amplified (mid-grey = unchanged) with its norms,
        the adversarial photo with its new prediction. Bottom: the top-5 classes before and
        after (the target in green).
    """
    names = zoo.imagenet_class_names()
    if not target:
        raise ValueError("choose a target class: type part of its name and pick it from the list")
    if target not in names:
        close = [n for n in names if target.lower() in n.lower()][:8]
        raise ValueError(f"{target!r} is not an ImageNet class name"
                         + (f"; did you mean one of {close}?" if close else
                            "; see zoo.imagenet_class_names()"))
    if (isinstance(eps_grey_levels, bool) or not isinstance(eps_grey_levels, (int, np.integer))
            or not 0 <= eps_grey_levels <= 255):
        raise ValueError(f"eps_grey_levels must be an int in 0..255, got {eps_grey_levels!r}")
    goal = names.index(target)
    x = zoo.imagenet_photo(photo, LAB_SIZE)
    print(f"{LAB_STEPS} PGD steps towards {target!r} within {eps_grey_levels} grey levels ...")
    start = time.perf_counter()
    x_adv = attacks.pgd(model, x, goal, eps_grey_levels / 255, steps=LAB_STEPS, targeted=True,
                        progress=True)
    print(f"done in {time.perf_counter() - start:.1f} s")
    probs = np.asarray(model(np.concatenate([x, x_adv]), training=False), dtype=np.float64)
    fig = plt.figure(figsize=(11, 6.8), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.35, 1])
    image_axes = top.subplots(1, 3)
    _draw_triplet(image_axes, x[0], x_adv[0], f"{photo}: {prediction_title(probs[0], names)}",
                  f"x + δ: {prediction_title(probs[1], names)}",
                  max(eps_grey_levels / 255, 1 / 255))
    bar_axes = bottom.subplots(1, 2)
    _top_k_bars(bar_axes[0], probs[0], names, goal, "top 5 before")
    _top_k_bars(bar_axes[1], probs[1], names, goal, f"top 5 after (target {target!r} in green)")
    return fig


def imagenet_lab_controls(photo: str = "coffee", target: str = "broccoli") -> dict:
    """The widgets of :func:`imagenet_lab_view`: photo, target class (type to search), ε.

    The target box offers all 1000 class names as you type; pair the controls with
    ``interact_manual`` so that the attack runs when the button is pressed.
    """
    names = zoo.imagenet_class_names()
    return {
        "photo": Dropdown(options=[p for p in LAB_PHOTOS if p in data.image_names()], value=photo,
                          description="photo", style=LABEL_STYLE),
        "target": Combobox(value=target, options=sorted(names), ensure_option=True,
                           placeholder="type a class", description="target class",
                           style=LABEL_STYLE),
        "eps_grey_levels": IntSlider(value=4, min=1, max=16, description="ε (grey levels)",
                                     continuous_update=False, style=LABEL_STYLE),
    }
