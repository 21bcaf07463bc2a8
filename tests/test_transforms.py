"""Tests of course_utils.transforms: fixed moves, noise, resizing and colour conversion."""

import numpy as np
import pytest

from course_utils import transforms


def test_shift_images_moves_content_and_fills_with_zeros():
    x = np.arange(1, 2 * 4 * 5 + 1, dtype=np.float32).reshape(2, 4, 5, 1)
    down_right = transforms.shift_images(x, 1, 2)
    np.testing.assert_array_equal(down_right[:, 1:, 2:], x[:, :-1, :-2])
    assert np.all(down_right[:, 0] == 0) and np.all(down_right[:, :, :2] == 0)
    up_left = transforms.shift_images(x, -1, -1)
    np.testing.assert_array_equal(up_left[:, :-1, :-1], x[:, 1:, 1:])
    assert np.all(up_left[:, -1] == 0) and np.all(up_left[:, :, -1] == 0)
    assert down_right.dtype == x.dtype
    np.testing.assert_array_equal(transforms.shift_images(x, 0, 0), x)


def test_rotation_is_counter_clockwise_about_the_centre():
    x = np.zeros((2, 11, 11, 1), dtype=np.float32)
    x[:, 1, 5, 0] = 1.0  # above the centre (5, 5)
    np.testing.assert_array_equal(np.argwhere(transforms.rotate_images(x, 90)[0, ..., 0] > 0.5),
                                  [[5, 1]])  # a quarter turn counter-clockwise: left of centre
    np.testing.assert_array_equal(np.argwhere(transforms.rotate_images(x, -90)[0, ..., 0] > 0.5),
                                  [[5, 9]])
    np.testing.assert_allclose(transforms.rotate_images(x, 360), x, atol=1e-5)
    assert transforms.rotate_images(x, 30).dtype == np.float32


def test_shift_images_rejects_bad_input():
    with pytest.raises(ValueError, match="NHWC"):
        transforms.shift_images(np.zeros((4, 4)), 1, 0)
    with pytest.raises(ValueError, match="out of view"):
        transforms.shift_images(np.zeros((1, 4, 4, 1)), 0, -4)
    with pytest.raises(ValueError, match="NHWC"):
        transforms.rotate_images(np.zeros((28, 28)), 10)


def test_shift_images_rejects_fractional_shifts():
    with pytest.raises(ValueError, match="whole number"):
        transforms.shift_images(np.zeros((1, 4, 4, 1)), 0.5, 0)


def test_add_noise_is_seeded_clipped_and_has_the_requested_strength():
    grey = np.full((200, 200), 0.5)
    noisy = transforms.add_noise(grey, 0.1, seed=3)
    np.testing.assert_array_equal(noisy, transforms.add_noise(grey, 0.1, seed=3))
    assert not np.array_equal(noisy, transforms.add_noise(grey, 0.1, seed=4))
    assert np.std(noisy - grey) == pytest.approx(0.1, rel=0.05)  # far from the borders: no clipping
    bright = transforms.add_noise(np.ones((50, 50)), 0.5, seed=0)
    assert bright.min() >= 0.0 and bright.max() == 1.0
    np.testing.assert_array_equal(transforms.add_noise(grey, 0.0), grey)


@pytest.mark.parametrize("noise", [-0.1, float("nan"), "0.1", True])
def test_add_noise_rejects_bad_noise(noise):
    with pytest.raises(ValueError, match="noise"):
        transforms.add_noise(np.zeros((4, 4)), noise)


def test_resize_images_keeps_content_range_and_channels():
    x = np.zeros((2, 28, 28, 1), dtype=np.float32)
    x[:, 7:21, 7:21] = 1.0  # a centred square
    big = transforms.resize_images(x, 56)
    assert big.shape == (2, 56, 56, 1) and big.dtype == np.float32
    assert 0.0 <= big.min() and big.max() <= 1.0
    assert big[0, 28, 28, 0] == pytest.approx(1.0) and big[0, 2, 2, 0] == pytest.approx(0.0)
    assert big.mean() == pytest.approx(x.mean(), abs=0.02)  # the square keeps its share
    assert transforms.resize_images(x, (14, 7)).shape == (2, 14, 7, 1)
    with pytest.raises(ValueError, match="NHWC"):
        transforms.resize_images(x[0], 56)


def test_grey_to_rgb_repeats_the_channel():
    x = np.random.default_rng(0).random((3, 5, 5, 1))
    rgb = transforms.grey_to_rgb(x)
    assert rgb.shape == (3, 5, 5, 3)
    for c in range(3):
        np.testing.assert_array_equal(rgb[..., c], x[..., 0])
    with pytest.raises(ValueError, match="grey"):
        transforms.grey_to_rgb(rgb)


def test_cut_tiles_cuts_overlapping_tiles_and_records_their_origins():
    a = np.arange(6 * 8 * 2, dtype=np.float32).reshape(6, 8, 2)
    b = -np.arange(4 * 4 * 2, dtype=np.float32).reshape(4, 4, 2)
    tiles, origins = transforms.cut_tiles([a, b], 4, stride=2)
    assert tiles.shape == (2 * 3 + 1, 4, 4, 2)
    assert origins.tolist() == [[0, 0, 0], [0, 0, 2], [0, 0, 4], [0, 2, 0], [0, 2, 2], [0, 2, 4],
                                [1, 0, 0]]
    for tile, (i, top, left) in zip(tiles, origins, strict=True):
        np.testing.assert_array_equal(tile, [a, b][i][top:top + 4, left:left + 4])
    with pytest.raises(ValueError, match="smaller than one"):
        transforms.cut_tiles([a], 7)
    with pytest.raises(ValueError, match="same C"):
        transforms.cut_tiles([a, np.zeros((8, 8))], 4)


@pytest.mark.parametrize("size", [(56, 56), (13, 40), (28, 28)])
def test_resize_images_is_scipys_bilinear_zoom(size):
    from scipy import ndimage

    x = np.random.default_rng(0).random((3, 28, 20, 2), dtype=np.float32)
    factors = (1, size[0] / 28, size[1] / 20, 1)
    reference = ndimage.zoom(x, factors, order=1, mode="nearest", grid_mode=True)
    np.testing.assert_allclose(transforms.resize_images(x, size), reference, atol=1e-5)
