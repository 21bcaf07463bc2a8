"""Tests of course_utils.plotting: what ends up on the figures, and the errors users can cause."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import confusion_matrix as sk_confusion_matrix  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from course_utils import plotting as P  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def image_axes(fig):
    return [ax for ax in visible_axes(fig) if ax.images]


def data(im):
    return np.ma.getdata(im.get_array())


# ---------------------------------------------------------------------------------------------
# auto_cmap
# ---------------------------------------------------------------------------------------------


def test_auto_cmap_float_image_in_unit_range_is_grey_0_1():
    assert P.auto_cmap(np.array([[0.2, 0.9], [0.0, 0.5]])) == (P.IMAGE_CMAP, 0.0, 1.0)


def test_auto_cmap_uint8_is_grey_0_255():
    assert P.auto_cmap(np.array([[0, 17], [3, 200]], dtype=np.uint8)) == (P.IMAGE_CMAP, 0, 255)


def test_auto_cmap_signed_is_diverging_and_symmetric_about_zero():
    cmap, lo, hi = P.auto_cmap(np.array([[-0.5, 0.1], [2.0, 0.0]]))
    assert cmap == P.SIGNED_CMAP
    assert (lo, hi) == (-2.0, 2.0)
    cmap, lo, hi = P.auto_cmap(np.array([[-3.0, 0.1], [1.0, 0.0]]))
    assert (cmap, lo, hi) == (P.SIGNED_CMAP, -3.0, 3.0)


def test_auto_cmap_tiny_signed_gradients_are_still_signed():
    cmap, lo, hi = P.auto_cmap(np.array([-2e-8, 1e-8]))
    assert cmap == P.SIGNED_CMAP
    assert lo == pytest.approx(-2e-8) and hi == pytest.approx(2e-8)


def test_auto_cmap_ignores_rounding_noise_below_zero():
    # What an FFT blur of a [0, 1] image looks like.
    assert P.auto_cmap(np.array([[-1e-17, 0.3], [1.0, 0.5]]))[0] == P.IMAGE_CMAP


def test_auto_cmap_large_non_negative_is_magnitude():
    assert P.auto_cmap(np.array([[0.0, 3.5], [7.0, 1.0]])) == (P.MAGNITUDE_CMAP, 0.0, 7.0)


def test_auto_cmap_colour_image_has_no_cmap():
    assert P.auto_cmap(np.zeros((4, 4, 3))) == (None, None, None)


def test_auto_cmap_ignores_nan_and_handles_bool():
    assert P.auto_cmap(np.array([np.nan, -1.0, 0.5])) == (P.SIGNED_CMAP, -1.0, 1.0)
    assert P.auto_cmap(np.array([[True, False]])) == (P.IMAGE_CMAP, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# show_images, compare, before_after
# ---------------------------------------------------------------------------------------------


def test_show_images_batch_titles_and_data(rng):
    imgs = rng.random((3, 5, 6))
    fig = P.show_images(imgs, titles=["a", "b", "c"], suptitle="batch")
    assert isinstance(fig, Figure)
    axes = visible_axes(fig)
    assert len(axes) == 3
    assert [ax.get_title() for ax in axes] == ["a", "b", "c"]
    assert fig.get_suptitle() == "batch"
    for ax, img in zip(axes, imgs, strict=True):
        np.testing.assert_array_equal(data(ax.images[0]), img)
        assert ax.images[0].get_cmap().name == P.IMAGE_CMAP
        assert ax.images[0].get_clim() == (0, 1)
        assert not ax.axison


def test_show_images_hides_unused_cells(rng):
    fig = P.show_images(rng.random((5, 4, 4)), ncols=3)
    assert len(fig.axes) == 6
    assert len(visible_axes(fig)) == 5


def test_show_images_single_image_and_channel_axis(rng):
    img = rng.random((1, 7, 7, 1))
    fig = P.show_images(img)
    (ax,) = visible_axes(fig)
    np.testing.assert_array_equal(data(ax.images[0]), img[0, ..., 0])
    fig2 = P.show_images(img[0, ..., 0])
    np.testing.assert_array_equal(data(image_axes(fig2)[0].images[0]), img[0, ..., 0])


def test_show_images_rgb_and_list_of_different_sizes(rng):
    rgb = rng.random((2, 4, 5, 3))
    fig = P.show_images(rgb)
    for ax, img in zip(visible_axes(fig), rgb, strict=True):
        np.testing.assert_array_equal(data(ax.images[0]), img)
    mixed = [rng.random((3, 3)), rng.random((8, 5, 3)), rng.random((6, 2, 1))]
    fig = P.show_images(mixed)
    shapes = [data(ax.images[0]).shape for ax in visible_axes(fig)]
    assert shapes == [(3, 3), (8, 5, 3), (6, 2)]


def test_show_images_signed_image_gets_symmetric_limits(rng):
    signed = rng.normal(size=(6, 6)) + 0.3
    fig = P.show_images([rng.random((6, 6)), signed])
    plain, diff = (ax.images[0] for ax in visible_axes(fig))
    assert plain.get_cmap().name == P.IMAGE_CMAP
    assert diff.get_cmap().name == P.SIGNED_CMAP
    lo, hi = diff.get_clim()
    assert lo == -hi == -np.abs(signed).max()


def test_show_images_explicit_and_per_image_colour_settings(rng):
    imgs = rng.random((2, 4, 4))
    fig = P.show_images(imgs, cmap="viridis", vmin=-1, vmax=2)
    for ax in visible_axes(fig):
        assert ax.images[0].get_cmap().name == "viridis"
        assert ax.images[0].get_clim() == (-1, 2)
    fig = P.show_images(imgs, cmap=[None, "hot"], vmax=[0.5, None])
    first, second = (ax.images[0] for ax in visible_axes(fig))
    assert (first.get_cmap().name, first.get_clim()) == (P.IMAGE_CMAP, (0, 0.5))
    assert second.get_cmap().name == "hot"
    assert second.get_clim() == (imgs[1].min(), imgs[1].max())


def test_show_images_colorbar_adds_axes(rng):
    fig = P.show_images(rng.random((2, 4, 4)), colorbar=True)
    assert len(image_axes(fig)) == 2
    assert len(visible_axes(fig)) == 4


def test_show_images_rejects_bad_input(rng):
    with pytest.raises(ValueError, match="2 titles for 3 images"):
        P.show_images(rng.random((3, 4, 4)), titles=["a", "b"])
    with pytest.raises(ValueError, match=r"\(4, 4, 2\)"):
        P.show_images([rng.random((4, 4, 2))])
    with pytest.raises(ValueError, match="cmap has 1 entries for 2 images"):
        P.show_images(rng.random((2, 4, 4)), cmap=["gray"])
    with pytest.raises(ValueError, match="empty"):
        P.show_images([])


def test_compare_shows_all_images_in_order(rng):
    images = {"x": rng.random((4, 4)), "y": rng.normal(size=(4, 4)), "z": rng.random((4, 4, 3))}
    fig = P.compare(images, suptitle="three", cmaps=["hot", None, None])
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["x", "y", "z"]
    for ax, img in zip(axes, images.values(), strict=True):
        np.testing.assert_array_equal(data(ax.images[0]), img)
    assert axes[0].images[0].get_cmap().name == "hot"
    assert axes[1].images[0].get_cmap().name == P.SIGNED_CMAP
    assert fig.get_suptitle() == "three"


def test_before_after(rng):
    before, after = rng.random((5, 5)), rng.random((5, 5))
    fig = P.before_after(before, after, titles=("noisy", "smoothed"))
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["noisy", "smoothed"]
    np.testing.assert_array_equal(data(axes[1].images[0]), after)
    with pytest.raises(ValueError, match="two different"):
        P.before_after(before, after, titles=("same", "same"))


# ---------------------------------------------------------------------------------------------
# show_kernel
# ---------------------------------------------------------------------------------------------

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def test_show_kernel_annotates_small_kernel():
    fig = P.show_kernel(SOBEL_X, title="Sobel x")
    (ax,) = image_axes(fig)
    im = ax.images[0]
    np.testing.assert_array_equal(data(im), SOBEL_X)
    assert im.get_cmap().name == P.SIGNED_CMAP
    assert im.get_clim() == (-2, 2)
    assert ax.get_title() == "Sobel x"
    texts = {(t.get_position(), t.get_text()) for t in ax.texts}
    expected = {((c, r), str(SOBEL_X[r, c])) for r in range(3) for c in range(3)}
    assert texts == expected


def test_show_kernel_text_is_readable_on_dark_cells():
    fig = P.show_kernel(SOBEL_X)
    colour = {t.get_position(): t.get_color() for t in fig.axes[0].texts}
    assert colour[(0, 1)] == "white"  # -2: darkest blue
    assert colour[(2, 1)] == "white"  # +2: darkest red
    assert colour[(1, 1)] == "black"  # 0: white cell


def test_show_kernel_1d_and_non_integer_format():
    fig = P.show_kernel(np.array([0.25, 0.5, 0.25]))
    ax = fig.axes[0]
    assert data(ax.images[0]).shape == (1, 3)
    assert sorted(t.get_text() for t in ax.texts) == ["0.25", "0.25", "0.50"]


def test_show_kernel_large_kernel_has_colorbar_not_numbers(rng):
    fig = P.show_kernel(rng.normal(size=(9, 9)))
    assert not any(ax.texts for ax in fig.axes)
    assert len(fig.axes) == 2


def test_show_kernel_into_given_axes_and_bad_shape():
    fig, ax = plt.subplots()
    assert P.show_kernel(SOBEL_X, ax=ax, annotate=False) is fig
    assert not ax.texts
    with pytest.raises(ValueError, match=r"\(2, 2, 2\)"):
        P.show_kernel(np.zeros((2, 2, 2)))


# ---------------------------------------------------------------------------------------------
# plot_signals, plot_history
# ---------------------------------------------------------------------------------------------


def test_plot_signals_overlays_with_legend(rng):
    t = np.linspace(0, 1, 50)
    signals = {"noisy": rng.normal(size=50), "smooth": np.sin(t)}
    fig = P.plot_signals(t, signals, title="smoothing")
    ax = fig.axes[0]
    assert ax.get_title() == "smoothing"
    assert [line.get_label() for line in ax.lines] == ["noisy", "smooth"]
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), np.sin(t))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["noisy", "smooth"]


def test_plot_signals_rejects_length_mismatch_and_uses_given_axes():
    with pytest.raises(ValueError, match="'short' has shape"):
        P.plot_signals(np.arange(5), {"short": np.zeros(4)})
    fig, ax = plt.subplots()
    assert P.plot_signals(np.arange(3), {"s": np.ones(3)}, ax=ax) is fig
    assert ax.lines


class FakeHistory:
    def __init__(self, history):
        self.history = history


def test_plot_history_panels_and_epochs():
    logs = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.8, 0.9]}
    fig = P.plot_history(FakeHistory(logs), metrics=("loss", "accuracy", "auc"), title="run")
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    loss_ax, acc_ax = axes
    assert [line.get_label() for line in loss_ax.lines] == ["train", "validation"]
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), logs["val_loss"])
    assert [line.get_label() for line in acc_ax.lines] == ["train"]
    assert acc_ax.get_xlabel() == "epoch"
    assert fig.get_suptitle() == "run"


def test_plot_history_accepts_dict_and_rejects_missing_metrics():
    assert len(P.plot_history({"loss": [2.0, 1.0]}).axes) == 1
    with pytest.raises(ValueError, match=r"available: \['loss', 'mae'\]"):
        P.plot_history({"mae": [1.0], "loss": [2.0]}, metrics=("accuracy",))


# ---------------------------------------------------------------------------------------------
# grid_over, plot_decision_regions, plot_field
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def blobs(rng):
    X = np.concatenate([rng.normal(-1, 0.5, (20, 2)), rng.normal(1, 0.5, (20, 2))])
    y = np.repeat([0, 1], 20)
    return X, y


def test_grid_over_covers_padded_range_in_meshgrid_order():
    X = np.array([[0.0, 10.0], [2.0, 14.0]])
    xx, yy, points = P.grid_over(X, resolution=5, padding=1.0)
    assert xx.shape == yy.shape == (5, 5)
    assert points.shape == (25, 2)
    np.testing.assert_allclose(xx[0], np.linspace(-1, 3, 5))
    np.testing.assert_allclose(yy[:, 0], np.linspace(9, 15, 5))
    f = points[:, 0] * 10 + points[:, 1]
    np.testing.assert_allclose(f.reshape(xx.shape), xx * 10 + yy)


def test_grid_over_rejects_bad_arguments():
    with pytest.raises(ValueError, match="2D points"):
        P.grid_over(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="resolution"):
        P.grid_over(np.zeros((4, 2)), resolution=1)


def predicted_image(ax):
    (im,) = [im for im in ax.images if im.get_label() == P.PREDICTED_CLASS_LABEL]
    return im


def test_decision_regions_logistic_regression(blobs):
    X, y = blobs
    model = LogisticRegression().fit(X, y)
    fig = P.plot_decision_regions(model, X, y, resolution=30, padding=0.5, title="logreg")
    ax = fig.axes[0]
    assert ax.get_title() == "logreg"
    im = predicted_image(ax)
    xx, yy, points = P.grid_over(X, 30, 0.5)
    np.testing.assert_array_equal(data(im), model.predict(points).reshape(xx.shape))
    assert any(isinstance(c, ContourSet) for c in ax.collections)
    # The scatter is coloured by the true labels.
    scatter = [c for c in ax.collections if not isinstance(c, ContourSet)][0]
    np.testing.assert_array_equal(scatter.get_array(), y)


class FakeKerasSoftmax:
    """Keras-like 3-class linear softmax model; records the verbose argument it was given."""

    W = np.array([[1.0, -1.0, 0.0], [0.0, 0.5, -1.0]])

    def __init__(self):
        self.verbose_seen = []

    def predict(self, x, batch_size=None, verbose="auto"):
        self.verbose_seen.append(verbose)
        logits = np.asarray(x) @ self.W
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def test_decision_regions_keras_like_softmax_and_orientation(rng):
    X = rng.uniform(-2, 2, (30, 2))
    model = FakeKerasSoftmax()
    y = model.predict(X).argmax(axis=1)
    fig = P.plot_decision_regions(model, X, y, resolution=25, padding=0.3)
    assert model.verbose_seen[-1] == 0
    im = predicted_image(fig.axes[0])
    # Independently of grid_over: pixel (row i, column j) is the point (xs[j], ys[i]).
    xs = np.linspace(X[:, 0].min() - 0.3, X[:, 0].max() + 0.3, 25)
    ys = np.linspace(X[:, 1].min() - 0.3, X[:, 1].max() + 0.3, 25)
    pts = np.array([[x, yv] for yv in ys for x in xs])
    expected = (pts @ FakeKerasSoftmax.W).argmax(axis=1).reshape(25, 25)
    np.testing.assert_array_equal(data(im), expected)
    assert im.origin == "lower"
    half = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
    np.testing.assert_allclose(
        im.get_extent(), [xs[0] - half[0], xs[-1] + half[0], ys[0] - half[1], ys[-1] + half[1]]
    )


class FakeKerasSigmoid:
    def predict(self, x, verbose="auto"):
        return 1 / (1 + np.exp(-np.asarray(x)[:, :1] * 3))


def test_decision_regions_sigmoid_output_and_given_axes(blobs):
    X, y = blobs
    fig, ax = plt.subplots()
    assert P.plot_decision_regions(FakeKerasSigmoid(), X, y, ax=ax, resolution=20) is fig
    xx, _, _ = P.grid_over(X, 20, 0.5)
    np.testing.assert_array_equal(data(predicted_image(ax)), (xx > 0).astype(int))


def test_decision_regions_model_without_probabilities(blobs):
    X, y = blobs
    model = LinearSVC().fit(X, y)
    fig = P.plot_decision_regions(model, X, y, resolution=20)
    xx, _, points = P.grid_over(X, 20, 0.5)
    np.testing.assert_array_equal(
        data(predicted_image(fig.axes[0])), model.predict(points).reshape(xx.shape)
    )


def test_decision_regions_rejects_bad_input(blobs):
    X, y = blobs
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"\(40, 3\).*2D points"):
        P.plot_decision_regions(model, np.zeros((40, 3)), y)
    with pytest.raises(ValueError, match=r"\(40,\).*2D points"):
        P.plot_decision_regions(model, np.zeros(40), y)
    with pytest.raises(ValueError, match="39 labels but X has 40"):
        P.plot_decision_regions(model, X, y[:-1])


def test_plot_field_signed_values(blobs):
    X, y = blobs
    fig = P.plot_field(X, y, lambda p: p[:, 0] - 0.2, title="unit 0", resolution=15)
    ax = fig.axes[0]
    assert ax.get_title() == "unit 0"
    xx, _, _ = P.grid_over(X, 15, 0.5)
    im = ax.images[0]
    np.testing.assert_allclose(data(im), xx - 0.2)
    assert im.get_cmap().name == P.SIGNED_CMAP
    lo, hi = im.get_clim()
    assert lo == -hi
    assert hi == pytest.approx(np.abs(xx - 0.2).max())
    assert len(ax.collections) == 1  # the points


def test_plot_field_sigmoid_column_and_errors(blobs):
    X, y = blobs
    fig = P.plot_field(X, y, lambda p: 1 / (1 + np.exp(-p[:, 1:])), resolution=10)
    im = fig.axes[0].images[0]
    assert im.get_cmap().name == P.MAGNITUDE_CMAP
    assert im.get_clim() == (0, 1)
    with pytest.raises(ValueError, match="one value per point"):
        P.plot_field(X, y, lambda p: p, resolution=10)


# ---------------------------------------------------------------------------------------------
# confusion matrix, probabilities
# ---------------------------------------------------------------------------------------------


def test_plot_confusion_rejects_bad_labels():
    with pytest.raises(ValueError, match="3 and 2 labels"):
        P.plot_confusion([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="2 class names"):
        P.plot_confusion([0, 2], [0, 1], class_names=["a", "b"])
    with pytest.raises(ValueError, match="non-negative integer"):
        P.plot_confusion([0, -1], [0, 1])
    with pytest.raises(ValueError, match="non-negative integer"):
        P.plot_confusion([0, 0.5], [0, 1])


def test_plot_confusion_keeps_classes_that_never_occur():
    fig = P.plot_confusion([0, 0], [0, 0], class_names=["a", "b", "c"])
    np.testing.assert_array_equal(data(fig.axes[0].images[0]), [[2, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_plot_confusion_counts_in_cells():
    t = [0, 0, 1, 1, 1, 2]
    p = [0, 1, 1, 1, 2, 2]
    fig = P.plot_confusion(t, p, class_names=["a", "b", "c"], title="cm")
    ax = fig.axes[0]
    expected = sk_confusion_matrix(t, p)
    np.testing.assert_array_equal(data(ax.images[0]), expected)
    cells = {t.get_position(): t.get_text() for t in ax.texts}
    assert cells == {(c, r): str(expected[r, c]) for r in range(3) for c in range(3)}
    assert [lbl.get_text() for lbl in ax.get_xticklabels()] == ["a", "b", "c"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("predicted", "true", "cm")


def test_plot_confusion_normalized_rows_and_given_axes():
    fig, ax = plt.subplots()
    assert P.plot_confusion([0, 0, 0, 1], [0, 0, 1, 1], normalize=True, ax=ax) is fig
    np.testing.assert_allclose(data(ax.images[0]), [[2 / 3, 1 / 3], [0, 1]])
    assert ax.texts[1].get_text() == "0.33"


def bar_colours(ax):
    return [p.get_facecolor() for p in ax.patches]


def test_plot_probabilities_highlights_wrong_prediction_and_truth():
    probs = np.array([[0.1, 0.6, 0.3]])
    fig = P.plot_probabilities(probs, class_names=["cat", "dog", "car"], true_label=2,
                               title="p")
    ax = fig.axes[0]
    np.testing.assert_allclose([p.get_width() for p in ax.patches], probs[0])
    assert bar_colours(ax) == [to_rgba(P.BAR_COLOR), to_rgba(P.WRONG_COLOR),
                               to_rgba(P.CORRECT_COLOR)]
    assert [lbl.get_text() for lbl in ax.get_yticklabels()] == ["cat", "dog", "car"]
    assert ax.get_title() == "p"


def test_plot_probabilities_correct_and_unknown_truth():
    fig = P.plot_probabilities([0.7, 0.2, 0.1], true_label=0)
    assert bar_colours(fig.axes[0])[0] == to_rgba(P.CORRECT_COLOR)
    fig = P.plot_probabilities([0.2, 0.7, 0.1])
    assert bar_colours(fig.axes[0]) == [to_rgba(P.BAR_COLOR), to_rgba(P.PREDICTED_COLOR),
                                        to_rgba(P.BAR_COLOR)]


def test_plot_probabilities_rejects_bad_input():
    with pytest.raises(ValueError, match="logits"):
        P.plot_probabilities([2.0, -1.0])
    with pytest.raises(ValueError, match="true_label 3"):
        P.plot_probabilities([0.5, 0.5], true_label=3)
    with pytest.raises(ValueError, match="1 class names for 2"):
        P.plot_probabilities([0.5, 0.5], class_names=["a"])


# ---------------------------------------------------------------------------------------------
# show_filters, show_feature_maps
# ---------------------------------------------------------------------------------------------


def test_show_filters_grey_filters_share_symmetric_limits(rng):
    w = rng.normal(size=(3, 3, 1, 5))
    fig = P.show_filters(w, ncols=4, title="layer 1")
    axes = visible_axes(fig)
    assert len(axes) == 5
    assert fig.get_suptitle() == "layer 1"
    m = np.abs(w).max()
    for i, ax in enumerate(axes):
        im = ax.images[0]
        np.testing.assert_array_equal(data(im), w[:, :, 0, i])
        assert im.get_cmap().name == P.SIGNED_CMAP
        assert im.get_clim() == (-m, m)


def test_show_filters_rgb_is_min_max_scaled_per_filter(rng):
    w = rng.normal(size=(3, 3, 3, 4))
    w[..., 3] = 0.7  # a constant filter must not divide by zero
    fig = P.show_filters(w)
    axes = visible_axes(fig)
    assert len(axes) == 4
    for i in range(3):
        f = w[..., i]
        np.testing.assert_allclose(data(axes[i].images[0]), (f - f.min()) / (f.max() - f.min()))
    np.testing.assert_array_equal(data(axes[3].images[0]), np.full((3, 3, 3), 0.5))


def test_show_filters_other_channel_counts_show_mean(rng):
    w = rng.normal(size=(5, 5, 8, 2))
    fig = P.show_filters(w)
    np.testing.assert_allclose(data(visible_axes(fig)[1].images[0]), w[..., 1].mean(axis=-1))


def test_show_filters_rejects_non_4d():
    with pytest.raises(ValueError, match=r"\(3, 3, 4\).*kh, kw, c_in, n_filters"):
        P.show_filters(np.zeros((3, 3, 4)))


def test_show_feature_maps_relu_maps(rng):
    fmap = rng.random((1, 6, 6, 20)) * np.arange(1, 21)
    fig = P.show_feature_maps(fmap, max_maps=16, ncols=8)
    axes = visible_axes(fig)
    assert len(axes) == 16
    for c in (0, 15):
        im = axes[c].images[0]
        np.testing.assert_array_equal(data(im), fmap[0, :, :, c])
        assert im.get_cmap().name == P.MAGNITUDE_CMAP
        assert im.get_clim() == (0, fmap[0, :, :, c].max())
        assert axes[c].get_title() == f"channel {c}"


def test_show_feature_maps_signed_maps_and_few_channels(rng):
    fmap = rng.normal(size=(4, 4, 3))
    fig = P.show_feature_maps(fmap)
    axes = visible_axes(fig)
    assert len(axes) == 3
    im = axes[2].images[0]
    m = np.abs(fmap[..., 2]).max()
    assert im.get_cmap().name == P.SIGNED_CMAP
    assert im.get_clim() == (-m, m)


def test_show_feature_maps_rejects_batches():
    with pytest.raises(ValueError, match="one input"):
        P.show_feature_maps(np.zeros((2, 4, 4, 3)))


# ---------------------------------------------------------------------------------------------
# setup_style
# ---------------------------------------------------------------------------------------------


def test_setup_style_sets_projector_rcparams():
    with matplotlib.rc_context():
        P.setup_style()
        rc = matplotlib.rcParams
        assert rc["image.interpolation"] == "nearest"
        assert rc["image.cmap"] == "gray"
        assert 12 <= rc["font.size"] <= 13
        assert not rc["axes.spines.top"] and not rc["axes.spines.right"]
        assert rc["figure.constrained_layout.use"]


# ---------------------------------------------------------------------------------------------
# compare_runs
# ---------------------------------------------------------------------------------------------


def test_compare_runs_draws_each_run_and_marks_where_it_reaches_the_target():
    runs = {"fast": ([0, 5, 10], [0.2, 0.95, 0.97]), "slow": ([0, 5, 10], [0.1, 0.3, 0.5])}
    fig = P.compare_runs(runs, target=0.9)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "fast" in labels and "slow" in labels and "target 90%" in labels
    markers = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(markers) == 1  # only "fast" reaches 90%
    np.testing.assert_array_equal(markers[0].get_xydata(), [[5, 0.95]])


def test_compare_runs_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    assert P.compare_runs({"a": ([1, 2], [0.1, 0.2])}, ax=ax) is fig
    assert [line.get_label() for line in ax.get_lines()] == ["a"]
    with pytest.raises(ValueError, match="empty"):
        P.compare_runs({})


def test_compare_runs_puts_whole_numbers_on_an_epoch_axis():
    fig = P.compare_runs({"a": (np.arange(0.0, 21.0), np.linspace(0, 1, 21))})
    ticks = fig.axes[0].get_xticks()
    assert np.all(ticks == np.round(ticks))


def test_compare_runs_rejects_something_that_is_not_a_curve():
    with pytest.raises(ValueError, match="'bad' is not a curve"):
        P.compare_runs({"bad": ([0, 2, 1], [0.1, 0.2, 0.3])})
