"""Widgets of notebook 10 (autoencoders): the bottleneck size k, and repairing damaged images.

Both views run trained models on one image, so a slider move costs one small forward pass.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from ipywidgets import FloatSlider, IntSlider, SelectionSlider
from matplotlib.figure import Figure

from course_utils import autoencoders, metrics, plotting, transforms

__all__ = ["bottleneck_controls", "bottleneck_view", "restoration_controls", "restoration_view"]

LABEL_STYLE = {"description_width": "initial"}


def _check_index(index, images: np.ndarray) -> int:
    if (isinstance(index, bool) or not isinstance(index, numbers.Integral)
            or not 0 <= index < len(images)):
        raise ValueError(f"index must be an int in 0..{len(images) - 1} (there are {len(images)} "
                         f"images), got index={index!r}")
    return int(index)


def _image_batch(images) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != 1:
        raise ValueError(f"images has shape {x.shape}; expected grey images (N, H, W, 1)")
    return x


def _predict_one(model, image: np.ndarray) -> np.ndarray:
    # A direct call: much faster than predict() for a single image.
    return np.asarray(model(image[None], training=False))[0]


def _show(ax, image: np.ndarray, title: str) -> None:
    ax.imshow(image[..., 0], cmap=plotting.IMAGE_CMAP, vmin=0.0, vmax=1.0)
    ax.set_title(title)
    ax.set_axis_off()


def _db(value: float) -> str:
    return "identical" if math.isinf(value) else f"{value:.1f} dB"


def bottleneck_view(autoencoders_by_k: Mapping[int, object], pca, images, index: int = 0,
                    k: int = 8) -> Figure:
    """An image, its reconstruction by the autoencoder with a k-number code, and by PCA with k.

    Parameters
    ----------
    autoencoders_by_k : {k: keras.Model}
        Trained autoencoders, one per bottleneck size.
    pca : sklearn.decomposition.PCA
        Fitted on the flattened training images, with at least max(k) components.
    images : array, shape (N, H, W, 1)
        Test images in [0, 1].
    index : int
        Which image.
    k : int
        Bottleneck size, a key of ``autoencoders_by_k``.

    Returns
    -------
    fig : Figure
        Three panels: the image, the autoencoder's and PCA's reconstruction, each titled with
        its PSNR (higher is better).
    """
    x = _image_batch(images)
    index = _check_index(index, x)
    if k not in autoencoders_by_k:
        raise ValueError(f"no autoencoder with k = {k!r}; choose one of {sorted(autoencoders_by_k)}")
    if k > pca.n_components_:
        raise ValueError(f"the PCA has {pca.n_components_} components, fewer than k = {k}")
    image = x[index]
    reconstruction = _predict_one(autoencoders_by_k[k], image)
    components = pca.components_[:k]
    flat = image.reshape(1, -1) - pca.mean_
    pca_image = np.clip((flat @ components.T @ components + pca.mean_).reshape(image.shape), 0, 1)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.4), layout="constrained")
    _show(axes[0], image, f"image {index} ({image.size} numbers)")
    _show(axes[1], reconstruction,
          f"autoencoder, k = {k}\n{_db(metrics.psnr(reconstruction, image))}")
    _show(axes[2], pca_image, f"PCA, k = {k}\n{_db(metrics.psnr(pca_image, image))}")
    return fig


def restoration_view(autoencoder, images, index: int = 0, noise: float = 0.3, hole_size: int = 10,
                     hole_row: int = 9, hole_col: int = 9) -> Figure:
    """Damage an image (noise, a square hole) and let a restoring autoencoder repair it.

    Parameters
    ----------
    autoencoder : keras.Model
        Trained on damaged inputs with clean targets (``autoencoders.trained_autoencoder(
        "restoring")``).
    images : array, shape (N, H, W, 1)
        Clean test images in [0, 1].
    index : int
        Which image.
    noise : float
        Standard deviation of the Gaussian noise, >= 0 (``transforms.add_noise``, seed 0).
    hole_size : int
        Side of the black square hole in pixels; 0 for none.
    hole_row, hole_col : int
        Top-left corner of the hole; moved inside the image if the hole would stick out.

    Returns
    -------
    fig : Figure
        The clean image, the damaged one and the repaired one, with PSNRs against the clean
        image (and inside the hole, when there is one).
    """
    x = _image_batch(images)
    index = _check_index(index, x)
    image = x[index]
    height, width = image.shape[:2]
    damaged = transforms.add_noise(image, noise, seed=0).astype(np.float32)
    title = f"noise σ = {noise:.2f}"
    mask = None
    if hole_size:
        row = min(max(int(hole_row), 0), height - hole_size)
        col = min(max(int(hole_col), 0), width - hole_size)
        mask = autoencoders.random_mask(1, (height, width), hole_size, position=(row, col))
        damaged = autoencoders.apply_mask(damaged[None], mask)[0]
        mask = mask[0]
        title += f", {hole_size}x{hole_size} hole"
    repaired = _predict_one(autoencoder, damaged)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.6), layout="constrained")
    _show(axes[0], image, f"clean image {index}")
    _show(axes[1], damaged, f"{title}\n{_db(metrics.psnr(damaged, image))}")
    repaired_title = f"repaired by the autoencoder\n{_db(metrics.psnr(repaired, image))}"
    if mask is not None:
        inside = _db(metrics.psnr(repaired[mask], image[mask]))
        repaired_title += f"; hole {inside}"
        for ax in axes[1:]:
            ax.add_patch(plt.Rectangle((col - 0.5, row - 0.5), hole_size, hole_size, fill=False,
                                       edgecolor="tab:orange", lw=1.5))
    _show(axes[2], repaired, repaired_title)
    return fig


def bottleneck_controls(ks: Sequence[int], n_images: int, k: int = 8) -> dict:
    """The widgets of :func:`bottleneck_view`: the test image and the bottleneck size k.

    Parameters
    ----------
    ks : sequence of int
        The bottleneck sizes there are models for.
    n_images : int
        Number of test images to choose from.
    k : int
        The k shown first.
    """
    return {
        "index": IntSlider(value=0, min=0, max=n_images - 1, description="test image",
                           continuous_update=False, style=LABEL_STYLE),
        "k": SelectionSlider(options=sorted(ks), value=k, description="bottleneck k",
                             continuous_update=False, style=LABEL_STYLE),
    }


def restoration_controls(n_images: int, image_side: int = 28) -> dict:
    """The widgets of :func:`restoration_view`: image, noise level, hole size and position."""
    return {
        "index": IntSlider(value=0, min=0, max=n_images - 1, description="test image",
                           continuous_update=False, style=LABEL_STYLE),
        "noise": FloatSlider(value=0.3, min=0.0, max=0.6, step=0.05, description="noise σ",
                             continuous_update=False, readout_format=".2f", style=LABEL_STYLE),
        "hole_size": IntSlider(value=10, min=0, max=image_side // 2, description="hole size",
                               continuous_update=False, style=LABEL_STYLE),
        "hole_row": IntSlider(value=9, min=0, max=image_side - 1, description="hole row",
                              continuous_update=False, style=LABEL_STYLE),
        "hole_col": IntSlider(value=9, min=0, max=image_side - 1, description="hole column",
                              continuous_update=False, style=LABEL_STYLE),
    }
