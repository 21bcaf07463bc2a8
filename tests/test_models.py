"""Tests of the model builders, the training helpers and the cached course CNN."""

import keras
import numpy as np
import pytest

from course_utils import data, models


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
    acts = models.activations(model, images(2), ["conv1", "bn1", "relu1"])
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
    acts = models.activations(model, images(2), ["pool1", "res1_conv2", "res1_add"])
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
    acts = models.activations(residual, images(2), ["stem_pool", "block1_conv2", "block1_add"])
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


# ----------------------------------------------------------------------------------------- training


def test_compile_classifier_choices():
    model = models.compile_classifier(models.build_mlp(3, (), 2), 0.5, optimizer="sgd")
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown optimizer"):
        models.compile_classifier(models.build_mlp(3, (), 2), optimizer="lbfgs")


def test_warmup_cosine_schedule_shape():
    schedule = models.warmup_cosine_schedule(1e-2, total_steps=100, warmup_fraction=0.2)
    lr = [float(keras.ops.convert_to_numpy(schedule(step))) for step in (0, 20, 60, 100)]
    assert lr[0] == pytest.approx(1e-3)
    assert lr[1] == pytest.approx(1e-2)
    assert lr[2] == pytest.approx(0.5e-2, rel=1e-3)  # half-way through the cosine
    assert lr[3] == pytest.approx(0, abs=1e-8)


def test_fit_times_the_training(capsys):
    x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = models.compile_classifier(models.build_mlp(2, 4, 2), learning_rate=0.05)
    history = models.fit(model, x, y, epochs=3, batch_size=16, verbose=0)
    assert isinstance(history, keras.callbacks.History)
    assert len(history.history["loss"]) == 3 and history.seconds > 0
    assert f"trained 3 epochs in {history.seconds:.1f} s" in capsys.readouterr().out


# -------------------------------------------------------------------------------------- activations


def test_activations_shapes_for_every_layer():
    model = models.build_cnn(filters=(4, 8), dense=(16,))
    acts = models.activations(model, images(3))
    assert list(acts) == [layer.name for layer in model.layers[1:]]
    assert acts["relu1"].shape == (3, 28, 28, 4)
    assert acts["pool2"].shape == (3, 7, 7, 8)
    assert acts["dense_relu1"].shape == (3, 16)
    np.testing.assert_allclose(acts["output"], model.predict(images(3), verbose=0), atol=1e-6)


def test_activations_of_a_sequential_model_match_the_hand_computation():
    model = models.build_mlp(3, 5, 2)
    x = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)
    w, b = model.get_layer("hidden").get_weights()
    hidden = models.activations(model, x, ["hidden"])["hidden"]
    np.testing.assert_allclose(hidden, 1 / (1 + np.exp(-(x @ w + b))), rtol=1e-5)


def test_activations_of_a_sequential_model_built_by_calling_it():
    model = keras.Sequential([keras.layers.Dense(4, name="a"), keras.layers.Dense(2, name="b")])
    with pytest.raises(ValueError, match="no defined input"):
        models.activations(model, np.zeros((2, 3), np.float32))
    x = np.ones((2, 3), np.float32)
    model(x)
    acts = models.activations(model, x)
    layer_a = keras.ops.convert_to_numpy(model.get_layer("a")(x))
    np.testing.assert_allclose(acts["a"], layer_a, rtol=1e-6)
    assert acts["b"].shape == (2, 2)


def test_activations_rejects_unknown_layers_and_wrong_shapes():
    model = models.build_mlp(3, 5, 2)
    with pytest.raises(ValueError, match="no layer"):
        models.activations(model, np.zeros((1, 3), np.float32), ["conv1"])
    with pytest.raises(ValueError, match="expects"):
        models.activations(model, np.zeros((1, 4), np.float32))


# --------------------------------------------------------------------------------------- course CNN

TINY_RECIPE = {
    "architecture": {"filters": [2], "kernel_size": 3, "dense": [], "padding": "valid"},
    "training": {"epochs": 1, "batch_size": 16, "learning_rate": 1e-2, "seed": 0},
}


