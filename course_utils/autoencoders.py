"""Autoencoders: networks trained to give back their input through a bottleneck (notebook 10).

* :func:`build_autoencoder`: a dense or convolutional encoder e: R^d -> R^k, a decoder R^k -> R^d
  and the autoencoder x -> d(e(x)) that chains them; :func:`train_autoencoder` trains one with the
  squared loss, optionally on corrupted inputs with clean targets (denoising, in-painting).
* :func:`trained_autoencoder` and :func:`trained_vae`: the notebook's trained models, each trained
  once with its recipe in ``AUTOENCODER_RECIPES`` / ``VAE_RECIPE`` and cached by
  ``zoo.cached_model``; :func:`notebook_models` lists all of them and :func:`prefetch_models`
  trains them (for an offline classroom).
* Corruptions: :func:`random_mask` (square holes), :func:`apply_mask`, and
  :func:`restoration_corruption`, the mix of noise and holes the restoring autoencoder learns to
  undo (noise itself is ``transforms.add_noise``).
* The latent plane: :func:`latent_grid` decodes a grid of 2D codes; :func:`montage` lays a
  batch out as one image; :func:`show_rows` shows inputs and outputs row by row, labelled.
* Features: :func:`probe_accuracy`, a linear probe or k-NN classifier on any features.
* Compression: :func:`quantize` / :func:`dequantize` codes to a few bits per number,
  :func:`code_entropy_bits` (what an entropy coder would need) and :func:`file_bits` (PNG or JPEG
  with Pillow, for comparison).
* The variational autoencoder: :func:`build_vae` with the layers :class:`Sampling` (the
  reparameterisation trick) and :class:`KLDivergence` (the KL term of the loss).

Images are NHWC, pixel values in [0, 1]. Reconstruction quality is ``metrics.psnr``.
"""

from __future__ import annotations

import io
import math
import numbers
import time
from collections.abc import Callable, Mapping, Sequence

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course_utils import data, plotting, training, transforms, zoo

__all__ = [
    "AUTOENCODER_RECIPES",
    "HOLE_SIZE",
    "KLDivergence",
    "RESTORATION_NOISE_LEVELS",
    "SWEEP_BOTTLENECKS",
    "Sampling",
    "VAE_RECIPE",
    "apply_mask",
    "build_autoencoder",
    "build_vae",
    "code_entropy_bits",
    "dequantize",
    "file_bits",
    "latent_grid",
    "notebook_models",
    "prefetch_models",
    "probe_accuracy",
    "quantize",
    "random_mask",
    "restoration_corruption",
    "show_rows",
    "split_autoencoder",
    "montage",
    "train_autoencoder",
    "trained_autoencoder",
    "trained_vae",
]

KINDS = ("dense", "conv")
SWEEP_BOTTLENECKS = (2, 4, 8, 16, 32, 64)
"""Bottleneck sizes k of the dense autoencoders the notebook compares with PCA."""
HOLE_SIZE = 10
"""Side in pixels of the square holes of the in-painting examples."""
RESTORATION_NOISE_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5)
"""Noise standard deviations the restoring autoencoder is trained on (one share of images each)."""

Parts = tuple[keras.Model, keras.Model, keras.Model]
"""(encoder, decoder, autoencoder), as :func:`build_autoencoder` returns them."""


# ------------------------------------------------------------------------------------- checks


def _check_bottleneck(bottleneck) -> int:
    if isinstance(bottleneck, bool) or not isinstance(bottleneck, numbers.Integral) or bottleneck < 1:
        raise ValueError(f"the bottleneck k (size of the code) must be an int >= 1, got "
                         f"bottleneck={bottleneck!r}")
    return int(bottleneck)


