"""The functions behind the notebooks' widgets, one section per notebook.

Each view function takes the data and the slider values, draws one figure and returns it, so that
it can be called once in a plain cell (the static view CI sees) and unit-tested. Inside
``ipywidgets.interact`` wrap it with :func:`shown`, which displays the figure exactly once::

    interact(shown(smoothing_view), img=fixed(camera), k=IntSlider(value=9, min=1, max=31, step=2))
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course_utils import data, kernels, plotting


def shown(view: Callable[..., Figure]) -> Callable[..., None]:
    """Wrap a view function for ``interact``: draw, display once, close.

    Without closing, the inline backend would show the pyplot figure a second time (and keep
    every figure drawn while a slider moves in memory). The wrapper keeps ``view``'s signature,
    which ``interact`` reads to build its widgets.
    """

    @functools.wraps(view)
    def draw_and_display(*args, **kwargs) -> None:
        from IPython.display import display

        fig = view(*args, **kwargs)
        display(fig)
        plt.close(fig)

    return draw_and_display


# --- 01 convolutions


def _check_grey_image(img, func: str) -> np.ndarray:
    """Return ``img`` as a float64 (H, W) array; raise for other shapes or non-finite values."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(
            f"{func} expects a grey (H, W) image, got shape {img.shape}; convert colour images "
            f"with data.load_image(name, color='grey')"
        )
    if img.size == 0 or not np.isfinite(img).all():
        raise ValueError(f"{func}: the image (shape {img.shape}) is empty or holds NaN/inf")
    return img


