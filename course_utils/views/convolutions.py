"""Widgets of notebook 01 (convolutions): smoothing with a k x k kernel, edges at any angle.

Each view has a ``*_controls()`` companion that returns the widgets for ``interact``. The views
redraw one to three 512 x 512 images (about half a second per change on a laptop), so their
sliders update when released (``continuous_update=False``) instead of queueing a redraw for every
value a drag passes through.

Examples
--------
>>> from ipywidgets import fixed, interact
>>> from course_utils import data
>>> from course_utils.views import shown
>>> camera = data.load_image("camera")
>>> interact(shown(smoothing_view), img=fixed(camera), **smoothing_controls())  # doctest: +SKIP
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from ipywidgets import FloatSlider, IntSlider
from matplotlib.figure import Figure

from course_utils import kernels, plotting
from course_utils.metrics import rms_error
from course_utils.transforms import add_noise

__all__ = ["edge_controls", "edge_view", "smoothing_controls", "smoothing_view"]

# Every slider move shows the same noise, so only the filter changes between frames.
NOISE_SEED = 0

# Descriptions take the width they need instead of ipywidgets' fixed 80 px, which cuts longer
# labels short ("hidden un…").
LABEL_STYLE = {"description_width": "initial"}


def _check_grey_image(img, func: str) -> np.ndarray:
    """Return ``img`` as a float64 (H, W) array; raise for other shapes or non-finite values."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(
            f"{func} expects a grey (H, W) image, got shape {img.shape}; convert colour images "
            f"with data.load_image(name, color='grey')"
        )
    if img.size == 0 or not np.isfinite(img).all():
        raise ValueError(f"{func}: the image (shape {img.shape}) is empty or holds NaN/inf")
    return img