@pytest.fixture
def tiny_world(tmp_path, monkeypatch):
    """A tiny fake dataset, an empty cache, and a counter of training runs."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    rng = np.random.default_rng(0)
    world = {"n_train": 32, "trainings": 0}

    def fake_load_dataset(name, **kwargs):
        n = world["n_train"]
        x = rng.random((n + 16, 8, 8, 1), dtype=np.float32)
        y = np.arange(n + 16) % 3
        return (x[:n], y[:n]), (x[n:], y[n:])

    real_fit = models.fit

    def counting_fit(*args, **kwargs):
        world["trainings"] += 1
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(data, "load_dataset", fake_load_dataset)
    monkeypatch.setattr(models, "fit", counting_fit)
    world["models_dir"] = tmp_path / "models"
    return world


def test_course_cnn_trains_once_then_loads(tiny_world, capsys):
    first = models.course_cnn("mnist", recipe=TINY_RECIPE, verbose=False)
    assert tiny_world["trainings"] == 1
    files = sorted(p.name for p in tiny_world["models_dir"].iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".keras")
    assert files[0].startswith("course_cnn_mnist_")  # and no temporary file left behind

    second = models.course_cnn("mnist", recipe=TINY_RECIPE)
    assert tiny_world["trainings"] == 1
    assert "loaded" in capsys.readouterr().out
    x = np.random.default_rng(1).random((5, 8, 8, 1), dtype=np.float32)
    np.testing.assert_allclose(second.predict(x, verbose=0), first.predict(x, verbose=0), atol=1e-6)

    models.course_cnn("mnist", recipe=TINY_RECIPE, verbose=False, retrain=True)
    assert tiny_world["trainings"] == 2


def test_course_cnn_info_holds_the_test_metrics(tiny_world):
    with pytest.raises(FileNotFoundError, match="course_cnn"):
        models.course_cnn_info("mnist", recipe=TINY_RECIPE)
    model = models.course_cnn("mnist", recipe=TINY_RECIPE, verbose=False)
    info = models.course_cnn_info("mnist", recipe=TINY_RECIPE)
    _, (x_test, y_test) = data.load_dataset("mnist")
    accuracy = np.mean(model.predict(x_test, verbose=0).argmax(axis=1) == y_test)
    assert info["test_accuracy"] == pytest.approx(accuracy)
    assert info["n_train"] == 32 and info["n_test"] == 16 and info["train_seconds"] >= 0
    assert info["recipe"] == TINY_RECIPE


def test_course_cnn_key_follows_recipe_and_training_set_size(tiny_world):
    models.course_cnn("mnist", recipe=TINY_RECIPE, verbose=False)
    longer = {**TINY_RECIPE, "training": {**TINY_RECIPE["training"], "epochs": 2}}
    models.course_cnn("mnist", recipe=longer, verbose=False)
    assert tiny_world["trainings"] == 2
    assert models.course_cnn_info("mnist", recipe=longer)["epochs"] == 2
    tiny_world["n_train"] = 48  # e.g. full MNIST instead of the offline subset
    models.course_cnn("mnist", recipe=TINY_RECIPE, verbose=False)
    assert tiny_world["trainings"] == 3
    assert len(list(tiny_world["models_dir"].glob("*.keras"))) == 3


def test_course_cnn_rebuilds_a_corrupted_file(tiny_world, capsys):
    models.course_cnn("mnist", recipe=TINY_RECIPE, verbose=False)
    (path,) = tiny_world["models_dir"].glob("*.keras")
    path.write_bytes(b"PK\x03\x04 this is not a keras archive")
    model = models.course_cnn("mnist", recipe=TINY_RECIPE, verbose=False)
    assert tiny_world["trainings"] == 2
    assert "cannot be loaded" in capsys.readouterr().out
    assert isinstance(model, keras.Model)
    assert isinstance(keras.saving.load_model(path), keras.Model)
    path.with_suffix(".json").unlink()  # a model without its metrics is not trusted either
    models.course_cnn("mnist", recipe=TINY_RECIPE, verbose=False)
    assert tiny_world["trainings"] == 3
    assert models.course_cnn_info("mnist", recipe=TINY_RECIPE)["n_train"] == 32


def test_course_cnn_rejects_an_unknown_dataset_or_a_bad_recipe(tiny_world):
    with pytest.raises(ValueError, match="no course CNN recipe"):
        models.course_cnn("cifar10")
    with pytest.raises(ValueError, match="recipe"):
        models.course_cnn("mnist", recipe={"architecture": {}})


def test_training_epochs_grow_for_small_training_sets():
    training = models.COURSE_CNN_RECIPES["mnist"]["training"]
    full = models.training_epochs(training, 60_000)
    subset = models.training_epochs(training, 4_000)
    assert full == training["epochs"]
    assert subset > full
    assert subset * np.ceil(4_000 / training["batch_size"]) >= training["min_steps"]


@pytest.mark.parametrize("dataset", sorted(models.COURSE_CNN_RECIPES))
def test_course_recipes_build(dataset):
    model = models.build_cnn(**models.COURSE_CNN_RECIPES[dataset]["architecture"])
    assert model.output_shape == (None, 10)


def test_compile_classifier_passes_extra_compile_arguments():
    model = models.compile_classifier(models.build_mlp(2, (), 2), 0.01, steps_per_execution=5)
    assert model.steps_per_execution == 5
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
