"""Correlation ("convolution" in the lecture), classic filters, pooling and template matching.

The lecture's "convolution" is what signal processing calls *correlation*: the kernel is not
flipped. With 1-based indices as on the slides,

    [x ⊛ w]_i = sum_{j=1..k} x_{j+i-1} w_j,   i = 1, ..., d-k+1      ("valid" output),

and the same pattern per axis in 2D and 3D. All functions here are pure NumPy and vectorised (no
Python loop over pixels: small kernels loop over their taps, larger ones use one FFT). The results
equal ``scipy.signal.correlate`` (which is *not* used here, only in the tests), except for even
kernels in "same" mode (see below).

Modes (per spatial axis of length d, kernel length k):

* ``"valid"``: the lecture's definition, output length d-k+1; the kernel must fit inside x.
* ``"same"``: x is zero padded so the output has length d: (k-1)//2 zeros before and k//2 after,
  exactly as Keras' ``padding="same"`` (Conv1D/2D/3D) and ``scipy.signal.correlate2d(...,
  mode="same")`` do; for an even kernel the extra zero goes after the signal
  (``scipy.signal.correlate(..., mode="same")`` puts it before, so for even kernels it is shifted
  by one sample).
* ``"full"``: every overlap of kernel and signal, output length d+k-1.

Conventions: images are (H, W) grey or (H, W, C) channels-last, pixel values in [0, 1] unless a
function says otherwise; results are float64, except :func:`max_pool2d`, which keeps the dtype of
its input.

Examples
--------
>>> correlate1d([1, 2, 3, 4, 5], [1, 0, -1])  # x_i - x_{i+2}: the kernel is not flipped
array([-2., -2., -2.])
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "correlate1d",
    "correlate2d",
    "correlate3d",
    "zero_pad",
    "uniform_kernel",
    "gaussian_kernel",
    "sobel_kernels",
    "difference_kernels",
    "directional_edge_kernel",
    "edge_magnitude",
    "max_pool2d",
    "match_template",
    "correlation_matrix",
]

MODES = ("valid", "same", "full")

# Above this many kernel taps (entries of w, channels included) one FFT beats the tap-by-tap loop
# (measured on a 512x512 image: 49 taps cost about the same both ways, within 1.5x; 225 taps are
# ~3.5x faster with the FFT in "same" mode and ~7x in "valid" mode).
_DIRECT_MAX_TAPS = 49

# Output elements per block of the tap loop (512 KB of float64): small enough that the x, output
# and scratch blocks (about 1.5 MB together) stay in a 2 MB L2 cache, or else in L3, large enough
# that NumPy's per-call overhead is noise.
_BLOCK_ELEMENTS = 1 << 16

# A template-matching window counts as flat (NCC := 0) when its standard deviation is below
# 1e-5 times the image's largest deviation from its mean: the window variance is computed from
# running sums, whose rounding error would otherwise be divided by a (near) zero norm and give
# garbage, not 0.
_FLAT_REL_TOL = 1e-10

# Narrower Gaussians are a single tap to within float64 precision (on an odd kernel; in fact any
# sigma below ~0.11 is: the neighbours of the centre tap are then below 1e-16 of it).
MIN_SIGMA = 0.01


# ---------------------------------------------------------------------------------------------
# Input checking
# ---------------------------------------------------------------------------------------------


def _as_real_array(a, name: str) -> np.ndarray:
    """Return ``a`` as a float64 array; reject complex, object and string input."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must be a real numeric array, got dtype {arr.dtype} ({name}.shape={arr.shape})"
        )
    return arr.astype(np.float64, copy=False)


def _check_mode(mode: str) -> None:
    """Raise if ``mode`` is not one of MODES."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; valid modes are {', '.join(map(repr, MODES))}")


def _check_nonempty_finite(func: str, **arrays: np.ndarray) -> None:
    """Raise if any array is empty or holds NaN/inf; the message lists every array's shape."""
    shapes = ", ".join(f"{name}.shape={arr.shape}" for name, arr in arrays.items())
    for name, arr in arrays.items():
        if arr.size == 0:
            raise ValueError(f"{func}: {name} is empty ({shapes}); it needs at least one element")
    for name, arr in arrays.items():
        if not np.isfinite(arr).all():
            raise ValueError(
                f"{func}: {name} contains NaN or inf ({shapes}); clean or mask the data first"
            )


def _check_kernel_fits(func: str, x_shape: tuple, w_shape: tuple, mode: str) -> None:
    """In "valid" mode the kernel must fit inside the signal along every axis."""
    if mode == "valid" and any(k > d for k, d in zip(w_shape, x_shape, strict=True)):
        raise ValueError(
            f"{func}: kernel w.shape={w_shape} is larger than x.shape={x_shape} along at least "
            f"one axis, so mode='valid' has no output; use mode='same' or mode='full' "
            f"(zero padding) or a smaller kernel"
        )


