"""Widget of notebook 06 (feature visualisation): pick a model, a layer and a unit, and see the
images that excite the unit most next to the image that gradient ascent synthesises for it.

:class:`UnitExplorer` holds what the widget reuses between slider moves: one pass over the images
per layer (the activations of all its units at once) and every visualisation already computed, so
that returning to a unit is instant and a new unit of a seen layer costs only its own ascent.
:func:`unit_view` draws one unit (call it in a plain cell for the static figure);
:func:`interactive_explorer` is the widget around it::

    interactive_explorer(explorer)

Not ``interact``: its three controls depend on each other (a model has its own layers, a layer
its number of units), and ``interact`` would redraw, and run gradient ascent, for every
intermediate state while they update.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import ipywidgets as widgets
import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course_utils import featviz, plotting
from course_utils.views import shown

__all__ = ["STEPS", "TOP_K", "Subject", "UnitExplorer", "interactive_explorer", "unit_view"]

STEPS = 128
"""Gradient-ascent steps of one visualisation."""
TOP_K = 8
"""Most-activating images shown per unit."""


@dataclass
class Subject:
    """One model the explorer offers, with the images it searches and how it visualises.

    model: a Keras model taking (N, H, W, C) images in [0, 1].
    images: (N, H, W, C) data set searched for the most-activating inputs (test images, photo
        tiles).
    layers: the layer names offered, in order.
    regularizers: passed to :func:`featviz.activation_maximization`, as are ``where`` and ``lr``.
    """

    model: keras.Model
    images: np.ndarray
    layers: Sequence[str]
    regularizers: tuple = ()
    where: str = "center"
    lr: float = 0.05
    cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.images = np.asarray(self.images, dtype=np.float32)
        self.layers = tuple(self.layers)
        if not self.layers:
            raise ValueError("a Subject needs at least one layer name")
        for layer in self.layers:
            featviz.layer_units(self.model, layer)  # raises a clear error for an unknown name


class UnitExplorer:
    """Models, layers and units for the widget, with everything reusable cached.

    Parameters
    ----------
    subjects : mapping of str to Subject
        Display name -> model, searched images, layers and visualisation settings.

    Examples
    --------
    >>> explorer = UnitExplorer({"MNIST CNN": Subject(cnn, x_test, ["relu1", "relu2"])})  # doctest: +SKIP
    >>> unit_view(explorer, "MNIST CNN", "relu2", 5)  # doctest: +SKIP
    """

    def __init__(self, subjects: Mapping[str, Subject]):
        if not subjects:
            raise ValueError("subjects is empty; give at least one {name: Subject}")
        bad = [name for name, s in subjects.items() if not isinstance(s, Subject)]
        if bad:
            raise ValueError(f"subjects {bad} are not Subject(model, images, layers, ...)")
        self.subjects = dict(subjects)

    def subject(self, model: str) -> Subject:
        """The Subject called ``model``; ValueError listing the names if there is none."""
        if model not in self.subjects:
            raise ValueError(f"unknown model {model!r}; choose one of {list(self.subjects)}")
        return self.subjects[model]

    def layers(self, model: str) -> tuple[str, ...]:
        """Layer names offered for ``model``."""
        return self.subject(model).layers

    def units(self, model: str, layer: str) -> int:
        """Number of units of ``layer``."""
        return featviz.layer_units(self.subject_for(model, layer).model, layer)

    def subject_for(self, model: str, layer: str) -> Subject:
        """The Subject called ``model``, checking that it offers ``layer`` (ValueError if not)."""
        subject = self.subject(model)
        if layer not in subject.layers:
            raise ValueError(f"{model} offers no layer {layer!r}; choose one of {subject.layers}")
        return subject

    def _maxima(self, model: str, layer: str) -> tuple[featviz.UnitMaxima, float]:
        """One pass over the subject's images for all units of ``layer`` (cached), and its time."""
        subject = self.subject_for(model, layer)
        key = ("maxima", layer)
        if key not in subject.cache:
            start = time.perf_counter()
            maxima = featviz.unit_maxima(subject.model, layer, subject.images)
            subject.cache[key] = (maxima, time.perf_counter() - start)
        return subject.cache[key]

    def activations(self, model: str, layer: str, unit: int) -> np.ndarray:
        """How strongly each of the subject's images excites ``unit``: (N,), the feature map's
        largest value, as :func:`featviz.unit_activation` with ``where="max"``."""
        return self._maxima(model, layer)[0].values[:, unit]

    def top(self, model: str, layer: str, unit: int) -> tuple[featviz.TopActivating, float]:
        """The unit's TOP_K most-activating images, and the seconds its layer's search took."""
        subject = self.subject_for(model, layer)
        maxima, seconds = self._maxima(model, layer)
        k = min(TOP_K, len(subject.images))
        return featviz.top_activating(subject.model, layer, unit, subject.images, k=k,
                                      maxima=maxima), seconds

    def visualization(self, model: str, layer: str, unit: int) -> tuple[np.ndarray, float, bool]:
        """The unit's synthesised image, the seconds it took, and whether it came from the cache."""
        subject = self.subject_for(model, layer)
        key = ("visualization", layer, unit, STEPS)
        cached = key in subject.cache
        if not cached:
            start = time.perf_counter()
            image = featviz.activation_maximization(
                subject.model, layer, unit, steps=STEPS, lr=subject.lr,
                regularizers=subject.regularizers, where=subject.where)
            subject.cache[key] = (image, time.perf_counter() - start)
        image, seconds = subject.cache[key]
        return image, seconds, cached


