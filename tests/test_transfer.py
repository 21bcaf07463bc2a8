"""Tests of course_utils.transfer: episodes, learners, feature extraction, fine-tuning, 2D maps."""

import doctest

import keras
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils import inspection, models, transfer


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def blobs(n_per_class=20, n_classes=4, dim=6, spread=0.05, seed=0):
    """Features of well separated classes: class c sits at 10 * e_c, plus a little noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    centres = 10.0 * np.eye(n_classes, dim)
    return centres[labels] + spread * rng.standard_normal((len(labels), dim)), labels


def tiny_cnn(n_classes=3, seed=0):
    keras.utils.set_random_seed(seed)
    return models.build_cnn(input_shape=(10, 10, 1), n_classes=n_classes, filters=[4], dense=[8],
                            padding="valid")


def tiny_images(n=30, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 10, 10, 1), dtype=np.float32), np.arange(n) % n_classes


def test_docstring_examples():
    result = doctest.testmod(transfer, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 6 and result.failed == 0


# ------------------------------------------------------------------------------------------ balls


def test_ball_sightings_scatter_around_the_slide_table():
    exact, labels = transfer.ball_sightings(3, noise=0.0)
    np.testing.assert_array_equal(exact, transfer.BALL_FEATURES[np.repeat(np.arange(6), 3)])
    noisy, labels = transfer.ball_sightings(400, noise=0.1, seed=1)
    assert noisy.shape == (2400, 3) and np.bincount(labels).tolist() == [400] * 6
    assert noisy[:, [0, 2]].min() >= 0 and noisy[:, [0, 2]].max() <= 1 and noisy[:, 1].min() >= 0.1
    # Ball A (size 10, unclipped): the size error has 10% of the size range (9 hands) as its std.
    assert abs(noisy[labels == 0, 1].std() - 0.9) < 0.1
    np.testing.assert_array_equal(noisy, transfer.ball_sightings(400, noise=0.1, seed=1)[0])
    with pytest.raises(ValueError, match="noise"):
        transfer.ball_sightings(3, noise=-1)


# ---------------------------------------------------------------------------------------- episodes


def test_episodes_never_share_an_image_and_cover_every_class():
    labels = np.repeat([3, 5, 8], [7, 9, 6])
    for episode in range(20):
        support, query = transfer.sample_episode(labels, shots=2, seed=4, episode=episode)
        assert not set(support) & set(query)
        assert sorted(np.concatenate([support, query])) == list(range(len(labels)))
        assert np.bincount(labels[support]).tolist()[3::] == [2, 0, 2, 0, 0, 2]


def test_episodes_are_reproducible_by_seed_and_differ_between_episodes():
    labels = np.repeat(np.arange(5), 30)
    first = transfer.sample_episode(labels, 3, seed=7, episode=2)
    again = transfer.sample_episode(labels, 3, seed=7, episode=2)
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], transfer.sample_episode(labels, 3, seed=7, episode=3)[0])
    assert not np.array_equal(first[0], transfer.sample_episode(labels, 3, seed=8, episode=2)[0])


def test_more_shots_than_examples_of_a_class_is_a_clear_error():
    labels = np.repeat([0, 1, 2], [10, 4, 10])
    with pytest.raises(ValueError, match=r"class 1, which has only 4 examples; use shots <= 3"):
        transfer.sample_episode(labels, shots=4)
    with pytest.raises(ValueError, match="class 1"):
        transfer.few_shot_episodes(np.zeros((24, 2)), labels, shots=5)
    with pytest.raises(ValueError, match="shots must be an int >= 1"):
        transfer.sample_episode(labels, shots=0)


def test_unknown_learner_and_mismatched_inputs_are_clear_errors():
    z, y = blobs()
    with pytest.raises(ValueError, match=r"unknown learner 'knn'; choose one of \('1nn', 'logreg'\)"):
        transfer.few_shot_episodes(z, y, 1, learner="knn")
    with pytest.raises(ValueError, match="unknown learner"):
        transfer.fit_predict("svm", z[:4], y[:4], z)
    with pytest.raises(ValueError, match="80 labels"):
        transfer.few_shot_episodes(z[:50], y, 1)
    with pytest.raises(ValueError, match="6 dimensions, query features 5"):
        transfer.fit_predict("1nn", z[:4], y[:4], z[:, :5])


@pytest.mark.parametrize("learner", transfer.LEARNERS)
def test_separable_features_give_accuracy_one(learner):
    z, y = blobs()
    accuracy = transfer.few_shot_episodes(z, y, shots=1, n_episodes=5, learner=learner)
    np.testing.assert_array_equal(accuracy, np.ones(5))


@pytest.mark.parametrize("learner", transfer.LEARNERS)
def test_noise_features_give_chance(learner):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 50)
    accuracy = transfer.few_shot_episodes(rng.standard_normal((200, 10)), labels, shots=2,
                                          n_episodes=60 if learner == "1nn" else 20, learner=learner)
    assert abs(accuracy.mean() - 0.25) < 0.04
    assert accuracy.std() > 0  # episodes differ


def test_episodes_are_reproducible_by_seed():
    z, y = blobs(spread=6.0)  # overlapping classes: accuracy depends on the episode
    first = transfer.few_shot_episodes(z, y, 2, n_episodes=10, seed=3)
    np.testing.assert_array_equal(first, transfer.few_shot_episodes(z, y, 2, n_episodes=10, seed=3))
    assert not np.array_equal(first, transfer.few_shot_episodes(z, y, 2, n_episodes=10, seed=4))
    assert len(np.unique(first)) > 1


def test_one_nn_picks_the_nearest_support_example_by_brute_force():
    rng = np.random.default_rng(1)
    support, labels, queries = rng.normal(size=(7, 4)), np.arange(7), rng.normal(size=(50, 4))
    brute = np.array([np.argmin(np.linalg.norm(support - q, axis=1)) for q in queries])
    np.testing.assert_array_equal(transfer.fit_predict("1nn", support, labels, queries), brute)


def test_shared_products_give_the_same_episodes_as_per_episode_distances(monkeypatch):
    z, y = blobs(spread=6.0)
    with_products = transfer.few_shot_episodes(z, y, 3, n_episodes=15)
    monkeypatch.setattr(transfer, "_GRAM_LIMIT", 0)
    np.testing.assert_allclose(transfer.few_shot_episodes(z, y, 3, n_episodes=15), with_products)


def test_curves_use_the_same_episodes_for_every_representation(capsys):
    z, y = blobs(spread=6.0)
    curves = transfer.few_shot_curves({"a": z, "copy of a": z.copy(), "scaled": 3 * z}, y,
                                      shots=(1, 3), n_episodes=8)
    assert "3 representations x 2 shot counts x 8 episodes" in capsys.readouterr().out
    assert list(curves["a"]) == [1, 3]
    for k in (1, 3):
        np.testing.assert_array_equal(curves["a"][k], curves["copy of a"][k])
        np.testing.assert_array_equal(curves["a"][k], curves["scaled"][k])  # 1-NN ignores scale
        np.testing.assert_array_equal(curves["a"][k], transfer.few_shot_episodes(z, y, k, 8))


def test_summary_and_plot_of_accuracy_against_shots():
    results = {"pixels": {1: np.array([0.4, 0.6]), 5: np.array([0.7, 0.7])},
               "features": {1: np.array([0.8, 0.8]), 5: np.array([0.9, 1.0])}}
    table = transfer.few_shot_summary(results).splitlines()
    assert table[0].split() == ["shots", "per", "class", "1", "5"]
    assert table[1].split() == ["pixels", "0.50", "±", "0.10", "0.70", "±", "0.00"]
    fig = transfer.plot_accuracy_vs_shots(results, chance=0.2)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(lines["features"].get_ydata(), [0.8, 0.95])
    assert "chance (20%)" in lines
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "5"]
    _, given = plt.subplots()
    assert transfer.plot_accuracy_vs_shots(results, ax=given) is given.figure
    with pytest.raises(ValueError, match="results must be"):
        transfer.few_shot_summary({})


# --------------------------------------------------------------------------------- classes, features


def test_select_classes_keeps_and_relabels_in_the_given_order():
    x = np.arange(12)
    y = np.array([5, 0, 7, 5, 7, 1, 5, 7, 5, 0, 7, 5])
    x_sub, y_sub = transfer.select_classes(x, y, [7, 5])
    np.testing.assert_array_equal(x_sub, np.flatnonzero(np.isin(y, [5, 7])))
    np.testing.assert_array_equal(y_sub, (y[x_sub] == 5).astype(int))
    x_few, y_few = transfer.select_classes(x, y, [7, 5], per_class=2, seed=1)
    assert np.bincount(y_few).tolist() == [2, 2] and set(y[x_few]) == {5, 7}
    with pytest.raises(ValueError, match="class 3 has no examples"):
        transfer.select_classes(x, y, [3])
    with pytest.raises(ValueError, match="distinct"):
        transfer.select_classes(x, y, [5, 5])


def test_feature_extractor_flattens_a_layer_and_shares_the_weights():
    model = tiny_cnn()
    x, _ = tiny_images(5)
    extractor = transfer.feature_extractor(model, "pool1")
    expected = inspection.activations(model, x, ["pool1"])["pool1"].reshape(5, -1)
    np.testing.assert_allclose(extractor.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    dense = transfer.feature_extractor(model, "dense_relu1")
    assert dense.output_shape == (None, 8)
    model.get_layer("conv1").kernel.assign(np.zeros((3, 3, 1, 4), dtype=np.float32))
    assert np.allclose(extractor.predict(x, verbose=0), 0)  # no copy: sees the new weights
    with pytest.raises(ValueError, match=r"has no layer 'conv9'; its layers are \[.*'pool1'"):
        transfer.feature_extractor(model, "conv9")


# ------------------------------------------------------------------------------------- fine-tuning


def test_with_new_head_copies_the_network_and_freezes_all_but_the_named_layers():
    base = tiny_cnn()
    before = [w.copy() for w in base.get_weights()]
    new = transfer.with_new_head(base, "dense_relu1", 4, trainable=["dense1"])
    assert new.output_shape == (None, 4) and new.layers[-1].name == "new_output"
    assert {layer.name for layer in new.layers if layer.trainable and layer.weights} == {"dense1",
                                                                                          "new_output"}
    new.get_layer("dense1").kernel.assign(np.zeros(new.get_layer("dense1").kernel.shape, dtype=np.float32))
    for w, w0 in zip(base.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, w0)  # the base network is untouched
    everything = transfer.with_new_head(base, "flatten", 2, trainable="all")
    assert all(layer.trainable for layer in everything.layers)
    with pytest.raises(ValueError, match="dense7"):
        transfer.with_new_head(base, "dense_relu1", 4, trainable=["dense7"])
    with pytest.raises(ValueError, match="trainable must be 'all' or a list"):
        transfer.with_new_head(base, "dense_relu1", 4, trainable="dense1")


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_head_from_logistic_regression_predicts_what_it_predicts(n_classes):
    base = tiny_cnn()
    x, y = tiny_images(30, n_classes)
    z = transfer.feature_extractor(base, "flatten").predict(x, verbose=0)
    classifier, kernel, bias = transfer._logreg_head(z, y, n_classes)
    new = transfer.with_new_head(base, "flatten", n_classes, head=(kernel, bias))
    np.testing.assert_allclose(new.predict(x, verbose=0), classifier.predict_proba(z), atol=1e-4)
    with pytest.raises(ValueError, match="head must be"):
        transfer.with_new_head(base, "flatten", n_classes, head=(kernel[:3], bias))


def test_fit_steps_trains_exactly_the_requested_steps_of_the_trainable_layers(capsys):
    base = tiny_cnn()
    x, y = tiny_images(7)  # fewer images than a batch
    new = transfer.with_new_head(base, "dense_relu1", 3, trainable=["dense1"])
    frozen, trained = new.get_layer("conv1").get_weights()[0], new.get_layer("dense1").get_weights()[0]
    history = transfer.fit_steps(new, x, y, steps=6, learning_rate=1e-2, batch_size=4, verbose=True)
    assert "trained 1 epochs" in capsys.readouterr().out and history.seconds > 0
    assert int(new.optimizer.iterations.numpy()) == 6
    np.testing.assert_array_equal(new.get_layer("conv1").get_weights()[0], frozen)
    assert not np.allclose(new.get_layer("dense1").get_weights()[0], trained)


def test_a_retrainable_model_starts_every_run_from_the_same_state():
    x, y = tiny_images(12)
    runner = transfer._Retrainable(transfer.with_new_head(tiny_cnn(), "dense_relu1", 3, "all"), 1e-2)
    first = [w.copy() for w in runner.train(x, y, steps=5, batch_size=4, seed=0).get_weights()]
    runner.train(x[::-1], y[::-1], steps=9, batch_size=4, seed=1)
    again = runner.train(x, y, steps=5, batch_size=4, seed=0).get_weights()
    for w, w0 in zip(again, first, strict=True):
        np.testing.assert_allclose(w, w0, rtol=1e-5, atol=1e-6)
    assert int(runner.model.optimizer.iterations.numpy()) == 5


def test_compare_fine_tuning_reports_every_method_and_leaves_the_base_alone(monkeypatch, capsys):
    monkeypatch.setitem(transfer.FINE_TUNING, "steps", 3)
    base = tiny_cnn()
    before = [w.copy() for w in base.get_weights()]
    pool, test = tiny_images(30, seed=1), tiny_images(12, seed=2)
    results = transfer.compare_fine_tuning(base, pool, test, budgets=(2, 4), n_repeats=2)
    assert "4 labels per class: 2 repeats" in capsys.readouterr().out
    assert list(results) == [2, 4]
    assert list(results[2]) == ["frozen dense_relu1", "frozen flatten", "fine-tuned", "from scratch"]
    for accuracies in results[4].values():
        assert accuracies.shape == (2,) and np.all((0 <= accuracies) & (accuracies <= 1))
    # Accuracies are fractions of the 12 test images.
    assert np.allclose(results[2]["frozen flatten"] * 12, np.round(results[2]["frozen flatten"] * 12))
    for w, w0 in zip(base.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, w0)
    with pytest.raises(ValueError, match="11 labels per class requested, but class 0 has only 10"):
        transfer.compare_fine_tuning(base, pool, test, budgets=(11,), n_repeats=1, verbose=False)


# ------------------------------------------------------------------------------------ cached model


@pytest.fixture
def tiny_half_cnn(monkeypatch, tmp_path):
    """Random 10-class data and a recipe that trains in a second, with an empty model cache."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    rng = np.random.default_rng(0)
    x = rng.random((120, 28, 28, 1), dtype=np.float32)
    y = np.arange(120) % 10
    monkeypatch.setattr(transfer.data, "load_dataset", lambda name, verbose: ((x, y), (x[:10], y[:10])))
    monkeypatch.setitem(transfer.HALF_CNN_RECIPES, "mnist", {
        "architecture": {"filters": [4], "kernel_size": 3, "dense": [8], "batch_norm": False,
                         "dropout": 0.0, "padding": "valid"},
        "training": {"epochs": 1, "batch_size": 32, "learning_rate": 3e-3, "seed": 0},
        "classes": [0, 1, 2, 3, 4], "max_train": 50})
    return x