def _prepare(func: str, x, w, mode: str, x_ndims: tuple[int, ...], expected: str):
    """Validate a (signal, kernel) pair and return both as float64 arrays.

    ``x_ndims`` lists the accepted x.ndim and w must have the same ndim; ``expected``
    describes the accepted shapes for the error message.
    """
    _check_mode(mode)
    x, w = _as_real_array(x, "x"), _as_real_array(w, "w")
    if x.ndim not in x_ndims or w.ndim != x.ndim:
        raise ValueError(f"{func} expects {expected}; got x.shape={x.shape}, w.shape={w.shape}")
    _check_nonempty_finite(func, x=x, w=w)
    return x, w


# ---------------------------------------------------------------------------------------------
# Correlation engine
# ---------------------------------------------------------------------------------------------


def _mode_padding(k: int, mode: str) -> tuple[int, int]:
    """Zeros (before, after) to add to an axis so that "valid" correlation gives ``mode``."""
    if mode == "same":
        # As Keras' padding="same": the extra zero of an even kernel goes after the signal.
        return (k - 1) // 2, k // 2
    if mode == "full":
        return k - 1, k - 1
    return 0, 0


def _pad_leading_axes(x: np.ndarray, pads: Sequence[tuple[int, int]]) -> np.ndarray:
    """Zero pad the first ``len(pads)`` axes of x by (before, after) pairs; others untouched."""
    if not any(before or after for before, after in pads):
        return x
    return np.pad(x, list(pads) + [(0, 0)] * (x.ndim - len(pads)))


def _fast_fft_length(n: int) -> int:
    """Smallest 5-smooth integer (2^a 3^b 5^c) >= n; FFTs of these lengths are fastest."""
    m = n
    while True:
        rest = m
        for p in (2, 3, 5):
            while rest % p == 0:
                rest //= p
        if rest == 1:
            return m
        m += 1


