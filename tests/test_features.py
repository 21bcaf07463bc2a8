"""Tests of the filter and representation measurements in course_utils.features."""

import numpy as np
import pytest

from course_utils import features, kernels


def keras_kernel(stack):
    """(n, kh, kw) filters -> (kh, kw, 1, n), the layout of a Keras Conv2D kernel."""
    return np.moveaxis(np.asarray(stack), 0, -1)[:, :, None, :]


# ------------------------------------------------------------------------------------ edge filters


def test_sobel_kernels_are_perfect_edges_at_their_angles():
    wx, wy = kernels.sobel_kernels()
    scores, angles = features.edge_likeness(np.stack([wx, -wy, wx + 3.0]))
    np.testing.assert_allclose(scores, 1.0, atol=1e-12)
    # Sign and a brightness offset do not matter; the orientation does.
    assert list(angles) == [0.0, 90.0, 0.0]


def test_a_rotated_edge_is_found_at_its_angle_for_5x5_filters():
    edge = kernels.directional_edge_kernel(37.0, 5)
    scores, angles = features.edge_likeness(keras_kernel([edge, 2.5 * edge]))
    np.testing.assert_allclose(scores, 1.0, atol=1e-12)
    assert list(angles) == [37.0, 37.0]


def test_similarity_is_a_cosine_against_every_angle():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(3, 3))
    angles = [0.0, 45.0, 120.0]
    sim = features.edge_similarity(f[None], angles)
    centred = (f - f.mean()).ravel()
    for j, theta in enumerate(angles):
        e = kernels.directional_edge_kernel(theta, 3).ravel()
        expected = abs(centred @ e) / (np.linalg.norm(centred) * np.linalg.norm(e))
        assert sim[0, j] == pytest.approx(expected, rel=1e-12)


def test_best_score_is_the_projection_onto_the_edge_plane():
    # The 3x3 edge kernels cos(t) Gx + sin(t) Gy span the plane of the two orthogonal, equally
    # long Sobel kernels, so the best cosine over all angles is the length of the filter's
    # projection onto that plane (relative to the filter's length).
    rng = np.random.default_rng(2)
    stack = rng.normal(size=(50, 3, 3))
    centred = (stack - stack.mean(axis=(1, 2), keepdims=True)).reshape(50, 9)
    wx, wy = kernels.sobel_kernels()
    basis = np.stack([wx.ravel(), wy.ravel()]) / np.linalg.norm(wx)
    expected = np.linalg.norm(centred @ basis.T, axis=1) / np.linalg.norm(centred, axis=1)
    scores, _ = features.edge_likeness(stack)
    np.testing.assert_allclose(scores, expected, atol=1e-4)


def test_noise_scores_low_and_blobs_score_zero():
    rng = np.random.default_rng(3)
    noise_scores, _ = features.edge_likeness(rng.normal(size=(400, 3, 3)))
    # Expected median for 3x3 noise: sqrt(1 - 0.5 ** (1 / 3)) = 0.454.
    assert 0.38 < np.median(noise_scores) < 0.53
    assert np.mean(noise_scores > 0.9) < 0.05
    # A centre-surround blob and a constant filter are symmetric: no edge at all.
    blob = kernels.gaussian_kernel(5, sigma=1.0, ndim=2)
    scores, _ = features.edge_likeness(np.stack([blob, np.ones((5, 5))]))
    np.testing.assert_allclose(scores, 0.0, atol=1e-12)


def test_multichannel_kernels_are_averaged_over_input_channels():
    wx, _ = kernels.sobel_kernels()
    kernel = np.stack([wx + 1.0, wx - 1.0], axis=-1)[..., None]  # (3, 3, 2 channels, 1 filter)
    scores, angles = features.edge_likeness(kernel)
    assert scores[0] == pytest.approx(1.0) and angles[0] == 0.0


@pytest.mark.parametrize("bad", [np.ones((4, 4)), np.ones((2, 4, 4)), np.ones((2, 3, 5)),
                                 np.ones((0, 3, 3)), np.full((1, 3, 3), np.nan)])
def test_edge_likeness_rejects_bad_filters(bad):
    with pytest.raises(ValueError, match="filters"):
        features.edge_likeness(bad)


# --------------------------------------------------------------------------------- shift invariance


def test_shift_images_moves_content_and_fills_with_zeros():
    x = np.arange(1, 2 * 4 * 5 + 1, dtype=np.float32).reshape(2, 4, 5, 1)
    down_right = features.shift_images(x, 1, 2)
    np.testing.assert_array_equal(down_right[:, 1:, 2:], x[:, :-1, :-2])
    assert np.all(down_right[:, 0] == 0) and np.all(down_right[:, :, :2] == 0)
    up_left = features.shift_images(x, -1, -1)
    np.testing.assert_array_equal(up_left[:, :-1, :-1], x[:, 1:, 1:])
    assert np.all(up_left[:, -1] == 0) and np.all(up_left[:, :, -1] == 0)
    assert down_right.dtype == x.dtype
    np.testing.assert_array_equal(features.shift_images(x, 0, 0), x)