def test_half_cnn_trains_on_the_first_classes_once_then_loads(tiny_half_cnn, capsys):
    model = transfer.half_cnn("mnist")
    assert "Training the CNN on mnist classes [0, 1, 2, 3, 4] only (50 images)" in capsys.readouterr().out
    assert model.output_shape == (None, 5)
    info = transfer.half_cnn_info("mnist")
    assert "loaded from the cache" not in capsys.readouterr().out  # info is quiet by default
    assert info["n_train"] == 50 and info["classes"] == [0, 1, 2, 3, 4]
    again = transfer.half_cnn("mnist")
    assert "loaded from the cache" in capsys.readouterr().out
    x = tiny_half_cnn[:4]
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), atol=1e-6)
    with pytest.raises(ValueError, match="no half-classes CNN recipe for 'cifar10'"):
        transfer.half_cnn("cifar10")


# ------------------------------------------------------------------------------------------ 2D maps


def test_embed_2d_projects_and_keeps_separated_classes_apart():
    z, y = blobs(n_per_class=15, n_classes=3, dim=20)  # three centres span a plane: PCA keeps it
    for method in transfer.EMBEDDINGS:
        points = transfer.embed_2d(z, method, seed=0)
        assert points.shape == (45, 2)
        centres = np.array([points[y == c].mean(axis=0) for c in range(3)])
        within = max(np.linalg.norm(points[y == c] - centres[c], axis=1).max() for c in range(3))
        between = min(np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a))
        assert between > 2 * within, method
    np.testing.assert_allclose(transfer.embed_2d(z, "tsne", seed=1), transfer.embed_2d(z, "tsne", seed=1))
    with pytest.raises(ValueError, match="unknown method 'umap'"):
        transfer.embed_2d(z, "umap")


