"""Tests of course_utils.inspection: layer outputs, logits, predictions, edge-likeness, shifts."""

import keras
import numpy as np
import pytest

from course_utils import inspection, kernels, models


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)


def images(n=4, side=28, seed=0):
    return np.random.default_rng(seed).random((n, side, side, 1), dtype=np.float32)


def keras_kernel(stack):
    """(n, kh, kw) filters -> (kh, kw, 1, n), the layout of a Keras Conv2D kernel."""
    return np.moveaxis(np.asarray(stack), 0, -1)[:, :, None, :]


# -------------------------------------------------------------------------------------- activations


def test_activations_shapes_for_every_layer():
    model = models.build_cnn(filters=(4, 8), dense=(16,))
    acts = inspection.activations(model, images(3))
    assert list(acts) == [layer.name for layer in model.layers[1:]]
    assert acts["relu1"].shape == (3, 28, 28, 4)
    assert acts["pool2"].shape == (3, 7, 7, 8)
    assert acts["dense_relu1"].shape == (3, 16)
    np.testing.assert_allclose(acts["output"], model.predict(images(3), verbose=0), atol=1e-6)


def test_activations_of_a_sequential_model_match_the_hand_computation():
    model = models.build_mlp(3, 5, 2)
    x = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)
    w, b = model.get_layer("hidden").get_weights()
    hidden = inspection.activations(model, x, ["hidden"])["hidden"]
    np.testing.assert_allclose(hidden, 1 / (1 + np.exp(-(x @ w + b))), rtol=1e-5)


def test_activations_of_a_sequential_model_built_by_calling_it():
    model = keras.Sequential([keras.layers.Dense(4, name="a"), keras.layers.Dense(2, name="b")])
    with pytest.raises(ValueError, match="no defined input"):
        inspection.activations(model, np.zeros((2, 3), np.float32))
    x = np.ones((2, 3), np.float32)
    model(x)
    acts = inspection.activations(model, x)
    layer_a = keras.ops.convert_to_numpy(model.get_layer("a")(x))
    np.testing.assert_allclose(acts["a"], layer_a, rtol=1e-6)
    assert acts["b"].shape == (2, 2)


def test_activations_rejects_unknown_layers_and_wrong_shapes():
    model = models.build_mlp(3, 5, 2)
    with pytest.raises(ValueError, match="no layer"):
        inspection.activations(model, np.zeros((1, 3), np.float32), ["conv1"])
    with pytest.raises(ValueError, match="expects"):
        inspection.activations(model, np.zeros((1, 4), np.float32))



# ------------------------------------------------------------------------------------- logits, classes


@pytest.mark.parametrize("build", [
    lambda: models.build_cnn(filters=(4,), dense=(8,)),
    lambda: models.build_mlp((28, 28, 1), 6, 10),
])
def test_logits_model_shares_the_weights_and_softmax_gives_the_model_back(build):
    model = build()
    logits = inspection.logits_model(model)
    x = images(5)
    z = keras.ops.convert_to_numpy(logits(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.softmax(z)),
                               keras.ops.convert_to_numpy(model(x)), atol=1e-6)
    # Shared, not copied: changing the model's output weights changes the logits.
    out = model.get_layer("output")
    w, b = out.get_weights()
    out.set_weights([w * 2, b + 1])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(logits(x)), 2 * (z - b) + b + 1,
                               rtol=1e-4, atol=1e-4)


def test_logits_model_of_a_softmax_activation_layer_is_its_input():
    inputs = keras.Input((3,))
    scores = keras.layers.Dense(4, name="scores")(inputs)
    model = keras.Model(inputs, keras.layers.Activation("softmax", name="predictions")(scores))
    x = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(inspection.logits_model(model)(x)),
                               keras.ops.convert_to_numpy(model.get_layer("scores")(x)), atol=1e-6)


def test_logits_model_keeps_a_linear_model_and_rejects_other_outputs():
    linear = models.build_mlp(3, (), 2, output_activation="linear")
    assert inspection.logits_model(linear) is linear
    with pytest.raises(ValueError, match="sigmoid"):
        inspection.logits_model(models.build_mlp(3, (), 1, output_activation="sigmoid"))


def test_predicted_classes_is_the_argmax_of_the_model():
    model = models.build_mlp(4, 5, 3)
    x = np.random.default_rng(0).normal(size=(9, 4)).astype(np.float32)
    np.testing.assert_array_equal(inspection.predicted_classes(model, x),
                                  model.predict(x, verbose=0).argmax(axis=1))


# ------------------------------------------------------------------------------------ edge filters


def test_sobel_kernels_are_perfect_edges_at_their_angles():
    wx, wy = kernels.sobel_kernels()
    scores, angles = inspection.edge_likeness(np.stack([wx, -wy, wx + 3.0]))
    np.testing.assert_allclose(scores, 1.0, atol=1e-12)
    # Sign and a brightness offset do not matter; the orientation does.
    assert list(angles) == [0.0, 90.0, 0.0]


def test_a_rotated_edge_is_found_at_its_angle_for_5x5_filters():
    edge = kernels.directional_edge_kernel(37.0, 5)
    scores, angles = inspection.edge_likeness(keras_kernel([edge, 2.5 * edge]))
    np.testing.assert_allclose(scores, 1.0, atol=1e-12)
    assert list(angles) == [37.0, 37.0]