def _check_images(images, name: str = "images") -> np.ndarray:
    """An NHWC float32 batch with values in [0, 1], or a clear error."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"{name} has shape {x.shape}; expected an NHWC batch (N, H, W, C)")
    if x.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
        raise ValueError(f"{name} must hold pixel values in [0, 1], got values in "
                         f"[{np.nanmin(x):.3g}, {np.nanmax(x):.3g}]; divide 8-bit images by 255")
    return x


# ----------------------------------------------------------------------------------- builders


def build_autoencoder(kind: str = "dense", bottleneck: int = 32,
                      input_shape: Sequence[int] = (28, 28, 1), hidden: Sequence[int] = (256,),
                      filters: Sequence[int] = (16, 32), activation: str | None = "relu",
                      code_activation: str | None = None, output_activation: str | None = "sigmoid",
                      name: str = "autoencoder") -> Parts:
    """An encoder e: R^d -> R^k, a decoder R^k -> R^d, and the autoencoder x -> d(e(x)).

    The decoder mirrors the encoder (the usual, symmetric choice).

    Parameters
    ----------
    kind : {"dense", "conv"}
        "dense": flatten, then ``Dense`` layers of ``hidden`` units, then the code.
        "conv": ``Conv2D`` layers with ``filters`` channels, each 3 x 3 with stride 2 (halving
        height and width), then a ``Dense`` code; the decoder up-samples with ``Conv2DTranspose``.
    bottleneck : int
        k, the length of the code; >= 1. A k of at least d = H * W * C is no bottleneck at all.
    input_shape : (H, W, C)
        Image shape. For "conv", H and W must be divisible by ``2 ** len(filters)``.
    hidden : sequence of int
        Units of the dense hidden layers between the image and the code ("dense" only); () for
        none (a single layer each way).
    filters : sequence of int
        Channels of the convolutional layers ("conv" only).
    activation : str or None
        Activation of the hidden layers; None for a linear network.
    code_activation : str or None
        Activation of the code layer; None (linear) by default, like PCA coefficients.
    output_activation : str or None
        "sigmoid" keeps reconstructions in (0, 1); None for a linear output.
    name : str
        Name of the autoencoder; its parts are the layers "encoder" and "decoder".

    Returns
    -------
    encoder : keras.Model
        (N, H, W, C) -> (N, k).
    decoder : keras.Model
        (N, k) -> (N, H, W, C).
    autoencoder : keras.Model
        (N, H, W, C) -> (N, H, W, C), uncompiled; shares its weights with the two parts.

    Raises
    ------
    ValueError
        For k < 1, an unknown kind, or a conv input whose size cannot be halved often enough.

    Examples
    --------
    >>> encoder, decoder, autoencoder = build_autoencoder("dense", bottleneck=8)
    >>> encoder.output_shape, decoder.output_shape
    ((None, 8), (None, 28, 28, 1))
    """
    k = _check_bottleneck(bottleneck)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise ValueError(f"input_shape must be (H, W, C), got {input_shape}")
    d = math.prod(input_shape)
    inputs = keras.Input(input_shape, name="image")
    code_input = keras.Input((k,), name="code")
    if kind == "dense":
        h = keras.layers.Flatten(name="flatten")(inputs)
        for i, units in enumerate(hidden, start=1):
            h = keras.layers.Dense(units, activation=activation, name=f"enc_dense{i}")(h)
        code = keras.layers.Dense(k, activation=code_activation, name="code")(h)
        h = code_input
        for i, units in enumerate(reversed(hidden), start=1):
            h = keras.layers.Dense(units, activation=activation, name=f"dec_dense{i}")(h)
        h = keras.layers.Dense(d, activation=output_activation, name="pixels")(h)
        outputs = keras.layers.Reshape(input_shape, name="image_out")(h)
    else:
        factor = 2 ** len(filters)
        if not filters or input_shape[0] % factor or input_shape[1] % factor:
            raise ValueError(f"a conv autoencoder with {len(filters)} stride-2 layers needs H and W "
                             f"divisible by {factor}, got input_shape {input_shape}")
        h = inputs
        for i, channels in enumerate(filters, start=1):
            h = keras.layers.Conv2D(channels, 3, strides=2, padding="same", activation=activation,
                                    name=f"enc_conv{i}")(h)
        small = tuple(h.shape[1:])
        h = keras.layers.Flatten(name="flatten")(h)
        code = keras.layers.Dense(k, activation=code_activation, name="code")(h)
        h = keras.layers.Dense(math.prod(small), activation=activation, name="dec_dense")(code_input)
        h = keras.layers.Reshape(small, name="dec_reshape")(h)
        for i, channels in enumerate(reversed(filters[:-1]), start=1):
            h = keras.layers.Conv2DTranspose(channels, 3, strides=2, padding="same",
                                             activation=activation, name=f"dec_conv{i}")(h)
        outputs = keras.layers.Conv2DTranspose(input_shape[2], 3, strides=2, padding="same",
                                               activation=output_activation, name="image_out")(h)
    encoder = keras.Model(inputs, code, name="encoder")
    decoder = keras.Model(code_input, outputs, name="decoder")
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)), name=name)
    return encoder, decoder, autoencoder


def split_autoencoder(autoencoder: keras.Model) -> tuple[keras.Model, keras.Model]:
    """The (encoder, decoder) of an autoencoder made by :func:`build_autoencoder` (or loaded)."""
    try:
        return autoencoder.get_layer("encoder"), autoencoder.get_layer("decoder")
    except ValueError as err:
        raise ValueError(f"{autoencoder.name!r} has no layers named 'encoder' and 'decoder'; "
                         "build it with autoencoders.build_autoencoder") from err


# ----------------------------------------------------------------------------------- training


class _Batches(keras.utils.PyDataset):
    """Shuffled (input, target) batches; the inputs are corrupted anew every epoch."""

    def __init__(self, x: np.ndarray, batch_size: int, corrupt: Callable | None, seed: int):
        super().__init__()
        self.x, self.batch_size, self.corrupt, self.seed = x, batch_size, corrupt, seed
        self.epoch = 0
        self._prepare()

    def _prepare(self) -> None:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))
        self.targets = self.x[order]
        self.inputs = (self.targets if self.corrupt is None
                       else np.asarray(self.corrupt(self.targets, seed=self.seed * 1000 + self.epoch),
                                       dtype=np.float32))

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int):
        batch = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.inputs[batch], self.targets[batch]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._prepare()


def train_autoencoder(autoencoder: keras.Model, x, steps: int = 1000, batch_size: int = 128,
                      learning_rate: float = 3e-3, corrupt: Callable | None = None, seed: int = 0,
                      verbose: bool | int = True) -> keras.callbacks.History:
    """Train an autoencoder to give back its input: minimise the mean of ||x - f(x)||^2.

    Parameters
    ----------
    autoencoder : keras.Model
        (N, H, W, C) -> (N, H, W, C); compiled here with Adam on
        ``training.warmup_cosine_schedule`` and the squared loss ("mse").
    x : array, shape (N, H, W, C)
        Training images in [0, 1]: the inputs and, uncorrupted, the targets.
    steps : int
        Optimizer steps (batches), whatever N is, rounded up to whole epochs.
    batch_size : int
        Images per step.
    learning_rate : float
        Peak learning rate.
    corrupt : callable, optional
        ``corrupt(images, seed=...) -> images``: the inputs are corrupted, anew every epoch, and
        the targets stay clean (a denoising or in-painting autoencoder).
    seed : int
        Seeds the batch order and the corruptions (not the initial weights: seed before building).
    verbose : bool or int
        As in ``training.timed_fit``: one line per epoch and the total time.

    Returns
    -------
    history : keras.callbacks.History
        With ``history.seconds``, the wall time.

    Examples
    --------
    >>> encoder, decoder, autoencoder = build_autoencoder("dense", bottleneck=8)
    >>> train_autoencoder(autoencoder, x_train, steps=500)  # doctest: +SKIP
    >>> denoiser = build_autoencoder("dense", bottleneck=8)[2]
    >>> train_autoencoder(denoiser, x_train, corrupt=lambda x, seed: transforms.add_noise(
    ...     x, 0.3, seed))  # doctest: +SKIP
    """
    x = _check_images(x, "x")
    if tuple(x.shape[1:]) != tuple(autoencoder.input_shape[1:]):
        raise ValueError(f"x has images of shape {x.shape[1:]}, the autoencoder takes "
                         f"{tuple(autoencoder.input_shape[1:])}")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps} and {batch_size}")
    steps_per_epoch = math.ceil(len(x) / batch_size)
    epochs = math.ceil(steps / steps_per_epoch)
    schedule = training.warmup_cosine_schedule(learning_rate, epochs * steps_per_epoch)
    # Many steps per call: small models on a CPU spend much of a step in Python otherwise.
    autoencoder.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse",
                        steps_per_execution=min(50, steps_per_epoch))
    if corrupt is None:
        keras.utils.set_random_seed(seed)  # the batch order
        history = training.timed_fit(autoencoder, x, x, epochs=epochs, batch_size=batch_size,
                                     verbose=verbose)
    else:
        history = training.timed_fit(autoencoder, _Batches(x, batch_size, corrupt, seed), None,
                                     epochs=epochs, batch_size=None, verbose=verbose)
    _one_step_per_call(autoencoder)
    return history


def _one_step_per_call(model: keras.Model) -> None:
    """Compile again with one batch per call: ``predict`` on few batches is faster that way."""
    model.compile(optimizer=model.optimizer, loss=model.loss)


# --------------------------------------------------------------------------------- corruptions


def random_mask(n: int, image_shape: Sequence[int] = (28, 28), size: int = HOLE_SIZE,
                position: tuple[int, int] | None = None, seed: int = 0) -> np.ndarray:
    """Square holes, one per image: True where pixels are removed.

    Parameters
    ----------
    n : int
        Number of masks (images).
    image_shape : (H, W) or (H, W, C)
        Size of the images.
    size : int
        Side of the square hole in pixels, 0 (no hole) to min(H, W).
    position : (row, col), optional
        Top-left corner of the hole in every image; default: a random corner per image, drawn
        uniformly so that the hole lies inside the image.
    seed : int
        Seed of the random corners.

    Returns
    -------
    mask : bool array, shape (n, H, W, 1)
        Exactly ``size ** 2`` True pixels per image.

    Examples
    --------
    >>> random_mask(1, (4, 4), size=2, position=(1, 1))[0, :, :, 0].astype(int)
    array([[0, 0, 0, 0],
           [0, 1, 1, 0],
           [0, 1, 1, 0],
           [0, 0, 0, 0]])
    """
    height, width = (int(s) for s in tuple(image_shape)[:2])
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or not 0 <= size <= min(
            height, width):
        raise ValueError(f"size must be an int in 0..{min(height, width)} for {height}x{width} images, "
                         f"got {size!r}")
    if position is None:
        rng = np.random.default_rng(seed)
        rows = rng.integers(0, height - size + 1, size=n)
        cols = rng.integers(0, width - size + 1, size=n)
    else:
        row, col = position
        if not (0 <= row <= height - size and 0 <= col <= width - size):
            raise ValueError(f"a {size}x{size} hole at (row, col) = {position} does not fit in a "
                             f"{height}x{width} image; use 0 <= row <= {height - size} and "
                             f"0 <= col <= {width - size}")
        rows, cols = np.full(n, row), np.full(n, col)
    r = np.arange(height)[None, :, None]
    c = np.arange(width)[None, None, :]
    inside = ((r >= rows[:, None, None]) & (r < rows[:, None, None] + size)
              & (c >= cols[:, None, None]) & (c < cols[:, None, None] + size))
    return inside[..., None]


def apply_mask(images, mask, fill: float = 0.0) -> np.ndarray:
    """Images with the masked pixels replaced by ``fill``.

    Parameters
    ----------
    images : array, shape (N, H, W, C)
        Values in [0, 1].
    mask : bool array, shape (N, H, W, 1) or (N, H, W, C)
        True where pixels are removed, e.g. from :func:`random_mask`.
    fill : float or array broadcastable to (N, H, W, C)
        The value written into the holes (0: black; a mean image: the mean-fill baseline).

    Returns
    -------
    masked : float32 array, shape (N, H, W, C)

    Examples
    --------
    >>> images = np.full((1, 4, 4, 1), 0.5)
    >>> apply_mask(images, random_mask(1, (4, 4), size=2, position=(0, 0)))[0, :, :, 0]
    array([[0. , 0. , 0.5, 0.5],
           [0. , 0. , 0.5, 0.5],
           [0.5, 0.5, 0.5, 0.5],
           [0.5, 0.5, 0.5, 0.5]], dtype=float32)
    """
    x = _check_images(images)
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 4 or m.shape[:3] != x.shape[:3] or m.shape[3] not in (1, x.shape[3]):
        raise ValueError(f"mask has shape {m.shape}; for images of shape {x.shape} it must be "
                         f"(N, H, W, 1) or (N, H, W, C) with the same N, H, W")
    return np.where(m, np.asarray(fill, dtype=np.float32), x).astype(np.float32)


def restoration_corruption(images, seed: int = 0) -> np.ndarray:
    """The damage the restoring autoencoder learns to undo: noise or a hole, one per image.

    The images are split into ``len(RESTORATION_NOISE_LEVELS) + 1`` equal shares at random: each
    share but the last gets Gaussian noise of one level (``transforms.add_noise``), the last gets
    a black ``HOLE_SIZE`` square at a random place (:func:`random_mask`).

    Parameters
    ----------
    images : array, shape (N, H, W, C)
        Clean images in [0, 1].
    seed : int
        Seeds the split, the noise and the holes.

    Returns
    -------
    corrupted : float32 array, same shape
    """
    x = _check_images(images)
    rng = np.random.default_rng(seed)
    shares = np.array_split(rng.permutation(len(x)), len(RESTORATION_NOISE_LEVELS) + 1)
    out = x.copy()
    for i, (level, share) in enumerate(zip(RESTORATION_NOISE_LEVELS, shares, strict=False)):
        out[share] = transforms.add_noise(x[share], level, seed=seed * 10 + i)
    holes = shares[-1]
    if len(holes):
        out[holes] = apply_mask(x[holes], random_mask(len(holes), x.shape[1:3], HOLE_SIZE,
                                                      seed=seed))
    return out


# ------------------------------------------------------------------------- the latent plane


def montage(images, ncols: int | None = None, gap: int = 0) -> np.ndarray:
    """Lay a batch of grey images out as one image, row by row (``skimage.util.montage``).

    Parameters
    ----------
    images : array, shape (N, H, W, 1), (N, H, W) or (R, C, H, W, 1)
        A batch, or a grid of images (as returned by :func:`latent_grid`).
    ncols : int, optional
        Images per row for a batch (default: about sqrt(N)); a grid keeps its own C.
    gap : int
        Pixels of white space around and between the images.

    Returns
    -------
    tiled : float32 array, shape (rows * (H + gap) + gap, ncols * (W + gap) + gap)
        Unused places are white (1).

    Examples
    --------
    >>> montage(np.zeros((5, 28, 28, 1))).shape  # 3 per row, 2 rows
    (56, 84)
    """
    from skimage.util import montage as skimage_montage

    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 5:
        ncols = x.shape[1]
        x = x.reshape(-1, *x.shape[2:])
    if x.ndim == 4:
        if x.shape[-1] != 1:
            raise ValueError(f"montage takes grey images (..., H, W, 1), got {x.shape}")
        x = x[..., 0]
    if x.ndim != 3 or len(x) == 0:
        raise ValueError(f"images has shape {np.shape(images)}; expected (N, H, W, 1), (N, H, W) "
                         "or (R, C, H, W, 1)")
    ncols = ncols or math.ceil(math.sqrt(len(x)))
    grid = (math.ceil(len(x) / ncols), ncols)
    return skimage_montage(x, fill=1.0, grid_shape=grid, padding_width=gap).astype(np.float32)


def show_rows(rows: Mapping[str, object], titles: Sequence[str] | None = None, size: float = 1.3,
              suptitle: str | None = None) -> Figure:
    """Rows of grey images with a label at the left of each row (inputs, reconstructions, ...).

    Parameters
    ----------
    rows : {label: array of shape (n, H, W, 1) or (n, H, W)}
        Every row has the same number n of images, shown in [0, 1] (values outside are clipped
        by the colour map).
    titles : sequence of str, optional
        One title per column, over the first row.
    size : float
        Inches per image.
    suptitle : str, optional
        Title of the figure.

    Returns
    -------
    fig : Figure
    """
    if not rows:
        raise ValueError("rows is empty; pass at least one {label: images} entry")
    batches = {label: np.asarray(images) for label, images in rows.items()}
    n = {len(b) for b in batches.values()}
    if len(n) != 1:
        raise ValueError(f"every row needs the same number of images, got {sorted(n)}")
    ncols = n.pop()
    if titles is not None and len(titles) != ncols:
        raise ValueError(f"got {len(titles)} titles for {ncols} columns")
    fig, axes = plt.subplots(len(batches), ncols, figsize=(size * ncols + 1.2, size * len(batches)
                                                           + (0.4 if suptitle else 0)),
                             squeeze=False, layout="constrained")
    for r, (label, batch) in enumerate(batches.items()):
        for c in range(ncols):
            ax = axes[r, c]
            ax.imshow(np.squeeze(batch[c]), cmap=plotting.IMAGE_CMAP, vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center")
            if r == 0 and titles is not None:
                ax.set_title(titles[c])
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def latent_grid(decoder: keras.Model, x_range: tuple[float, float] = (-3.0, 3.0),
                y_range: tuple[float, float] = (-3.0, 3.0), n: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """Decode an n x n grid of points of a 2D latent plane.

    Parameters
    ----------
    decoder : keras.Model
        (N, 2) codes -> (N, H, W, C) images.
    x_range, y_range : (float, float)
        Extent of the grid along the first and second code coordinate.
    n : int
        Points per side, >= 2.

    Returns
    -------
    points : float32 array, shape (n, n, 2)
        ``points[i, j]`` is the code decoded into ``images[i, j]``: j runs along x (left to right)
        and i along y from the top (largest y) down, as on a plot of the plane.
    images : array, shape (n, n, H, W, C)
        Pass it to :func:`montage` and show it with ``imshow(..., extent=(*x_range,
        *y_range))`` to lay it over a scatter plot of the codes.
    """
    k = decoder.input_shape[-1]
    if k != 2:
        raise ValueError(f"latent_grid needs a decoder of 2D codes, this one takes k = {k}")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    xs = np.linspace(*x_range, n, dtype=np.float32)
    ys = np.linspace(*y_range, n, dtype=np.float32)[::-1]
    points = np.stack(np.meshgrid(xs, ys), axis=-1)
    images = np.asarray(decoder.predict(points.reshape(-1, 2), batch_size=1024, verbose=0))
    return points, images.reshape(n, n, *images.shape[1:])


# ---------------------------------------------------------------------------------- features


def probe_accuracy(train_features, y_train, test_features, y_test, method: str = "linear",
                   neighbours: int = 5) -> float:
    """Test accuracy of a simple classifier trained on fixed features (a "probe").

    Parameters
    ----------
    train_features, test_features : arrays, shape (n, ...)
        Features (codes, pixels, a layer's activations); flattened to (n, d).
    y_train, y_test : int arrays, shape (n,)
        Classes.
    method : {"linear", "knn"}
        "linear": a linear probe, a linear classifier on standardised features fitted by
        least squares to the one-hot classes (scikit-learn's ``RidgeClassifier``, fast and
        deterministic); "knn": the majority class of the ``neighbours`` nearest training examples
        (Euclidean distance).

    Returns
    -------
    accuracy : float
        Fraction of the test examples classified correctly.

    Examples
    --------
    >>> features = np.array([[0.0], [0.1], [1.0], [1.1]])
    >>> probe_accuracy(features, [0, 0, 1, 1], [[0.05], [0.9]], [0, 1], method="knn", neighbours=1)
    1.0
    """
    from sklearn.linear_model import RidgeClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    f_train = np.asarray(train_features, dtype=np.float32).reshape(len(train_features), -1)
    f_test = np.asarray(test_features, dtype=np.float32).reshape(len(test_features), -1)
    y_train, y_test = np.asarray(y_train).ravel(), np.asarray(y_test).ravel()
    if len(f_train) != len(y_train) or len(f_test) != len(y_test):
        raise ValueError(f"need one label per example: {len(f_train)} training features and "
                         f"{len(y_train)} labels, {len(f_test)} test features and {len(y_test)} labels")
    if f_train.shape[1] != f_test.shape[1]:
        raise ValueError(f"training and test features differ in length: {f_train.shape[1]} and "
                         f"{f_test.shape[1]}")
    if method == "linear":
        classifier = make_pipeline(StandardScaler(), RidgeClassifier(alpha=1.0))
    elif method == "knn":
        classifier = KNeighborsClassifier(n_neighbors=min(neighbours, len(f_train)))
    else:
        raise ValueError(f"method must be 'linear' or 'knn', got {method!r}")
    classifier.fit(f_train, y_train)
    return float(np.mean(classifier.predict(f_test) == y_test))


# ------------------------------------------------------------------------------- compression


def _check_bits(bits) -> int:
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral) or not 1 <= bits <= 16:
        raise ValueError(f"bits must be an int in 1..16, got {bits!r}")
    return int(bits)


def quantize(codes, bits: int, low, high) -> np.ndarray:
    """Round codes to ``2 ** bits`` evenly spaced levels between ``low`` and ``high``.

    Parameters
    ----------
    codes : array, shape (N, k)
        Codes from an encoder.
    bits : int
        Bits per number, 1..16.
    low, high : float or array, shape (k,)
        The range covered, per code dimension (e.g. the minimum and maximum over the training
        codes); values outside are clipped to it.

    Returns
    -------
    symbols : int array, shape (N, k)
        In 0 .. 2**bits - 1: a code costs ``k * bits`` bits stored as it is.

    Examples
    --------
    >>> quantize([[-1.0, 0.1, 0.99]], bits=2, low=-1.0, high=1.0)  # levels of width 0.5
    array([[0, 2, 3]])
    >>> dequantize([[0, 2, 3]], bits=2, low=-1.0, high=1.0)  # the levels' centres
    array([[-0.75,  0.25,  0.75]], dtype=float32)
    """
    bits = _check_bits(bits)
    z = np.asarray(codes, dtype=np.float64)
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    if np.any(high <= low):
        raise ValueError("every high must be larger than its low")
    levels = 2**bits
    step = (high - low) / levels
    return np.clip(np.floor((z - low) / step), 0, levels - 1).astype(np.int64)


def dequantize(symbols, bits: int, low, high) -> np.ndarray:
    """Codes back from :func:`quantize`'s symbols: the centre of each level's interval.

    Returns
    -------
    codes : float32 array, shape (N, k)
        Off by at most half a level, ``(high - low) / 2 ** (bits + 1)``, inside the range.
    """
    bits = _check_bits(bits)
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    step = (high - low) / 2**bits
    return (low + (np.asarray(symbols) + 0.5) * step).astype(np.float32)


def code_entropy_bits(train_symbols, test_symbols, bits: int) -> float:
    """Bits per image an entropy coder would need for quantised codes (ideal arithmetic coding).

    Each code dimension gets a fixed probability table, the frequencies of its symbols over the
    training codes (plus one, so that no symbol is impossible). A test code then costs
    ``-sum_j log2 p_j(symbol_j)`` bits; frequent symbols cost less than ``bits``.

    Parameters
    ----------
    train_symbols, test_symbols : int arrays, shape (N, k)
        From :func:`quantize` with the same ``bits`` and range.
    bits : int
        Bits per number of the quantiser.

    Returns
    -------
    bits_per_image : float
        Mean over the test codes.
    """
    bits = _check_bits(bits)
    train, test = np.asarray(train_symbols), np.asarray(test_symbols)
    if train.ndim != 2 or test.ndim != 2 or train.shape[1] != test.shape[1]:
        raise ValueError(f"need (N, k) symbol arrays of equal k, got {train.shape} and {test.shape}")
    levels = 2**bits
    counts = np.stack([np.bincount(column, minlength=levels) for column in train.T]) + 1.0
    log_p = np.log2(counts / counts.sum(axis=1, keepdims=True))  # (k, levels)
    return float(-np.mean(np.sum(log_p[np.arange(train.shape[1]), test], axis=1)))


def file_bits(images, fmt: str = "PNG", quality: int = 75,
              tiled: bool = False) -> tuple[float, np.ndarray]:
    """Bits per image of 8-bit grey images saved as PNG or JPEG files (Pillow).

    Parameters
    ----------
    images : array, shape (N, H, W, 1)
        Values in [0, 1], stored as 8-bit grey levels.
    fmt : {"PNG", "JPEG"}
        PNG is lossless; JPEG loses detail depending on ``quality``.
    quality : int
        JPEG quality, 1 (smallest file) to 95.
    tiled : bool
        False: one file per image (each pays for its own header). True: one file holding all
        images side by side (:func:`montage`), its size divided by N, which spreads the
        header over the images, as a fairer comparison with codes whose decoder is shared.

    Returns
    -------
    bits : float
        Mean file size per image in bits.
    decoded : float32 array, shape (N, H, W, 1)
        The images as read back from the files (equal to the 8-bit input for PNG).
    """
    from PIL import Image

    x = _check_images(images)
    if x.shape[-1] != 1:
        raise ValueError(f"file_bits takes grey images (N, H, W, 1), got {x.shape}")
    if fmt not in ("PNG", "JPEG"):
        raise ValueError(f"fmt must be 'PNG' or 'JPEG', got {fmt!r}")
    if not 1 <= quality <= 95:
        raise ValueError(f"quality must be in 1..95, got {quality}")
    options = {"quality": int(quality), "optimize": True} if fmt == "JPEG" else {"optimize": True}

    def roundtrip(img2d: np.ndarray) -> tuple[int, np.ndarray]:
        buffer = io.BytesIO()
        Image.fromarray(np.round(img2d * 255).astype(np.uint8)).save(buffer, format=fmt, **options)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())), dtype=np.float32) / 255
        return 8 * buffer.tell(), decoded

    n, height, width = x.shape[:3]
    if tiled:
        ncols = math.ceil(math.sqrt(n))
        size, decoded = roundtrip(montage(x, ncols))
        tiles = [decoded[r * height:(r + 1) * height, c * width:(c + 1) * width]
                 for r, c in (divmod(i, ncols) for i in range(n))]
        return size / n, np.stack(tiles)[..., None]
    sizes, decoded = zip(*(roundtrip(img[..., 0]) for img in x), strict=True)
    return float(np.mean(sizes)), np.stack(decoded)[..., None]


# ------------------------------------------------------------------- the variational autoencoder


@keras.saving.register_keras_serializable(package="course_utils")
class Sampling(keras.layers.Layer):
    """The reparameterisation trick: z = mean + exp(log_var / 2) * eps, eps ~ N(0, I).

    The randomness enters as an input-independent eps, so gradients flow through ``mean`` and
    ``log_var`` to the encoder. Outside training it returns the mean (a deterministic code).
    """

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        mean, log_var = inputs
        if not training:
            return mean
        eps = keras.random.normal(keras.ops.shape(mean), seed=self.seed_generator)
        return mean + keras.ops.exp(0.5 * log_var) * eps

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="course_utils")
class KLDivergence(keras.layers.Layer):
    """Adds ``weight * KL(N(mean, exp(log_var)) || N(0, I))`` to the loss; passes its inputs on.

    Per example, KL = -1/2 * sum_j (1 + log_var_j - mean_j^2 - exp(log_var_j)); the added loss is
    its mean over the batch, times ``weight``.
    """

    def __init__(self, weight: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)

    def call(self, inputs):
        mean, log_var = inputs
        kl = -0.5 * keras.ops.sum(1.0 + log_var - mean**2 - keras.ops.exp(log_var), axis=-1)
        self.add_loss(self.weight * keras.ops.mean(kl))
        return mean, log_var

    def get_config(self) -> dict:
        return {**super().get_config(), "weight": self.weight}


def build_vae(bottleneck: int = 2, input_shape: Sequence[int] = (28, 28, 1),
              hidden: Sequence[int] = (256,), seed: int = 0) -> Parts:
    """A dense variational autoencoder: the encoder gives a distribution over codes.

    Parameters
    ----------
    bottleneck : int
        k, the dimension of the latent space; >= 1.
    input_shape : (H, W, C)
        Image shape.
    hidden : sequence of int
        Units of the dense hidden layers (mirrored in the decoder).
    seed : int
        Seed of the sampling noise.

    Returns
    -------
    encoder : keras.Model
        (N, H, W, C) -> [mean (N, k), log_var (N, k)] of the Gaussian q(z | x).
    decoder : keras.Model
        (N, k) -> (N, H, W, C) pixel probabilities (sigmoid).
    vae : keras.Model
        x -> decoder(z), z sampled from q(z | x) during training (:class:`Sampling`) and the mean
        otherwise. Its :class:`KLDivergence` layer adds the KL term, divided by d = H * W * C so
        that it matches a per-pixel reconstruction loss: compile it with
        ``loss="binary_crossentropy"`` and the total is the (negative) ELBO per pixel.
    """
    k = _check_bottleneck(bottleneck)
    input_shape = tuple(int(s) for s in input_shape)
    d = math.prod(input_shape)
    inputs = keras.Input(input_shape, name="image")
    h = keras.layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(hidden, start=1):
        h = keras.layers.Dense(units, activation="relu", name=f"enc_dense{i}")(h)
    mean = keras.layers.Dense(k, name="z_mean")(h)
    log_var = keras.layers.Dense(k, name="z_log_var")(h)
    encoder = keras.Model(inputs, [mean, log_var], name="encoder")
    code_input = keras.Input((k,), name="code")
    h = code_input
    for i, units in enumerate(reversed(hidden), start=1):
        h = keras.layers.Dense(units, activation="relu", name=f"dec_dense{i}")(h)
    h = keras.layers.Dense(d, activation="sigmoid", name="pixels")(h)
    decoder = keras.Model(code_input, keras.layers.Reshape(input_shape, name="image_out")(h),
                          name="decoder")
    mean, log_var = KLDivergence(weight=1.0 / d, name="kl")(encoder(inputs))
    z = Sampling(seed=seed, name="sampling")([mean, log_var])
    vae = keras.Model(inputs, decoder(z), name="vae")
    return encoder, decoder, vae


# ------------------------------------------------------------------------- the trained models

_DENSE = {"kind": "dense", "hidden": [256]}
_TRAINING = {"steps": 469, "batch_size": 128, "learning_rate": 3e-3, "seed": 0}

AUTOENCODER_RECIPES: dict[str, dict] = {
    "dense": {"architecture": _DENSE, "bottleneck": 32, "training": _TRAINING, "corrupt": False},
    "conv": {"architecture": {"kind": "conv", "filters": [8, 16]}, "bottleneck": 32,
             "training": _TRAINING, "corrupt": False},
    "linear": {"architecture": {"kind": "dense", "hidden": [], "activation": None,
                                "output_activation": None},
               "bottleneck": 16, "training": {**_TRAINING, "steps": 938, "learning_rate": 2e-2},
               "corrupt": False},
    "wide": {"architecture": {"kind": "dense", "hidden": [], "activation": None,
                              "output_activation": None},
             "bottleneck": 784, "training": _TRAINING, "corrupt": False},
    "restoring": {"architecture": {"kind": "dense", "hidden": [512]}, "bottleneck": 128,
                  "training": _TRAINING, "corrupt": True},
}
"""The notebook's autoencoders, by variant: ``architecture`` = keyword arguments of
:func:`build_autoencoder`, ``bottleneck`` = the default k, ``training`` = arguments of
:func:`train_autoencoder`, ``corrupt`` = trained on :func:`restoration_corruption` inputs."""

VAE_RECIPE = {"architecture": {"hidden": [256]}, "bottleneck": 2,
              "training": _TRAINING}
"""The variational autoencoder of the notebook (:func:`trained_vae`)."""


def trained_autoencoder(variant: str = "dense", bottleneck: int | None = None,
                        dataset: str = "fashion_mnist",
                        verbose: bool = True) -> Parts:
    """A trained autoencoder of the notebook, from the cache or trained now (and cached).

    Parameters
    ----------
    variant : {"dense", "conv", "linear", "wide", "restoring"}
        The recipe in ``AUTOENCODER_RECIPES``: the dense and the convolutional autoencoder, the
        linear one (PCA's twin), the wide one without a bottleneck (k = 1024 > d = 784), and the
        restoring one (trained on noisy and holed inputs with clean targets).
    bottleneck : int, optional
        k; default the recipe's. Each k is a model of its own.
    dataset : {"fashion_mnist", "mnist"}
        Training images, from ``data.load_dataset`` (all of its training split).
    verbose : bool
        Print where the model comes from, and one line per training epoch.

    Returns
    -------
    encoder, decoder, autoencoder : keras.Model
        As from :func:`build_autoencoder`, trained.
    """
    if variant not in AUTOENCODER_RECIPES:
        raise ValueError(f"unknown variant {variant!r}; choose one of {sorted(AUTOENCODER_RECIPES)}")
    recipe = AUTOENCODER_RECIPES[variant]
    k = _check_bottleneck(recipe["bottleneck"] if bottleneck is None else bottleneck)
    (x_train, _), _ = data.load_dataset(dataset, verbose=False)

    def train() -> tuple[keras.Model, dict]:
        settings = recipe["training"]
        keras.utils.set_random_seed(settings["seed"])
        *_, autoencoder = build_autoencoder(bottleneck=k, input_shape=x_train.shape[1:],
                                            name=f"{variant}_k{k}", **recipe["architecture"])
        if verbose:
            print(f"Training the {variant} autoencoder (k = {k}) on {dataset} "
                  f"({len(x_train):,} images) ...")
        history = train_autoencoder(autoencoder, x_train, steps=settings["steps"],
                                    batch_size=settings["batch_size"],
                                    learning_rate=settings["learning_rate"],
                                    corrupt=restoration_corruption if recipe["corrupt"] else None,
                                    seed=settings["seed"], verbose=verbose)
        return autoencoder, _record(history, dataset, len(x_train))

    autoencoder, _ = zoo.cached_model(
        f"autoencoder_{variant}_k{k}_{dataset}",
        {**recipe, "bottleneck": k, "dataset": dataset, "n_train": len(x_train)}, train,
        verbose=verbose)
    return (*split_autoencoder(autoencoder), autoencoder)


def trained_vae(dataset: str = "fashion_mnist", verbose: bool = True) -> Parts:
    """The notebook's variational autoencoder (``VAE_RECIPE``), from the cache or trained now.

    Returns
    -------
    encoder, decoder, vae : keras.Model
        As from :func:`build_vae`, trained on the training split of ``dataset``.
    """
    (x_train, _), _ = data.load_dataset(dataset, verbose=False)
    settings = VAE_RECIPE["training"]

    def train() -> tuple[keras.Model, dict]:
        keras.utils.set_random_seed(settings["seed"])
        *_, vae = build_vae(VAE_RECIPE["bottleneck"], x_train.shape[1:], seed=settings["seed"],
                            **VAE_RECIPE["architecture"])
        if verbose:
            print(f"Training the VAE on {dataset} ({len(x_train):,} images) ...")
        batches = _Batches(_check_images(x_train), settings["batch_size"], None, settings["seed"])
        epochs = math.ceil(settings["steps"] / len(batches))
        schedule = training.warmup_cosine_schedule(settings["learning_rate"], epochs * len(batches))
        vae.compile(optimizer=keras.optimizers.Adam(schedule), loss="binary_crossentropy",
                    steps_per_execution=min(50, len(batches)))
        history = training.timed_fit(vae, batches, None, epochs=epochs, batch_size=None,
                                     verbose=verbose)
        _one_step_per_call(vae)
        return vae, _record(history, dataset, len(x_train))

    vae, _ = zoo.cached_model(f"vae_k{VAE_RECIPE['bottleneck']}_{dataset}",
                              {**VAE_RECIPE, "dataset": dataset, "n_train": len(x_train)}, train,
                              verbose=verbose)
    return vae.get_layer("encoder"), vae.get_layer("decoder"), vae


def _record(history, dataset: str, n_train: int) -> dict:
    return {"dataset": dataset, "n_train": n_train, "epochs": len(history.epoch),
            "train_seconds": round(history.seconds, 1),
            "final_loss": float(history.history["loss"][-1]), "keras_version": keras.__version__}


def notebook_models(verbose: bool = False) -> list[tuple[str, Callable[[], object]]]:
    """Every trained model notebook 10 uses: (label, function that loads it or trains it now).

    For ``python -m course_utils prefetch``, which prepares a machine for an offline classroom.
    """
    models: list[tuple[str, Callable[[], object]]] = [
        (f"autoencoder dense k={k} fashion_mnist (10)",
         lambda k=k: trained_autoencoder("dense", k, "fashion_mnist", verbose=verbose))
        for k in SWEEP_BOTTLENECKS]
    models += [(f"autoencoder {variant} {dataset} (10)",
                lambda v=variant, d=dataset: trained_autoencoder(v, None, d, verbose=verbose))
               for variant, dataset in [("linear", "fashion_mnist"), ("wide", "fashion_mnist"),
                                        ("conv", "fashion_mnist"), ("dense", "mnist"),
                                        ("conv", "mnist"), ("restoring", "fashion_mnist")]]
    models.append(("VAE fashion_mnist (10)", lambda: trained_vae("fashion_mnist", verbose=verbose)))
    return models


def prefetch_models(verbose: bool = True) -> list[str]:
    """Train (or load) every model of :func:`notebook_models`, so that notebook 10 runs fast.

    Returns
    -------
    labels : list of str
        What was made ready, e.g. "autoencoder dense k=2 fashion_mnist (10)".
    """
    start = time.perf_counter()
    ready = []
    for label, load in notebook_models(verbose):
        load()
        ready.append(label)
    if verbose:
        print(f"{len(ready)} models of notebook 10 ready in {time.perf_counter() - start:.0f} s")
    return ready
