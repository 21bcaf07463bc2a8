"""Tests of course_utils.kernels: scipy/skimage as references, and the lecture's examples."""

import math
import re

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.feature import match_template as skimage_match_template

from course_utils import kernels as K

MODES = ("valid", "same", "full")
TOL = 1e-10

# Deterministic (derandomize) and without a deadline: the machine is shared, timings vary.
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---------------------------------------------------------------------------------------------
# Correlation against scipy.signal.correlate
# ---------------------------------------------------------------------------------------------


@st.composite
def signal_and_kernel(draw, ndim: int, mode: str, max_side: int, channels: bool = False):
    """Random (x, w) of the given spatial ndim; in "valid" mode the kernel fits inside x,
    otherwise it may be larger. With ``channels`` a shared trailing channel axis is added."""
    x_shape = draw(st.tuples(*[st.integers(1, max_side)] * ndim))
    if mode == "valid":
        w_shape = tuple(draw(st.integers(1, d)) for d in x_shape)
    else:
        w_shape = draw(st.tuples(*[st.integers(1, max_side)] * ndim))
    if channels:
        c = draw(st.integers(1, 4))
        x_shape, w_shape = x_shape + (c,), w_shape + (c,)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = rng.standard_normal(w_shape)
    if draw(st.booleans()):
        w[rng.random(w_shape) < 0.4] = 0.0  # zero taps are skipped by the implementation
    return rng.standard_normal(x_shape), w


