"""The functions behind the notebooks' widgets, one section per notebook.

Each view function takes the data and the slider values, draws one figure and returns it, so that
it can be called once in a plain cell (the static view CI sees) and unit-tested. Inside
``ipywidgets.interact`` wrap it with :func:`shown`, which displays the figure exactly once::

    interact(shown(smoothing_view), img=fixed(camera), k=IntSlider(value=9, min=1, max=31, step=2))
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course_utils import kernels, plotting


def shown(view: Callable[..., Figure]) -> Callable[..., None]:
    """Wrap a view function for ``interact``: draw, display once, close.

    Without closing, the inline backend would show the pyplot figure a second time (and keep
    every figure drawn while a slider moves in memory). The wrapper keeps ``view``'s signature,
    which ``interact`` reads to build its widgets.
    """

    @functools.wraps(view)
    def draw_and_display(*args, **kwargs) -> None:
        from IPython.display import display

        fig = view(*args, **kwargs)
        display(fig)
        plt.close(fig)

    return draw_and_display


# --- 01 convolutions


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


def add_noise(img, noise: float, seed: int = 0) -> np.ndarray:
    """Add Gaussian pixel noise and clip back to the valid range.

    Args:
        img: (H, W) or (H, W, C) image in [0, 1].
        noise: standard deviation of the noise, in grey levels of [0, 1] (>= 0).
        seed: seed of the noise, so every call (and slider move) sees the same noise.

    Returns:
        float64 array of img's shape, in [0, 1].
    """
    noise = _check_number(noise, "noise", minimum=0.0)
    img = np.asarray(img, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return np.clip(img + noise * rng.standard_normal(img.shape), 0.0, 1.0)


def rms_error(estimate, clean) -> float:
    """Root-mean-square difference of two equally shaped arrays (same units as the inputs)."""
    estimate, clean = np.asarray(estimate, dtype=np.float64), np.asarray(clean, dtype=np.float64)
    if estimate.shape != clean.shape:
        raise ValueError(
            f"rms_error needs equal shapes, got estimate.shape={estimate.shape} and "
            f"clean.shape={clean.shape}"
        )
    return float(np.sqrt(np.mean((estimate - clean) ** 2)))


def smoothing_view(
    img, k: int = 9, sigma: float = 2.0, noise: float = 0.1, seed: int = 0
) -> Figure:
    """Noisy image next to its uniform and Gaussian smoothing with a k x k kernel.

    The smoothed images are "valid" correlations (the lecture's definition, no zero padding that
    would darken the border), so all three panels show the same (H-k+1, W-k+1) interior, and
    each title gives the RMS error against the clean image's interior.

    Args:
        img: (H, W) clean grey image in [0, 1].
        k: kernel side, odd int in [1, min(H, W)]; the same k for both filters.
        sigma: standard deviation of the Gaussian kernel in pixels (> 0).
        noise: standard deviation of the added noise (>= 0), see :func:`add_noise`.
        seed: seed of the noise.

    Returns:
        Figure with 3 Axes: noisy, uniform-smoothed, Gaussian-smoothed (grey, limits 0..1).
    """
    img = _check_grey_image(img, "smoothing_view")
    k = _check_odd_size(k, "k", img.shape)
    sigma = _check_number(sigma, "sigma", minimum=0.0, strict=True)
    noisy = add_noise(img, noise, seed)
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


def edge_view(img, theta: float = 30.0, size: int = 3) -> Figure:
    """A directional edge kernel and its response on an image.

    Args:
        img: (H, W) grey image.
        theta: angle of the edge normal in degrees, as in
            :func:`course_utils.kernels.directional_edge_kernel` (0 = Sobel W1, vertical edges;
            90 = Sobel W2, horizontal edges); the strongest responses are on edges running at
            theta + 90 degrees.
        size: kernel side, odd int in [3, min(H, W)].

    Returns:
        Figure with 2 Axes: the kernel (values written in the cells) and the "valid" response
        (diverging colour map, zero = white, saturated beyond the 99th percentile of |response|)
        plus its colour bar.
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
