"""What a trained network computes: activations, logits, predictions, and measurements on them.

* :func:`activations`: the outputs of named layers for a batch (feature maps, hidden units).
* :func:`logits_model`: the pre-softmax scores of a classifier, whose gradients do not vanish
  (feature visualisation and adversarial attacks differentiate them).
* :func:`predicted_classes`: argmax classes, by a direct call (fast for small batches).
* :func:`edge_similarity` / :func:`edge_likeness`: how much a filter looks like an oriented edge
  detector (the lecture: "lots of edge detectors in the first layer!").
* :func:`shift_sensitivity`: how much a representation changes when the input moves by a pixel
  or two (the lecture: pooling "improves shift-invariance").

Images are NHWC, pixel values in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import keras
import numpy as np

from course_utils.kernels import directional_edge_kernel
from course_utils.transforms import shift_images

__all__ = [
    "EDGE_ANGLES",
    "activations",
    "edge_likeness",
    "edge_similarity",
    "logits_model",
    "model_input",
    "predicted_classes",
    "shift_sensitivity",
]


# ------------------------------------------------------------------------------------ layer outputs


def _layer_map(model: keras.Model) -> dict[str, keras.Layer]:
    return {layer.name: layer for layer in model.layers
            if not isinstance(layer, keras.layers.InputLayer)}


def model_input(model: keras.Model):
    """The one input tensor of a model, to build probe models on (``keras.Model(input, ...)``).

    Parameters
    ----------
    model : keras.Model
        A functional model, or a Sequential one that has been built (created with
        ``keras.Input`` or called on data).

    Returns
    -------
    input : KerasTensor
        A single tensor, not a one-element list: a model built on a list expects a list when
        called, and warns on every call with a plain batch.

    Raises
    ------
    ValueError
        If the model has no defined input yet, or more than one.
    """
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):  # a Sequential model that was never built
        inputs = None
    if not inputs:
        raise ValueError(f"model {model.name!r} has no defined input yet: create it with "
                         "keras.Input or call it on a batch first")
    if len(inputs) != 1:
        raise ValueError(f"model {model.name!r} has {len(inputs)} inputs; these tools take "
                         "models with one input")
    return inputs[0]


def activations(model: keras.Model, x, layer_names: Sequence[str] | None = None,
                batch_size: int = 256) -> dict[str, np.ndarray]:
    """Outputs of named layers for an input batch, in inference mode.

    Parameters
    ----------
    model : keras.Model
        A functional model, or a Sequential one that has been built (created with
        ``keras.Input`` or called on data).
    x : array, shape (N, ...)
        Input batch of the model's input shape.
    layer_names : sequence of str, optional
        Layers to read out; default every layer (except the input).
    batch_size : int
        Images per forward pass.

    Returns
    -------
    outputs : dict
        {layer name: (N, ...) array}, in the order of ``layer_names``.

    Examples
    --------
    >>> acts = activations(model, images[:8], ["relu1", "pool1"])  # doctest: +SKIP
    >>> acts["relu1"].shape  # doctest: +SKIP
    (8, 26, 26, 16)
    """
    inputs = model_input(model)
    layers = _layer_map(model)
    names = list(layers) if layer_names is None else list(layer_names)
    unknown = [n for n in names if n not in layers]
    if unknown:
        raise ValueError(f"model {model.name!r} has no layer {unknown}; its layers are "
                         f"{list(layers)}")
    expected = tuple(model.inputs[0].shape[1:])
    if tuple(np.shape(x)[1:]) != expected:
        raise ValueError(f"x has shape {np.shape(x)}, the model expects (N, "
                         f"{', '.join(map(str, expected))})")
    probe = keras.Model(inputs, {n: layers[n].output for n in names})
    outputs = probe.predict(x, batch_size=batch_size, verbose=0)
    return {n: np.asarray(outputs[n]) for n in names}


class _SharedLinear(keras.layers.Layer):
    """The affine part ``x @ W + b`` of a Dense layer, using that layer's own variables."""

    def __init__(self, dense: keras.layers.Dense, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense

    def call(self, x):
        z = keras.ops.matmul(x, self.dense.kernel)
        return z + self.dense.bias if self.dense.use_bias else z


def logits_model(model: keras.Model) -> keras.Model:
    """The same classifier without its final softmax: it outputs the logits z, p = softmax(z).

    Parameters
    ----------
    model : keras.Model
        A functional (or built Sequential) classifier whose last layer is a ``Dense`` layer with
        a softmax activation (the course's networks) or a softmax ``Activation`` layer (Keras'
        ImageNet models). A model whose last layer is already linear is returned as it is.

    Returns
    -------
    logits : keras.Model
        Same input, (N, n_classes) logits; it shares every weight with ``model`` (no copy), so it
        always agrees with it: ``softmax(logits(x)) == model(x)``.

    Notes
    -----
    In float32, softmax saturates: a confidently classified image has p = 1.0 exactly, so the
    gradient of log p through the softmax is 0 and gradient-based methods stall. The gradient of
    the logits, or of a cross-entropy computed from them, does not vanish.
    """
    inputs = model_input(model)
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    name = getattr(activation, "__name__", str(activation))
    if name == "linear":
        return model
    if name != "softmax":
        raise ValueError(f"the last layer of {model.name!r} ({last.name}) has activation {name!r}; "
                         "logits_model needs a softmax (or linear) output")
    if isinstance(last, keras.layers.Dense):
        outputs = _SharedLinear(last, name=f"{last.name}_logits")(last.input)
    else:
        outputs = last.input
    return keras.Model(inputs, outputs, name=f"{model.name}_logits")


def predicted_classes(model, x) -> np.ndarray:
    """Argmax classes of a Keras classifier for a batch.

    Parameters
    ----------
    model : keras.Model
        Outputs (n, n_classes) scores.
    x : array, shape (n, ...)
        Inputs.

    Returns
    -------
    classes : int array, shape (n,)

    Notes
    -----
    Calls the model directly (no ``predict``): for the small batches of the widgets this skips
    tracing a predict function for every new model. Use ``model.predict`` for big batches.
    """
    return np.asarray(model(np.asarray(x), training=False)).argmax(axis=1)


# ------------------------------------------------------------------------------------ edge filters


# Edge normals theta and theta + 180 give the same kernel up to sign, so half a turn covers every
# orientation; 1-degree steps put every orientation within 0.5 degrees of a sampled one, which
# lowers a perfect score by at most 1 - cos(0.5 deg) = 4e-5.
EDGE_ANGLES = np.arange(0.0, 180.0, 1.0)


# ------------------------------------------------------------------------------------ edge filters


def _as_filter_stack(filters) -> np.ndarray:
    """(kh, kw, c_in, n) Keras kernel or (n, kh, kw) stack -> (n, kh, kw) float64.

    A Keras kernel with several input channels is averaged over them, as ``show_filters`` shows it.
    """
    f = np.asarray(filters, dtype=np.float64)
    if f.ndim == 4:
        f = np.moveaxis(f.mean(axis=2), -1, 0)
    elif f.ndim != 3:
        raise ValueError(f"filters has shape {f.shape}; expected a Conv2D kernel (kh, kw, c_in, n) "
                         "or a stack of 2D filters (n, kh, kw)")
    n, kh, kw = f.shape
    if n == 0 or kh != kw or kh < 3 or kh % 2 == 0:
        raise ValueError(f"filters has shape {f.shape}: need at least one square filter with an "
                         "odd side >= 3 (the sizes of the oriented edge kernels)")
    if not np.isfinite(f).all():
        raise ValueError("filters contain NaN or inf")
    return f


def _unit_rows(a: np.ndarray) -> np.ndarray:
    """Rows of a (m, d) array scaled to unit L2 norm; all-zero rows stay zero."""
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return np.divide(a, norms, out=np.zeros_like(a), where=norms > 0)


def edge_similarity(filters, angles: Sequence[float] = EDGE_ANGLES) -> np.ndarray:
    """|cosine similarity| of every filter, mean removed, with oriented edge kernels.

    filters: (kh, kw, c_in, n) Conv2D kernel (``layer.get_weights()[0]``; input channels are
        averaged) or an (n, k, k) stack; square with an odd side k >= 3.
    angles: edge normals theta in degrees of ``kernels.directional_edge_kernel(theta, k)``
        (theta = 0: vertical edges, like Sobel-x; 90: horizontal edges).
    The filter's mean is removed first, so a filter that responds to an edge plus the average
    brightness still counts as an edge detector (the edge kernels themselves sum to 0). A
    constant filter has no direction and scores 0.
    Returns an (n, len(angles)) array in [0, 1]; 1 means the filter is that edge kernel up to
    scale and sign.
    """
    f = _as_filter_stack(filters)
    angles = np.asarray(angles, dtype=np.float64).ravel()
    if angles.size == 0:
        raise ValueError("angles is empty; pass at least one angle in degrees")
    size = f.shape[1]
    edges = np.stack([directional_edge_kernel(theta, size).ravel() for theta in angles])
    centred = f.reshape(len(f), -1)
    centred = centred - centred.mean(axis=1, keepdims=True)
    return np.abs(_unit_rows(centred) @ _unit_rows(edges).T)


def edge_likeness(filters, angles: Sequence[float] = EDGE_ANGLES) -> tuple[np.ndarray, np.ndarray]:
    """How edge-like each filter is: its best |cosine similarity| with an oriented edge kernel.

    filters, angles: as in :func:`edge_similarity`.
    Returns (scores, best_angles): two (n,) arrays, the best score in [0, 1] and the edge normal
    (degrees, from ``angles``) where it is reached. For reference: a Sobel kernel scores 1; the
    mean-removed 3x3 filters of i.i.d. noise score about 0.45 (median), since the edge kernels
    span 2 of the 8 dimensions of mean-free 3x3 filters.
    """
    angles = np.asarray(angles, dtype=np.float64).ravel()
    similarity = edge_similarity(filters, angles)
    best = similarity.argmax(axis=1)
    return similarity[np.arange(len(similarity)), best], angles[best]



# --------------------------------------------------------------------------------- shift invariance


def _relative_change(reference: np.ndarray, shifted: np.ndarray) -> np.ndarray:
    """||shifted - reference|| / ||reference|| per image: (N, ...) and (S, N, ...) -> (S, N)."""
    ref = reference.reshape(len(reference), -1).astype(np.float64)
    moved = shifted.reshape(shifted.shape[0], len(reference), -1).astype(np.float64)
    norms = np.linalg.norm(ref, axis=1)
    change = np.linalg.norm(moved - ref, axis=2)
    return np.divide(change, norms, out=np.full(change.shape, np.nan), where=norms > 0)


def shift_sensitivity(feature_fn: Callable[[np.ndarray], np.ndarray | Mapping[str, np.ndarray]],
                      images, shifts: Sequence[tuple[int, int]]
                      ) -> np.ndarray | dict[str, np.ndarray]:
    """Relative change of a representation when the input is shifted by a few pixels.

    feature_fn: maps an (M, H, W, C) batch to (M, ...) features, or to a dict of such arrays
        (e.g. several layers of one network at once). It is called once, on the originals and all
        shifted copies stacked together.
    images: (N, H, W, C) batch. shifts: (dy, dx) pixel shifts, see :func:`shift_images`.
    For image i and shift s the result is ||f(shift_s(x_i)) - f(x_i)|| / ||f(x_i)|| (L2 norms over
    all feature entries): 0 means the features ignore the shift; sqrt(2) = 1.41 means the shifted
    features have the same norm but no overlap with the original ones (orthogonal vectors).
    Images whose features are all zero give NaN.
    Returns an (len(shifts), N) array, or a dict of them if ``feature_fn`` returns a dict.
    """
    x = np.asarray(images)
    if x.ndim != 4:
        raise ValueError(f"images has shape {x.shape}; expected an NHWC batch (N, H, W, C)")
    pairs = np.asarray(shifts)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) == 0 or pairs.dtype.kind not in "iu":
        raise ValueError(f"shifts must be a non-empty list of (dy, dx) pairs of ints, got {shifts}")
    batch = np.concatenate([x] + [shift_images(x, int(dy), int(dx)) for dy, dx in pairs])
    outputs = feature_fn(batch)

    def split(features) -> np.ndarray:
        features = np.asarray(features)
        if len(features) != len(batch):
            raise ValueError(f"feature_fn returned {len(features)} rows for {len(batch)} images; "
                             "it must return one feature array per input image")
        reference, moved = features[: len(x)], features[len(x):]
        return _relative_change(reference, moved.reshape(len(pairs), *reference.shape))

    if isinstance(outputs, Mapping):
        return {name: split(features) for name, features in outputs.items()}
    return split(outputs)