def reference(x: np.ndarray, w: np.ndarray, mode: str) -> np.ndarray:
    """scipy.signal.correlate, with "same" taken from "full" as Keras pads: (k-1)//2 zeros before.

    scipy.signal.correlate's own "same" puts an even kernel's extra zero before the signal, Keras
    (and scipy.signal.correlate2d) after; "full" has k-1 zeros before, so "same" starts at k//2.
    """
    if mode != "same":
        return scipy.signal.correlate(x, w, mode)
    full = scipy.signal.correlate(x, w, "full")
    return full[tuple(slice(k // 2, k // 2 + d) for d, k in zip(x.shape, w.shape, strict=True))]


def assert_matches(ours: np.ndarray, reference: np.ndarray) -> None:
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=0, atol=TOL)


# 1D sides up to 80 and 2D sides up to 10 produce kernels with more than 49 taps, so both the
# tap loop and the FFT path are exercised.
# Largest side per dimension: keeps examples fast while kernels stay both small and large.
CORRELATE_BY_NDIM = {1: (K.correlate1d, 80), 2: (K.correlate2d, 10), 3: (K.correlate3d, 5)}


@pytest.mark.parametrize("ndim", sorted(CORRELATE_BY_NDIM))
@pytest.mark.parametrize("mode", MODES)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_correlate_matches_scipy(ndim, mode, data):
    correlate, max_side = CORRELATE_BY_NDIM[ndim]
    x, w = data.draw(signal_and_kernel(ndim, mode, max_side=max_side))
    assert_matches(correlate(x, w, mode), reference(x, w, mode))


@pytest.mark.parametrize("mode", MODES)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_correlate2d_multichannel_sums_channelwise_correlations(mode, data):
    x, w = data.draw(signal_and_kernel(2, mode, max_side=8, channels=True))
    expected = sum(reference(x[..., c], w[..., c], mode) for c in range(x.shape[2]))
    assert_matches(K.correlate2d(x, w, mode), expected)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_correlate2d_multichannel_valid_is_the_3d_valid_slice(data):
    x, w = data.draw(signal_and_kernel(2, "valid", max_side=8, channels=True))
    reference = scipy.signal.correlate(x, w, "valid")[..., 0]
    assert_matches(K.correlate2d(x, w, "valid"), reference)
    assert_matches(K.correlate2d(x, w, "valid"), K.correlate3d(x, w, "valid")[..., 0])


@pytest.mark.parametrize(
    ("x_shape", "w_shape"),
    [
        ((300, 301), (3, 4)),  # tap loop over several row blocks
        ((120_000,), (5,)),  # 1D tap loop over several blocks
        ((2000,), (101,)),  # FFT path
        ((70, 90), (15, 14)),  # FFT path
        ((20, 18, 16), (5, 4, 6)),  # FFT path
        ((40, 50, 3), (6, 5, 3)),  # FFT path, channels
        ((40, 50, 3), (3, 3, 3)),  # tap loop, channels
    ],
)
@pytest.mark.parametrize("mode", MODES)
def test_large_inputs_match_scipy(x_shape, w_shape, mode, rng):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    if len(x_shape) == 3 and x_shape[2] == w_shape[2] == 3:
        ours = K.correlate2d(x, w, mode)
        expected = sum(reference(x[..., c], w[..., c], mode) for c in range(3))
    else:
        ours = (K.correlate1d, K.correlate2d, K.correlate3d)[len(x_shape) - 1](x, w, mode)
        expected = reference(x, w, mode)
    assert_matches(ours, expected)


@pytest.mark.parametrize("mode", MODES)
def test_tap_loop_with_tiny_blocks_matches_scipy(mode, monkeypatch, rng):
    """Blocks of a single output row, shorter than the kernel, stress the block bookkeeping."""
    monkeypatch.setattr(K, "_BLOCK_ELEMENTS", 1)
    for x_shape, w_shape in [((9, 6), (5, 3)), ((7,), (6,)), ((6, 5, 4), (3, 2, 4))]:
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        f = (K.correlate1d, K.correlate2d, K.correlate3d)[len(x_shape) - 1]
        assert_matches(f(x, w, mode), reference(x, w, mode))


def test_output_sizes_follow_the_mode():
    x, w = np.ones((9, 7)), np.ones((4, 3))
    assert K.correlate2d(x, w, "valid").shape == (6, 5)
    assert K.correlate2d(x, w, "same").shape == (9, 7)
    assert K.correlate2d(x, w, "full").shape == (12, 9)


# ---------------------------------------------------------------------------------------------
# The lecture's worked examples
# ---------------------------------------------------------------------------------------------

LECTURE_X_1D = [1, 4, 3, -1, 2, -4, 1, 0, 2, -1]


def test_lecture_1d_example_hand_computed():
    out = K.correlate1d(LECTURE_X_1D, [2, 1, -1])
    assert out.shape == (8,)  # d - k + 1 = 10 - 3 + 1
    assert out[0] == pytest.approx(1 * 2 + 4 * 1 + 3 * -1)  # = 3
    assert out[3] == pytest.approx(-1 * 2 + 2 * 1 + -4 * -1)  # = 4
    assert out[7] == pytest.approx(0 * 2 + 2 * 1 + -1 * -1)  # = 3


def test_lecture_2d_example():
    x = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
    w = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]
    expected = [[12, 12, 17], [10, 17, 19], [9, 6, 14]]
    np.testing.assert_allclose(K.correlate2d(x, w), expected, rtol=0, atol=1e-12)


def test_correlation_is_not_convolution():
    w = np.array([2.0, 1.0, -1.0])  # asymmetric, so flipping matters
    ours = K.correlate1d(LECTURE_X_1D, w)
    assert not np.allclose(ours, np.convolve(LECTURE_X_1D, w, "valid"))
    np.testing.assert_allclose(ours, np.convolve(LECTURE_X_1D, w[::-1], "valid"), atol=1e-12)


@pytest.mark.parametrize("w_shape", [(3, 4), (4, 3), (3, 3)])
def test_2d_correlation_equals_convolution_with_flipped_kernel(w_shape, rng):
    x, w = rng.standard_normal((12, 10)), rng.standard_normal(w_shape)
    for mode in ("valid", "full"):  # "same" centres even kernels differently for convolution
        assert_matches(K.correlate2d(x, w, mode), scipy.signal.convolve2d(x, w[::-1, ::-1], mode))
    assert not np.allclose(K.correlate2d(x, w), scipy.signal.convolve2d(x, w, "valid"))


def test_same_mode_pads_even_kernels_like_correlate2d(rng):
    """Even kernels: (k-1)//2 zeros before and k//2 after, as Keras and scipy's correlate2d do."""
    x = rng.standard_normal((12, 10))
    for shape in [(3, 4), (4, 4), (2, 5), (3, 5)]:
        w = rng.standard_normal(shape)
        assert_matches(K.correlate2d(x, w, "same"), scipy.signal.correlate2d(x, w, "same"))
    w = rng.standard_normal((3, 4))
    # "full" has kh-1 = 2 leading zero rows and kw-1 = 3 leading zero columns of padding;
    # "same" pads (kh-1)//2 = 1 and (kw-1)//2 = 1, so it starts 1 row and 2 columns into "full".
    assert_matches(K.correlate2d(x, w, "same"), K.correlate2d(x, w, "full")[1:13, 2:12])


KERAS_CONV = {1: "Conv1D", 2: "Conv2D", 3: "Conv3D"}


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("k", [3, 4])
@pytest.mark.parametrize("mode", ["valid", "same"])
def test_correlation_equals_keras_convolution_layers(ndim, k, mode, rng):
    """Keras' ConvND computes the lecture's correlation, with the same zero padding."""
    import keras

    x = rng.standard_normal((9, 8, 7)[:ndim])
    w = rng.standard_normal((k,) * ndim)
    layer = getattr(keras.layers, KERAS_CONV[ndim])(1, k, padding=mode, use_bias=False)
    layer.build((1, *x.shape, 1))
    layer.set_weights([w[..., None, None]])
    theirs = keras.ops.convert_to_numpy(layer(x[None, ..., None].astype(np.float32)))[0, ..., 0]
    ours = (K.correlate1d, K.correlate2d, K.correlate3d)[ndim - 1](x, w, mode)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------------------------------
# Errors a user can cause
# ---------------------------------------------------------------------------------------------


def _raises_naming(*fragments: str):
    """pytest.raises(ValueError) whose message contains every fragment literally."""
    lookaheads = "".join(f"(?=[\\s\\S]*{re.escape(f)})" for f in fragments)
    return pytest.raises(ValueError, match=lookaheads)


def test_kernel_larger_than_signal_in_valid_mode():
    with _raises_naming("(3, 5)", "(4, 4)", "mode='same'", "smaller kernel"):
        K.correlate2d(np.ones((3, 5)), np.ones((4, 4)))
    with _raises_naming("(2,)", "(5,)", "mode='same'"):
        K.correlate1d(np.ones(2), np.ones(5))
    # the same shapes are fine with padding
    assert K.correlate2d(np.ones((3, 5)), np.ones((4, 4)), "same").shape == (3, 5)


def test_wrong_ndim():
    with _raises_naming("(4, 4)", "(2,)"):
        K.correlate1d(np.ones((4, 4)), np.ones(2))
    with _raises_naming("(4, 4, 3)", "(2, 2)"):
        K.correlate2d(np.ones((4, 4, 3)), np.ones((2, 2)))
    with _raises_naming("(5,)"):
        K.correlate2d(np.ones(5), np.ones(2))
    with _raises_naming("(4, 4)", "(2, 2)"):
        K.correlate3d(np.ones((4, 4)), np.ones((2, 2)))


def test_channel_mismatch():
    with _raises_naming("(6, 6, 3)", "(3, 3, 1)", "channels"):
        K.correlate2d(np.ones((6, 6, 3)), np.ones((3, 3, 1)))


@pytest.mark.parametrize(
    ("x", "w"), [(np.ones((0, 4)), np.ones((1, 1))), (np.ones((4, 4)), np.ones((0, 2)))]
)
def test_empty_arrays(x, w):
    with _raises_naming("empty", str(x.shape), str(w.shape)):
        K.correlate2d(x, w, "same")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values(bad):
    x = np.ones((5, 5))
    x[2, 3] = bad
    with _raises_naming("x contains NaN or inf", "(5, 5)", "(3, 3)"):
        K.correlate2d(x, np.ones((3, 3)))
    w = np.ones(3)
    w[0] = bad
    with _raises_naming("w contains NaN or inf", "(3,)"):
        K.correlate1d(np.ones(6), w)


def test_unknown_mode_lists_the_valid_ones():
    with _raises_naming("'vaild'", "'valid'", "'same'", "'full'"):
        K.correlate1d(np.ones(5), np.ones(2), mode="vaild")


def test_complex_input_is_rejected():
    with _raises_naming("complex"):
        K.correlate1d(np.ones(5) * 1j, np.ones(2))


# ---------------------------------------------------------------------------------------------
# zero_pad
# ---------------------------------------------------------------------------------------------


def test_zero_pad_int_pads_every_spatial_side(rng):
    x = rng.random((3, 4))
    out = K.zero_pad(x, 2)
    assert out.shape == (7, 8)
    np.testing.assert_array_equal(out[2:5, 2:6], x)
    assert np.count_nonzero(out) == np.count_nonzero(x)


def test_zero_pad_per_axis_forms(rng):
    x = rng.random((3, 4))
    out = K.zero_pad(x, ((1, 2), (0, 3)))
    assert out.shape == (6, 7)
    np.testing.assert_array_equal(out[1:4, 0:4], x)
    assert np.count_nonzero(out) == np.count_nonzero(x)
    np.testing.assert_array_equal(K.zero_pad(x, (1, 2)), K.zero_pad(x, ((1, 1), (2, 2))))
    np.testing.assert_array_equal(K.zero_pad(np.ones(3), ((2, 0),)), [0, 0, 1, 1, 1])


def test_zero_pad_leaves_channels_alone(rng):
    img = rng.random((3, 4, 3))
    out = K.zero_pad(img, (1, 2))
    assert out.shape == (5, 8, 3)
    np.testing.assert_array_equal(out[1:4, 2:6, :], img)


def test_zero_pad_then_valid_is_same_mode(rng):
    x, w = rng.standard_normal((8, 9)), rng.standard_normal((5, 3))
    assert_matches(K.correlate2d(K.zero_pad(x, (2, 1)), w), K.correlate2d(x, w, "same"))


@pytest.mark.parametrize("pad", [(1, 2, 3), -1, ((1, -1), (0, 0)), ((1, 2, 3), (0, 0))])
def test_zero_pad_rejects_bad_pad(pad):
    with pytest.raises(ValueError, match="pad"):
        K.zero_pad(np.ones((3, 3)), pad)


# ---------------------------------------------------------------------------------------------
# Smoothing kernels
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ndim", [1, 2])
@pytest.mark.parametrize("k", [1, 4, 5])
def test_uniform_kernel(k, ndim):
    w = K.uniform_kernel(k, ndim)
    assert w.shape == (k,) * ndim
    np.testing.assert_allclose(w, 1 / k**ndim)
    assert w.sum() == pytest.approx(1.0)


def test_uniform_kernel_is_a_local_average():
    out = K.correlate1d(LECTURE_X_1D, K.uniform_kernel(3))
    assert out[0] == pytest.approx((1 + 4 + 3) / 3)


@pytest.mark.parametrize(("k", "sigma"), [(7, 1.0), (6, 1.5), (15, 4.0), (3, 0.3)])
def test_gaussian_kernel_values_normalisation_and_symmetry(k, sigma):
    w = K.gaussian_kernel(k, sigma)
    assert w.shape == (k,)
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(w, w[::-1], rtol=1e-14)
    c = (k - 1) / 2
    # ratios to the first tap follow exp(-(i - c)^2 / (2 sigma^2))
    i = np.arange(k)
    expected_ratio = np.exp(-((i - c) ** 2 - c**2) / (2 * sigma**2))
    np.testing.assert_allclose(w / w[0], expected_ratio, rtol=1e-12)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.7, 3.0])
