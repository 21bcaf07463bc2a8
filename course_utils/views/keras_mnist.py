"""Widget of notebook 03 (a dense network on MNIST): one test image and its predicted probabilities.

Examples
--------
>>> from ipywidgets import fixed, interact
>>> from course_utils.views import shown
>>> interact(shown(prediction_view), model=fixed(model), images=fixed(x_test),
...          labels=fixed(y_test), class_names=fixed(data.MNIST_CLASSES),
...          **prediction_controls(len(x_test), start=0))  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from ipywidgets import IntSlider
from matplotlib.figure import Figure

from course_utils import plotting

__all__ = ["prediction_controls", "prediction_view"]

# Descriptions take the width they need instead of ipywidgets' fixed 80 px, which cuts longer
# labels short.
LABEL_STYLE = {"description_width": "initial"}


def _model_input(model, image: np.ndarray) -> np.ndarray:
    """One image as a batch of one in the model's input shape (a dense net takes the flat vector)."""
    shape = getattr(model, "input_shape", None)
    if shape is None:
        return image[None]
    shape = tuple(shape[1:])
    if math.prod(shape) != image.size:
        raise ValueError(f"the image has shape {image.shape} ({image.size} values) but the model "
                         f"takes inputs of shape {shape}")
    return image.reshape((1, *shape))


def prediction_view(model, images, labels, index: int = 0,
                    class_names: Sequence[str] | None = None) -> Figure:
    """One test image next to the model's predicted class probabilities.

    Parameters
    ----------
    model : keras.Model or similar
        A classifier whose ``predict(batch, verbose=0)`` returns (1, n_classes) probabilities,
        e.g. a Keras softmax model. The image is reshaped to the model's ``input_shape`` (a dense
        network takes the flattened 784-vector).
    images : array, shape (N, H, W) or (N, H, W, 1)
        Images, values in [0, 1].
    labels : array of int, shape (N,)
        Their true classes.
    index : int
        Which image, 0 to N-1.
    class_names : sequence of str, optional
        One name per class (default "0", "1", ...).

    Returns
    -------
    fig : matplotlib.figure.Figure
        Two Axes: the image, titled with its index and true label, and the bar chart of
        :func:`course_utils.plotting.plot_probabilities` (the true class in green; the predicted
        one in red when it is wrong).

    Raises
    ------
    ValueError
        If the images and labels do not match, ``index`` is out of range, or the image does not
        fit the model's input shape.

    Examples
    --------
    >>> fig = prediction_view(model, x_test, y_test, index=0)  # doctest: +SKIP
    >>> fig.axes[0].get_title()  # doctest: +SKIP
    'test image 0: true 7'
    """
    images, labels = np.asarray(images), np.asarray(labels).ravel()
    if images.ndim not in (3, 4) or len(images) != len(labels):
        raise ValueError(f"need (N, H, W) or (N, H, W, 1) images and N labels, got images of shape "
                         f"{images.shape} and {len(labels)} labels")
    if (isinstance(index, bool) or not isinstance(index, (int, np.integer))
            or not 0 <= index < len(images)):
        raise ValueError(f"index must be an int in 0..{len(images) - 1} (there are {len(images)} "
                         f"images), got index={index!r}")
    image, label = images[index], int(labels[index])
    probs = np.asarray(model.predict(_model_input(model, image), verbose=0))[0]
    predicted = int(probs.argmax())
    names = [str(i) for i in range(len(probs))] if class_names is None else list(class_names)
    fig, (ax_image, ax_probs) = plt.subplots(1, 2, figsize=(8.5, 4.2), width_ratios=[1, 1.3],
                                             layout="constrained")
    ax_image.imshow(np.squeeze(image), cmap=plotting.IMAGE_CMAP, vmin=0.0, vmax=1.0)
    ax_image.set_axis_off()
    ax_image.set_title(f"test image {index}: true {names[label]}")
    title = f"predicted {names[predicted]} ({probs[predicted]:.0%})"
    if predicted == label:
        title += ": right"
    else:
        title += f": wrong, true {names[label]} has {probs[label]:.0%}"
    plotting.plot_probabilities(probs, class_names=names, true_label=label, ax=ax_probs,
                                title=title)
    return fig


def prediction_controls(n_images: int, start: int = 0) -> dict[str, IntSlider]:
    """The slider of :func:`prediction_view`, for ``interact``.

    Parameters
    ----------
    n_images : int
        Number of images the slider chooses from (its maximum is ``n_images - 1``).
    start : int
        The image shown first.

    Returns
    -------
    controls : dict
        ``index``: the image slider. It updates on release (each step runs the model and redraws),
        and the arrow keys step through the images one by one.
    """
    if isinstance(n_images, bool) or not isinstance(n_images, (int, np.integer)) or n_images < 1:
        raise ValueError(f"n_images must be an int >= 1, got n_images={n_images!r}")
    if not 0 <= start < n_images:
        raise ValueError(f"start must be in 0..{n_images - 1}, got start={start!r}")
    return {"index": IntSlider(value=int(start), min=0, max=int(n_images) - 1,
                               description="test image", continuous_update=False,
                               style=LABEL_STYLE)}
