"""What a CNN computes: measurements on learned filters and on the representations of a network.

* ``edge_similarity`` / ``edge_likeness``: how much a filter looks like an oriented edge detector
  (the lecture: "lots of edge detectors in the first layer!").
* ``shift_images`` / ``rotate_images``: fixed, deterministic moves of a batch of images.
* ``shift_sensitivity``: how much a representation changes when the input moves by a pixel or two
  (the lecture: pooling "improves shift-invariance").

Everything is NumPy; a network enters only through a ``feature_fn`` callable, so these functions
work with any Keras model (e.g. ``lambda x: models.activations(model, x, ["pool1"])["pool1"]``).
Images are NHWC, pixel values in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy import ndimage

from course_utils.kernels import directional_edge_kernel

__all__ = [
    "EDGE_ANGLES",
    "edge_similarity",
    "edge_likeness",
    "rotate_images",
    "shift_images",
    "shift_sensitivity",
]

# Edge normals theta and theta + 180 give the same kernel up to sign, so half a turn covers every
# orientation; 1-degree steps put every orientation within 0.5 degrees of a sampled one, which
# lowers a perfect score by at most 1 - cos(0.5 deg) = 4e-5.
EDGE_ANGLES = np.arange(0.0, 180.0, 1.0)


# ------------------------------------------------------------------------------------ edge filters


def _as_filter_stack(filters) -> np.ndarray:
    """(kh, kw, c_in, n) Keras kernel or (n, kh, kw) stack -> (n, kh, kw) float64.

    A Keras kernel with several input channels is averaged over them, as ``show_filters`` shows it.
    """
    f = np.asarray(filters, dtype=np.float64)
    if f.ndim == 4:
        f = np.moveaxis(f.mean(axis=2), -1, 0)
    elif f.ndim != 3:
        raise ValueError(f"filters has shape {f.shape}; expected a Conv2D kernel (kh, kw, c_in, n) "
                         "or a stack of 2D filters (n, kh, kw)")
    n, kh, kw = f.shape
    if n == 0 or kh != kw or kh < 3 or kh % 2 == 0:
        raise ValueError(f"filters has shape {f.shape}: need at least one square filter with an "
                         "odd side >= 3 (the sizes of the oriented edge kernels)")
    if not np.isfinite(f).all():
        raise ValueError("filters contain NaN or inf")
    return f


def _unit_rows(a: np.ndarray) -> np.ndarray:
    """Rows of a (m, d) array scaled to unit L2 norm; all-zero rows stay zero."""
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return np.divide(a, norms, out=np.zeros_like(a), where=norms > 0)


def edge_similarity(filters, angles: Sequence[float] = EDGE_ANGLES) -> np.ndarray:
    """|cosine similarity| of every filter, mean removed, with oriented edge kernels.

    filters: (kh, kw, c_in, n) Conv2D kernel (``layer.get_weights()[0]``; input channels are
        averaged) or an (n, k, k) stack; square with an odd side k >= 3.
    angles: edge normals theta in degrees of ``kernels.directional_edge_kernel(theta, k)``
        (theta = 0: vertical edges, like Sobel-x; 90: horizontal edges).
    The filter's mean is removed first, so a filter that responds to an edge plus the average
    brightness still counts as an edge detector (the edge kernels themselves sum to 0). A
    constant filter has no direction and scores 0.
    Returns an (n, len(angles)) array in [0, 1]; 1 means the filter is that edge kernel up to
    scale and sign.
    """
    f = _as_filter_stack(filters)
    angles = np.asarray(angles, dtype=np.float64).ravel()
    if angles.size == 0:
        raise ValueError("angles is empty; pass at least one angle in degrees")
    size = f.shape[1]
    edges = np.stack([directional_edge_kernel(theta, size).ravel() for theta in angles])
    centred = f.reshape(len(f), -1)
    centred = centred - centred.mean(axis=1, keepdims=True)
    return np.abs(_unit_rows(centred) @ _unit_rows(edges).T)


def edge_likeness(filters, angles: Sequence[float] = EDGE_ANGLES) -> tuple[np.ndarray, np.ndarray]:
    """How edge-like each filter is: its best |cosine similarity| with an oriented edge kernel.

    filters, angles: as in :func:`edge_similarity`.
    Returns (scores, best_angles): two (n,) arrays, the best score in [0, 1] and the edge normal
    (degrees, from ``angles``) where it is reached. For reference: a Sobel kernel scores 1; the
    mean-removed 3x3 filters of i.i.d. noise score about 0.45 (median), since the edge kernels
    span 2 of the 8 dimensions of mean-free 3x3 filters.
    """
    angles = np.asarray(angles, dtype=np.float64).ravel()
    similarity = edge_similarity(filters, angles)
    best = similarity.argmax(axis=1)
    return similarity[np.arange(len(similarity)), best], angles[best]


# --------------------------------------------------------------------------------- shift invariance


def _as_batch(images) -> np.ndarray:
    x = np.asarray(images)
    if x.ndim != 4:
        raise ValueError(f"images has shape {x.shape}; expected an NHWC batch (N, H, W, C)")
    return x


def shift_images(images, dy: int, dx: int) -> np.ndarray:
    """Translate a batch of images by whole pixels; pixels that move in are 0 (black).

    images: (N, H, W, C) array. dy: rows down (negative: up). dx: columns right (negative: left).
    Returns an array of the same shape and dtype; content moved past the border is lost.
    """
    x = _as_batch(images)
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
    """Rotate every image of a batch about its centre by ``degrees`` counter-clockwise (as shown).

    images: (N, H, W, C) float array. Bilinear interpolation; corners moving in are black (0); the
    image keeps its size. Returns an array of the same shape and dtype.
    """
    x = _as_batch(images)
    rotated = ndimage.rotate(x, degrees, axes=(1, 2), reshape=False, order=1, mode="constant",
                             cval=0.0)
    return rotated.astype(x.dtype, copy=False)


def _relative_change(reference: np.ndarray, shifted: np.ndarray) -> np.ndarray:
    """||shifted - reference|| / ||reference|| per image: (N, ...) and (S, N, ...) -> (S, N)."""
    ref = reference.reshape(len(reference), -1).astype(np.float64)
    moved = shifted.reshape(shifted.shape[0], len(reference), -1).astype(np.float64)
    norms = np.linalg.norm(ref, axis=1)
    change = np.linalg.norm(moved - ref, axis=2)
    return np.divide(change, norms, out=np.full(change.shape, np.nan), where=norms > 0)


def shift_sensitivity(feature_fn: Callable[[np.ndarray], np.ndarray | Mapping[str, np.ndarray]],
                      images, shifts: Sequence[tuple[int, int]]
                      ) -> np.ndarray | dict[str, np.ndarray]:
    """Relative change of a representation when the input is shifted by a few pixels.

    feature_fn: maps an (M, H, W, C) batch to (M, ...) features, or to a dict of such arrays
        (e.g. several layers of one network at once). It is called once, on the originals and all
        shifted copies stacked together.
    images: (N, H, W, C) batch. shifts: (dy, dx) pixel shifts, see :func:`shift_images`.
    For image i and shift s the result is ||f(shift_s(x_i)) - f(x_i)|| / ||f(x_i)|| (L2 norms over
    all feature entries): 0 means the features ignore the shift; sqrt(2) = 1.41 means the shifted
    features have the same norm but no overlap with the original ones (orthogonal vectors).
    Images whose features are all zero give NaN.
    Returns an (len(shifts), N) array, or a dict of them if ``feature_fn`` returns a dict.
    """
    x = _as_batch(images)
    pairs = np.asarray(shifts)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) == 0 or pairs.dtype.kind not in "iu":
        raise ValueError(f"shifts must be a non-empty list of (dy, dx) pairs of ints, got {shifts}")
    batch = np.concatenate([x] + [shift_images(x, int(dy), int(dx)) for dy, dx in pairs])
    outputs = feature_fn(batch)

    def split(features) -> np.ndarray:
        features = np.asarray(features)
        if len(features) != len(batch):
            raise ValueError(f"feature_fn returned {len(features)} rows for {len(batch)} images; "
                             "it must return one feature array per input image")
        reference, moved = features[: len(x)], features[len(x):]
        return _relative_change(reference, moved.reshape(len(pairs), *reference.shape))

    if isinstance(outputs, Mapping):
        return {name: split(features) for name, features in outputs.items()}
    return split(outputs)
