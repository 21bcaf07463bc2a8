"""Image transforms: fixed moves, noise, resizing and colour conversion of images and batches.

Everything is NumPy/SciPy and deterministic given its arguments (noise takes a seed), so the
same call gives the same pixels in a notebook, a widget and a test. Batches are NHWC
``(N, H, W, C)``; pixel values are in [0, 1].
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import ndimage

__all__ = [
    "add_noise",
    "grey_to_rgb",
    "resize_images",
    "rotate_images",
    "shift_images",
]


def _as_batch(images) -> np.ndarray:
    x = np.asarray(images)
    if x.ndim != 4:
        raise ValueError(f"images has shape {x.shape}; expected an NHWC batch (N, H, W, C)")
    return x


def shift_images(images, dy: int, dx: int) -> np.ndarray:
    """Translate a batch of images by whole pixels; pixels that move in are 0 (black).

    Parameters
    ----------
    images : array, shape (N, H, W, C)
        The batch.
    dy, dx : int
        Rows down (negative: up) and columns right (negative: left). Content moved past the border
        is lost.

    Returns
    -------
    shifted : array, same shape and dtype as ``images``

    Examples
    --------
    >>> x = np.zeros((1, 3, 3, 1)); x[0, 1, 1, 0] = 1
    >>> shift_images(x, 0, 1)[0, :, :, 0]
    array([[0., 0., 0.],
           [0., 0., 1.],
           [0., 0., 0.]])
    """
    x = _as_batch(images)
    for name, value in (("dy", dy), ("dx", dx)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be a whole number of pixels, got {name}={value!r}")
    height, width = x.shape[1:3]
    if abs(dy) >= height or abs(dx) >= width:
        raise ValueError(f"shift ({dy}, {dx}) moves a {height}x{width} image out of view; "
                         "use shifts smaller than the image")
    out = np.zeros_like(x)
    # Source rows/cols [src) land on destination rows/cols [dst).
    rows_src = slice(max(-dy, 0), height - max(dy, 0))
    rows_dst = slice(max(dy, 0), height + min(dy, 0))
    cols_src = slice(max(-dx, 0), width - max(dx, 0))
    cols_dst = slice(max(dx, 0), width + min(dx, 0))
    out[:, rows_dst, cols_dst] = x[:, rows_src, cols_src]
    return out


def rotate_images(images, degrees: float) -> np.ndarray:
    """Rotate every image of a batch about its centre, counter-clockwise as shown on screen.

    Parameters
    ----------
    images : float array, shape (N, H, W, C)
        The batch.
    degrees : float
        Rotation angle in degrees.

    Returns
    -------
    rotated : array, same shape and dtype as ``images``
        Bilinear interpolation; corners that move in are black (0); the image keeps its size.
    """
    x = _as_batch(images)
    rotated = ndimage.rotate(x, degrees, axes=(1, 2), reshape=False, order=1, mode="constant",
                             cval=0.0)
    return rotated.astype(x.dtype, copy=False)


def add_noise(img, noise: float, seed: int = 0) -> np.ndarray:
    """Add Gaussian pixel noise and clip back to [0, 1].

    Parameters
    ----------
    img : array
        Image, batch or signal of any shape, values in [0, 1].
    noise : float
        Standard deviation of the noise, in grey levels of [0, 1]; >= 0.
    seed : int
        Seed of the noise, so that every call (and every slider move) sees the same noise.

    Returns
    -------
    noisy : float64 array, same shape as ``img``, in [0, 1]
    """
    if (isinstance(noise, bool) or not isinstance(noise, numbers.Real)
            or not np.isfinite(noise) or noise < 0):
        raise ValueError(f"noise must be a finite number >= 0, got noise={noise!r}")
    img = np.asarray(img, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return np.clip(img + noise * rng.standard_normal(img.shape), 0.0, 1.0)


def resize_images(images, size: int | tuple[int, int]) -> np.ndarray:
    """Resize a batch of images with bilinear interpolation.

    Parameters
    ----------
    images : array, shape (N, H, W, C)
        The batch, values in [0, 1].
    size : int or (int, int)
        New (height, width); an int gives a square.

    Returns
    -------
    resized : float32 array, shape (N, height, width, C), in [0, 1]
    """
    x = _as_batch(images).astype(np.float32, copy=False)
    height, width = (size, size) if isinstance(size, numbers.Integral) else tuple(size)
    if min(height, width) < 1:
        raise ValueError(f"size must be positive, got {size!r}")
    factors = (1.0, height / x.shape[1], width / x.shape[2], 1.0)
    out = ndimage.zoom(x, factors, order=1, mode="nearest", grid_mode=True)
    return np.clip(out, 0.0, 1.0)


def grey_to_rgb(images) -> np.ndarray:
    """Repeat the single channel of grey images three times, for networks that expect colour.

    Parameters
    ----------
    images : array, shape (..., H, W, 1)

    Returns
    -------
    rgb : array, shape (..., H, W, 3), same dtype
    """
    x = np.asarray(images)
    if x.ndim < 3 or x.shape[-1] != 1:
        raise ValueError(f"images has shape {x.shape}; expected grey images (..., H, W, 1)")
    return np.repeat(x, 3, axis=-1)