def test_plot_embedding_draws_one_group_per_class():
    points, labels = blobs(n_per_class=5, n_classes=3, dim=2)
    fig = transfer.plot_embedding(points, labels, ["five", "six", "seven"], title="map")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["five", "six", "seven"]
    assert [len(c.get_offsets()) for c in ax.collections] == [5, 5, 5]
    with pytest.raises(ValueError, match="points must be"):
        transfer.plot_embedding(np.zeros((15, 3)), labels)


# ------------------------------------------------------------------------------------ ImageNet input


def test_to_imagenet_input_resizes_and_repeats_grey_channels():
    grey = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    rgb = transfer.to_imagenet_input(grey, 56)
    assert rgb.shape == (2, 56, 56, 3) and rgb.dtype == np.float32
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])
    assert 0 <= rgb.min() and rgb.max() <= 1
    colour = np.random.default_rng(1).random((1, 32, 32, 3), dtype=np.float32)
    np.testing.assert_array_equal(transfer.to_imagenet_input(colour, 32), colour)
    with pytest.raises(ValueError, match=r"expected \(N, H, W, 1\) or \(N, H, W, 3\)"):
        transfer.to_imagenet_input(grey[..., 0], 56)


def test_photo_crops_tile_each_photo_without_overlap():
    from course_utils import data

    crops, labels = transfer.photo_crops(["brick", "coffee"], side=100)
    brick, coffee = data.load_image("brick", color="rgb"), data.load_image("coffee", color="rgb")
    assert crops.shape == (5 * 5 + 4 * 6, 100, 100, 3)
    assert np.bincount(labels).tolist() == [25, 24]
    np.testing.assert_array_equal(crops[1], brick[0:100, 100:200])  # row by row
    np.testing.assert_array_equal(crops[25 + 7], coffee[100:200, 100:200])
    with pytest.raises(ValueError, match="smaller than one 600x600 crop"):
        transfer.photo_crops(["coffee"], side=600)
