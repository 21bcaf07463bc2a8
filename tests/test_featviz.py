"""Tests of course_utils.featviz: receptive fields, data search, gradient ascent, regularisers,
saliency and the figures. Tiny models with known weights, so every expected value is computed
by hand or by an independent route (finite differences, NumPy, the gradient's support)."""

import keras
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from course_utils import featviz as fv  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def images(n=6, side=16, channels=1, seed=0):
    return np.random.default_rng(seed).random((n, side, side, channels), dtype=np.float32)


def course_stack():
    """The course CNN's layers on 16 x 16 images: conv3-relu-pool2-conv3-relu-pool2-dense-relu-softmax
    (random weights; pool2's map is 2 x 2). The exercise tests use it too."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(4, 3, name="conv1")(inputs)
    x = keras.layers.ReLU(name="relu1")(x)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(6, 3, name="conv2")(x)
    x = keras.layers.ReLU(name="relu2")(x)
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(8, name="dense1")(x)
    x = keras.layers.ReLU(name="dense_relu1")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


@pytest.fixture(scope="module")
def cnn():
    return course_stack()


def input_gradient(model, layer, row, col, channel, side):
    """d (unit at (row, col, channel) of ``layer``) / d input, at a random input."""
    features = keras.Model(model.input, model.get_layer(layer).output)
    x = tf.constant(images(1, side))
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = features(x)[0, row, col, channel]
    return np.asarray(tape.gradient(h, x))[0, :, :, 0]


def support_box(grad):
    rows, cols = np.nonzero(grad)
    return rows.min(), cols.min(), rows.max() + 1, cols.max() + 1


# -------------------------------------------------------------------------------- receptive fields


def test_receptive_field_of_the_course_stack_is_computed_exactly(cnn):
    expected = {"conv1": (3, 1), "relu1": (3, 1), "pool1": (4, 2), "conv2": (8, 2),
                "pool2": (10, 4)}
    for layer, (size, stride) in expected.items():
        rf = fv.receptive_field(cnn, layer)
        assert rf == ((size, size), (stride, stride), (0, 0)), layer
    assert fv.receptive_field(cnn, "dense_relu1") == ((16, 16), (0, 0), (0, 0))
    # Independent route: the input gradient of a linear-path unit is non-zero exactly there.
    box = fv.receptive_field(cnn, "conv2").box(2, 3)
    assert box == (4, 6, 12, 14)
    assert support_box(input_gradient(cnn, "conv2", 2, 3, 0, 16)) == box


def test_receptive_field_with_same_padding_strides_dilation_and_zero_padding():
    inputs = keras.Input((20, 20, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", name="a")(inputs)  # starts 1 px before the image
    x = keras.layers.ZeroPadding2D(((1, 0), (1, 0)), name="pad")(x)
    x = keras.layers.Conv2D(2, 3, strides=2, name="b")(x)
    x = keras.layers.Conv2D(2, 3, dilation_rate=2, name="c")(x)
    x = keras.layers.AveragePooling2D(2, name="d")(x)
    model = keras.Model(inputs, x)
    # a: size 3, start -1. pad: start -2. b: size 5, jump 2. c: window 5 -> size 5 + 4*2 = 13.
    # d: size 13 + 1*2 = 15, jump 4.
    assert fv.receptive_field(model, "a") == ((3, 3), (1, 1), (-1, -1))
    assert fv.receptive_field(model, "b") == ((5, 5), (2, 2), (-2, -2))
    assert fv.receptive_field(model, "c") == ((13, 13), (2, 2), (-2, -2))
    rf = fv.receptive_field(model, "d")
    assert rf == ((15, 15), (4, 4), (-2, -2))
    top, left, bottom, right = rf.box(1, 1)
    grad = input_gradient(model, "d", 1, 1, 0, 20)
    rows, cols = np.nonzero(grad)
    assert rows.min() >= top and rows.max() < bottom and cols.min() >= left and cols.max() < right
    assert (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1) == (top, bottom, left, right)


def test_receptive_field_rejects_what_it_cannot_follow(cnn):
    with pytest.raises(ValueError, match="no layer 'conv9'"):
        fv.receptive_field(cnn, "conv9")
    inputs = keras.Input((8, 8, 1))
    up = keras.layers.UpSampling2D(name="up")(inputs)
    with pytest.raises(ValueError, match="UpSampling2D"):
        fv.receptive_field(keras.Model(inputs, up), "up")
    a = keras.layers.Conv2D(1, 3, padding="same", name="a")(inputs)
    added = keras.layers.Add(name="add")([inputs, a])
    with pytest.raises(ValueError, match="several inputs"):
        fv.receptive_field(keras.Model(inputs, added), "add")


def test_receptive_field_crops_are_the_box_moved_inside_the_image():
    x = images(2, 10)
    rf = fv.ReceptiveField((4, 4), (2, 2), (-1, -1))
    crops = fv.receptive_field_crops(x, rf, [2, 0], [1, 4])
    np.testing.assert_array_equal(crops[0], x[0, 3:7, 1:5])  # box (3, 1, 7, 5)
    np.testing.assert_array_equal(crops[1], x[1, 0:4, 6:10])  # box (-1, 7, 3, 11), moved inside
    big = fv.receptive_field_crops(x, fv.ReceptiveField((30, 30), (0, 0), (0, 0)), [0, 0], [0, 0])
    np.testing.assert_array_equal(big, x)
    with pytest.raises(ValueError, match="one \\(row, col\\) per image"):
        fv.receptive_field_crops(x, rf, [0], [0])


# ------------------------------------------------------------------------------ searching the data


@pytest.fixture(scope="module")
def spot_model():
    """Conv unit 0 = the pixel value (1x1 kernel 1), unit 1 = minus it; then a global max."""
    inputs = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(2, 1, name="spot", kernel_initializer=keras.initializers.Constant(
        np.array([[[[1.0, -1.0]]]])), bias_initializer="zeros")(inputs)
    pooled = keras.layers.GlobalMaxPooling2D(name="gmax")(conv)
    return keras.Model(inputs, pooled)


def test_top_activating_finds_the_brightest_spots_and_their_crops(spot_model):
    x = np.zeros((5, 8, 8, 1), np.float32)
    for i, (value, r, c) in enumerate([(0.2, 1, 1), (0.9, 5, 2), (0.5, 0, 7), (0.7, 3, 3),
                                       (0.1, 7, 0)]):
        x[i, r, c, 0] = value
    top = fv.top_activating(spot_model, "spot", 0, x, k=3)
    assert top.indices.tolist() == [1, 3, 2]
    np.testing.assert_allclose(top.values, [0.9, 0.7, 0.5])
    assert top.positions.tolist() == [[5, 2], [3, 3], [0, 7]]
    np.testing.assert_allclose(top.crops[:, 0, 0, 0], [0.9, 0.7, 0.5])  # 1x1 receptive fields
    both = fv.top_activating(spot_model, "spot", [0, 1], x, k=2)
    assert both.indices.shape == (2, 2) and both.crops.shape == (2, 2, 1, 1, 1)
    assert both.indices[0].tolist() == [1, 3]
    maxima = fv.unit_maxima(spot_model, "spot", x)
    again = fv.top_activating(spot_model, "spot", 0, x, k=3, maxima=maxima)
    np.testing.assert_array_equal(again.indices, top.indices)
    flat = fv.top_activating(spot_model, "gmax", 0, x, k=1)  # no spatial axes: the whole image
    assert flat.crops.shape == (1, 8, 8, 1) and flat.indices.tolist() == [1]


def test_bad_units_layers_and_k_raise_clear_errors(spot_model):
    x = np.zeros((3, 8, 8, 1), np.float32)
    with pytest.raises(ValueError, match="unit 2 is out of range: layer 'spot' has 2 units"):
        fv.top_activating(spot_model, "spot", 2, x)
    with pytest.raises(ValueError, match="has no layer 'conv1'"):
        fv.unit_activation(spot_model, "conv1", 0, x)
    with pytest.raises(ValueError, match="k must be an int from 1"):
        fv.top_activating(spot_model, "spot", 0, x, k=4)
    with pytest.raises(ValueError, match="takes a batch \\(N, 8, 8, 1\\)"):
        fv.unit_activation(spot_model, "spot", 0, np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="where must be one of"):
        fv.unit_activation(spot_model, "spot", 0, x, where="centre")
    with pytest.raises(ValueError, match="maxima has shape"):
        fv.top_activating(spot_model, "spot", 0, x, k=2,
                          maxima=fv.unit_maxima(spot_model, "spot", x[:2]))


def test_unit_activation_reduces_feature_maps_as_asked(spot_model):
    x = images(4, 8)
    np.testing.assert_allclose(fv.unit_activation(spot_model, "spot", 0, x), x.max(axis=(1, 2, 3)))
    np.testing.assert_allclose(fv.unit_activation(spot_model, "spot", 1, x, where="center"),
                               -x[:, 4, 4, 0])
    np.testing.assert_allclose(fv.unit_activation(spot_model, "spot", [0, 1], x, where="mean"),
                               np.stack([x.mean(axis=(1, 2, 3)), -x.mean(axis=(1, 2, 3))], 1),
                               rtol=1e-5)


# ------------------------------------------------------------------------------- gradient ascent


def test_gradient_ascent_increases_the_objective_and_stays_in_valid_pixels(cnn):
    units = [0, 1, 2, 3]
    start = fv.noise_images(cnn, len(units), seed=1)
    for layer in ("relu2", "dense_relu1"):
        x = fv.activation_maximization(cnn, layer, units, steps=40, start=start)
        assert x.shape == start.shape and x.min() >= 0 and x.max() <= 1
        before = np.diag(fv.unit_activation(cnn, layer, units, start, where="center"))
        after = np.diag(fv.unit_activation(cnn, layer, units, x, where="center"))
        assert np.all(after > before + 0.05), layer
    one = fv.activation_maximization(cnn, "relu2", 3, steps=5)
    assert one.shape == (16, 16, 1)
    np.testing.assert_array_equal(fv.activation_maximization(cnn, "relu2", 0, steps=0, start=start[0]),
                                  start[0])


def test_gradient_ascent_on_a_linear_unit_reaches_the_box_optimum():
    # h(x) = w . x over pixels in [0, 1] is maximised by x = 1 where w > 0, 0 where w < 0.
    inputs = keras.Input((4, 4, 1))
    w = np.random.default_rng(3).normal(size=16)
    out = keras.layers.Dense(1, use_bias=False,
                             kernel_initializer=keras.initializers.Constant(w[:, None]))(
        keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, out)
    x = fv.activation_maximization(model, None, 0, steps=60, lr=0.1).ravel()
    # A pixel moves by lr * |w_i| / rms(w) per step: the strong ones reach their bound.
    strong = np.abs(w) > 0.5 * np.sqrt(np.mean(w**2))
    np.testing.assert_array_equal(x[strong], (w[strong] > 0).astype(np.float32))
    assert x @ w > 0.98 * np.maximum(w, 0).sum()


def test_centre_ascent_changes_only_the_receptive_field(cnn):
    start = fv.noise_images(cnn, 1, seed=2)[0]
    x = fv.activation_maximization(cnn, "relu2", 1, steps=20, start=start)
    top, left, bottom, right = fv.receptive_field(cnn, "relu2").box(2, 2)  # centre of the 5x5 map
    changed = np.abs(x - start)[..., 0] > 0
    inside = np.zeros_like(changed)
    inside[top:bottom, left:right] = True
    assert changed[inside].mean() > 0.5 and not changed[~inside].any()


def test_restarts_keep_the_best_ascent(cnn):
    units = [0, 1, 2, 3, 4, 5]
    # Restart r of unit u starts from image r * U + u of one noise draw.
    noise = fv.noise_images(cnn, 2 * len(units), seed=7)
    runs = [fv.activation_maximization(cnn, "relu2", units, steps=8, start=noise[r * 6:(r + 1) * 6])
            for r in (0, 1)]
    best = fv.activation_maximization(cnn, "relu2", units, steps=8, restarts=2, seed=7)
    reached = np.stack([np.diag(fv.unit_activation(cnn, "conv2", units, x, where="center"))
                        for x in runs])
    winner = reached.argmax(axis=0)
    assert 0 < winner.sum() < len(units)  # both restarts win somewhere: the choice matters
    np.testing.assert_allclose(best, np.stack(runs)[winner, np.arange(len(units))], atol=1e-6)


def test_activation_maximization_rejects_bad_arguments(cnn):
    with pytest.raises(ValueError, match="unit 6 is out of range"):
        fv.activation_maximization(cnn, "relu2", 6)
    with pytest.raises(ValueError, match="has no layer 'relu3'"):
        fv.activation_maximization(cnn, "relu3", 0)
    with pytest.raises(ValueError, match="steps must be an int"):
        fv.activation_maximization(cnn, "relu2", 0, steps=2.5)
    with pytest.raises(ValueError, match="lr must be a positive"):
        fv.activation_maximization(cnn, "relu2", 0, lr=0)
    with pytest.raises(ValueError, match="where must be one of \\('center', 'mean'\\)"):
        fv.activation_maximization(cnn, "relu2", 0, where="max")
    with pytest.raises(ValueError, match="regularizers must be made by"):
        fv.activation_maximization(cnn, "relu2", 0, regularizers=[lambda x: x])
    with pytest.raises(ValueError, match="start needs restarts=1|needs restarts=1"):
        fv.activation_maximization(cnn, "relu2", 0, restarts=2, start=np.zeros((16, 16, 1)))
    with pytest.raises(ValueError, match="takes a batch"):
        fv.activation_maximization(cnn, "relu2", 0, start=np.zeros((8, 8, 1)))


# ------------------------------------------------------------------------------------ regularisers


def test_total_variation_by_hand():
    x = np.array([[0.0, 1.0], [1.0, 1.0]])[None, :, :, None]
    assert fv.total_variation(x).tolist() == [2.0]  # one step right, one step down
    assert fv.total_variation(x[0]) == 2.0
    np.testing.assert_allclose(fv.total_variation(images(3)),
                               np.asarray(tf.image.total_variation(tf.constant(images(3)))),
                               rtol=1e-5)


def test_each_regulariser_does_what_it_says(cnn):
    units = [0, 1, 2, 3]
    start = fv.noise_images(cnn, len(units), seed=4, noise=0.3)

    def run(*regularizers):
        return fv.activation_maximization(cnn, "dense_relu1", units, steps=30, start=start,
                                          regularizers=regularizers)

    plain = run()
    assert fv.total_variation(run(fv.tv_penalty(0.2))).mean() < 0.7 * fv.total_variation(plain).mean()
    assert fv.total_variation(run(fv.blur(1.0, every=2))).mean() < 0.7 * fv.total_variation(plain).mean()
    decayed = run(fv.l2_decay(1.0))
    assert np.abs(decayed - 0.5).mean() < 0.7 * np.abs(plain - 0.5).mean()
    darker = run(fv.l2_decay(1.0, center=0.0))
    assert darker.mean() < 0.7 * plain.mean()
    # Jitter moves the image the unit sees: a roll by at most `pixels` in each direction.
    seen = fv.jitter(2).transform(tf.constant(start), tf.constant([0, 5]))
    shifts = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
              if np.array_equal(np.roll(start, (dy, dx), axis=(1, 2)), np.asarray(seen))]
    assert len(shifts) == 1
    moved = [fv.jitter(2).transform(tf.constant(start), tf.constant([0, s])) for s in range(8)]
    assert len({np.asarray(m).tobytes() for m in moved}) > 1
    assert not np.array_equal(run(fv.jitter(2)), plain)


def test_regularisers_compose_and_are_validated(cnn):
    combo = (fv.jitter(1), fv.tv_penalty(0.1), fv.l2_decay(0.1), fv.blur(0.7, every=2))
    x = fv.activation_maximization(cnn, "relu2", [0, 1], steps=10, regularizers=combo)
    assert x.shape == (2, 16, 16, 1)
    assert [str(r) for r in combo] == ["jitter 1 px", "TV 0.1", "L2 decay 0.1", "blur 0.7 every 2"]
    for bad in (lambda: fv.tv_penalty(-1), lambda: fv.jitter(1.5), lambda: fv.blur(0),
                lambda: fv.l2_decay(0.1, center=2)):
        with pytest.raises(ValueError):
            bad()


# ------------------------------------------------------------------------------------------ saliency


@pytest.fixture(scope="module")
def linear_classifier():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((5, 5, 1))
    outputs = keras.layers.Dense(3, activation="softmax", name="output")(
        keras.layers.Flatten()(inputs))
    return keras.Model(inputs, outputs)


def test_saliency_of_a_linear_classifier_is_its_weight_row(linear_classifier):
    w = linear_classifier.get_layer("output").get_weights()[0]  # (25, 3)
    x = images(4, 5)
    g = fv.saliency(linear_classifier, x, [0, 1, 2, 1])
    assert g.shape == x.shape
    for i, c in enumerate([0, 1, 2, 1]):
        np.testing.assert_allclose(g[i].ravel(), w[:, c], rtol=1e-5)
    # Noise cannot change the gradient of a linear score: SmoothGrad gives the same.
    np.testing.assert_allclose(fv.smoothgrad(linear_classifier, x, 2, samples=5),
                               fv.saliency(linear_classifier, x, 2), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="class_index must be in 0..2"):
        fv.saliency(linear_classifier, x, 3)
    with pytest.raises(ValueError, match="one int per image"):
        fv.saliency(linear_classifier, x, [0, 1])


def test_saliency_matches_finite_differences_and_smoothgrad_averages(cnn):
    x = images(2, 16, seed=5)
    g = fv.saliency(cnn, x, 1)
    logits = keras.Model(cnn.input, cnn.get_layer("output").input)  # dense_relu1 output
    w, b = cnn.get_layer("output").get_weights()

    def score(batch):
        return np.asarray(logits(batch)) @ w[:, 1] + b[1]

    r, c, eps = 7, 9, 1e-3
    bumped = x.copy()
    bumped[:, r, c, 0] += eps
    np.testing.assert_allclose((score(bumped) - score(x)) / eps, g[:, r, c, 0], rtol=0.05, atol=1e-3)
    smooth = fv.smoothgrad(cnn, x, 1, samples=16, noise=0.2)
    assert smooth.shape == x.shape and not np.allclose(smooth, g)
    assert fv.total_variation(np.abs(smooth)).mean() < fv.total_variation(np.abs(g)).mean()


# ------------------------------------------------------------------------------------------- figures


def test_figures_draw_what_they_are_given():
    x = images(6, 8)
    fig = fv.show_units(x, ["unit 0", "unit 1"], ncols=3)
    labelled = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert labelled == ["unit 0", "unit 1"]
    assert sum(1 for ax in fig.axes if ax.images) == 6
    with pytest.raises(ValueError, match="2 rows of 4"):
        fv.show_units(x, ["a", "b"], ncols=4)
    fig = fv.show_grid(x.reshape(2, 3, 8, 8, 1), ["a", "b"], ["1", "2", "3"])
    (ax,) = fig.axes
    canvas = np.asarray(ax.images[0].get_array())
    assert canvas.shape == (2 * 8 + 1, 3 * 8 + 2)  # one white line between neighbours
    np.testing.assert_array_equal(canvas[9:17, 18:26], x[5, :, :, 0])  # row 1, column 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]
    with pytest.raises(ValueError, match="2 labels for 3 columns"):
        fv.show_grid(x.reshape(2, 3, 8, 8, 1), col_labels=["1", "2"])
    fig = fv.show_boxes(x[:2], [(1, 2, 5, 6), (0, 0, 8, 8)])
    rects = [p for ax in fig.axes for p in ax.patches if isinstance(p, Rectangle)]
    assert [(r.get_x(), r.get_y(), r.get_width(), r.get_height()) for r in rects] == [
        (1.5, 0.5, 4, 4), (-0.5, -0.5, 8, 8)]
    fig = fv.show_saliency(x[:2], np.random.default_rng(0).normal(size=x[:2].shape))
    assert all(len(ax.images) == 2 for ax in fig.axes if ax.get_visible())
    with pytest.raises(ValueError, match="must be the same"):
        fv.show_saliency(x[:2], x[:3])
