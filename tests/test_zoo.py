"""Tests of course_utils.zoo: the model cache, the course CNN and the ImageNet MobileNet."""

import json
import os
import stat

import keras
import numpy as np
import pytest

from course_utils import data, models, transforms, zoo


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    return tmp_path


def tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    model = models.build_mlp(3, 4, 2)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


class Trainer:
    """A ``train`` callable for cached_model that counts its calls."""

    def __init__(self, seed=0):
        self.calls = 0
        self.seed = seed

    def __call__(self):
        self.calls += 1
        return tiny_model(self.seed), {"trained": self.calls, "seed": self.seed}


X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)


def predict(model):
    return model.predict(X, verbose=0)


# --------------------------------------------------------------------------------- cached_model


def test_cached_model_trains_once_then_loads(capsys):
    train = Trainer()
    first, record = zoo.cached_model("demo", {"a": 1}, train)
    assert train.calls == 1 and record["trained"] == 1
    assert "saved" in capsys.readouterr().out
    second, record2 = zoo.cached_model("demo", {"a": 1}, train)
    assert train.calls == 1 and record2 == record
    assert "loaded" in capsys.readouterr().out
    np.testing.assert_allclose(predict(second), predict(first), atol=1e-6)
    (folder,) = [p for p in zoo.models_dir().iterdir()]  # no staging folder left behind
    assert folder.name == record["folder"] and folder.name.startswith("demo_")
    assert sorted(p.name for p in folder.iterdir()) == ["info.json", "model.keras"]


def test_cached_model_key_follows_the_recipe_and_retrain_replaces():
    train = Trainer()
    zoo.cached_model("demo", {"a": 1}, train, verbose=False)
    zoo.cached_model("demo", {"a": 2}, train, verbose=False)
    assert train.calls == 2 and len(list(zoo.models_dir().iterdir())) == 2
    _, record = zoo.cached_model("demo", {"a": 1}, train, retrain=True, verbose=False)
    assert train.calls == 3 and record["trained"] == 3
    assert len(list(zoo.models_dir().iterdir())) == 2
    assert zoo.cached_model("demo", {"a": 1}, train, verbose=False)[1]["trained"] == 3


@pytest.mark.parametrize("damage", ["model", "record", "record_not_a_dict"])
def test_cached_model_rebuilds_an_unreadable_entry(damage, capsys):
    train = Trainer()
    _, record = zoo.cached_model("demo", {"a": 1}, train, verbose=False)
    folder = zoo.models_dir() / record["folder"]
    if damage == "model":
        (folder / "model.keras").write_bytes(b"PK\x03\x04 not a keras archive")
    elif damage == "record":  # a good model beside a corrupt record is not trusted either
        (folder / "info.json").write_text("{ truncated", encoding="utf-8")
    else:
        (folder / "info.json").write_text("[1, 2]", encoding="utf-8")
    model, record = zoo.cached_model("demo", {"a": 1}, train, verbose=False)
    assert train.calls == 2 and record["trained"] == 2
    assert "cannot be loaded" in capsys.readouterr().out
    assert json.loads((folder / "info.json").read_text(encoding="utf-8"))["trained"] == 2
    np.testing.assert_allclose(predict(keras.saving.load_model(folder / "model.keras")),
                               predict(model), atol=1e-6)


def test_an_entry_published_by_another_process_meanwhile_wins_and_stays_consistent():
    other = Trainer(seed=1)

    def train_while_another_process_publishes():
        zoo.cached_model("demo", {"a": 1}, other, verbose=False)  # the other process finishes first
        return tiny_model(seed=2), {"trained": "ours"}

    ours, _ = zoo.cached_model("demo", {"a": 1}, train_while_another_process_publishes,
                               verbose=False)
    loaded, record = zoo.cached_model("demo", {"a": 1}, Trainer(), verbose=False)
    assert record["seed"] == 1  # the other's record, with the other's model
    np.testing.assert_allclose(predict(loaded), predict(tiny_model(seed=1)), atol=1e-6)
    assert not np.allclose(predict(loaded), predict(ours))
    assert len(list(zoo.models_dir().iterdir())) == 1


