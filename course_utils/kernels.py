"""Correlation ("convolution" in the lecture), classic filters, pooling and template matching.

The lecture's "convolution" is what signal processing calls *correlation*: the kernel is not
flipped. With 1-based indices as on the slides,

    [x ⊛ w]_i = sum_{j=1..k} x_{j+i-1} w_j,   i = 1, ..., d-k+1      ("valid" output),

and the same pattern per axis in 2D and 3D. All functions here are pure NumPy and vectorised; the
results equal ``scipy.signal.correlate`` (which is *not* used here, only in the tests).

Modes (per spatial axis of length d, kernel length k):

* ``"valid"``: the lecture's definition, output length d-k+1; the kernel must fit inside x.
* ``"same"``: x is zero padded so the output has length d: (k-1)//2 zeros before and k//2 after,
  exactly as Keras' ``padding="same"`` (Conv1D/2D/3D) and ``scipy.signal.correlate2d(...,
  mode="same")`` do; for an even kernel the extra zero goes after the signal.
* ``"full"``: every overlap of kernel and signal, output length d+k-1.

Conventions: images are (H, W) grey or (H, W, C) channels-last, pixel values in [0, 1] unless a
function says otherwise; results are float64.
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

# Above this many kernel taps one FFT beats the tap-by-tap loop (measured on a 512x512 image:
# 49 taps cost about the same both ways, 225 taps are ~5x faster with the FFT).
_DIRECT_MAX_TAPS = 49

# Output elements per block of the tap loop (512 KB of float64): small enough that the x, output
# and scratch blocks stay in the L2 cache, large enough that NumPy's per-call overhead is noise.
_BLOCK_ELEMENTS = 1 << 16

# A template-matching window counts as flat (NCC := 0) when its standard deviation is below
# 1e-5 times the image's largest deviation from its mean: the window variance is computed from
# running sums, whose rounding error would otherwise be divided by a (near) zero norm and give
# garbage, not 0.
_FLAT_REL_TOL = 1e-10

# Narrower Gaussians are a single tap to within float64 precision.
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
    """Correlate x with w (same ndim); the first ``n_spatial`` axes follow ``mode``, the rest
    (the channel axis, if any) are always "valid"."""
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

    Args:
        x: (d,) signal.
        w: (k,) kernel (not flipped).
        mode: "valid" -> (d-k+1,), the lecture's definition (needs k <= d);
            "same" -> (d,), zero padded like Keras' ``padding="same"``;
            "full" -> (d+k-1,).

    Returns:
        float64 array of the shape given by ``mode``.
    """
    x, w = _prepare("correlate1d", x, w, mode, (1,), "x of shape (d,) and w of shape (k,)")
    _check_kernel_fits("correlate1d", x.shape, w.shape, mode)
    return _correlate(x, w, mode, n_spatial=1)


def correlate2d(x, w, mode: str = "valid") -> np.ndarray:
    """2D correlation of a grey or multi-channel image with a kernel.

    Grey: ``out[i, j] = sum_{l, m} x[i+l, j+m] w[l, m]`` (0-based).
    Multi-channel (the lecture's colour pattern matching): the kernel has as many channels as
    the image and the sum also runs over channels, ``out[i, j] = sum_{l, m, c} x[i+l, j+m, c]
    w[l, m, c]``; this is the single valid depth slice of the 3D correlation.

    Args:
        x: (H, W) or (H, W, C) image.
        w: (kh, kw) kernel for a grey image, (kh, kw, C) for a C-channel image.
        mode: applies to the two spatial axes: "valid" -> (H-kh+1, W-kw+1), the lecture's
            definition (needs the kernel to fit); "same" -> (H, W), zero padded like Keras'
            ``padding="same"`` and ``scipy.signal.correlate2d(x, w, "same")``;
            "full" -> (H+kh-1, W+kw-1).

    Returns:
        (H', W') float64 array (channels are always summed out).
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

    Args:
        x: (d1, d2, d3) tensor.
        w: (k1, k2, k3) kernel.
        mode: per axis as in :func:`correlate1d`: "valid" -> (d1-k1+1, d2-k2+1, d3-k3+1),
            "same" -> (d1, d2, d3), "full" -> (d1+k1-1, d2+k2-1, d3+k3-1).

    Returns:
        float64 array of the shape given by ``mode``.
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

    Args:
        x: (d,), (H, W) or (H, W, C) array.
        pad: an int (same on both sides of every spatial axis); one int per spatial axis,
            e.g. (pad_h, pad_w); or one (before, after) pair per spatial axis, e.g.
            ((top, bottom), (left, right)).

    Returns:
        float64 array of shape (d+before+after,), (H+top+bottom, W+left+right) or
        (H+top+bottom, W+left+right, C).
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

    Args:
        k: side length (number of taps per axis).
        ndim: 1 -> shape (k,), 2 -> (k, k), ...

    Returns:
        (k,) * ndim float64 array.
    """
    k, ndim = _check_positive_int(k, "k"), _check_positive_int(ndim, "ndim")
    return np.full((k,) * ndim, 1.0 / k**ndim)


