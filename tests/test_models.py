"""Tests of the model builders: layer structure, shapes, parameter counts and options."""

import keras
import numpy as np
import pytest

from course_utils import inspection, models


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)


def images(n=4, side=28, seed=0):
    return np.random.default_rng(seed).random((n, side, side, 1), dtype=np.float32)


def layer_types(model, cls):
    return [layer for layer in model.layers if isinstance(layer, cls)]


# ---------------------------------------------------------------------------------------- build_mlp


def test_mlp_is_the_slide_network():
    model = models.build_mlp(2, 3, 2)
    assert [layer.name for layer in model.layers] == ["hidden", "output"]
    hidden, output = model.layers
    assert hidden.count_params() == 2 * 3 + 3 and output.count_params() == 3 * 2 + 2
    assert hidden.activation is keras.activations.sigmoid
    assert output.activation is keras.activations.softmax
    assert model.output_shape == (None, 2)


def test_mlp_without_hidden_layer_is_logistic_regression():
    model = models.build_mlp(5, (), 3)
    assert [layer.name for layer in model.layers] == ["output"]
    assert model.count_params() == 5 * 3 + 3


def test_mlp_flattens_images_and_names_extra_hidden_layers():
    model = models.build_mlp((28, 28, 1), (20, 10), 10, activation="relu")
    assert [layer.name for layer in model.layers] == ["flatten", "hidden", "hidden2", "output"]
    assert model.count_params() == (784 * 20 + 20) + (20 * 10 + 10) + (10 * 10 + 10)
    assert model.predict(images(3), verbose=0).shape == (3, 10)


def test_mlp_rejects_bad_sizes():
    with pytest.raises(ValueError, match="positive"):
        models.build_mlp(4, (0,), 2)


# ---------------------------------------------------------------------------------------- build_cnn


def test_cnn_conv_parameters_and_shapes():
    model = models.build_cnn(filters=(6,), kernel_size=5, dense=())
    assert model.get_layer("conv1").count_params() == 25 * 6 + 6
    assert model.get_layer("conv1").output.shape == (None, 28, 28, 6)
    assert model.get_layer("pool1").output.shape == (None, 14, 14, 6)
    assert model.get_layer("output").count_params() == 14 * 14 * 6 * 10 + 10
    assert model.output_shape == (None, 10)


def test_cnn_valid_padding_shrinks_maps():
    model = models.build_cnn(filters=(4, 8), kernel_size=3, dense=(16,), padding="valid")
    assert model.get_layer("relu1").output.shape == (None, 26, 26, 4)
    assert model.get_layer("pool2").output.shape == (None, 5, 5, 8)
    assert model.get_layer("dense1").count_params() == 5 * 5 * 8 * 16 + 16
    assert model.get_layer("conv2").count_params() == 9 * 4 * 8 + 8


def test_cnn_rejects_an_image_pooled_to_nothing():
    with pytest.raises(ValueError, match="shrink"):
        models.build_cnn(input_shape=(8, 8, 1), filters=(4, 4, 4, 4))


def test_cnn_batch_norm_sits_between_conv_and_relu_and_matches_the_formula():
    model = models.build_cnn(filters=(4,), kernel_size=5, dense=(8,), batch_norm=True)
    assert len(layer_types(model, keras.layers.BatchNormalization)) == 2
    assert model.get_layer("conv1").count_params() == 25 * 4  # beta of the batch norm is the bias
    bn = model.get_layer("bn1")
    rng = np.random.default_rng(1)
    bn.set_weights([rng.uniform(0.5, 2, 4), rng.normal(size=4), rng.normal(size=4),
                    rng.uniform(0.5, 2, 4)])  # gamma, beta, moving mean, moving variance
    gamma, beta, mean, var = bn.get_weights()
    acts = inspection.activations(model, images(2), ["conv1", "bn1", "relu1"])
    expected = gamma * (acts["conv1"] - mean) / np.sqrt(var + bn.epsilon) + beta
    np.testing.assert_allclose(acts["bn1"], expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(acts["relu1"], np.maximum(expected, 0), rtol=1e-4, atol=1e-5)


def test_cnn_dropout_before_each_dense_layer():
    plain = models.build_cnn(filters=(4,), dense=(8, 8))
    dropped = models.build_cnn(filters=(4,), dense=(8, 8), dropout=0.3)
    assert not layer_types(plain, keras.layers.Dropout)
    rates = {layer.name: layer.rate for layer in layer_types(dropped, keras.layers.Dropout)}
    assert rates == {"dropout1": 0.3, "dropout2": 0.3, "output_dropout": 0.3}
    assert dropped.count_params() == plain.count_params()
    with pytest.raises(ValueError, match="dropout"):
        models.build_cnn(dropout=1.0)


def test_cnn_residual_blocks_add_skip_connections():
    model = models.build_cnn(filters=(4,), dense=(), residual_blocks=2)
    adds = layer_types(model, keras.layers.Add)
    assert [layer.name for layer in adds] == ["res1_add", "res2_add"]
    acts = inspection.activations(model, images(2), ["pool1", "res1_conv2", "res1_add"])
    np.testing.assert_allclose(acts["res1_add"], acts["pool1"] + acts["res1_conv2"], atol=1e-5)


@pytest.mark.parametrize("depth", [6, 20])
def test_deep_cnn_depth_and_skip_connections(depth):
    plain = models.build_deep_cnn(depth=depth, width=4, residual=False)
    residual = models.build_deep_cnn(depth=depth, width=4, residual=True)
    for model in (plain, residual):
        n_conv = len(layer_types(model, keras.layers.Conv2D))
        assert n_conv + len(layer_types(model, keras.layers.Dense)) == depth
    assert not layer_types(plain, keras.layers.Add)
    assert len(layer_types(residual, keras.layers.Add)) == (depth - 2) // 2
    assert plain.count_params() == residual.count_params()
    acts = inspection.activations(residual, images(2), ["stem_pool", "block1_conv2", "block1_add"])
    np.testing.assert_allclose(acts["block1_add"], acts["stem_pool"] + acts["block1_conv2"],
                               atol=1e-5)


def test_deep_cnn_rejects_odd_depth():
    with pytest.raises(ValueError, match="even"):
        models.build_deep_cnn(depth=7)


# ------------------------------------------------------------------------------------- augmentation


def test_augmentation_only_acts_in_training():
    aug = models.augmentation(shift=0.2, rotation=0.1, zoom=0.1, contrast=0.3, seed=3)
    x = images(4)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(aug(x, training=False)), x)
    changed = keras.ops.convert_to_numpy(aug(x, training=True))
    assert changed.shape == x.shape
    assert np.abs(changed - x).mean() > 0.01
    assert changed.min() >= 0 and changed.max() <= 1


def test_augmentation_layers_follow_the_options():
    aug = models.augmentation(shift=0.0, rotation=0.0, flip=True, contrast=0.2)
    assert [layer.name for layer in aug.layers] == ["flip", "contrast"]
    assert aug.get_layer("flip").mode == "horizontal"
    with pytest.raises(ValueError, match="augmentation=None"):
        models.augmentation(shift=0, rotation=0)


def test_cnn_with_augmentation_is_deterministic_at_inference():
    model = models.build_cnn(filters=(4,), dense=(), augmentation=models.augmentation(shift=0.3))
    assert model.layers[1].name == "augmentation"
    x = images(3)
    first, second = model.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_array_equal(first, second)
    trained_mode = keras.ops.convert_to_numpy(model(x, training=True))
    assert not np.allclose(trained_mode, first)
