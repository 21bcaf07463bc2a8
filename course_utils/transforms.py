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
    "cut_tiles",
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


def _bilinear_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix of 1D bilinear interpolation with pixel centres at i + 0.5.

    Output pixel i samples the input at (i + 0.5) n_in / n_out - 0.5, clamped to the image, from
    its two nearest input pixels: the convention of ``tf.image.resize`` and of
    ``scipy.ndimage.zoom(..., grid_mode=True, mode="nearest")``.
    """
    centres = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)
    low = np.floor(centres).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    weights = np.zeros((n_out, n_in), dtype=np.float32)
    np.add.at(weights, (np.arange(n_out), low), 1 - (centres - low))
    np.add.at(weights, (np.arange(n_out), high), centres - low)
    return weights


def resize_images(images, size: int | tuple[int, int]) -> np.ndarray:
    """Resize a batch of images with bilinear interpolation (no anti-aliasing).

    Parameters
    ----------
    images : array, shape (N, H, W, C)
        The batch, values in [0, 1].
    size : int or (int, int)
        New (height, width); an int gives a square.

    Returns
    -------
    resized : float32 array, shape (N, height, width, C), in [0, 1]

    Notes
    -----
    Bilinear interpolation is separable: resizing is ``R_h @ x @ R_w.T`` for every image and
    channel, with one small interpolation matrix per axis, so a batch takes two matrix products.

    Examples
    --------
    >>> resize_images(np.ones((2, 28, 28, 1)), 128).shape
    (2, 128, 128, 1)
    """
    x = _as_batch(images).astype(np.float32, copy=False)
    height, width = (size, size) if isinstance(size, numbers.Integral) else tuple(size)
    if min(height, width) < 1:
        raise ValueError(f"size must be positive, got {size!r}")
    rows = _bilinear_weights(x.shape[1], int(height))
    cols = _bilinear_weights(x.shape[2], int(width))
    channels_first = np.moveaxis(x, -1, 1)  # (N, C, H, W)
    out = rows @ channels_first @ cols.T  # (N, C, height, width)
    return np.clip(np.moveaxis(out, 1, -1), 0.0, 1.0)


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


def cut_tiles(images, size: int, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut images of any size into square tiles, to feed photos to a network of fixed input size.

    Parameters
    ----------
    images : sequence of arrays, each (H, W, C)
        Same number of channels C each, H and W at least ``size``.
    size : int
        Side of a tile in pixels.
    stride : int, optional
        Step between tiles (default ``size // 2``: tiles overlap by half, so every object lies
        well inside some tile).

    Returns
    -------
    tiles : array, shape (M, size, size, C)
    origins : int array, shape (M, 3)
        (image index, top, left) of every tile.

    Examples
    --------
    >>> tiles, origins = cut_tiles([np.zeros((256, 384, 3))], 128)
    >>> tiles.shape, origins[-1].tolist()
    ((15, 128, 128, 3), [0, 128, 256])
    """
    stride = size // 2 if stride is None else stride
    if size < 1 or stride < 1:
        raise ValueError(f"size and stride must be positive, got size={size}, stride={stride}")
    arrays = [np.asarray(img) for img in images]
    if not arrays:
        raise ValueError("images is empty; pass at least one (H, W, C) image")
    channels = {a.shape[-1] if a.ndim == 3 else None for a in arrays}
    if len(channels) != 1 or None in channels:
        raise ValueError("every image must be (H, W, C) with the same C, got shapes "
                         f"{[a.shape for a in arrays]}; convert grey images with "
                         "transforms.grey_to_rgb(img[..., None]) or img[..., None]")
    tiles, origins = [], []
    for index, img in enumerate(arrays):
        if min(img.shape[:2]) < size:
            raise ValueError(f"image {index} is {img.shape[0]}x{img.shape[1]}, smaller than one "
                             f"{size}x{size} tile; resize it first")
        windows = np.lib.stride_tricks.sliding_window_view(img, (size, size), axis=(0, 1))
        picked = windows[::stride, ::stride]  # (rows, cols, C, size, size)
        tops = np.arange(picked.shape[0]) * stride
        lefts = np.arange(picked.shape[1]) * stride
        tiles.append(np.moveaxis(picked, 2, -1).reshape(-1, size, size, img.shape[-1]))
        grid = np.stack(np.meshgrid(tops, lefts, indexing="ij"), axis=-1).reshape(-1, 2)
        origins.append(np.column_stack([np.full(len(grid), index), grid]))
    return np.concatenate(tiles).astype(np.float32), np.concatenate(origins)