def _check_odd_size(value, name: str, img_shape: tuple[int, int], minimum: int = 1) -> int:
    """An odd int in [minimum, min(H, W)]: odd so the kernel has a centre pixel."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an odd int, got {name}={value!r}")
    if value < minimum or value % 2 == 0 or value > min(img_shape):
        raise ValueError(
            f"{name} must be an odd int between {minimum} and the image's smaller side "
            f"{min(img_shape)} (image shape {img_shape}), got {name}={value}"
        )
    return int(value)


def _check_number(value, name: str, minimum: float | None = None, strict: bool = False) -> float:
    """A finite real number; if ``minimum`` is given, > minimum (strict) or >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {name}={value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {name}={value}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be {relation} {minimum}, got {name}={value}")
    return float(value)


def smoothing_view(img, k: int = 9, sigma: float = 2.0, noise: float = 0.1) -> Figure:
    """Noisy image next to its uniform and Gaussian smoothing with a k x k kernel.

    The smoothed images are "valid" correlations (the lecture's definition, no zero padding that
    would darken the border), so all three panels show the same (H-k+1, W-k+1) interior, and each
    title gives the RMS error against the clean image's interior.

    Parameters
    ----------
    img : array, shape (H, W)
        Clean grey image, values in [0, 1].
    k : int
        Kernel side in pixels, odd, in [1, min(H, W)]; the same k for both filters.
    sigma : float
        Standard deviation of the Gaussian kernel in pixels, > 0.
    noise : float
        Standard deviation of the added Gaussian pixel noise, >= 0 (see
        :func:`course_utils.transforms.add_noise`; always drawn with the seed ``NOISE_SEED``).

    Returns
    -------
    fig : matplotlib.figure.Figure
        Three Axes: noisy, uniform-smoothed, Gaussian-smoothed (grey, limits 0 to 1).

    Raises
    ------
    ValueError
        If ``img`` is not a finite (H, W) array, ``k`` is not an odd int that fits, ``sigma`` is
        not > 0 or ``noise`` is negative.

    Examples
    --------
    >>> from course_utils import data
    >>> fig = smoothing_view(data.load_image("camera"), k=5, sigma=1.0, noise=0.1)
    >>> [ax.get_title().splitlines()[0] for ax in fig.axes]
    ['noisy (noise 0.1)', 'uniform k=5', 'Gaussian k=5, σ=1']
    """
    img = _check_grey_image(img, "smoothing_view")
    k = _check_odd_size(k, "k", img.shape)
    sigma = _check_number(sigma, "sigma", minimum=0.0, strict=True)
    noisy = add_noise(img, _check_number(noise, "noise", minimum=0.0), NOISE_SEED)
    uniform = kernels.correlate2d(noisy, kernels.uniform_kernel(k, ndim=2))
    gaussian = kernels.correlate2d(noisy, kernels.gaussian_kernel(k, sigma, ndim=2))
    border = k // 2
    interior = (slice(border, img.shape[0] - border), slice(border, img.shape[1] - border))
    clean, noisy = img[interior], noisy[interior]
    titles = [
        f"noisy (noise {noise:g})\nRMS error {rms_error(noisy, clean):.3f}",
        f"uniform k={k}\nRMS error {rms_error(uniform, clean):.3f}",
        f"Gaussian k={k}, σ={sigma:g}\nRMS error {rms_error(gaussian, clean):.3f}",
    ]
    return plotting.show_images(
        [noisy, uniform, gaussian], titles=titles, cmap=plotting.IMAGE_CMAP, vmin=0.0, vmax=1.0,
        size=3.6,
    )


def smoothing_controls() -> dict[str, IntSlider | FloatSlider]:
    """The sliders of :func:`smoothing_view`, for ``interact``.

    Returns
    -------
    controls : dict
        ``k`` (odd, 1 to 31), ``sigma`` (0.3 to 8) and ``noise`` (0 to 0.4), each updating the
        figure when released.
    """
    return {
        "k": IntSlider(value=9, min=1, max=31, step=2, description="kernel size k",
                       continuous_update=False, style=LABEL_STYLE),
        "sigma": FloatSlider(value=2.0, min=0.3, max=8.0, step=0.1, description="Gaussian σ",
                             continuous_update=False, style=LABEL_STYLE),
        "noise": FloatSlider(value=0.1, min=0.0, max=0.4, step=0.02, description="noise",
                             continuous_update=False, style=LABEL_STYLE),
    }


def edge_view(img, theta: float = 30.0, size: int = 3) -> Figure:
    """A directional edge kernel and its response on an image.

    Parameters
    ----------
    img : array, shape (H, W)
        Grey image.
    theta : float
        Angle of the edge normal in degrees, clockwise from the x axis (image rows run down), as
        in :func:`course_utils.kernels.directional_edge_kernel`: 0 is Sobel's W1 (vertical
        edges), 90 is W2 (horizontal edges); the strongest responses are on edges running at
        theta + 90 degrees.
    size : int
        Kernel side in pixels, odd, in [3, min(H, W)].

    Returns
    -------
    fig : matplotlib.figure.Figure
        Two Axes: the kernel (values written in the cells) and the "valid" response (diverging
        colour map, zero white, saturated beyond the 99th percentile of the absolute response),
        plus the response's colour bar.

    Raises
    ------
    ValueError
        If ``img`` is not a finite (H, W) array, ``theta`` is not a finite number or ``size`` is
        not an odd int that fits.

    Examples
    --------
    >>> from course_utils import data
    >>> fig = edge_view(data.load_image("camera"), theta=0.0)
    >>> fig.axes[0].get_title()
    'kernel θ=0°, 3×3'
    """
    img = _check_grey_image(img, "edge_view")
    theta = _check_number(theta, "theta")
    size = _check_odd_size(size, "size", img.shape, minimum=3)
    kernel = kernels.directional_edge_kernel(theta, size)
    response = kernels.correlate2d(img, kernel)
    fig, (ax_kernel, ax_response) = plt.subplots(
        1, 2, figsize=(9.0, 4.2), width_ratios=[1, 2.0], layout="constrained"
    )
    plotting.show_kernel(kernel, ax=ax_kernel, title=f"kernel θ={theta:g}°, {size}×{size}")
    # Saturate the top 1%: a few pixels on the strongest edges would otherwise set the scale and
    # wash out the rest. The floor (a millionth of the kernel's gain on a [0, 1] image) keeps the
    # rounding noise of a flat image white instead of blowing it up to full colour.
    limit = max(float(np.percentile(np.abs(response), 99)), 1e-6 * float(np.abs(kernel).sum()))
    image = ax_response.imshow(response, cmap=plotting.SIGNED_CMAP, vmin=-limit, vmax=limit)
    ax_response.set_axis_off()
    ax_response.set_title(f"response to the θ={theta:g}° kernel")
    fig.colorbar(image, ax=ax_response, shrink=0.8)
    return fig


def edge_controls() -> dict[str, IntSlider | FloatSlider]:
    """The sliders of :func:`edge_view`, for ``interact``.

    Returns
    -------
    controls : dict
        ``theta`` (-90 to 180 degrees in steps of 5) and ``size`` (odd, 3 to 9), each updating
        the figure when released.
    """
    return {
        "theta": FloatSlider(value=30.0, min=-90.0, max=180.0, step=5.0,
                             description="edge normal θ (°)", continuous_update=False,
                             style=LABEL_STYLE),
        "size": IntSlider(value=3, min=3, max=9, step=2, description="kernel size",
                          continuous_update=False, style=LABEL_STYLE),
    }