def test_gaussian_default_size_rule(sigma):
    w = K.gaussian_kernel(sigma=sigma)
    k = len(w)
    assert k == 2 * math.ceil(3 * sigma) + 1
    assert k % 2 == 1 and k >= 2 * sigma  # odd, and at least the slide's k >~ 2 sigma
    assert np.argmax(w) == k // 2
    assert w[0] / w[k // 2] <= math.exp(-4.5) + 1e-12  # the tails are captured


def test_gaussian_2d_is_separable():
    g1 = K.gaussian_kernel(5, 1.2)
    g2 = K.gaussian_kernel(5, 1.2, ndim=2)
    np.testing.assert_allclose(g2, np.outer(g1, g1), rtol=1e-14)
    assert g2.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(g2, g2.T)


@pytest.mark.parametrize("sigma", [0, -1, np.nan])
def test_gaussian_rejects_bad_sigma(sigma):
    with pytest.raises(ValueError, match="sigma"):
        K.gaussian_kernel(5, sigma)


def test_kernel_builders_reject_bad_sizes():
    with pytest.raises(ValueError, match="k=0"):
        K.uniform_kernel(0)
    with pytest.raises(ValueError, match="k=2.5"):
        K.gaussian_kernel(2.5)


def test_smoothing_reduces_noise(rng):
    noisy = 0.5 + 0.1 * rng.standard_normal((64, 64))
    smoothed = K.correlate2d(noisy, K.gaussian_kernel(sigma=1.5, ndim=2), "valid")
    assert smoothed.std() < 0.5 * noisy.std()
    assert smoothed.mean() == pytest.approx(noisy.mean(), abs=0.01)


# ---------------------------------------------------------------------------------------------
# Edge kernels
# ---------------------------------------------------------------------------------------------


def test_sobel_kernels_are_the_slide_matrices():
    wx, wy = K.sobel_kernels()
    np.testing.assert_array_equal(wx, [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    np.testing.assert_array_equal(wy, [[1, 2, 1], [0, 0, 0], [-1, -2, -1]])


def test_difference_kernels():
    wx, wy = K.difference_kernels()
    np.testing.assert_array_equal(wx, [[1, -1]])
    np.testing.assert_array_equal(wy, [[1], [-1]])
    img = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(K.correlate2d(img, wx), [[0, -1], [0, -1]])
    np.testing.assert_array_equal(K.correlate2d(img, wy), [[0, 0, 0]])


def test_directional_kernel_size3_is_sobel():
    wx, wy = K.sobel_kernels()
    np.testing.assert_array_equal(K.directional_edge_kernel(0), wx)
    np.testing.assert_array_equal(K.directional_edge_kernel(90), wy)
    np.testing.assert_allclose(K.directional_edge_kernel(180), -wx, atol=1e-15)
    np.testing.assert_allclose(K.directional_edge_kernel(45), (wx + wy) / np.sqrt(2), atol=1e-14)


def test_directional_kernel_size5_is_extended_sobel():
    smooth, deriv = np.array([1, 4, 6, 4, 1]), np.array([1, 2, 0, -2, -1])
    np.testing.assert_array_equal(K.directional_edge_kernel(0, size=5), np.outer(smooth, deriv))


@pytest.mark.parametrize("size", [3, 5, 7])
@pytest.mark.parametrize("theta", [0, 20, 45, 100, 270])
def test_directional_kernel_is_zero_sum(theta, size):
    w = K.directional_edge_kernel(theta, size)
    assert w.shape == (size, size)
    assert abs(w.sum()) < 1e-12
    assert np.abs(w).max() > 0


def _soft_edge(normal_deg: float, n: int = 41) -> np.ndarray:
    """Straight blurred edge through the centre; intensity rises along the normal
    (cos, sin) in image coordinates (x = column right, y = row down)."""
    rows, cols = np.mgrid[0:n, 0:n] - n // 2
    a = np.deg2rad(normal_deg)
    return 0.5 + 0.5 * np.tanh((cols * np.cos(a) + rows * np.sin(a)) / 1.5)


@pytest.mark.parametrize("size", [3, 5])
@pytest.mark.parametrize("edge_normal", [0, 30, 45, 60, 90, 105, 150])
def test_directional_kernel_responds_most_to_matching_edge(edge_normal, size):
    img = _soft_edge(edge_normal)
    thetas = np.arange(0, 180, 15)
    energy = [np.sum(K.correlate2d(img, K.directional_edge_kernel(t, size)) ** 2) for t in thetas]
    assert thetas[np.argmax(energy)] == edge_normal
    # perpendicular kernel barely responds
    assert min(energy) < 0.05 * max(energy)
    # documented sign: intensity rises along the normal -> negative response
    matched = K.correlate2d(img, K.directional_edge_kernel(edge_normal, size))
    assert matched.sum() < 0


@pytest.mark.parametrize("size", [1, 2, 4])
def test_directional_kernel_rejects_bad_size(size):
    with pytest.raises(ValueError, match=f"size={size}"):
        K.directional_edge_kernel(0, size)


def test_edge_magnitude_on_a_step_image():
    img = np.zeros((10, 12))
    img[:, 6:] = 1.0  # vertical step between columns 5 and 6
    mag = K.edge_magnitude(img)
    assert mag.shape == img.shape
    interior = mag[1:-1, 1:-1]  # away from the zero-padded border
    # Sobel-x at column 5: left column 0, right column 1 -> |0 - (1 + 2 + 1)| = 4; same at 6.
    np.testing.assert_allclose(interior[:, 4:6], 4.0)
    np.testing.assert_allclose(np.delete(interior, [4, 5], axis=1), 0.0, atol=1e-12)


def test_edge_magnitude_rejects_colour():
    with _raises_naming("(8, 8, 3)", "grey"):
        K.edge_magnitude(np.ones((8, 8, 3)))


# ---------------------------------------------------------------------------------------------
# max_pool2d
# ---------------------------------------------------------------------------------------------


def _reshape_max_pool(x: np.ndarray, p: int) -> np.ndarray:
    """Non-overlapping pooling via reshape, after cropping the ragged border."""
    h, w = (x.shape[0] // p) * p, (x.shape[1] // p) * p
    x = x[:h, :w]
    return x.reshape(h // p, p, w // p, p, *x.shape[2:]).max(axis=(1, 3))


@pytest.mark.parametrize("shape", [(8, 8), (7, 9), (9, 5, 3), (4, 4, 1)])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_max_pool_matches_reshape_reference(shape, size, rng):
    x = rng.standard_normal(shape)
    out = K.max_pool2d(x, size)
    assert out.shape == (shape[0] // size, shape[1] // size, *shape[2:])
    np.testing.assert_array_equal(out, _reshape_max_pool(x, size))


def test_max_pool_overlapping_stride(rng):
    x = rng.standard_normal((9, 8, 2))
    out = K.max_pool2d(x, size=3, stride=2)
    assert out.shape == (4, 3, 2)  # (9-3)//2+1, (8-3)//2+1
    for i in range(4):
        for j in range(3):
            window = x[2 * i : 2 * i + 3, 2 * j : 2 * j + 3]
            np.testing.assert_array_equal(out[i, j], window.max(axis=(0, 1)))


def test_max_pool_rectangular_window():
    x = np.arange(24.0).reshape(4, 6)
    np.testing.assert_array_equal(K.max_pool2d(x, size=(2, 3)), [[8, 11], [20, 23]])


def test_max_pool_errors():
    with _raises_naming("(3, 3)", "(2, 5)"):
        K.max_pool2d(np.ones((2, 5)), 3)
    with pytest.raises(ValueError, match="stride"):
        K.max_pool2d(np.ones((4, 4)), 2, stride=0)
    with _raises_naming("(5,)"):
        K.max_pool2d(np.ones(5))


# ---------------------------------------------------------------------------------------------
# match_template
# ---------------------------------------------------------------------------------------------


def test_match_template_peaks_at_planted_location(rng):
    img = rng.random((80, 90))
    template = img[23:34, 51:60].copy()
    scores = K.match_template(img, template)
    assert scores.shape == (80 - 11 + 1, 90 - 9 + 1)
    assert scores[23, 51] == pytest.approx(1.0, abs=1e-6)
    assert np.unravel_index(np.argmax(scores), scores.shape) == (23, 51)
    assert scores.min() >= -1.0 and scores.max() <= 1.0


def test_match_template_matches_skimage(rng):
    img, template = rng.random((40, 50)), rng.random((7, 5))
    np.testing.assert_allclose(
        K.match_template(img, template), skimage_match_template(img, template), atol=1e-9
    )
    img, template = rng.random((30, 35, 3)), rng.random((6, 4, 3))
    np.testing.assert_allclose(
        K.match_template(img, template), skimage_match_template(img, template)[..., 0], atol=1e-9
    )


def test_match_template_ignores_brightness_and_contrast(rng):
    img = rng.random((30, 30))
    template = img[5:12, 8:14]
    np.testing.assert_allclose(
        K.match_template(3.0 * img + 7.0, 0.5 * template - 2.0),
        K.match_template(img, template),
        atol=1e-9,
    )


def test_match_template_flat_windows_give_zero_not_nan():
    img = np.zeros((20, 20))
    img[5:10, 5:10] = 1.0
    scores = K.match_template(img, img[3:12, 3:12])
    assert np.isfinite(scores).all()
    assert scores[3, 3] == pytest.approx(1.0, abs=1e-6)
    assert scores[11, 11] == 0.0  # an all-black window
    assert np.all(K.match_template(img, np.ones((4, 4))) == 0.0)  # flat template


def test_match_template_colour_tells_same_shape_apart():
    img = np.zeros((30, 40, 3))
    img[5:10, 5:10] = [1.0, 0.0, 0.0]  # red square
    img[15:20, 25:30] = [0.0, 1.0, 0.0]  # green square, same shape
    red_template = np.zeros((5, 5, 3))
    red_template[...] = [1.0, 0.0, 0.0]
    scores = K.match_template(img, red_template)
    assert scores[5, 5] == pytest.approx(1.0, abs=1e-6)
    # Hand-computed: per pixel centred values are (2/3, -1/3, -1/3) for red and
    # (-1/3, 2/3, -1/3) for green; their correlation coefficient is -1/2.
    assert scores[15, 25] == pytest.approx(-0.5, abs=1e-9)
    # In grey (sum of channels) both squares look identical and score the same.
    grey = K.match_template(img.sum(-1), np.pad(np.ones((5, 5)), 1))
    assert grey[4, 4] == pytest.approx(grey[14, 24], abs=1e-9)


def test_match_template_errors():
    with _raises_naming("(5, 5)", "(6, 2)", "larger"):
        K.match_template(np.ones((5, 5)), np.ones((6, 2)))
    with _raises_naming("(5, 5, 3)", "(2, 2, 1)", "channel"):
        K.match_template(np.ones((5, 5, 3)), np.ones((2, 2, 1)))
    with _raises_naming("(5, 5, 3)", "(2, 2)"):
        K.match_template(np.ones((5, 5, 3)), np.ones((2, 2)))


# ---------------------------------------------------------------------------------------------
# correlation_matrix
# ---------------------------------------------------------------------------------------------


def test_correlation_matrix_reproduces_correlate2d(rng):
    w = rng.standard_normal((2, 3))
    matrix = K.correlation_matrix(w, (6, 7))
    assert matrix.shape == (5 * 5, 6 * 7)
    for _ in range(3):
        x = rng.standard_normal((6, 7))
        np.testing.assert_allclose(matrix @ x.ravel(), K.correlate2d(x, w).ravel(), atol=1e-12)


def test_correlation_matrix_shows_weight_sharing():
    w = np.arange(1.0, 10.0).reshape(3, 3)
    matrix = K.correlation_matrix(w, (5, 5))
    # every row holds each weight exactly once and zeros elsewhere
    for row in matrix:
        np.testing.assert_array_equal(np.sort(row[row != 0]), np.arange(1.0, 10.0))
    assert np.count_nonzero(matrix) == 9 * 9
    # row 0 is the kernel at the top-left corner: w[a, b] sits at column a*5 + b
    np.testing.assert_array_equal(matrix[0].reshape(5, 5)[:3, :3], w)


def test_correlation_matrix_errors():
    with _raises_naming("(3, 3)", "(2, 5)"):
        K.correlation_matrix(np.ones((3, 3)), (2, 5))
    with _raises_naming("(3,)"):
        K.correlation_matrix(np.ones(3), (5, 5))


# ---------------------------------------------------------------------------------------------
# Kernel builders reject what would make a silent NaN
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.0, 1e-300, 0.001, -1.0, float("nan"), float("inf"), "2", True])
def test_gaussian_kernel_rejects_bad_sigma(sigma):
    with _raises_naming("sigma"):
        K.gaussian_kernel(5, sigma)


@pytest.mark.parametrize("k", [2, 4, 5])
def test_narrowest_gaussian_is_finite_and_sums_to_one(k):
    w = K.gaussian_kernel(k, K.MIN_SIGMA)
    assert np.all(np.isfinite(w)) and w.sum() == pytest.approx(1.0)
    assert w.max() == pytest.approx(1.0 if k % 2 else 0.5)  # a single tap, or two for even k


@pytest.mark.parametrize("builder", [
    lambda: K.uniform_kernel(True), lambda: K.gaussian_kernel(True, 1.0),
    lambda: K.gaussian_kernel(5, 1.0, ndim=False), lambda: K.directional_edge_kernel(0.0, True),
])
def test_bool_sizes_are_rejected(builder):
    with pytest.raises(ValueError, match="positive int"):
        builder()


@pytest.mark.parametrize("theta", [float("nan"), float("inf"), "30", None])
def test_directional_edge_kernel_rejects_a_non_finite_angle(theta):
    with _raises_naming("theta"):
        K.directional_edge_kernel(theta)


@pytest.mark.parametrize("size", [2.0, "2", None, (2, 2.5), True])
def test_max_pool_rejects_non_integer_sizes(size):
    with pytest.raises(ValueError, match="size"):
        K.max_pool2d(np.ones((4, 4)), size)


def test_max_pool_rejects_an_empty_channel_axis():
    with _raises_naming("empty", "(4, 4, 0)"):
        K.max_pool2d(np.ones((4, 4, 0)), 2)