def _show(ax, image: np.ndarray, title: str) -> None:
    grey = image.shape[-1] == 1
    ax.imshow(image[..., 0] if grey else image, cmap=plotting.IMAGE_CMAP if grey else None,
              vmin=0.0, vmax=1.0)
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()


def unit_view(explorer: UnitExplorer, model: str, layer: str, unit: int) -> Figure:
    """One unit: its synthesised image (left) and its most-activating images' crops (right).

    Parameters
    ----------
    explorer : UnitExplorer
        The models and the caches (the widget passes its own).
    model : str
        A name in ``explorer.subjects``.
    layer : str
        One of ``explorer.layers(model)``.
    unit : int
        0 to ``explorer.units(model, layer) - 1``.

    Returns
    -------
    fig : Figure
        The title says how long the unit's visualisation took (or that it came from the cache)
        and how long the search of its layer took; the crops are the receptive fields of the
        strongest position in each image, titled with the activation there.
    """
    subject = explorer.subject_for(model, layer)
    n_units = explorer.units(model, layer)
    if isinstance(unit, bool) or not isinstance(unit, int | np.integer) or not 0 <= unit < n_units:
        raise ValueError(f"unit must be an int from 0 to {n_units - 1} ({layer} has {n_units} "
                         f"units), got {unit!r}")
    top, search_seconds = explorer.top(model, layer, unit)
    image, seconds, cached = explorer.visualization(model, layer, unit)
    reached = float(featviz.unit_activation(subject.model, layer, unit, image[None])[0])
    rf = featviz.receptive_field(subject.model, layer)

    k = len(top.indices)
    ncols = (k + 1) // 2
    fig = plt.figure(figsize=(2.2 * ncols + 3.6, 4.4), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[3.4, 2.2 * ncols])
    ax = left.subplots()
    _show(ax, image, f"gradient ascent: h = {reached:.2f}")
    if subject.where == "center" and rf.stride != (0, 0):
        fmap = subject.model.get_layer(layer).output.shape[1:3]
        top_, left_, bottom, right_ = rf.box(fmap[0] // 2, fmap[1] // 2)
        ax.add_patch(Rectangle((left_ - 0.5, top_ - 0.5), right_ - left_, bottom - top_,
                               fill=False, edgecolor=featviz.BOX_COLOR, linewidth=1.5))
    timing = (f"from the cache (took {seconds:.2f} s)" if cached
              else f"{seconds:.2f} s for this unit ({STEPS} steps)")
    left.suptitle(f"visualisation: {timing}", fontsize=10)
    axes = right.subplots(2, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= k:
            ax.set_visible(False)
            continue
        _show(ax, top.crops[i], f"#{top.indices[i]}: {top.values[i]:.2f}")
    right.suptitle(f"top {k} of {len(subject.images):,} images (receptive field "
                   f"{rf.size[0]}x{rf.size[1]} px); layer searched once in {search_seconds:.1f} s",
                   fontsize=10)
    fig.suptitle(f"{model} · {layer} · unit {unit} of {n_units}")
    return fig


def interactive_explorer(explorer: UnitExplorer) -> widgets.VBox:
    """The widget: model and layer drop-downs, a unit slider, and :func:`unit_view` below them.

    The controls are linked so that every combination is valid: a new model offers its own
    layers (keeping the layer and unit if it has them), a new layer sets the slider's range to its
    units. The figure is redrawn once per change a user makes, never for the intermediate states
    of these updates, so no unit is visualised that nobody asked for. The slider acts on release
    (``continuous_update=False``): each new unit runs gradient ascent.

    Returns
    -------
    widget : ipywidgets.VBox
        Display it (the last expression of a cell); ``widget.children[0].children`` are the
        model, layer and unit controls.
    """
    first = next(iter(explorer.subjects))
    layers = explorer.layers(first)
    start_layer = layers[min(1, len(layers) - 1)]
    model = widgets.Dropdown(options=list(explorer.subjects), value=first, description="model")
    layer = widgets.Dropdown(options=layers, value=start_layer, description="layer")
    unit = widgets.IntSlider(value=0, min=0, max=explorer.units(first, start_layer) - 1,
                             description="unit", continuous_update=False)
    output = widgets.Output()
    draw = shown(unit_view)
    updating = False

    def redraw(_change=None) -> None:
        if updating:
            return
        with output:
            output.clear_output(wait=True)
            draw(explorer, model.value, layer.value, unit.value)

    def on_model(change) -> None:
        nonlocal updating
        options = explorer.layers(change["new"])
        keep = layer.value if layer.value in options else options[min(1, len(options) - 1)]
        wanted = unit.value
        updating = True
        try:
            layer.options = options
            layer.value = keep
            unit.max = explorer.units(change["new"], keep) - 1
            unit.value = min(wanted, unit.max)
        finally:
            updating = False
        redraw()

    def on_layer(change) -> None:
        nonlocal updating
        outer = updating  # part of a model change: that one redraws at its end
        updating = True
        try:
            unit.max = explorer.units(model.value, change["new"]) - 1
        finally:
            updating = outer
        redraw()

    def on_unit(change) -> None:
        redraw()

    model.observe(on_model, names="value")
    layer.observe(on_layer, names="value")
    unit.observe(on_unit, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([model, layer, unit]), output])