def _correlate_direct(x: np.ndarray, w: np.ndarray, pads, out_shape) -> np.ndarray:
    """Correlation by looping over the kernel taps (not the pixels).

    Each tap adds a shifted slice of the zero-padded x, scaled by the tap weight, to the output.
    The work is done in blocks of output rows (leading axis): each block's zero-padded input
    rows are copied into one reused buffer, so all slices being combined stay in the CPU cache,
    and no padded copy of the whole image is made (a fresh large array costs more in page faults
    than a whole 3x3 correlation).
    """
    out = np.zeros(out_shape)
    # Edge kernels are a third zeros; skipping those taps is free speed.
    taps = [(offset, w[offset]) for offset in np.ndindex(w.shape) if w[offset] != 0.0]
    (row_pad, _), *inner_pads = pads
    inner = list(zip(x.shape[1:], inner_pads, strict=True))
    inner_data = tuple(slice(before, before + d) for d, (before, _) in inner)
    inner_padded = tuple(d + before + after for d, (before, after) in inner)
    rows_per_block = min(out_shape[0], max(1, _BLOCK_ELEMENTS // math.prod(out_shape[1:])))
    padded_block = np.zeros((rows_per_block + w.shape[0] - 1, *inner_padded))
    scratch = np.empty((rows_per_block, *out_shape[1:]))
    for start in range(0, out_shape[0], rows_per_block):
        rows = min(rows_per_block, out_shape[0] - start)
        span = rows + w.shape[0] - 1  # padded input rows [start, start + span) are needed
        # Rows of x inside that span, in block coordinates; the rest of the block is padding.
        top = min(max(row_pad - start, 0), span)
        bottom = max(min(row_pad + x.shape[0] - start, span), top)
        # Rows above `top` were never written (the data only moves up from block to block), but
        # rows below `bottom` may still hold the previous block's data.
        padded_block[bottom:span] = 0.0
        padded_block[(slice(top, bottom), *inner_data)] = x[
            start + top - row_pad : start + bottom - row_pad
        ]
        out_block, buffer = out[start : start + rows], scratch[:rows]
        for offset, tap in taps:
            window = tuple(slice(o, o + n) for o, n in zip(offset, buffer.shape, strict=True))
            np.multiply(padded_block[window], tap, out=buffer)
            out_block += buffer
    return out


def _correlate_fft(x: np.ndarray, w: np.ndarray, pads) -> np.ndarray:
    """Correlation via the FFT of the zero-padded x: circular cross-correlation X * conj(W).

    Valid outputs of the padded x never reach past its end, so a circular correlation of
    length >= its shape (rounded up to a fast FFT size) has no wrap-around in the part we keep.
    """
    x = _pad_leading_axes(x, pads)
    fft_shape = [_fast_fft_length(d) for d in x.shape]
    axes = list(range(x.ndim))
    spectrum = np.fft.rfftn(x, fft_shape, axes) * np.conj(np.fft.rfftn(w, fft_shape, axes))
    full = np.fft.irfftn(spectrum, fft_shape, axes)
    return full[tuple(slice(0, d - k + 1) for d, k in zip(x.shape, w.shape, strict=True))]


def _correlate(x: np.ndarray, w: np.ndarray, mode: str, n_spatial: int) -> np.ndarray:
    """Correlate x with w (same ndim), padding the first ``n_spatial`` axes as ``mode`` says.

    The other axes (the channel axis, if any) are always "valid". Kernels of up to
    ``_DIRECT_MAX_TAPS`` entries (channels included) go tap by tap, larger ones through the FFT.
    """
    pads = [_mode_padding(k, mode) for k in w.shape[:n_spatial]]
    pads += [(0, 0)] * (x.ndim - n_spatial)
    out_shape = tuple(
        d + before + after - k + 1
        for d, k, (before, after) in zip(x.shape, w.shape, pads, strict=True)
    )
    if w.size <= _DIRECT_MAX_TAPS:
        return _correlate_direct(x, w, pads, out_shape)
    return _correlate_fft(x, w, pads)


# ---------------------------------------------------------------------------------------------
# Public correlation API
# ---------------------------------------------------------------------------------------------


def correlate1d(x, w, mode: str = "valid") -> np.ndarray:
    """1D correlation (the lecture's 1D "convolution"), ``[x ⊛ w]_i = sum_j x_{j+i-1} w_j``.

    Parameters
    ----------
    x : array_like, shape (d,)
        Signal (real numbers, finite).
    w : array_like, shape (k,)
        Kernel, applied as it is (not flipped).
    mode : {"valid", "same", "full"}
        "valid": output (d-k+1,), the lecture's definition (needs k <= d); "same": output (d,),
        zero padded like Keras' ``padding="same"`` ((k-1)//2 zeros before, k//2 after);
        "full": output (d+k-1,).

    Returns
    -------
    out : float64 array, shape (d-k+1,), (d,) or (d+k-1,) as given by ``mode``

    Raises
    ------
    ValueError
        If x or w is not 1D, is empty, holds NaN/inf or is not real; if ``mode`` is unknown; or if
        k > d in "valid" mode.

    Examples
    --------
    >>> correlate1d([1, 2, 3, 4, 5], uniform_kernel(3))  # moving average over 3 samples
    array([2., 3., 4.])
    >>> correlate1d([1, 2, 3, 4, 5], [1, 0, -1])  # x_i - x_{i+2}: no flip
    array([-2., -2., -2.])
    >>> correlate1d([1, 2, 3, 4, 5], [1, 0, -1], mode="same")
    array([-2., -2., -2., -2.,  4.])
    """
    x, w = _prepare("correlate1d", x, w, mode, (1,), "x of shape (d,) and w of shape (k,)")
    _check_kernel_fits("correlate1d", x.shape, w.shape, mode)
    return _correlate(x, w, mode, n_spatial=1)


def correlate2d(x, w, mode: str = "valid") -> np.ndarray:
    """2D correlation of a grey or multi-channel image with a kernel.

    Parameters
    ----------
    x : array_like, shape (H, W) or (H, W, C)
        Grey or C-channel image (real numbers, finite).
    w : array_like, shape (kh, kw) or (kh, kw, C)
        Kernel: (kh, kw) for a grey image, (kh, kw, C) with one slice per channel for a
        C-channel image. Not flipped.
    mode : {"valid", "same", "full"}
        Applies to the two spatial axes: "valid": output (H-kh+1, W-kw+1), the lecture's
        definition (needs the kernel to fit); "same": output (H, W), zero padded like Keras'
        ``padding="same"`` and ``scipy.signal.correlate2d(x, w, "same")``; "full": output
        (H+kh-1, W+kw-1).

    Returns
    -------
    out : float64 array, shape (H', W')
        Channels are always summed out; (H', W') as given by ``mode``.

    Raises
    ------
    ValueError
        If the shapes do not pair up as above (including different channel counts), an array is
        empty, holds NaN/inf or is not real, ``mode`` is unknown, or the kernel does not fit in
        "valid" mode.

    Notes
    -----
    Grey: ``out[i, j] = sum_{l, m} x[i+l, j+m] w[l, m]`` (0-based).

    Multi-channel (the lecture's colour pattern matching): the kernel has as many channels as
    the image and the sum also runs over channels, ``out[i, j] = sum_{l, m, c} x[i+l, j+m, c]
    w[l, m, c]``; this is the single valid depth slice of the 3D correlation.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> correlate2d(x, np.ones((2, 2)))  # sum of every 2 x 2 window
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    >>> correlate2d(x, np.ones((2, 2)), mode="same").shape
    (4, 4)
    >>> rgb = np.ones((3, 3, 3))
    >>> correlate2d(rgb, np.ones((2, 2, 3)))  # 2 x 2 x 3 = 12 ones in every window
    array([[12., 12.],
           [12., 12.]])
    """
    x, w = _prepare(
        "correlate2d",
        x,
        w,
        mode,
        (2, 3),
        "x of shape (H, W) with w (kh, kw), or x (H, W, C) with w (kh, kw, C)",
    )
    if x.ndim == 3 and x.shape[2] != w.shape[2]:
        raise ValueError(
            f"correlate2d: x has {x.shape[2]} channels but w has {w.shape[2]} "
            f"(x.shape={x.shape}, w.shape={w.shape}); the kernel needs one slice per channel"
        )
    _check_kernel_fits("correlate2d", x.shape[:2], w.shape[:2], mode)
    out = _correlate(x, w, mode, n_spatial=2)
    return out[..., 0] if x.ndim == 3 else out


def correlate3d(x, w, mode: str = "valid") -> np.ndarray:
    """3D correlation, ``out[i, j, g] = sum_{l, m, n} x[i+l, j+m, g+n] w[l, m, n]`` (0-based).

    Parameters
    ----------
    x : array_like, shape (d1, d2, d3)
        Tensor (real numbers, finite).
    w : array_like, shape (k1, k2, k3)
        Kernel, not flipped.
    mode : {"valid", "same", "full"}
        Per axis as in :func:`correlate1d`: "valid": output (d1-k1+1, d2-k2+1, d3-k3+1);
        "same": (d1, d2, d3); "full": (d1+k1-1, d2+k2-1, d3+k3-1).

    Returns
    -------
    out : float64 array, shape as given by ``mode``

    Raises
    ------
    ValueError
        If x or w is not 3D, is empty, holds NaN/inf or is not real; if ``mode`` is unknown; or if
        the kernel does not fit in "valid" mode.

    Examples
    --------
    >>> x = np.ones((4, 5, 6))
    >>> correlate3d(x, np.ones((2, 2, 2))).shape
    (3, 4, 5)
    >>> correlate3d(x, np.ones((2, 2, 2)), mode="same").shape
    (4, 5, 6)
    """
    x, w = _prepare(
        "correlate3d", x, w, mode, (3,), "x of shape (d1, d2, d3) and w of shape (k1, k2, k3)"
    )
    _check_kernel_fits("correlate3d", x.shape, w.shape, mode)
    return _correlate(x, w, mode, n_spatial=3)


def _spatial_ndim(x: np.ndarray) -> int:
    """Number of spatial axes: (d,) -> 1, (H, W) -> 2, (H, W, C) -> 2."""
    if x.ndim not in (1, 2, 3):
        raise ValueError(f"expected x of shape (d,), (H, W) or (H, W, C), got x.shape={x.shape}")
    return min(x.ndim, 2)


def _parse_pad(pad, n_spatial: int, x_shape: tuple) -> list[tuple[int, int]]:
    """Turn an int, (p_0, ...) or ((before, after), ...) into one (before, after) per axis."""
    if isinstance(pad, (int, np.integer)):
        pairs = [(pad, pad)] * n_spatial
    else:
        items = list(pad)
        if len(items) != n_spatial:
            raise ValueError(
                f"pad={pad!r} must have one entry per spatial axis ({n_spatial} for "
                f"x.shape={x_shape}), or be a single int"
            )
        pairs = [(p, p) if isinstance(p, (int, np.integer)) else tuple(p) for p in items]
    if any(
        len(pair) != 2 or not all(isinstance(p, (int, np.integer)) and p >= 0 for p in pair)
        for pair in pairs
    ):
        raise ValueError(f"pad amounts must be non-negative ints, got pad={pad!r}")
    return [(int(before), int(after)) for before, after in pairs]


def zero_pad(x, pad) -> np.ndarray:
    """Zero pad the spatial axes of a signal or image (never the channel axis).

    Parameters
    ----------
    x : array_like, shape (d,), (H, W) or (H, W, C)
        Signal, grey image or channels-last image.
    pad : int, sequence of int, or sequence of (int, int)
        Zeros to add, all non-negative: an int (same on both sides of every spatial axis); one
        int per spatial axis, e.g. (pad_h, pad_w); or one (before, after) pair per spatial axis,
        e.g. ((top, bottom), (left, right)).

    Returns
    -------
    padded : float64 array
        Shape (d+before+after,), (H+top+bottom, W+left+right) or (H+top+bottom, W+left+right, C).

    Raises
    ------
    ValueError
        If x is not 1D, 2D or 3D or not real, or ``pad`` has the wrong number of entries or
        negative or non-integer amounts.

    Examples
    --------
    >>> zero_pad(np.ones((2, 2)), 1)
    array([[0., 0., 0., 0.],
           [0., 1., 1., 0.],
           [0., 1., 1., 0.],
           [0., 0., 0., 0.]])
    >>> zero_pad(np.ones((4, 6, 3)), ((1, 0), (0, 2))).shape  # channels are never padded
    (5, 8, 3)
    """
    x = _as_real_array(x, "x")
    n_spatial = _spatial_ndim(x)
    return _pad_leading_axes(x, _parse_pad(pad, n_spatial, x.shape))


# ---------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------


def _check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int if it is a positive integer (not a bool), else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {name}={value!r}")
    return int(value)


def uniform_kernel(k: int, ndim: int = 1) -> np.ndarray:
    """Moving-average kernel, ``w = 1/k^ndim`` everywhere (sums to 1).

    Parameters
    ----------
    k : int
        Side length (number of taps per axis), >= 1.
    ndim : int
        Number of axes, >= 1: 1 -> shape (k,), 2 -> (k, k), ...

    Returns
    -------
    w : float64 array, shape (k,) * ndim

    Raises
    ------
    ValueError
        If ``k`` or ``ndim`` is not a positive int.

    Examples
    --------
    >>> uniform_kernel(3)
    array([0.33333333, 0.33333333, 0.33333333])
    >>> uniform_kernel(2, ndim=2)
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    k, ndim = _check_positive_int(k, "k"), _check_positive_int(ndim, "ndim")
    return np.full((k,) * ndim, 1.0 / k**ndim)


def gaussian_kernel(k: int | None = None, sigma: float = 1.0, ndim: int = 1) -> np.ndarray:
    """Sampled Gaussian smoothing kernel, normalised to sum 1.

    Parameters
    ----------
    k : int, optional
        Taps per axis; default 2*ceil(3*sigma) + 1 (see Notes). Even k is allowed (the centre
        then lies between two taps).
    sigma : float
        Standard deviation in taps, >= ``MIN_SIGMA`` (0.01).
    ndim : int
        Number of axes: 1 -> shape (k,), 2 -> (k, k), 3 -> (k, k, k).

    Returns
    -------
    w : float64 array, shape (k,) * ndim
        Symmetric, summing to 1.

    Raises
    ------
    ValueError
        If ``sigma`` is not a finite number >= ``MIN_SIGMA``, or ``k`` or ``ndim`` is not a
        positive int.

    Notes
    -----
    With 0-based taps i = 0, ..., k-1 and centre c = (k-1)/2,

        w_i = exp(-(i - c)^2 / (2 sigma^2)) / sum_j exp(-(j - c)^2 / (2 sigma^2)).

    The slide writes ``w_i ~ exp((i - k/2)^2 / sigma^2)``: without its minus sign that is a typo
    (it grows away from the centre instead of falling), and sigma^2 in place of 2 sigma^2 only
    rescales sigma by sqrt(2); this is the standard Gaussian with standard deviation sigma. In 2D
    (and 3D) the kernel is the outer product of the 1D one (separable), i.e. proportional to
    exp(-((i-c)^2 + (j-c)^2) / (2 sigma^2)).

    Default size: the slide's rule k ≳ 2 sigma is a lower bound (it only spans ±1 sigma, where
    the curve is still at 61% of its peak). We use the odd size k = 2*ceil(3 sigma) + 1, i.e.
    ±3 sigma around the centre tap, where the curve has fallen to exp(-4.5) ≈ 1% of its peak.

    Examples
    --------
    >>> w = gaussian_kernel(sigma=1.0)  # default size 2*ceil(3) + 1 = 7
    >>> w.round(3)
    array([0.004, 0.054, 0.242, 0.399, 0.242, 0.054, 0.004])
    >>> round(float(w.sum()), 12)
    1.0
    >>> gaussian_kernel(5, sigma=1.0, ndim=2).shape
    (5, 5)
    """
    if (isinstance(sigma, bool) or not isinstance(sigma, numbers.Real)
            or not math.isfinite(sigma) or sigma < MIN_SIGMA):
        raise ValueError(f"sigma must be a finite number >= {MIN_SIGMA} (in taps; a narrower "
                         f"Gaussian is a single tap), got sigma={sigma!r}")
    k = 2 * math.ceil(3 * sigma) + 1 if k is None else _check_positive_int(k, "k")
    ndim = _check_positive_int(ndim, "ndim")
    offsets = np.arange(k) - (k - 1) / 2
    # Measured from the taps nearest the centre, so the largest tap is exp(0) = 1: a narrow
    # Gaussian on an even kernel cannot underflow to all zeros (and 0 / 0).
    squared = offsets**2
    g = np.exp(-(squared - squared.min()) / (2.0 * sigma**2))
    g /= g.sum()
    kernel = g
    for _ in range(ndim - 1):
        kernel = np.multiply.outer(kernel, g)
    return kernel


def sobel_kernels() -> tuple[np.ndarray, np.ndarray]:
    """The slide's Sobel edge kernels (used with correlation, no flip).

    Returns
    -------
    wx : float64 array, shape (3, 3)
        W1 = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]: responds to horizontal intensity change,
        i.e. vertical edges (positive when the left side is brighter).
    wy : float64 array, shape (3, 3)
        W2 = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]] (the transpose of wx): responds to vertical
        intensity change, i.e. horizontal edges (positive when the top is brighter).

    Examples
    --------
    >>> wx, wy = sobel_kernels()
    >>> wx
    array([[ 1.,  0., -1.],
           [ 2.,  0., -2.],
           [ 1.,  0., -1.]])
    >>> step = np.zeros((3, 4)); step[:, :2] = 1  # bright left half: a vertical edge
    >>> correlate2d(step, wx)
    array([[4., 4.]])
    >>> correlate2d(step, wy)
    array([[0., 0.]])
    """
    wx = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    return wx, wx.T.copy()


def difference_kernels() -> tuple[np.ndarray, np.ndarray]:
    """The slide's simplest edge kernels: neighbour differences.

    Returns
    -------
    wx : float64 array, shape (1, 2)
        [[1, -1]]: vertical edges, ``x[i, j] - x[i, j+1]``.
    wy : float64 array, shape (2, 1)
        [[1], [-1]]: horizontal edges, ``x[i, j] - x[i+1, j]``.

    Examples
    --------
    >>> wx, wy = difference_kernels()
    >>> correlate2d(np.array([[1.0, 1.0, 0.0, 0.0]]), wx)  # one step down, between columns 1 and 2
    array([[0., 1., 0.]])
    """
    return np.array([[1.0, -1.0]]), np.array([[1.0], [-1.0]])


def _binomial_row(n: int) -> np.ndarray:
    """Binomial coefficients C(n, 0..n), a discrete Gaussian: n=2 -> [1, 2, 1]."""
    return np.array([math.comb(n, i) for i in range(n + 1)], dtype=np.float64)


def directional_edge_kernel(theta: float, size: int = 3) -> np.ndarray:
    """Edge detector for edges of any orientation: ``cos(θ) Gx + sin(θ) Gy``.

    Parameters
    ----------
    theta : float
        Angle θ of the edge normal in degrees (see Notes for the convention); finite.
    size : int
        Kernel side length: odd, >= 3.

    Returns
    -------
    w : float64 array, shape (size, size)
        Sums to 0.

    Raises
    ------
    ValueError
        If ``theta`` is not a finite number, or ``size`` is not an odd int >= 3.

    Notes
    -----
    Gx = s ⊗ d and Gy = d ⊗ s (outer products) with the binomial smoothing s = C(size-1, ·)
    and the derivative d = C(size-2, ·) convolved with [1, -1] (a discrete derivative of a
    Gaussian). For size=3 this is exactly Sobel: s = [1, 2, 1], d = [1, 0, -1], Gx = W1, Gy = W2
    of :func:`sobel_kernels`; larger sizes smooth more (size=5: s = [1, 4, 6, 4, 1],
    d = [1, 2, 0, -2, -1]).

    Angle convention (degrees, image coordinates: x = column index to the right, y = row index
    downwards, so positive angles turn clockwise on screen): θ is the direction of the edge
    *normal* n = (cos θ, sin θ). The response to an image region is proportional to minus the
    intensity derivative along n, so it is largest in absolute value for edges perpendicular
    to n, i.e. for edge lines running at θ + 90°. θ = 0 gives the Sobel-x kernel W1 (vertical
    edges), θ = 90 gives W2 (horizontal edges); θ and θ + 180 detect the same edges with
    opposite sign.

    Examples
    --------
    >>> np.array_equal(directional_edge_kernel(0), sobel_kernels()[0])
    True
    >>> np.array_equal(directional_edge_kernel(90), sobel_kernels()[1])
    True

    An edge line along the anti-diagonal (running at 135°, bright lower right) answers most
    strongly to the normal θ = 45 and not at all to θ = 135 (the direction along the edge):

    >>> img = np.fliplr(np.tril(np.ones((6, 6))))
    >>> responses = [correlate2d(img, directional_edge_kernel(t)) for t in (0, 45, 90, 135)]
    >>> [float(np.abs(r).max().round(2)) for r in responses]
    [3.0, 4.24, 3.0, 0.0]
    >>> bool((responses[1] <= 0).all())  # negative: the intensity rises along n
    True
    """
    if isinstance(theta, bool) or not isinstance(theta, numbers.Real) or not math.isfinite(theta):
        raise ValueError(f"theta must be a finite angle in degrees, got theta={theta!r}")
    size = _check_positive_int(size, "size")
    if size < 3 or size % 2 == 0:
        raise ValueError(f"size must be an odd int >= 3, got size={size}")
    smooth = _binomial_row(size - 1)
    deriv = np.convolve(_binomial_row(size - 2), [1.0, -1.0])
    angle = np.deg2rad(theta)
    # cos(90°) is 6e-17 in floating point; snapping it makes theta=90 give exactly W2.
    cos_t, sin_t = (0.0 if abs(v) < 1e-12 else v for v in (np.cos(angle), np.sin(angle)))
    return cos_t * np.outer(smooth, deriv) + sin_t * np.outer(deriv, smooth)


def edge_magnitude(img) -> np.ndarray:
    """Sobel gradient magnitude ``sqrt(gx^2 + gy^2)`` of a grey image.

    Parameters
    ----------
    img : array_like, shape (H, W)
        Grey image, values in [0, 1] (any real values work; the result scales with them).

    Returns
    -------
    magnitude : float64 array, shape (H, W)
        Non-negative, proportional to the contrast of ``img`` (at most 2 sqrt(5) ≈ 4.5 for [0, 1]).

    Raises
    ------
    ValueError
        If ``img`` is not 2D (convert a colour image to grey first) or not real.

    Notes
    -----
    gx, gy are the "same"-mode correlations with the Sobel kernels, so pixels on the border see
    the zero padding (an image that is bright up to its border shows an edge there).

    Examples
    --------
    >>> img = np.zeros((5, 6)); img[:, :3] = 1  # bright left half
    >>> edge_magnitude(img)[2]  # the step between columns 2 and 3, and the zero-padded left border
    array([4., 0., 4., 4., 0., 0.])
    """
    img = _as_real_array(img, "img")
    if img.ndim != 2:
        raise ValueError(
            f"edge_magnitude expects a grey (H, W) image, got img.shape={img.shape}; "
            f"convert colour images to grey first (e.g. img.mean(axis=-1))"
        )
    wx, wy = sobel_kernels()
    return np.hypot(correlate2d(img, wx, "same"), correlate2d(img, wy, "same"))


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------


def _as_pair(value, name: str) -> tuple[int, int]:
    """An int or a pair of ints -> (rows, cols), each a positive int."""
    if isinstance(value, (int, np.integer)):
        pair = (value, value)
    elif isinstance(value, (tuple, list)):
        pair = tuple(value)
    else:
        raise ValueError(f"{name} must be an int or a pair of ints, got {name}={value!r}")
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {name}={value!r}")
    return _check_positive_int(pair[0], name), _check_positive_int(pair[1], name)


def max_pool2d(x, size=2, stride=None) -> np.ndarray:
    """Max pooling over the two spatial axes, like Keras ``MaxPooling2D(padding="valid")``.

    Parameters
    ----------
    x : array_like, shape (H, W) or (H, W, C)
        Grey image, feature map or channels-last stack of maps; each channel is pooled on its own.
    size : int or (int, int)
        Window side (ph, pw); an int means a square window.
    stride : int or (int, int), optional
        Step (sh, sw) between windows; default equal to ``size`` (no overlap).

    Returns
    -------
    pooled : array, shape (H', W') or (H', W', C)
        H' = (H - ph) // sh + 1, W' = (W - pw) // sw + 1; same dtype as ``x``.

    Raises
    ------
    ValueError
        If x is not 2D or 3D or is empty, ``size`` or ``stride`` is not a positive int or pair,
        or the window does not fit in x.

    Notes
    -----
    Windows that would stick out of the image (the ragged bottom/right border) are dropped.

    Examples
    --------
    >>> x = np.arange(16).reshape(4, 4)
    >>> max_pool2d(x)
    array([[ 5,  7],
           [13, 15]])
    >>> max_pool2d(np.ones((5, 5, 8)), size=2).shape  # the 5th row and column are dropped
    (2, 2, 8)
    >>> max_pool2d(np.ones((5, 5)), size=3, stride=1).shape
    (3, 3)
    """
    x = np.asarray(x)
    if x.ndim not in (2, 3):
        raise ValueError(f"max_pool2d expects x of shape (H, W) or (H, W, C), got {x.shape}")
    if x.size == 0:
        raise ValueError(f"max_pool2d: x is empty (x.shape={x.shape}); it needs at least one "
                         "pixel and one channel")
    ph, pw = _as_pair(size, "size")
    sh, sw = (ph, pw) if stride is None else _as_pair(stride, "stride")
    if ph > x.shape[0] or pw > x.shape[1]:
        raise ValueError(
            f"max_pool2d: pooling window ({ph}, {pw}) does not fit in x.shape={x.shape}; "
            f"use a smaller size"
        )
    windows = sliding_window_view(x, (ph, pw), axis=(0, 1))[::sh, ::sw]
    return windows.max(axis=(-2, -1))


# ---------------------------------------------------------------------------------------------
# Template matching
# ---------------------------------------------------------------------------------------------


def _sliding_sum(a: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Sums of ``size`` consecutive entries along ``axis`` (valid positions), via a cumsum."""
    a = np.moveaxis(a, axis, 0)
    running = np.concatenate([np.zeros((1,) + a.shape[1:]), np.cumsum(a, axis=0)])
    return np.moveaxis(running[size:] - running[:-size], 0, axis)