def test_similarity_is_a_cosine_against_every_angle():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(3, 3))
    angles = [0.0, 45.0, 120.0]
    sim = inspection.edge_similarity(f[None], angles)
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
    scores, _ = inspection.edge_likeness(stack)
    np.testing.assert_allclose(scores, expected, atol=1e-4)


def test_noise_scores_low_and_blobs_score_zero():
    rng = np.random.default_rng(3)
    noise_scores, _ = inspection.edge_likeness(rng.normal(size=(400, 3, 3)))
    # Expected median for 3x3 noise: sqrt(1 - 0.5 ** (1 / 3)) = 0.454.
    assert 0.38 < np.median(noise_scores) < 0.53
    assert np.mean(noise_scores > 0.9) < 0.05
    # A centre-surround blob and a constant filter are symmetric: no edge at all.
    blob = kernels.gaussian_kernel(5, sigma=1.0, ndim=2)
    scores, _ = inspection.edge_likeness(np.stack([blob, np.ones((5, 5))]))
    np.testing.assert_allclose(scores, 0.0, atol=1e-12)


def test_multichannel_kernels_are_averaged_over_input_channels():
    wx, _ = kernels.sobel_kernels()
    kernel = np.stack([wx + 1.0, wx - 1.0], axis=-1)[..., None]  # (3, 3, 2 channels, 1 filter)
    scores, angles = inspection.edge_likeness(kernel)
    assert scores[0] == pytest.approx(1.0) and angles[0] == 0.0


@pytest.mark.parametrize("bad", [np.ones((4, 4)), np.ones((2, 4, 4)), np.ones((2, 3, 5)),
                                 np.ones((0, 3, 3)), np.full((1, 3, 3), np.nan)])
def test_edge_likeness_rejects_bad_filters(bad):
    with pytest.raises(ValueError, match="filters"):
        inspection.edge_likeness(bad)


def blobs(n=6, side=16, seed=4):
    """Small bright squares away from the border, so that shifts never clip them."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, side, side, 1))
    for i, (r, c) in enumerate(rng.integers(4, side - 7, size=(n, 2))):
        x[i, r : r + 3, c : c + 3] = 1.0
    return x


def test_identity_features_change_completely_and_global_sums_not_at_all():
    x = blobs()
    change = inspection.shift_sensitivity(lambda b: b, x, [(0, 1), (3, 0), (0, 0)])
    assert change.shape == (3, len(x))
    # A 3x3 square moved by 1 pixel keeps 6 of its 9 pixels: ||diff||^2 = 6 of ||x||^2 = 9.
    np.testing.assert_allclose(change[0], np.sqrt(6 / 9))
    np.testing.assert_allclose(change[1], np.sqrt(2))  # moved past itself: orthogonal
    np.testing.assert_allclose(change[2], 0.0)
    total = inspection.shift_sensitivity(lambda b: b.sum(axis=(1, 2, 3)), x, [(2, -3)])
    np.testing.assert_allclose(total, 0.0, atol=1e-12)


def test_change_is_relative_to_the_unshifted_features():
    x = np.zeros((1, 6, 6, 1))
    x[0, 1:4, 0:3] = 1.0  # a 3x3 square on the left border
    # Shifting left pushes one column of 3 pixels out: ||diff||^2 = 3, ||original||^2 = 9.
    change = inspection.shift_sensitivity(lambda b: b, x, [(0, -1)])
    np.testing.assert_allclose(change, [[np.sqrt(3 / 9)]])


def test_shifts_are_rows_then_columns():
    x = blobs()

    def row_profile(b):
        return b.sum(axis=(2, 3))  # (N, H): blind to horizontal moves

    change = inspection.shift_sensitivity(row_profile, x, [(0, 2), (2, 0)])
    np.testing.assert_allclose(change[0], 0.0, atol=1e-12)
    assert np.all(change[1] > 1.0)


def test_max_pooling_reduces_the_change_of_a_one_pixel_shift():
    x = blobs()

    def pooled(b):
        return np.stack([kernels.max_pool2d(img, 4) for img in b])

    shifts = [(0, 1), (1, 0)]
    raw = inspection.shift_sensitivity(lambda b: b, x, shifts)
    after_pool = inspection.shift_sensitivity(pooled, x, shifts)
    assert np.mean(after_pool) < 0.7 * np.mean(raw)


def test_dict_features_are_measured_per_entry_in_one_call():
    x = blobs(n=3)
    calls = []

    def two_layers(b):
        calls.append(len(b))
        return {"pixels": b, "doubled": 2 * b}

    change = inspection.shift_sensitivity(two_layers, x, [(1, 1), (0, 2)])
    assert calls == [3 * len(x)]
    assert set(change) == {"pixels", "doubled"}
    np.testing.assert_allclose(change["pixels"], change["doubled"])
    assert change["pixels"].shape == (2, len(x))


def test_zero_features_give_nan_and_bad_calls_raise():
    x = blobs(n=2)
    change = inspection.shift_sensitivity(lambda b: b * 0, x, [(0, 1)])
    assert np.isnan(change).all()
    with pytest.raises(ValueError, match="pairs"):
        inspection.shift_sensitivity(lambda b: b, x, [(1,)])
    with pytest.raises(ValueError, match="pairs"):
        inspection.shift_sensitivity(lambda b: b, x, [1, 2])
    with pytest.raises(ValueError, match="pairs"):
        inspection.shift_sensitivity(lambda b: b, x, [(0.5, 0)])
    with pytest.raises(ValueError, match="rows"):
        inspection.shift_sensitivity(lambda b: b[:1], x, [(0, 1)])
