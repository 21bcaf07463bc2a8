"""Feature visualisation: what makes a hidden unit of a trained network respond.

The lecture gives two ways to see what a hidden unit h encodes:

1. **Search the data** for the inputs x with the largest h(x): :func:`top_activating`, which also
   cuts out the part of each image the unit actually sees (:func:`receptive_field`,
   :func:`receptive_field_crops`). Large photos are cut into network-sized tiles first
   (``transforms.cut_tiles``).
2. **Optimise the input**: solve max_x h(x) by gradient ascent on the pixels
   (:func:`activation_maximization`). Alone this gives high activations and unnatural, noisy
   images; regularisers g(x) keep x closer to a natural image (Yosinski et al. 2015, "Understanding
   Neural Networks Through Deep Visualization"; Olah et al. 2017, "Feature Visualization",
   Distill). They are small composable objects, used in any combination: :func:`l2_decay`,
   :func:`tv_penalty`, :func:`jitter` and :func:`blur`.

And the bridge to adversarial examples: :func:`saliency` and :func:`smoothgrad`, the gradient of
a class score with respect to the input pixels of a real image. Figures: :func:`show_grid` (a
table of crops or visualisations drawn as one picture), :func:`show_units`, :func:`show_boxes`
(receptive fields outlined) and :func:`show_saliency`.

A *unit* is one channel of a layer's output: a feature map of a convolutional layer (the same
detector at every position) or one entry of a dense layer. On a feature map, "how strongly an image
excites the unit" is the largest value over all positions (``where="max"``); gradient ascent
drives one neuron, the map's centre (``where="center"``), or the map's mean (``where="mean"``,
Distill's "channel" objective, which fills the whole image with the pattern).

Images are NHWC with pixel values in [0, 1]; layers are picked by name.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course_utils import inspection, kernels, plotting

__all__ = [
    "BOX_COLOR",
    "WHERE",
    "ReceptiveField",
    "Regularizer",
    "TopActivating",
    "UnitMaxima",
    "activation_maximization",
    "blur",
    "feature_model",
    "jitter",
    "l2_decay",
    "layer_units",
    "noise_images",
    "receptive_field",
    "receptive_field_crops",
    "saliency",
    "show_boxes",
    "show_grid",
    "show_saliency",
    "show_units",
    "smoothgrad",
    "top_activating",
    "total_variation",
    "tv_penalty",
    "unit_activation",
    "unit_maxima",
]

WHERE = ("max", "center", "mean")
"""How a feature map becomes one number per image: its largest value, its centre, or its mean."""

BOX_COLOR = "tab:red"
"""Colour of the receptive-field rectangles of :func:`show_boxes`."""

_ASCENT_WHERE = ("center", "mean")
_BATCH_SIZE = 256
# Added to the gradient's norm, so that a flat gradient (a unit that cannot move) gives a zero step.
_TINY = 1e-12


# ------------------------------------------------------------------------------------ layers, units


def _layer(model: keras.Model, layer: str | None) -> keras.Layer:
    """The layer named ``layer`` (None: the model's last layer); ValueError listing the names."""
    names = [lay.name for lay in model.layers if not isinstance(lay, keras.layers.InputLayer)]
    if layer is None:
        return model.layers[-1]
    if not isinstance(layer, str) or layer not in names:
        raise ValueError(f"model {model.name!r} has no layer {layer!r}; its layers are {names}")
    return model.get_layer(layer)


def layer_units(model: keras.Model, layer: str | None) -> int:
    """Number of units (channels) of a layer's output, its last axis.

    Examples
    --------
    >>> layer_units(cnn, "relu2")  # doctest: +SKIP
    32
    """
    return int(_layer(model, layer).output.shape[-1])


def _units(model: keras.Model, layer: str | None, unit) -> tuple[np.ndarray, bool]:
    """Unit indices as an int array, and whether a single int was given; checks the range."""
    n = layer_units(model, layer)
    single = np.ndim(unit) == 0
    units = np.atleast_1d(np.asarray(unit))
    if units.size == 0 or units.ndim != 1 or units.dtype.kind not in "iu":
        raise ValueError(f"unit must be an int or a non-empty sequence of ints, got {unit!r}")
    bad = units[(units < 0) | (units >= n)]
    if bad.size:
        raise ValueError(f"unit {int(bad[0])} is out of range: layer "
                         f"{_layer(model, layer).name!r} has {n} units, numbered 0 to {n - 1}")
    return units.astype(np.int32), single


def _check_where(where: str, allowed: Sequence[str]) -> None:
    if where not in allowed:
        raise ValueError(f"where must be one of {tuple(allowed)}, got {where!r}")


def _is_relu(layer: keras.Layer) -> bool:
    if isinstance(layer, keras.layers.ReLU):
        return True
    activation = getattr(layer, "activation", None)
    return isinstance(layer, keras.layers.Activation) and getattr(activation, "__name__", "") == "relu"


# model -> {(layer name, pre_activation): feature model}; weak, so a dropped model frees its entries.
_FEATURE_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def feature_model(model: keras.Model, layer: str | None, pre_activation: bool = False) -> keras.Model:
    """The part of ``model`` from its input to the output of ``layer`` (shares the weights).

    Parameters
    ----------
    model : keras.Model
        A functional model (or a built Sequential one).
    layer : str or None
        Layer name; None for the model's output.
    pre_activation : bool
        If ``layer`` is a ReLU layer, return its input instead: the same unit before the ReLU.
        Gradient ascent follows this one, because a ReLU that outputs 0 has gradient 0 and would
        never start moving, while the maximiser is the same wherever the unit is active.

    Returns
    -------
    features : keras.Model
        (N, H, W, C) images -> the layer's output, (N, h, w, units) or (N, units). Cached per model
        and layer, so repeated calls (a widget) cost nothing.
    """
    target = _layer(model, layer)
    pre = bool(pre_activation and _is_relu(target))
    cache = _FEATURE_MODELS.setdefault(model, {})
    key = (target.name, pre)
    if key not in cache:
        cache[key] = keras.Model(inspection.model_input(model), target.input if pre else target.output,
                                 name=f"{model.name}_{target.name}{'_pre' if pre else ''}")
    return cache[key]


def _input_shape(model: keras.Model) -> tuple[int, ...]:
    return tuple(int(d) for d in inspection.model_input(model).shape[1:])


def _check_images(model: keras.Model, images, name: str = "images") -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    expected = _input_shape(model)
    if x.ndim != len(expected) + 1 or x.shape[1:] != expected:
        raise ValueError(f"{name} has shape {x.shape}; model {model.name!r} takes a batch "
                         f"(N, {', '.join(map(str, expected))})")
    return x


def _reduce_map(a, where: str):
    """(N, h, w, C) feature maps -> (N, C) by ``where``; (N, C) outputs are returned unchanged."""
    if len(a.shape) != 4:
        return a
    if where == "max":
        return tf.reduce_max(a, axis=(1, 2))
    if where == "center":
        return a[:, a.shape[1] // 2, a.shape[2] // 2, :]
    return tf.reduce_mean(a, axis=(1, 2))


def unit_activation(model: keras.Model, layer: str | None, unit, images, where: str = "max",
                    batch_size: int = _BATCH_SIZE) -> np.ndarray:
    """How strongly each image excites a unit (the layer's output, after its ReLU if any).

    Parameters
    ----------
    model : keras.Model
    layer : str or None
        Layer name; None for the model's output.
    unit : int or sequence of int
        Channel index (or indices) in the layer's output.
    images : array, shape (N, H, W, C)
        A batch of model inputs, pixels in [0, 1].
    where : {"max", "center", "mean"}
        For a feature map: its largest value, its centre value, or its mean.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    activation : float32 array, shape (N,) for one unit, (N, U) for U units

    Examples
    --------
    >>> unit_activation(cnn, "relu2", 5, x_test[:3])  # doctest: +SKIP
    array([0.8, 2.1, 0. ], dtype=float32)
    """
    _check_where(where, WHERE)
    units, single = _units(model, layer, unit)
    x = _check_images(model, images)
    features = feature_model(model, layer)
    rows = [np.asarray(tf.gather(_reduce_map(features(x[i:i + batch_size], training=False), where),
                                 units, axis=1))
            for i in range(0, len(x), batch_size)]
    out = np.concatenate(rows) if rows else np.zeros((0, len(units)), np.float32)
    return out[:, 0] if single else out


# --------------------------------------------------------------------------------- receptive fields


class ReceptiveField(NamedTuple):
    """Which input pixels one position of a layer's output sees, per axis (rows, columns).

    Output position (i, j) sees the input rows ``offset[0] + i * stride[0]`` to that plus
    ``size[0] - 1``, and likewise for columns. ``offset`` is negative where zero padding puts part
    of the field outside the image. A layer without spatial axes (after Flatten, Dense, global
    pooling) sees the whole input: size = the input size, stride 0, offset 0.
    """

    size: tuple[int, int]
    stride: tuple[int, int]
    offset: tuple[int, int]

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) input pixels seen by output position (row, col); bottom and
        right are exclusive, and may lie outside the image."""
        top = self.offset[0] + row * self.stride[0]
        left = self.offset[1] + col * self.stride[1]
        return top, left, top + self.size[0], left + self.size[1]


# Layers that act on every position separately (or not at all): they keep the receptive field.
_POINTWISE = (
    keras.layers.InputLayer, keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.PReLU,
    keras.layers.ELU, keras.layers.Activation, keras.layers.Softmax,
    keras.layers.BatchNormalization, keras.layers.LayerNormalization, keras.layers.Dropout,
    keras.layers.SpatialDropout2D, keras.layers.GaussianNoise, keras.layers.Rescaling,
    keras.layers.Normalization,
)
_WINDOWED = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D,
             keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if np.ndim(value) == 0 else tuple(int(v) for v in value)


def _same_padding_before(n: int, k: int, stride: int) -> int:
    """Rows of zeros TensorFlow's "same" padding puts before an axis of length n."""
    out = -(-n // stride)
    total = max((out - 1) * stride + k - n, 0)
    return total // 2


def _chain_to(model: keras.Model, target: keras.Layer) -> list[keras.Layer]:
    """The layers from the input to ``target``, checking that each takes one input."""
    chain = []
    for layer in model.layers:
        if not isinstance(layer, keras.layers.InputLayer) and isinstance(layer.input, list | tuple):
            raise ValueError(f"receptive_field follows a chain of layers; {layer.name!r} "
                             f"({type(layer).__name__}) has several inputs")
        chain.append(layer)
        if layer is target:
            return chain
    raise ValueError(f"layer {target.name!r} is not part of model {model.name!r}")


def receptive_field(model: keras.Model, layer: str) -> ReceptiveField:
    """The receptive field of one unit of a layer: the input pixels it can depend on.

    Computed exactly from the layers between the input and ``layer``: a window of size k, stride s
    and dilation d widens the field by (d (k - 1)) times the current stride (the "jump") and
    multiplies the jump by s; padding before the image shifts the field's start.

    Parameters
    ----------
    model : keras.Model
        A chain of layers (each takes the previous one's output), such as the course CNNs and
        MobileNet: Conv2D, DepthwiseConv2D, SeparableConv2D, Max/AveragePooling2D, ZeroPadding2D
        and Cropping2D change the field, activations, normalisation, dropout and rescaling do not.
    layer : str
        Layer name.

    Returns
    -------
    rf : ReceptiveField
        ``size``, ``stride`` and ``offset`` per axis; ``rf.box(i, j)`` is the input window of output
        position (i, j).

    Raises
    ------
    ValueError
        Unknown layer, a branching model, or a layer whose effect on positions is not known.

    Examples
    --------
    >>> receptive_field(cnn, "relu2").size  # doctest: +SKIP
    (8, 8)
    """
    target = _layer(model, layer)
    height, width = _input_shape(model)[:2]
    size, jump, start = [1, 1], [1, 1], [0, 0]
    for lay in _chain_to(model, target):
        if len(lay.output.shape) != 4:  # Flatten, Dense, global pooling: every input pixel
            return ReceptiveField((height, width), (0, 0), (0, 0))
        if isinstance(lay, _POINTWISE):
            continue
        if isinstance(lay, keras.layers.ZeroPadding2D):
            (top, _), (left, _) = lay.padding
            start = [start[0] - top * jump[0], start[1] - left * jump[1]]
            continue
        if isinstance(lay, keras.layers.Cropping2D):
            (top, _), (left, _) = lay.cropping
            start = [start[0] + top * jump[0], start[1] + left * jump[1]]
            continue
        if not isinstance(lay, _WINDOWED) or isinstance(lay, keras.layers.Conv2DTranspose):
            raise ValueError(f"receptive_field does not know how layer {lay.name!r} "
                             f"({type(lay).__name__}) moves positions")
        window = _pair(getattr(lay, "kernel_size", None) or lay.pool_size)
        strides = _pair(lay.strides)
        dilation = _pair(getattr(lay, "dilation_rate", 1))
        in_size = lay.input.shape[1:3]
        for axis in range(2):
            extent = dilation[axis] * (window[axis] - 1) + 1
            if lay.padding == "same":
                before = _same_padding_before(int(in_size[axis]), extent, strides[axis])
                start[axis] -= before * jump[axis]
            size[axis] += (extent - 1) * jump[axis]
            jump[axis] *= strides[axis]
    return ReceptiveField(tuple(size), tuple(jump), tuple(start))


def receptive_field_crops(images, rf: ReceptiveField, rows, cols) -> np.ndarray:
    """Cut out of each image the window that one output position sees.

    Parameters
    ----------
    images : array, shape (N, H, W, C)
    rf : ReceptiveField
        From :func:`receptive_field`.
    rows, cols : int arrays, shape (N,)
        Output position of each image.

    Returns
    -------
    crops : array, shape (N, h, w, C) with h = min(rf.size[0], H), w = min(rf.size[1], W)
        Where the field reaches past the border (zero padding, or a field larger than the
        image), the window is moved inside the image: the crop shows what the unit sees plus a
        margin, never padding.
    """
    x = np.asarray(images)
    if x.ndim != 4:
        raise ValueError(f"images has shape {x.shape}; expected an NHWC batch (N, H, W, C)")
    rows, cols = np.asarray(rows, dtype=int).ravel(), np.asarray(cols, dtype=int).ravel()
    if not len(rows) == len(cols) == len(x):
        raise ValueError(f"need one (row, col) per image: {len(x)} images, {len(rows)} rows, "
                         f"{len(cols)} cols")
    height, width = x.shape[1:3]
    h, w = min(rf.size[0], height), min(rf.size[1], width)
    tops = np.clip(rf.offset[0] + rows * rf.stride[0], 0, height - h)
    lefts = np.clip(rf.offset[1] + cols * rf.stride[1], 0, width - w)
    windows = np.lib.stride_tricks.sliding_window_view(x, (h, w), axis=(1, 2))  # (N, ., ., C, h, w)
    crops = windows[np.arange(len(x)), tops, lefts]  # (N, C, h, w)
    return np.moveaxis(crops, 1, -1).copy()


# ---------------------------------------------------------------------------- searching the data


class UnitMaxima(NamedTuple):
    """For every image and unit of a layer: the largest activation and where it is.

    values: (N, C) float32; rows, cols: (N, C) int positions of the largest value in the feature
    map (0 for a layer without spatial axes).
    """

    values: np.ndarray
    rows: np.ndarray
    cols: np.ndarray


def unit_maxima(model: keras.Model, layer: str, images, batch_size: int = _BATCH_SIZE) -> UnitMaxima:
    """The largest activation of every unit of a layer on every image, and its position.

    One pass over the images serves every unit of the layer (what :func:`top_activating` and the
    widget reuse). Parameters as in :func:`unit_activation`.
    """
    x = _check_images(model, images)
    features = feature_model(model, layer)
    values, rows, cols = [], [], []
    for i in range(0, len(x), batch_size):
        a = np.asarray(features(x[i:i + batch_size], training=False))
        if a.ndim == 4:
            flat = a.reshape(len(a), -1, a.shape[-1])
            best = flat.argmax(axis=1)  # (n, C)
            values.append(np.take_along_axis(flat, best[:, None], axis=1)[:, 0])
            rows.append(best // a.shape[2])
            cols.append(best % a.shape[2])
        else:
            values.append(a.reshape(len(a), -1))
            rows.append(np.zeros(values[-1].shape, int))
            cols.append(np.zeros(values[-1].shape, int))
    return UnitMaxima(np.concatenate(values).astype(np.float32), np.concatenate(rows),
                      np.concatenate(cols))


class TopActivating(NamedTuple):
    """The k images that excite a unit most, strongest first.

    indices: (k,) positions in the searched batch; values: (k,) activations (the feature map's
    largest value); positions: (k, 2) (row, col) of that value in the feature map; crops: (k, h, w,
    C) the receptive field of that position in each image. For several units every array gets a
    leading unit axis.
    """

    indices: np.ndarray
    values: np.ndarray
    positions: np.ndarray
    crops: np.ndarray


def top_activating(model: keras.Model, layer: str, unit, images, k: int = 8,
                   maxima: UnitMaxima | None = None) -> TopActivating:
    """The k images of a data set that excite a unit most, and the part of each that it sees.

    The lecture's first method: "go through the dataset and find the inputs that most excite a
    given neuron". For a convolutional unit, an image counts with the largest value of the
    unit's feature map, and the crop is the receptive field of that position.

    Parameters
    ----------
    model : keras.Model
    layer : str
        Layer name.
    unit : int or sequence of int
        Channel(s) of the layer.
    images : array, shape (N, H, W, C)
        The data set to search (test images, or photo tiles from ``transforms.cut_tiles``).
    k : int
        Images per unit, 1 <= k <= N.
    maxima : UnitMaxima, optional
        The result of ``unit_maxima(model, layer, images)``, to reuse one pass over the data
        for many units (default: computed here).

    Returns
    -------
    top : TopActivating
        ``indices``, ``values``, ``positions``, ``crops``; with a leading unit axis if ``unit``
        is a sequence.

    Examples
    --------
    >>> top = top_activating(cnn, "relu2", 5, x_test, k=8)  # doctest: +SKIP
    >>> top.crops.shape  # doctest: +SKIP
    (8, 8, 8, 1)
    """
    units, single = _units(model, layer, unit)
    x = _check_images(model, images)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= len(x):
        raise ValueError(f"k must be an int from 1 to the number of images ({len(x)}), got {k!r}")
    if maxima is None:
        maxima = unit_maxima(model, layer, x)
    elif maxima.values.shape != (len(x), layer_units(model, layer)):
        raise ValueError(f"maxima has shape {maxima.values.shape}, not (images, units) = "
                         f"{(len(x), layer_units(model, layer))}: compute it with unit_maxima on "
                         "the same model, layer and images")
    rf = receptive_field(model, layer)
    values = maxima.values[:, units]  # (N, U)
    order = np.argsort(-values, axis=0, kind="stable")[:k].T  # (U, k)
    top_values = np.take_along_axis(values.T, order, axis=1)
    rows = np.take_along_axis(maxima.rows[:, units].T, order, axis=1)
    cols = np.take_along_axis(maxima.cols[:, units].T, order, axis=1)
    crops = receptive_field_crops(x[order.ravel()], rf, rows.ravel(), cols.ravel())
    crops = crops.reshape(*order.shape, *crops.shape[1:])
    top = TopActivating(order, top_values, np.stack([rows, cols], axis=-1), crops)
    return TopActivating(*(a[0] for a in top)) if single else top


# ------------------------------------------------------------------------------------ regularisers


def total_variation(images) -> np.ndarray:
    """Total variation of each image: the summed absolute differences of neighbouring pixels.

    TV(x) = sum |x[i+1, j] - x[i, j]| + sum |x[i, j+1] - x[i, j]| over rows, columns and channels
    (as ``tf.image.total_variation``). Noise has a large TV, smooth natural images a small one.

    Parameters
    ----------
    images : array, shape (N, H, W, C) or (H, W, C)

    Returns
    -------
    tv : float64 array, shape (N,) (a float for one image)
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim not in (3, 4):
        raise ValueError(f"images has shape {x.shape}; expected (N, H, W, C) or (H, W, C)")
    batch = x if x.ndim == 4 else x[None]
    tv = (np.abs(np.diff(batch, axis=1)).sum(axis=(1, 2, 3))
          + np.abs(np.diff(batch, axis=2)).sum(axis=(1, 2, 3)))
    return tv if x.ndim == 4 else float(tv[0])


@dataclass(frozen=True)
class Regularizer:
    """One regulariser of activation maximisation. Each gradient-ascent step (at rate r)

    1. shows the unit ``transform(x)`` (e.g. a randomly shifted copy),
    2. moves x by r times (the normalised gradient of the unit's activation minus the gradient
       of ``penalty(x)``, the g(x) of the lecture),
    3. applies ``after_step`` (e.g. a blur), then clips the pixels back to [0, 1].

    Build them with :func:`l2_decay`, :func:`tv_penalty`, :func:`jitter`, :func:`blur`; any
    combination is a tuple of them. The base class does nothing.
    """

    def penalty(self, x: tf.Tensor) -> tf.Tensor | None:
        """g(x) summed over the batch, or None for no penalty."""
        return None

    def transform(self, x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """The input the unit sees at this step; ``seed`` is a (2,) int32 stateless seed."""
        return x

    def after_step(self, x: tf.Tensor, step: tf.Tensor, strength: tf.Tensor) -> tf.Tensor:
        """The image after an ascent step (before clipping). ``strength`` in [0, 1] is the
        current rate over the initial one: as the steps shrink, so does the regulariser."""
        return x


@dataclass(frozen=True)
class _L2Decay(Regularizer):
    weight: float
    center: float

    def penalty(self, x):
        return 0.5 * self.weight * tf.reduce_sum(tf.square(x - self.center))

    def __str__(self):
        return f"L2 decay {self.weight:g}"


@dataclass(frozen=True)
class _TVPenalty(Regularizer):
    weight: float

    def penalty(self, x):
        return self.weight * tf.reduce_sum(tf.image.total_variation(x))

    def __str__(self):
        return f"TV {self.weight:g}"


@dataclass(frozen=True)
class _Jitter(Regularizer):
    pixels: int

    def transform(self, x, seed):
        shift = tf.random.stateless_uniform([2], seed=seed, minval=-self.pixels,
                                            maxval=self.pixels + 1, dtype=tf.int32)
        return tf.roll(x, shift, axis=[1, 2])

    def __str__(self):
        return f"jitter {self.pixels} px"


@dataclass(frozen=True)
class _Blur(Regularizer):
    sigma: float
    every: int

    def after_step(self, x, step, strength):
        return tf.cond(step % self.every == self.every - 1,
                       lambda: x + strength * (_gaussian_blur(x, self.sigma) - x), lambda: x)

    def __str__(self):
        return f"blur {self.sigma:g} every {self.every}"


def _positive(value, name: str, integer: bool = False) -> None:
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
        raise ValueError(f"{name} must be a positive {'int' if integer else 'number'}, "
                         f"got {name}={value!r}")


def l2_decay(weight: float = 0.05, center: float = 0.5) -> Regularizer:
    """Penalty g(x) = weight/2 * ||x - center||^2: pulls every pixel towards grey.

    Each step then moves a pixel back by ``lr * weight * (x - center)``: extreme pixel values that
    the unit does not need decay away (Yosinski et al.'s L2 decay).
    """
    _positive(weight, "weight")
    if not 0.0 <= center <= 1.0:
        raise ValueError(f"center must be a pixel value in [0, 1], got {center!r}")
    return _L2Decay(float(weight), float(center))


def tv_penalty(weight: float = 0.05) -> Regularizer:
    """Penalty g(x) = weight * TV(x) (:func:`total_variation`): favours piecewise-smooth images.

    Its gradient is at most 4 * weight per pixel, so ``weight`` is the share of a step it may
    take back.
    """
    _positive(weight, "weight")
    return _TVPenalty(float(weight))


def jitter(pixels: int = 1) -> Regularizer:
    """Show the unit a copy of the image rolled by up to ``pixels`` rows and columns each step.

    A pattern must then excite the unit wherever it sits, which removes the pixel-exact,
    high-frequency patterns that only work at one position (Distill's "transformation
    robustness").
    """
    _positive(pixels, "pixels", integer=True)
    return _Jitter(int(pixels))


def blur(sigma: float = 0.5, every: int = 4) -> Regularizer:
    """Blur the image with a Gaussian of ``sigma`` pixels every ``every`` steps (Yosinski et al.).

    Removes the high frequencies that gradient ascent produces but natural images rarely have.
    As the ascent's steps shrink towards the end, the blurred image is mixed in with a shrinking
    weight (the current rate over the initial one), so that the last steps can settle.
    """
    _positive(sigma, "sigma")
    _positive(every, "every", integer=True)
    return _Blur(float(sigma), int(every))


def _gaussian_blur(x: tf.Tensor, sigma: float) -> tf.Tensor:
    """Blur every channel of an (N, H, W, C) batch; mirror padding keeps the borders' brightness."""
    g = kernels.gaussian_kernel(sigma=sigma, ndim=2)
    half = len(g) // 2
    channels = x.shape[-1]
    w = tf.constant(np.repeat(g[:, :, None, None], channels, axis=2), dtype=x.dtype)
    padded = tf.pad(x, [[0, 0], [half, half], [half, half], [0, 0]], mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, w, strides=[1, 1, 1, 1], padding="VALID")


# --------------------------------------------------------------------------- gradient ascent


def noise_images(model: keras.Model, n: int, seed: int = 0, noise: float = 0.1) -> np.ndarray:
    """Starting points of gradient ascent: grey (0.5) plus Gaussian noise, clipped to [0, 1].

    Returns
    -------
    images : float32 array, shape (n, H, W, C), the model's input shape
    """
    shape = (n, *_input_shape(model))
    rng = np.random.default_rng(seed)
    return np.clip(0.5 + noise * rng.standard_normal(shape), 0.0, 1.0).astype(np.float32)


def _cosine_rate(lr, step, steps):
    """lr at ``step`` of ``steps``: from lr down to 0 along half a cosine."""
    progress = tf.cast(step, tf.float32) / tf.cast(steps, tf.float32)
    return lr * 0.5 * (1.0 + tf.cos(np.pi * progress))


def _normalized(grad):
    """Each image's gradient divided by its root mean square: a typical pixel moves by lr."""
    rms = tf.sqrt(tf.reduce_mean(tf.square(grad), axis=(1, 2, 3), keepdims=True))
    return grad / (rms + _TINY)


# model -> {(layer, where, regularizers): traced ascent function}
_ASCENT_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _ascent_function(model: keras.Model, layer: str | None, where: str,
                     regularizers: tuple[Regularizer, ...]):
    """The compiled ascent loop for a batch, one image per unit; traced once per setting."""
    cache = _ASCENT_FUNCTIONS.setdefault(model, {})
    key = (layer, where, regularizers)
    if key in cache:
        return cache[key]
    features = feature_model(model, layer, pre_activation=True)
    penalties = [r for r in regularizers if type(r).penalty is not Regularizer.penalty]

    def objective(x, units, seed, step, transformed=True):
        seen = x
        for i, r in enumerate(regularizers if transformed else ()):
            seen = r.transform(seen, tf.stack([seed + i, step]))
        h = _reduce_map(features(seen, training=False), where)
        return tf.gather(h, units, axis=1, batch_dims=1)  # (N,): image i drives unit i

    @tf.function(reduce_retracing=True)
    def ascend(x, units, steps, lr, seed):
        for step in tf.range(steps):
            with tf.GradientTape() as tape:
                tape.watch(x)
                # The images are independent, so the gradient of the sum is each one's own.
                total = tf.reduce_sum(objective(x, units, seed, step))
            grad = _normalized(tape.gradient(total, x))
            if penalties:
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    g = tf.add_n([r.penalty(x) for r in penalties])
                grad -= tape.gradient(g, x)
            rate = _cosine_rate(lr, step, steps)
            x = x + rate * grad
            for r in regularizers:
                x = r.after_step(x, step, rate / lr)
            x = tf.clip_by_value(x, 0.0, 1.0)  # the projection back to valid pixels
        return x, objective(x, units, seed, steps, transformed=False)

    cache[key] = ascend
    return ascend


def activation_maximization(model: keras.Model, layer: str | None, unit, steps: int = 128,
                            lr: float = 0.05, regularizers: Sequence[Regularizer] = (),
                            where: str = "center", restarts: int = 1, start=None,
                            seed: int = 0) -> np.ndarray:
    """Synthesise the input that excites a unit most: gradient ascent on the pixels.

    Step t: x <- clip(x + r_t (grad h(x) / rms(grad h(x)) - grad g(x)), 0, 1), where h is the
    unit's activation (before its ReLU, see :func:`feature_model`), g the sum of the
    regularisers' penalties, and the rate r_t falls from ``lr`` to 0 along half a cosine (big
    steps to explore, small ones to settle). Jitter and blur act before and after each step (see
    :class:`Regularizer`). Dividing the gradient by its root mean square makes ``lr`` the typical
    pixel change of a step whatever the scale of the unit, so that one setting serves every
    layer. All units (and restarts) run together, one image each, in one compiled loop.

    Parameters
    ----------
    model : keras.Model
        Takes (N, H, W, C) inputs in [0, 1]. For a class, pass ``inspection.logits_model(model)``
        and ``layer=None``.
    layer : str or None
        Layer name; None for the model's output.
    unit : int or sequence of int
        Channel(s) to maximise; a sequence gives one image per unit.
    steps : int
        Ascent steps.
    lr : float
        Initial rate: the typical pixel change of a step (pixel values are in [0, 1]).
    regularizers : sequence of Regularizer
        Any of :func:`l2_decay`, :func:`tv_penalty`, :func:`jitter`, :func:`blur`.
    where : {"center", "mean"}
        For a feature map: maximise the neuron at its centre, or the mean over all positions.
    restarts : int
        Ascents from different random starts per unit; the one reaching the highest objective is
        kept. Gradient ascent finds a local maximum, and a few starts find a better one.
    start : array, optional
        Starting image(s), (H, W, C) or (U, H, W, C); default :func:`noise_images`. Only with
        ``restarts=1``.
    seed : int
        Seed of the starting noise and of the jitter.

    Returns
    -------
    images : float32 array, shape (H, W, C) for one unit, (U, H, W, C) for U units
        Pixel values in [0, 1].

    Raises
    ------
    ValueError
        Unknown layer, a unit out of range, bad ``steps``, ``lr``, ``where`` or ``restarts``, or a
        ``start`` of the wrong shape.

    Examples
    --------
    >>> smooth = (jitter(1), tv_penalty(0.1), l2_decay(0.1), blur(1.0, every=2))
    >>> x = activation_maximization(cnn, "relu2", 5, regularizers=smooth)  # doctest: +SKIP
    >>> x.shape  # doctest: +SKIP
    (28, 28, 1)
    """
    _check_where(where, _ASCENT_WHERE)
    units, single = _units(model, layer, unit)
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    _positive(lr, "lr")
    _positive(restarts, "restarts", integer=True)
    regularizers = tuple(regularizers)
    if not all(isinstance(r, Regularizer) for r in regularizers):
        raise ValueError("regularizers must be made by l2_decay, tv_penalty, jitter or blur, got "
                         f"{regularizers!r}")
    n = len(units) * restarts
    if start is None:
        x0 = noise_images(model, n, seed)
    elif restarts != 1:
        raise ValueError("start gives the starting images, so it needs restarts=1")
    else:
        x0 = np.asarray(start, dtype=np.float32)
        x0 = np.broadcast_to(x0, (n, *x0.shape)) if x0.ndim == len(_input_shape(model)) else x0
        x0 = _check_images(model, x0, "start")
        if len(x0) != n:
            raise ValueError(f"start holds {len(x0)} images for {n} units")
    ascend = _ascent_function(model, layer, where, regularizers)
    x, reached = ascend(tf.constant(x0), tf.constant(np.tile(units, restarts)),
                        tf.constant(int(steps)), tf.constant(float(lr), tf.float32),
                        tf.constant(int(seed) % 2**31))
    # Restart r of unit u is image r * U + u: pick the best restart of every unit.
    x = np.asarray(x).reshape(restarts, len(units), *x0.shape[1:])
    best = np.asarray(reached).reshape(restarts, len(units)).argmax(axis=0)
    x = x[best, np.arange(len(units))]
    return x[0] if single else x


# ------------------------------------------------------------------------------------------ saliency


# model -> compiled gradient of its class scores (logits), so that repeated calls do not retrace.
_SCORE_GRADIENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _score_gradient_function(model: keras.Model):
    if model not in _SCORE_GRADIENTS:
        logits = inspection.logits_model(model)

        @tf.function(reduce_retracing=True)
        def score_gradients(x, classes):
            with tf.GradientTape() as tape:
                tape.watch(x)
                scores = tf.gather(logits(x, training=False), classes, axis=1, batch_dims=1)
            return tape.gradient(scores, x)

        _SCORE_GRADIENTS[model] = (score_gradients, int(logits.output.shape[-1]))
    return _SCORE_GRADIENTS[model]


def _classes(class_index, n: int, n_classes: int) -> np.ndarray:
    c = np.asarray(class_index)
    if c.dtype.kind not in "iu" or c.ndim > 1 or (c.ndim == 1 and len(c) != n):
        raise ValueError(f"class_index must be one int or one int per image ({n}), got {class_index!r}")
    if c.min() < 0 or c.max() >= n_classes:
        raise ValueError(f"class_index must be in 0..{n_classes - 1}, got {class_index!r}")
    return np.broadcast_to(c, (n,)).astype(np.int32)


def saliency(model: keras.Model, x, class_index) -> np.ndarray:
    """Gradient of a class score with respect to the input pixels (Simonyan et al. 2014).

    The score is the class's logit (the input of the softmax, :func:`inspection.logits_model`),
    whose gradient does not vanish when the network is confident. Large |gradient| marks the
    pixels whose change would change the score most: the direction an adversarial example
    (notebook 08) follows.

    Parameters
    ----------
    model : keras.Model
        A classifier with a softmax (or linear) output.
    x : array, shape (N, H, W, C)
        Images in [0, 1].
    class_index : int or int array of shape (N,)
        Class whose score is differentiated, for all images or per image.

    Returns
    -------
    gradients : float32 array, shape (N, H, W, C)
        Signed d score / d pixel.

    Examples
    --------
    >>> g = saliency(cnn, x_test[:4], y_test[:4])  # doctest: +SKIP
    >>> np.abs(g).max(axis=-1).shape  # doctest: +SKIP
    (4, 28, 28)
    """
    gradients, n_classes = _score_gradient_function(model)
    images = _check_images(model, x, "x")
    classes = _classes(class_index, len(images), n_classes)
    return np.asarray(gradients(tf.constant(images), tf.constant(classes)))


def smoothgrad(model: keras.Model, x, class_index, samples: int = 32, noise: float = 0.15,
               seed: int = 0) -> np.ndarray:
    """SmoothGrad (Smilkov et al. 2017): the saliency averaged over noisy copies of each image.

    The plain gradient jumps from pixel to pixel (the network is piecewise linear, and tiny
    changes switch ReLUs); averaging over x + N(0, noise^2) keeps what is stable and shows the
    object instead of speckle.

    Parameters
    ----------
    model, x, class_index
        As in :func:`saliency`.
    samples : int
        Noisy copies per image.
    noise : float
        Standard deviation of the Gaussian noise, in pixel values (the range is [0, 1]).
    seed : int

    Returns
    -------
    gradients : float32 array, shape (N, H, W, C)
    """
    _positive(samples, "samples", integer=True)
    _positive(noise, "noise")
    gradients, n_classes = _score_gradient_function(model)
    images = _check_images(model, x, "x")
    classes = _classes(class_index, len(images), n_classes)
    rng = np.random.default_rng(seed)
    total = np.zeros_like(images)
    per_batch = max(1, _BATCH_SIZE // max(1, len(images)))
    for first in range(0, samples, per_batch):
        n = min(per_batch, samples - first)
        noisy = images[None] + noise * rng.standard_normal((n, *images.shape)).astype(np.float32)
        grads = gradients(tf.constant(noisy.reshape(-1, *images.shape[1:])),
                          tf.constant(np.tile(classes, n)))
        total += np.asarray(grads).reshape(n, *images.shape).sum(axis=0)
    return total / samples


# ------------------------------------------------------------------------------------------- figures


def _pixel_display(first: np.ndarray) -> dict:
    """imshow settings for images in [0, 1]: grey for one channel, as they are for RGB."""
    return {"cmap": plotting.IMAGE_CMAP if first.shape[-1] == 1 else None, "vmin": 0.0, "vmax": 1.0}


def show_units(images, row_labels: Sequence[str], ncols: int, titles: Sequence[str] | None = None,
               suptitle: str | None = None, size: float = 1.3) -> Figure:
    """A grid with one row per unit, e.g. its visualisation followed by its top crops.

    Parameters
    ----------
    images : array of shape (rows * ncols, h, w, C), or a list of (h, w, C) arrays
        In row order; a list may mix sizes (a visualisation next to smaller crops). Pixel values
        in [0, 1], grey (C = 1) or RGB (C = 3).
    row_labels : sequence of str
        One label per row, written left of the row.
    ncols : int
        Images per row.
    titles : sequence of str, optional
        One per image ("" for none).
    suptitle : str, optional
    size : float
        Inches per image.

    Returns
    -------
    fig : Figure
    """
    items = [np.asarray(img) for img in images]
    if len(items) != len(row_labels) * ncols or any(img.ndim != 3 for img in items):
        raise ValueError(f"got {len(items)} images: need {len(row_labels)} rows of {ncols} "
                         "(h, w, C) images")
    fig = plotting.show_images(items, titles=titles, ncols=ncols, suptitle=suptitle, size=size,
                               **_pixel_display(items[0]))
    axes = [ax for ax in fig.axes if ax.get_visible()]
    for r, label in enumerate(row_labels):
        ax = axes[r * ncols]
        ax.set_axis_on()  # an axis label needs a visible axis; hide everything else of it
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    return fig


def show_grid(images, row_labels: Sequence[str] | None = None,
              col_labels: Sequence[str] | None = None, title: str | None = None,
              ax: Axes | None = None, size: float = 0.8) -> Figure:
    """A rows x columns table of equally sized images, drawn as one picture (fast for many).

    Parameters
    ----------
    images : array, shape (rows, cols, h, w, C)
        Pixel values in [0, 1], grey (C = 1) or RGB (C = 3); white lines separate them.
    row_labels, col_labels : sequence of str, optional
        Written left of the rows and above the columns.
    title : str, optional
    ax : Axes, optional
        Draw into this Axes; default a new figure.
    size : float
        Inches per image (for a new figure).

    Returns
    -------
    fig : Figure
        The new figure, or the one ``ax`` belongs to.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 5 or x.shape[-1] not in (1, 3):
        raise ValueError(f"images has shape {x.shape}; expected (rows, cols, h, w, 1 or 3)")
    rows, cols, h, w, channels = x.shape
    for labels, n, what in ((row_labels, rows, "rows"), (col_labels, cols, "columns")):
        if labels is not None and len(labels) != n:
            raise ValueError(f"got {len(labels)} labels for {n} {what}")
    gap = max(1, h // 10)
    padded = np.pad(x, ((0, 0), (0, 0), (0, gap), (0, gap), (0, 0)), constant_values=1.0)
    canvas = padded.transpose(0, 2, 1, 3, 4).reshape(rows * (h + gap), cols * (w + gap), channels)
    canvas = canvas[:-gap, :-gap]
    if ax is None:
        fig, ax = plt.subplots(figsize=(size * cols + 1.2, size * rows + 0.5), layout="constrained")
    else:
        fig = ax.figure
    ax.imshow(canvas[..., 0] if channels == 1 else np.clip(canvas, 0.0, 1.0),
              cmap=plotting.IMAGE_CMAP if channels == 1 else None, vmin=0.0, vmax=1.0,
              interpolation="nearest")
    centres_y = np.arange(rows) * (h + gap) + (h - 1) / 2
    centres_x = np.arange(cols) * (w + gap) + (w - 1) / 2
    ax.set_yticks(centres_y, row_labels if row_labels is not None else [""] * rows)
    ax.set_xticks(centres_x, col_labels if col_labels is not None else [""] * cols)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title)
    return fig


def show_boxes(images, boxes, titles: Sequence[str] | None = None, suptitle: str | None = None,
               ncols: int | None = None, size: float = 1.8) -> Figure:
    """Images with a rectangle each, e.g. the receptive field that excites a unit most.

    Parameters
    ----------
    images : array, shape (N, H, W, C)
        Pixel values in [0, 1].
    boxes : sequence of (top, left, bottom, right)
        One per image, in pixels, bottom and right exclusive (:meth:`ReceptiveField.box`).
    titles, suptitle, ncols, size
        As in :func:`plotting.show_images`.

    Returns
    -------
    fig : Figure
    """
    x = np.asarray(images)
    boxes = [tuple(int(v) for v in b) for b in boxes]
    if x.ndim != 4 or len(boxes) != len(x):
        raise ValueError(f"need an (N, H, W, C) batch and one box per image, got {x.shape} and "
                         f"{len(boxes)} boxes")
    fig = plotting.show_images(x, titles=titles, ncols=ncols, suptitle=suptitle, size=size,
                               **_pixel_display(x))
    for ax, (top, left, bottom, right) in zip([a for a in fig.axes if a.get_visible()], boxes,
                                              strict=True):
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False,
                               edgecolor=BOX_COLOR, linewidth=1.5))
    return fig


def show_saliency(images, gradients, titles: Sequence[str] | None = None,
                  suptitle: str | None = None, ncols: int | None = None,
                  size: float = 2.0) -> Figure:
    """Images with their saliency |gradient| (largest over colour channels) over them in colour.

    Parameters
    ----------
    images : array, shape (N, H, W, C)
        Pixel values in [0, 1].
    gradients : array, same shape
        From :func:`saliency` or :func:`smoothgrad`.
    titles, suptitle, ncols, size
        As in :func:`plotting.show_images`.

    Returns
    -------
    fig : Figure
        Each map is scaled to its own 99th percentile and drawn transparent where it is small,
        so that the image shows through.
    """
    x, g = np.asarray(images), np.asarray(gradients)
    if x.shape != g.shape or x.ndim != 4:
        raise ValueError(f"images {x.shape} and gradients {g.shape} must be the same (N, H, W, C)")
    magnitude = np.abs(g).max(axis=-1)
    scale = np.percentile(magnitude.reshape(len(g), -1), 99, axis=1)[:, None, None]
    heat = np.clip(magnitude / np.where(scale > 0, scale, 1.0), 0.0, 1.0)
    overlay = plt.get_cmap(plotting.MAGNITUDE_CMAP)(heat)  # (N, H, W, 4)
    overlay[..., 3] = 0.85 * heat
    fig = plotting.show_images(x, titles=titles, ncols=ncols, suptitle=suptitle, size=size,
                               **_pixel_display(x))
    for ax, layer in zip([a for a in fig.axes if a.get_visible()], overlay, strict=True):
        ax.imshow(layer)
    return fig