def _window_sums(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Sum of every h x w window (and all channels): (H, W[, C]) -> (H-h+1, W-w+1)."""
    sums = _sliding_sum(_sliding_sum(a, h, axis=0), w, axis=1)
    return sums.sum(axis=2) if sums.ndim == 3 else sums


def match_template(img, template) -> np.ndarray:
    """Normalised cross-correlation (NCC) of a template with every image window.

    Parameters
    ----------
    img : array_like, shape (H, W) or (H, W, C)
        Grey or colour image (real numbers, finite).
    template : array_like, shape (h, w) or (h, w, C)
        (h, w) for a grey image, (h, w, C) for a colour one; h <= H and w <= W.

    Returns
    -------
    ncc : float64 array, shape (H-h+1, W-w+1)
        Values in [-1, 1]; ``ncc[i, j]`` scores the window whose top-left pixel is (i, j).

    Raises
    ------
    ValueError
        If the shapes do not pair up as above (including different channel counts), an array is
        empty, holds NaN/inf or is not real, or the template is larger than the image.

    Notes
    -----
    For each valid window P (same shape as the template T):

        ncc = sum((P - mean P) * (T - mean T)) / (||P - mean P|| * ||T - mean T||),

    i.e. the correlation coefficient of the two, in [-1, 1]: exactly 1 where the template occurs
    (up to brightness offset and contrast scale), 0 for unrelated content. For colour input the
    means and norms run over the whole h x w x C window, so a red square and a green square of
    the same shape score differently. Flat windows (no variance) and a flat template give 0.

    Examples
    --------
    >>> img = np.zeros((6, 7)); img[2:4, 3:6] = [[1, 0, 1], [0, 1, 0]]
    >>> template = img[2:4, 3:6].copy()
    >>> ncc = match_template(0.5 * img + 0.2, template)  # half the contrast, an offset: still 1
    >>> ncc.shape
    (5, 5)
    >>> [int(i) for i in np.unravel_index(ncc.argmax(), ncc.shape)], float(ncc.max().round(6))
    ([2, 3], 1.0)
    """
    img, template = _as_real_array(img, "img"), _as_real_array(template, "template")
    shapes = f"img.shape={img.shape}, template.shape={template.shape}"
    if img.ndim not in (2, 3) or template.ndim != img.ndim:
        raise ValueError(
            f"match_template expects img (H, W) with template (h, w), or img (H, W, C) with "
            f"template (h, w, C); got {shapes}"
        )
    if img.ndim == 3 and img.shape[2] != template.shape[2]:
        raise ValueError(f"match_template: img and template channel counts differ ({shapes})")
    _check_nonempty_finite("match_template", img=img, template=template)
    if template.shape[0] > img.shape[0] or template.shape[1] > img.shape[1]:
        raise ValueError(f"match_template: template is larger than the image ({shapes})")

    h, w = template.shape[:2]
    out_shape = (img.shape[0] - h + 1, img.shape[1] - w + 1)
    if np.ptp(template) == 0:
        return np.zeros(out_shape)
    # NCC ignores offsets; removing the mean keeps the running sums small and accurate.
    img = img - img.mean()
    t0 = template - template.mean()
    n = template.size
    # sum((P - mean P) * t0) == sum(P * t0) because t0 sums to zero: one plain correlation.
    numerator = correlate2d(img, t0, "valid")
    window_sum = _window_sums(img, h, w)
    window_ss = np.maximum(_window_sums(img**2, h, w) - window_sum**2 / n, 0.0)
    flat = window_ss <= _FLAT_REL_TOL * n * np.abs(img).max() ** 2
    denominator = np.sqrt(np.where(flat, 1.0, window_ss) * np.sum(t0**2))
    ncc = np.where(flat, 0.0, numerator / denominator)
    return np.clip(ncc, -1.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Correlation as a matrix (weight sharing)
# ---------------------------------------------------------------------------------------------


def correlation_matrix(w, input_shape: tuple[int, int]) -> np.ndarray:
    """Dense matrix of "valid" 2D correlation with a fixed kernel, acting on flattened images.

    Parameters
    ----------
    w : array_like, shape (kh, kw)
        Kernel (real numbers, finite).
    input_shape : int or (int, int)
        (H, W) of the images. The matrix has H*W*out_h*out_w entries, so keep it small
        (28 x 28 with a 3 x 3 kernel: 530,000 entries, 4 MB).

    Returns
    -------
    M : float64 array, shape (out_h*out_w, H*W)
        out_h = H-kh+1, out_w = W-kw+1.

    Raises
    ------
    ValueError
        If ``w`` is not 2D, is empty or holds NaN/inf, ``input_shape`` is not a positive int or
        pair, or the kernel does not fit in the image.

    Notes
    -----
    ``M @ x.ravel() == correlate2d(x, w, "valid").ravel()`` for every x of shape input_shape.
    Row r = i*out_w + j holds the kernel placed at output pixel (i, j) and zeros elsewhere:
    a fully connected layer with most weights forced to 0 and the rest shared.

    Examples
    --------
    >>> x = np.arange(20.0).reshape(4, 5)
    >>> w = np.array([[1.0, -1.0]])
    >>> M = correlation_matrix(w, x.shape)
    >>> M.shape  # 4 x 4 outputs, 4 x 5 inputs
    (16, 20)
    >>> bool(np.allclose(M @ x.ravel(), correlate2d(x, w).ravel()))
    True
    >>> M[0, :6]  # row 0: the kernel at output pixel (0, 0), zeros elsewhere
    array([ 1., -1.,  0.,  0.,  0.,  0.])
    """
    w = _as_real_array(w, "w")
    if w.ndim != 2:
        raise ValueError(f"correlation_matrix expects a (kh, kw) kernel, got w.shape={w.shape}")
    _check_nonempty_finite("correlation_matrix", w=w)
    height, width = _as_pair(input_shape, "input_shape")
    _check_kernel_fits("correlation_matrix", (height, width), w.shape, "valid")
    kh, kw = w.shape
    out_h, out_w = height - kh + 1, width - kw + 1
    # i, j: output pixel; a, b: kernel tap. Broadcast to (out_h, out_w, kh, kw).
    i, j, a, b = np.ix_(np.arange(out_h), np.arange(out_w), np.arange(kh), np.arange(kw))
    cols = (i + a) * width + (j + b)
    rows = np.broadcast_to(i * out_w + j, cols.shape)
    matrix = np.zeros((out_h * out_w, height * width))
    matrix[rows, cols] = np.broadcast_to(w, cols.shape)
    return matrix