def _check_odd_size(value, name: str, img_shape: tuple[int, int], minimum: int = 1) -> int:
    """An odd int in [minimum, min(H, W)]: odd so the kernel has a centre pixel."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an odd int, got {name}={value!r}")
    if value < minimum or value % 2 == 0 or value > min(img_shape):
        raise ValueError(
            f"{name} must be an odd int between {minimum} and the image's smaller side "
            f"{min(img_shape)} (image shape {img_shape}), got {name}={value}"
        )
    return int(value)


def _check_number(value, name: str, minimum: float | None = None, strict: bool = False) -> float:
    """A finite real number; if ``minimum`` is given, > minimum (strict) or >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {name}={value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {name}={value}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be {relation} {minimum}, got {name}={value}")
    return float(value)


def add_noise(img, noise: float, seed: int = 0) -> np.ndarray:
    """Add Gaussian pixel noise and clip back to the valid range.

    Args:
        img: (H, W) or (H, W, C) image in [0, 1].
        noise: standard deviation of the noise, in grey levels of [0, 1] (>= 0).
        seed: seed of the noise, so every call (and slider move) sees the same noise.

    Returns:
        float64 array of img's shape, in [0, 1].
    """
    noise = _check_number(noise, "noise", minimum=0.0)
    img = np.asarray(img, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return np.clip(img + noise * rng.standard_normal(img.shape), 0.0, 1.0)


def rms_error(estimate, clean) -> float:
    """Root-mean-square difference of two equally shaped arrays (same units as the inputs)."""
    estimate, clean = np.asarray(estimate, dtype=np.float64), np.asarray(clean, dtype=np.float64)
    if estimate.shape != clean.shape:
        raise ValueError(
            f"rms_error needs equal shapes, got estimate.shape={estimate.shape} and "
            f"clean.shape={clean.shape}"
        )
    return float(np.sqrt(np.mean((estimate - clean) ** 2)))


def smoothing_view(
    img, k: int = 9, sigma: float = 2.0, noise: float = 0.1, seed: int = 0
) -> Figure:
    """Noisy image next to its uniform and Gaussian smoothing with a k x k kernel.

    The smoothed images are "valid" correlations (the lecture's definition, no zero padding that
    would darken the border), so all three panels show the same (H-k+1, W-k+1) interior, and
    each title gives the RMS error against the clean image's interior.

    Args:
        img: (H, W) clean grey image in [0, 1].
        k: kernel side, odd int in [1, min(H, W)]; the same k for both filters.
        sigma: standard deviation of the Gaussian kernel in pixels (> 0).
        noise: standard deviation of the added noise (>= 0), see :func:`add_noise`.
        seed: seed of the noise.

    Returns:
        Figure with 3 Axes: noisy, uniform-smoothed, Gaussian-smoothed (grey, limits 0..1).
    """
    img = _check_grey_image(img, "smoothing_view")
    k = _check_odd_size(k, "k", img.shape)
    sigma = _check_number(sigma, "sigma", minimum=0.0, strict=True)
    noisy = add_noise(img, noise, seed)
    uniform = kernels.correlate2d(noisy, kernels.uniform_kernel(k, ndim=2))
    gaussian = kernels.correlate2d(noisy, kernels.gaussian_kernel(k, sigma, ndim=2))
    border = k // 2
    interior = (slice(border, img.shape[0] - border), slice(border, img.shape[1] - border))
    clean, noisy = img[interior], noisy[interior]
    titles = [
        f"noisy (noise {noise:g})\nRMS error {rms_error(noisy, clean):.3f}",
        f"uniform k={k}\nRMS error {rms_error(uniform, clean):.3f}",
        f"Gaussian k={k}, σ={sigma:g}\nRMS error {rms_error(gaussian, clean):.3f}",
    ]
    return plotting.show_images(
        [noisy, uniform, gaussian], titles=titles, cmap=plotting.IMAGE_CMAP, vmin=0.0, vmax=1.0,
        size=3.6,
    )


def edge_view(img, theta: float = 30.0, size: int = 3) -> Figure:
    """A directional edge kernel and its response on an image.

    Args:
        img: (H, W) grey image.
        theta: angle of the edge normal in degrees, as in
            :func:`course_utils.kernels.directional_edge_kernel` (0 = Sobel W1, vertical edges;
            90 = Sobel W2, horizontal edges); the strongest responses are on edges running at
            theta + 90 degrees.
        size: kernel side, odd int in [3, min(H, W)].

    Returns:
        Figure with 2 Axes: the kernel (values written in the cells) and the "valid" response
        (diverging colour map, zero = white, saturated beyond the 99th percentile of |response|)
        plus its colour bar.
    """
    img = _check_grey_image(img, "edge_view")
    theta = _check_number(theta, "theta")
    size = _check_odd_size(size, "size", img.shape, minimum=3)
    kernel = kernels.directional_edge_kernel(theta, size)
    response = kernels.correlate2d(img, kernel)
    fig, (ax_kernel, ax_response) = plt.subplots(
        1, 2, figsize=(9.0, 4.2), width_ratios=[1, 2.0], layout="constrained"
    )
    plotting.show_kernel(kernel, ax=ax_kernel, title=f"kernel θ={theta:g}°, {size}×{size}")
    # Saturate the top 1%: a few pixels on the strongest edges would otherwise set the scale and
    # wash out the rest. The floor (a millionth of the kernel's gain on a [0, 1] image) keeps the
    # rounding noise of a flat image white instead of blowing it up to full colour.
    limit = max(float(np.percentile(np.abs(response), 99)), 1e-6 * float(np.abs(kernel).sum()))
    image = ax_response.imshow(response, cmap=plotting.SIGNED_CMAP, vmin=-limit, vmax=limit)
    ax_response.set_axis_off()
    ax_response.set_title(f"response to the θ={theta:g}° kernel")
    fig.colorbar(image, ax=ax_response, shrink=0.8)
    return fig


# --- 02 Keras synthetic demo

DATASETS_2D = ("rings", "xor", "spirals")
MAX_HIDDEN_UNITS = 8

# The slide's fit is epochs=30, batch_size=100. Our 420 training points make only 5 batches of 100
# per epoch, too few Adam steps for sigmoid units to settle; batches of 20 give 630 steps in the
# same 30 epochs, and a step size of 0.05 (Adam's default 0.001 suits big networks on big data)
# converges there reliably.
SYNTHETIC_EPOCHS = 30
SYNTHETIC_BATCH_SIZE = 20
SYNTHETIC_LEARNING_RATE = 0.05
SYNTHETIC_POINTS = 600
SYNTHETIC_TEST_FRACTION = 0.3


class Trained2D(NamedTuple):
    """A classifier trained on one of the 2D datasets, with its data split and held-out score.

    model: the trained Keras model (2 inputs -> 2 softmax outputs). x_train, x_test: (n, 2)
    float32 points; y_train, y_test: (n,) int64 labels in {0, 1}. test_accuracy: fraction of
    held-out points classified correctly. seconds: wall time of ``model.fit``.
    """

    model: Any
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_accuracy: float
    seconds: float


def _check_dataset_2d(dataset: str) -> str:
    if dataset not in DATASETS_2D:
        raise ValueError(f"unknown 2D dataset {dataset!r}; choose one of {DATASETS_2D}")
    return dataset


def _check_count(value, name: str, maximum: int | None = None) -> int:
    """An int >= 1 (and <= maximum if given)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {name}={value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {name}={value}")
    return int(value)


def train_2d_classifier(
    dataset: str,
    hidden: int | Sequence[int] = 4,
    activation: str = "sigmoid",
    seed: int = 0,
    *,
    learning_rate: float = SYNTHETIC_LEARNING_RATE,
    epochs: int = SYNTHETIC_EPOCHS,
    n_points: int = SYNTHETIC_POINTS,
) -> Trained2D:
    """Train the lecture's dense network on a 2D dataset; cached, so a repeated call is instant.

    The same steps as the notebook's explicit Keras code: ``data.make_2d_dataset(dataset,
    n_points, seed=seed)``, a 70 / 30 train / held-out split, ``models.build_mlp(2, hidden, 2,
    activation)`` (Input -> Dense hidden layers -> Dense softmax), Adam with ``learning_rate``,
    ``fit(epochs=epochs, batch_size=SYNTHETIC_BATCH_SIZE)``, all seeded with ``seed``.

    Args:
        dataset: "rings", "xor" or "spirals".
        hidden: units per hidden layer, e.g. 4, (8, 8); () for logistic regression.
        activation: activation of the hidden layers ("sigmoid", "tanh", "relu", ...).
        seed: seeds the data, the split, the initial weights and the batch order.
        learning_rate, epochs, n_points: training budget and data size (tests use tiny ones).

    Returns:
        A :class:`Trained2D`. The model is shared by every call with the same arguments: do not
        train it further.
    """
    dataset = _check_dataset_2d(dataset)
    hidden = (hidden,) if isinstance(hidden, (int, np.integer)) else tuple(hidden)
    for units in hidden:
        _check_count(units, "hidden layer size")
    epochs = _check_count(epochs, "epochs")
    return _train_2d_cached(dataset, tuple(int(h) for h in hidden), activation, int(seed),
                            float(learning_rate), epochs, int(n_points))


@functools.lru_cache(maxsize=64)
def _train_2d_cached(dataset: str, hidden: tuple[int, ...], activation: str, seed: int,
                     learning_rate: float, epochs: int, n_points: int) -> Trained2D:
    # Imported here so that notebooks whose widgets need no Keras do not pay for loading TensorFlow.
    import keras

    from course_utils import models

    x, y = data.make_2d_dataset(dataset, n=n_points, seed=seed)
    (x_train, y_train), (x_test, y_test) = data.train_test_split(
        x, y, test_fraction=SYNTHETIC_TEST_FRACTION, seed=seed)
    keras.utils.set_random_seed(seed)
    model = models.build_mlp(2, hidden, 2, activation=activation, name=f"mlp_{dataset}")
    # One execution per epoch instead of one per batch: the same updates (identical weights) for
    # about a third less time, since these batches are too small to hide Python's overhead.
    steps_per_epoch = math.ceil(len(x_train) / SYNTHETIC_BATCH_SIZE)
    models.compile_classifier(model, learning_rate, steps_per_execution=steps_per_epoch)
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=SYNTHETIC_BATCH_SIZE, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(predicted_classes(model, x_test) == y_test))
    return Trained2D(model, x_train, y_train, x_test, y_test, accuracy, seconds)


def predicted_classes(model, x: np.ndarray) -> np.ndarray:
    """(n,) argmax classes of a Keras classifier for a batch x of (n, ...) inputs.

    Calls the model directly (no ``predict``): for the small batches of the widgets this skips
    tracing a predict function for every new model.
    """
    return np.asarray(model(np.asarray(x), training=False)).argmax(axis=1)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-z)), elementwise, without overflow warnings."""
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def hidden_unit_titles(weights: np.ndarray, biases: np.ndarray) -> list[str]:
    """Per unit, its formula σ(w1·x1 + w2·x2 + b) with the weights to one decimal.

    weights: (2, n_units) first-layer kernel; biases: (n_units,).
    """
    return [f"unit {j + 1}: σ({w1:+.1f}x₁ {w2:+.1f}x₂ {b:+.1f})"
            for j, (w1, w2, b) in enumerate(zip(weights[0], weights[1], biases, strict=True))]


def hidden_units_view(dataset: str = "rings", n_hidden: int = 4, seed: int = 0, *,
                      epochs: int = SYNTHETIC_EPOCHS, n_points: int = SYNTHETIC_POINTS) -> Figure:
    """The slide's network with ``n_hidden`` sigmoid units: each unit's map and their combination.

    Trains (or takes from the cache of :func:`train_2d_classifier`) 2 -> n_hidden sigmoid ->
    2 softmax on ``dataset``. Each small panel is one hidden unit's activation
    σ(w·x + b) over the plane, from the layer's own weights: a soft half-plane whose edge
    w·x + b = 0 is drawn dashed. The big panel is the output layer's decision region, with the
    held-out points and the held-out accuracy.

    Args:
        dataset: "rings", "xor" or "spirals".
        n_hidden: number of hidden units, 1..MAX_HIDDEN_UNITS.
        seed: seed of the data and of the training.
        epochs, n_points: training budget and data size (defaults: the notebook's).

    Returns:
        Figure: the decision-region Axes first, then one Axes per hidden unit (plus colour bars).
    """
    dataset = _check_dataset_2d(dataset)
    n_hidden = _check_count(n_hidden, "n_hidden", MAX_HIDDEN_UNITS)
    trained = train_2d_classifier(dataset, n_hidden, "sigmoid", seed, epochs=epochs,
                                  n_points=n_points)
    weights, biases = trained.model.get_layer("hidden").get_weights()
    x, y = trained.x_test, trained.y_test

    nrows = 1 if n_hidden == 1 else 2 if n_hidden <= 4 else 3
    ncols = math.ceil(n_hidden / nrows)
    fig = plt.figure(figsize=(6.0 + 2.9 * ncols, 6.0), layout="constrained")
    grid = fig.add_gridspec(nrows, 2 * ncols + 2)
    ax_region = fig.add_subplot(grid[:, :2])
    plotting.plot_decision_regions(
        _ProbabilityModel(trained.model), x, y, ax=ax_region, resolution=150,
        title=f"{dataset}: {n_hidden} sigmoid hidden unit{'s' if n_hidden > 1 else ''}\n"
              f"held-out accuracy {trained.test_accuracy:.1%}")
    for j, title in enumerate(hidden_unit_titles(weights, biases)):
        row, col = divmod(j, ncols)
        ax = fig.add_subplot(grid[row, 2 + 2 * col:4 + 2 * col])
        w, b = weights[:, j], biases[j]
        plotting.plot_field(x, y, lambda p, w=w, b=b: sigmoid(p @ w + b), ax=ax, resolution=100)
        ax.get_legend().remove()
        ax.set_title(title, fontsize=10)
        _draw_line(ax, w, b)
    return fig


class _ProbabilityModel:
    """Duck-typed view of a Keras classifier for plotting: ``predict_proba`` by a direct call."""

    def __init__(self, model):
        self.model = model

    def predict_proba(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(self.model(points, training=False))


def _draw_line(ax, w: np.ndarray, b: float) -> None:
    """Dashed line w·x + b = 0 across the Axes' current limits (where a sigmoid unit is 0.5)."""
    if not np.any(w):
        return
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    if abs(w[1]) >= abs(w[0]):
        xs = np.array([x0, x1])
        ys = -(w[0] * xs + b) / w[1]
    else:
        ys = np.array([y0, y1])
        xs = -(w[1] * ys + b) / w[0]
    ax.plot(xs, ys, "k--", linewidth=1.2)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


# --- 03 Keras MNIST demo


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

    Args:
        model: a classifier whose ``predict(batch, verbose=0)`` returns (1, k) probabilities,
            e.g. a Keras softmax model. The image is reshaped to the model's ``input_shape``
            (a dense network takes the flattened 784-vector).
        images: (N, H, W) or (N, H, W, 1) images in [0, 1].
        labels: (N,) true classes.
        index: which image, 0..N-1.
        class_names: one name per class (default "0", "1", ...).

    Returns:
        Figure with 2 Axes: the image, titled with its index and true label, and the bar chart of
        :func:`plotting.plot_probabilities` (predicted bar green if right, red if wrong).
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