def test_rotation_is_counter_clockwise_about_the_centre():
    x = np.zeros((2, 11, 11, 1), dtype=np.float32)
    x[:, 1, 5, 0] = 1.0  # above the centre (5, 5)
    np.testing.assert_array_equal(np.argwhere(features.rotate_images(x, 90)[0, ..., 0] > 0.5),
                                  [[5, 1]])  # a quarter turn counter-clockwise: left of centre
    np.testing.assert_array_equal(np.argwhere(features.rotate_images(x, -90)[0, ..., 0] > 0.5),
                                  [[5, 9]])
    np.testing.assert_allclose(features.rotate_images(x, 360), x, atol=1e-5)
    assert features.rotate_images(x, 30).dtype == np.float32


def test_shift_images_rejects_bad_input():
    with pytest.raises(ValueError, match="NHWC"):
        features.shift_images(np.zeros((4, 4)), 1, 0)
    with pytest.raises(ValueError, match="out of view"):
        features.shift_images(np.zeros((1, 4, 4, 1)), 0, -4)
    with pytest.raises(ValueError, match="NHWC"):
        features.rotate_images(np.zeros((28, 28)), 10)


def blobs(n=6, side=16, seed=4):
    """Small bright squares away from the border, so that shifts never clip them."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, side, side, 1))
    for i, (r, c) in enumerate(rng.integers(4, side - 7, size=(n, 2))):
        x[i, r : r + 3, c : c + 3] = 1.0
    return x


def test_identity_features_change_completely_and_global_sums_not_at_all():
    x = blobs()
    change = features.shift_sensitivity(lambda b: b, x, [(0, 1), (3, 0), (0, 0)])
    assert change.shape == (3, len(x))
    # A 3x3 square moved by 1 pixel keeps 6 of its 9 pixels: ||diff||^2 = 6 of ||x||^2 = 9.
    np.testing.assert_allclose(change[0], np.sqrt(6 / 9))
    np.testing.assert_allclose(change[1], np.sqrt(2))  # moved past itself: orthogonal
    np.testing.assert_allclose(change[2], 0.0)
    total = features.shift_sensitivity(lambda b: b.sum(axis=(1, 2, 3)), x, [(2, -3)])
    np.testing.assert_allclose(total, 0.0, atol=1e-12)


def test_change_is_relative_to_the_unshifted_features():
    x = np.zeros((1, 6, 6, 1))
    x[0, 1:4, 0:3] = 1.0  # a 3x3 square on the left border
    # Shifting left pushes one column of 3 pixels out: ||diff||^2 = 3, ||original||^2 = 9.
    change = features.shift_sensitivity(lambda b: b, x, [(0, -1)])
    np.testing.assert_allclose(change, [[np.sqrt(3 / 9)]])


def test_shifts_are_rows_then_columns():
    x = blobs()

    def row_profile(b):
        return b.sum(axis=(2, 3))  # (N, H): blind to horizontal moves

    change = features.shift_sensitivity(row_profile, x, [(0, 2), (2, 0)])
    np.testing.assert_allclose(change[0], 0.0, atol=1e-12)
    assert np.all(change[1] > 1.0)


def test_max_pooling_reduces_the_change_of_a_one_pixel_shift():
    x = blobs()

    def pooled(b):
        return np.stack([kernels.max_pool2d(img, 4) for img in b])

    shifts = [(0, 1), (1, 0)]
    raw = features.shift_sensitivity(lambda b: b, x, shifts)
    after_pool = features.shift_sensitivity(pooled, x, shifts)
    assert np.mean(after_pool) < 0.7 * np.mean(raw)


def test_dict_features_are_measured_per_entry_in_one_call():
    x = blobs(n=3)
    calls = []

    def two_layers(b):
        calls.append(len(b))
        return {"pixels": b, "doubled": 2 * b}

    change = features.shift_sensitivity(two_layers, x, [(1, 1), (0, 2)])
    assert calls == [3 * len(x)]
    assert set(change) == {"pixels", "doubled"}
    np.testing.assert_allclose(change["pixels"], change["doubled"])
    assert change["pixels"].shape == (2, len(x))


def test_zero_features_give_nan_and_bad_calls_raise():
    x = blobs(n=2)
    change = features.shift_sensitivity(lambda b: b * 0, x, [(0, 1)])
    assert np.isnan(change).all()
    with pytest.raises(ValueError, match="pairs"):
        features.shift_sensitivity(lambda b: b, x, [(1,)])
    with pytest.raises(ValueError, match="pairs"):
        features.shift_sensitivity(lambda b: b, x, [1, 2])
    with pytest.raises(ValueError, match="pairs"):
        features.shift_sensitivity(lambda b: b, x, [(0.5, 0)])
    with pytest.raises(ValueError, match="rows"):
        features.shift_sensitivity(lambda b: b[:1], x, [(0, 1)])
