"""Tests of notebook 06's widget (course_utils.views.featviz): the view, its caches, the controls."""

import keras
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import featviz  # noqa: E402
from course_utils.views import featviz as V  # noqa: E402


@pytest.fixture(autouse=True)
def _fast_and_closed(monkeypatch):
    monkeypatch.setattr(V, "STEPS", 3)
    monkeypatch.setattr(V, "TOP_K", 4)
    yield
    plt.close("all")


def small_cnn(filters, dense, name):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(filters, 3, name="conv1")(inputs)
    x = keras.layers.ReLU(name="relu1")(x)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense, name="dense1")(x)
    x = keras.layers.ReLU(name="dense_relu1")(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="output")(x),
                       name=name)


@pytest.fixture(scope="module")
def explorer():
    images = np.random.default_rng(0).random((30, 12, 12, 1), dtype=np.float32)
    return V.UnitExplorer({
        "A": V.Subject(small_cnn(4, 6, "a"), images, ["relu1", "dense_relu1"]),
        "B": V.Subject(small_cnn(5, 7, "b"), images, ["dense_relu1"],
                       (featviz.jitter(1), featviz.blur(1.0))),
    })


def image_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.images]


def test_unit_view_shows_the_visualisation_and_the_top_crops(explorer):
    fig = V.unit_view(explorer, "A", "relu1", 2)
    axes = image_axes(fig)
    assert len(axes) == 1 + V.TOP_K
    top = featviz.top_activating(explorer.subjects["A"].model, "relu1", 2,
                                 explorer.subjects["A"].images, k=V.TOP_K)
    assert [ax.get_title() for ax in axes[1:]] == [f"#{i}: {v:.2f}" for i, v in
                                                   zip(top.indices, top.values, strict=True)]
    np.testing.assert_array_equal(axes[1].images[0].get_array(), top.crops[0][..., 0])
    texts = " ".join(t.get_text() for sub in fig.subfigs for t in sub.texts)
    assert "s for this unit (3 steps)" in texts and "receptive field 3x3 px" in texts
    # The centre unit's receptive field is outlined on the visualisation.
    assert len(axes[0].patches) == 1


def test_unit_view_reuses_the_visualisation_and_the_search(explorer, monkeypatch):
    V.unit_view(explorer, "B", "dense_relu1", 1)
    calls = []
    monkeypatch.setattr(featviz, "unit_maxima", lambda *a, **k: calls.append(a) or None)
    monkeypatch.setattr(featviz, "activation_maximization", lambda *a, **k: calls.append(a))
    fig = V.unit_view(explorer, "B", "dense_relu1", 1)
    assert calls == []
    texts = " ".join(t.get_text() for sub in fig.subfigs for t in sub.texts)
    assert "from the cache" in texts
    image, seconds, cached = explorer.visualization("B", "dense_relu1", 1)
    assert cached and seconds > 0 and image.shape == (12, 12, 1)
    assert explorer.activations("B", "dense_relu1", 1).shape == (30,)


def test_bad_choices_raise_clear_errors(explorer):
    with pytest.raises(ValueError, match="unknown model 'C'"):
        V.unit_view(explorer, "C", "relu1", 0)
    with pytest.raises(ValueError, match="B offers no layer 'relu1'"):
        V.unit_view(explorer, "B", "relu1", 0)
    with pytest.raises(ValueError, match="unit must be an int from 0 to 3"):
        V.unit_view(explorer, "A", "relu1", 4)
    with pytest.raises(ValueError, match="unit must be an int"):
        V.unit_view(explorer, "A", "relu1", True)
    with pytest.raises(ValueError, match="has no layer 'conv9'"):
        V.Subject(explorer.subjects["A"].model, np.zeros((2, 12, 12, 1)), ["conv9"])
    with pytest.raises(ValueError, match="subjects is empty"):
        V.UnitExplorer({})


def test_the_controls_stay_consistent_and_redraw_once_per_change(explorer, monkeypatch):
    calls = []

    def recording_view(explorer_, model, layer, unit):
        assert layer in explorer_.layers(model) and 0 <= unit < explorer_.units(model, layer)
        calls.append((model, layer, unit))
        return plt.figure()

    monkeypatch.setattr(V, "unit_view", recording_view)
    widget = V.interactive_explorer(explorer)
    model, layer, unit = widget.children[0].children
    assert calls == [("A", "dense_relu1", 0)]
    assert (layer.options, unit.max, unit.continuous_update) == (("relu1", "dense_relu1"), 5, False)

    unit.value = 5
    model.value = "B"  # B has the same layer, with 7 units: the layer and unit are kept
    assert layer.options == ("dense_relu1",) and unit.max == 6
    assert calls[-2:] == [("A", "dense_relu1", 5), ("B", "dense_relu1", 5)]

    model.value = "A"
    layer.value = "relu1"  # 4 units: the unit is clamped before the one redraw
    assert unit.max == 3
    assert calls[-2:] == [("A", "dense_relu1", 5), ("A", "relu1", 3)]
    assert len(calls) == 5