def gaussian_kernel(k: int | None = None, sigma: float = 1.0, ndim: int = 1) -> np.ndarray:
    """Sampled Gaussian smoothing kernel, normalised to sum 1.

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

    Args:
        k: taps per axis; None -> 2*ceil(3*sigma) + 1. Even k is allowed (centre between taps).
        sigma: standard deviation in taps (> 0).
        ndim: 1 -> (k,), 2 -> (k, k), 3 -> (k, k, k).

    Returns:
        (k,) * ndim float64 array, symmetric, summing to 1.
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

    Returns:
        (wx, wy), each (3, 3):
        wx = W1 = [[1, 0, -1], [2, 0, -2], [1, 0, -1]] responds to horizontal intensity change,
        i.e. vertical edges (positive when the left side is brighter);
        wy = W2 = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]] responds to vertical intensity change,
        i.e. horizontal edges (positive when the top is brighter).
    """
    wx = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    return wx, wx.T.copy()


def difference_kernels() -> tuple[np.ndarray, np.ndarray]:
    """The slide's simplest edge kernels: neighbour differences.

    Returns:
        (wx, wy): wx = [[1, -1]] of shape (1, 2) (vertical edges, x[i, j] - x[i, j+1]) and
        wy = [[1], [-1]] of shape (2, 1) (horizontal edges, x[i, j] - x[i+1, j]).
    """
    return np.array([[1.0, -1.0]]), np.array([[1.0], [-1.0]])


def _binomial_row(n: int) -> np.ndarray:
    """Binomial coefficients C(n, 0..n), a discrete Gaussian: n=2 -> [1, 2, 1]."""
    return np.array([math.comb(n, i) for i in range(n + 1)], dtype=np.float64)


def directional_edge_kernel(theta: float, size: int = 3) -> np.ndarray:
    """Edge detector for edges of any orientation: ``cos(θ) Gx + sin(θ) Gy``.

    Gx = s ⊗ d and Gy = d ⊗ s (outer products) with the binomial smoothing s = C(size-1, ·)
    and the derivative d = C(size-2, ·) * [1, -1] (a discrete derivative of a Gaussian). For
    size=3 this is exactly Sobel: s = [1, 2, 1], d = [1, 0, -1], Gx = W1, Gy = W2 of
    :func:`sobel_kernels`; larger sizes smooth more (size=5: s = [1, 4, 6, 4, 1],
    d = [1, 2, 0, -2, -1]).

    Angle convention (degrees, image coordinates: x = column index to the right, y = row index
    downwards, so positive angles turn clockwise on screen): θ is the direction of the edge
    *normal* n = (cos θ, sin θ). The response to an image region is proportional to minus the
    intensity derivative along n, so it is largest in absolute value for edges perpendicular
    to n, i.e. for edge lines running at θ + 90°. θ = 0 gives the Sobel-x kernel W1 (vertical
    edges), θ = 90 gives W2 (horizontal edges); θ and θ + 180 detect the same edges with
    opposite sign.

    Args:
        theta: normal angle in degrees.
        size: odd kernel side length >= 3.

    Returns:
        (size, size) float64 kernel summing to 0.
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

    gx, gy are the "same"-mode correlations with the Sobel kernels, so pixels on the border see
    the zero padding (an image that is bright up to its border shows an edge there).

    Args:
        img: (H, W) grey image.

    Returns:
        (H, W) float64 array, >= 0.
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

    Windows that would stick out of the image (the ragged bottom/right border) are dropped.

    Args:
        x: (H, W) or (H, W, C) array.
        size: window side, int or (ph, pw).
        stride: step between windows, int or (sh, sw); None -> equal to size (no overlap).

    Returns:
        (H', W') or (H', W', C) array with H' = (H - ph) // sh + 1, W' = (W - pw) // sw + 1.
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

    For each valid window P (same shape as the template T):

        ncc = sum((P - mean P) * (T - mean T)) / (||P - mean P|| * ||T - mean T||),

    i.e. the correlation coefficient of the two, in [-1, 1]: exactly 1 where the template occurs
    (up to brightness offset and contrast scale), 0 for unrelated content. For colour input the
    means and norms run over the whole h x w x C window, so a red square and a green square of
    the same shape score differently. Flat windows (no variance) and a flat template give 0.

    Args:
        img: (H, W) grey or (H, W, C) colour image.
        template: (h, w) for a grey image, (h, w, C) for a colour one.

    Returns:
        (H-h+1, W-w+1) float64 array in [-1, 1].
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

    ``M @ x.ravel() == correlate2d(x, w, "valid").ravel()`` for every x of shape input_shape.
    Row r = i*out_w + j holds the kernel placed at output pixel (i, j) and zeros elsewhere:
    a fully connected layer with most weights forced to 0 and the rest shared.

    Args:
        w: (kh, kw) kernel.
        input_shape: (H, W) of the images; the matrix has H*W*out_h*out_w entries, so keep
            it small (e.g. 28 x 28).

    Returns:
        (out_h*out_w, H*W) float64 array, out_h = H-kh+1, out_w = W-kw+1.
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