def test_cached_entries_get_normal_permissions():
    umask = os.umask(0o022)
    try:
        _, record = zoo.cached_model("demo", {"a": 1}, Trainer(), verbose=False)
    finally:
        os.umask(umask)
    folder = zoo.models_dir() / record["folder"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path.name


# ---------------------------------------------------------------------------------- course CNN

TINY_RECIPE = {
    "architecture": {"filters": [2], "kernel_size": 3, "dense": [], "padding": "valid"},
    "training": {"epochs": 1, "batch_size": 16, "learning_rate": 1e-2, "seed": 0},
}


@pytest.fixture
def tiny_dataset(monkeypatch):
    sizes = {"n_train": 32}

    def fake_load_dataset(name, **kwargs):
        rng = np.random.default_rng(0)
        n = sizes["n_train"]
        x = rng.random((n + 16, 8, 8, 1), dtype=np.float32)
        y = np.arange(n + 16) % 3
        return (x[:n], y[:n]), (x[n:], y[n:])

    monkeypatch.setattr(data, "load_dataset", fake_load_dataset)
    return sizes


def test_course_cnn_trains_once_and_records_its_training(tiny_dataset):
    model = zoo.course_cnn("mnist", recipe=TINY_RECIPE, verbose=False)
    assert model.output_shape == (None, 3) and model.optimizer is not None
    info = zoo.course_cnn_info("mnist", recipe=TINY_RECIPE)
    assert info["n_train"] == 32 and info["epochs"] == 1 and info["train_seconds"] >= 0
    assert "test_accuracy" not in info  # accuracy is measured by evaluating the model
    tiny_dataset["n_train"] = 48  # e.g. the full MNIST instead of the offline subset: a new model
    zoo.course_cnn("mnist", recipe=TINY_RECIPE, verbose=False)
    assert len(list(zoo.models_dir().iterdir())) == 2


def test_course_cnn_rejects_an_unknown_dataset_or_a_bad_recipe(tiny_dataset):
    with pytest.raises(ValueError, match="no course CNN recipe"):
        zoo.course_cnn("cifar10")
    with pytest.raises(ValueError, match="recipe"):
        zoo.course_cnn("mnist", recipe={"architecture": {}})
    with pytest.raises(ValueError, match="batch_size"):
        zoo.course_cnn("mnist", recipe={"architecture": {}, "training": {"epochs": 1}})


@pytest.mark.parametrize("dataset", sorted(zoo.COURSE_CNN_RECIPES))
def test_course_recipes_build_a_ten_class_cnn(dataset):
    model = models.build_cnn(**zoo.COURSE_CNN_RECIPES[dataset]["architecture"])
    assert model.output_shape == (None, 10)


# ---------------------------------------------------------------------------------- MobileNet

needs_weights = pytest.mark.skipif(
    not (data.keras_home() / "models" / "mobilenet_2_5_128_tf.h5").is_file(),
    reason="the ImageNet MobileNet weights are not in Keras' cache (run python -m course_utils "
           "prefetch once online)")


@needs_weights
def test_mobilenet_takes_unit_pixels_and_recognises_an_espresso():
    model = zoo.imagenet_mobilenet(128)
    assert model.input_shape == (None, 128, 128, 3) and model.output_shape == (None, 1000)
    assert model.get_layer("to_minus1_1") and model.get_layer("conv_pw_13_relu")
    coffee = transforms.resize_images(data.load_image("coffee")[None], 128)
    (top,) = zoo.imagenet_top_k(model.predict(coffee, verbose=0), k=3)
    assert top[0][0] == "espresso" and top[0][1] > 0.8
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)


def test_imagenet_photo_is_the_central_square_resized():
    photo = zoo.imagenet_photo("coffee", 64)
    assert photo.shape == (1, 64, 64, 3) and photo.dtype == np.float32
    assert 0 <= photo.min() and photo.max() <= 1 and photo.std() > 0.1
    wide = data.load_image("chelsea", color="rgb")  # 300 x 451: the central 300 x 300 is kept
    side = wide.shape[0]
    left = (wide.shape[1] - side) // 2
    np.testing.assert_allclose(zoo.imagenet_photo("chelsea", side)[0],
                               wide[:, left:left + side], atol=1e-6)


@needs_weights
def test_mobilenet_feature_extractor_pools_to_256_features():
    model = zoo.imagenet_mobilenet(128, include_top=False, pooling="avg")
    assert model.output_shape == (None, 256)


def test_mobilenet_unavailable_offline_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras"))
    monkeypatch.setattr(data, "_network_failure", "no network (test)")
    with pytest.raises(zoo.PretrainedUnavailable, match="prefetch"):
        zoo.imagenet_mobilenet(128)
    with pytest.raises(zoo.PretrainedUnavailable, match="imagenet_class_index.json"):
        zoo.imagenet_class_names()
    with pytest.raises(ValueError, match="size"):
        zoo.imagenet_mobilenet(96)


def test_an_unreadable_weights_file_is_reported_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mobilenet_2_5_128_tf.h5").write_bytes(b"<html>login</html>")
    with pytest.raises(zoo.PretrainedUnavailable, match="not a readable"):
        zoo.imagenet_mobilenet(128)
    assert (tmp_path / "models" / "mobilenet_2_5_128_tf.h5").exists()  # not ours to delete


@needs_weights
def test_imagenet_class_names_and_top_k_checks():
    names = zoo.imagenet_class_names()
    assert len(names) == 1000 and names[967] == "espresso" and names[937] == "broccoli"
    probs = np.zeros((2, 1000))
    probs[0, 5], probs[0, 7], probs[1, 937] = 0.6, 0.4, 1.0
    top = zoo.imagenet_top_k(probs, k=2)
    assert [c for c, _ in top[0]] == [names[5], names[7]] and top[1][0] == ("broccoli", 1.0)
    with pytest.raises(ValueError, match="1000"):
        zoo.imagenet_top_k(np.zeros((1, 10)))
