"""Plotting helpers shared by all lecture notebooks.

Every drawing function returns the Figure it drew into: a new one, or, for the single-panel plots
that accept ``ax=``, the Figure that ``ax`` belongs to; so notebooks and tests can inspect what was
drawn. Nothing here calls ``plt.show()``: the inline backend shows pyplot figures at the end of the
cell. In a notebook, assign the result (``fig = show_images(...)``) or end the line with ``;``,
otherwise Jupyter shows the returned Figure a second time.

Colour conventions (see :func:`auto_cmap`):

* images in ``IMAGE_CMAP`` (grey), limits 0..1 for floats and 0..255 for uint8;
* signed values (filter responses, weights, differences) in the diverging ``SIGNED_CMAP`` with
  symmetric limits ``±max|v|`` so that zero is white;
* other non-negative magnitudes in ``MAGNITUDE_CMAP``.

Images are (H, W) grey, (H, W, 1) or (H, W, 3) channels-last, batches NHWC, pixel values in
[0, 1] (or uint8 in 0..255). Models are duck-typed: TensorFlow/Keras is never imported here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import sklearn.metrics
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

IMAGE_CMAP = "gray"
SIGNED_CMAP = "RdBu_r"
MAGNITUDE_CMAP = "viridis"
CLASS_CMAP = "tab10"

# Bar colours of plot_probabilities.
BAR_COLOR = "lightgray"
PREDICTED_COLOR = "tab:blue"
CORRECT_COLOR = "tab:green"
WRONG_COLOR = "tab:red"

# Label of the class image drawn by plot_decision_regions, so that it can be found on the Axes.
PREDICTED_CLASS_LABEL = "predicted class"

MAX_ANNOTATED_KERNEL = 7

# Negative values smaller than this fraction of the largest positive value are rounding noise
# (e.g. an FFT blur of a [0, 1] image), not a signed image.
_SIGNED_RELATIVE_TOL = 1e-6
_UNIT_RANGE_TOL = 1e-6

# Predicting a 200 x 200 grid with Keras' default batch of 32 takes over a thousand steps.
_GRID_BATCH_SIZE = 4096

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.constrained_layout.use": True,
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "figure.titlesize": 14,
    "legend.fontsize": 11,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "lines.linewidth": 2.0,
    "image.interpolation": "nearest",
    "image.cmap": IMAGE_CMAP,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


# For the lecture hall: the back row reads 16-point text on a projected figure; the figures grow
# with the dpi so that their layout stays the same.
PRESENTER_STYLE = {
    **STYLE,
    "figure.dpi": 130,
    "font.size": 16,
    "axes.titlesize": 18,
    "axes.labelsize": 17,
    "figure.titlesize": 18,
    "legend.fontsize": 15,
    "xtick.labelsize": 15,
    "ytick.labelsize": 15,
    "lines.linewidth": 3.0,
    "lines.markersize": 8,
}


def setup_style(presenter: bool = False) -> None:
    """Set matplotlib rcParams for the course's figures.

    Parameters
    ----------
    presenter : bool
        False: ``STYLE``, readable on a laptop screen. True: ``PRESENTER_STYLE``, larger text,
        thicker lines and a higher dpi for a projector.

    Notes
    -----
    :func:`course_utils.setup` calls this; it changes the global ``matplotlib.rcParams``.
    """
    mpl.rcParams.update(PRESENTER_STYLE if presenter else STYLE)


# ---------------------------------------------------------------------------------------------
# Colour choice
# ---------------------------------------------------------------------------------------------


def _is_colour_image(img: np.ndarray) -> bool:
    return img.ndim == 3 and img.shape[-1] in (3, 4)


def auto_cmap(img: Any) -> tuple[str | None, float | None, float | None]:
    """Choose ``(cmap, vmin, vmax)`` for showing ``img`` with ``imshow``.

    Parameters
    ----------
    img : array_like, shape (H, W), (H, W, 1) or (H, W, 3|4)
        Grey image or map of any numeric or bool dtype, or a colour image.

    Returns
    -------
    cmap : str or None
        Colour map name; None for colour images.
    vmin, vmax : float or None
        Colour limits; None for colour images.

    Notes
    -----
    * colour images: ``(None, None, None)``, since the pixel values are the colours;
    * values with a (non-negligible) negative part: ``(SIGNED_CMAP, -m, m)`` with ``m = max|v|``;
    * uint8: ``(IMAGE_CMAP, 0, 255)``;
    * values in [0, 1]: ``(IMAGE_CMAP, 0, 1)``;
    * other non-negative values: ``(MAGNITUDE_CMAP, 0, max)``.

    NaN and inf are ignored; an image without finite values gets ``(IMAGE_CMAP, 0, 1)``.

    Examples
    --------
    >>> auto_cmap(np.array([[0.2, 0.9], [0.0, 0.5]]))
    ('gray', 0.0, 1.0)
    >>> auto_cmap(np.array([[-0.5, 2.0]]))  # signed: symmetric limits, zero in the middle
    ('RdBu_r', -2.0, 2.0)
    >>> auto_cmap(np.array([[0.0, 7.5]]))
    ('viridis', 0.0, 7.5)
    >>> auto_cmap(np.zeros((4, 4, 3)))
    (None, None, None)
    """
    img = np.asarray(img)
    if _is_colour_image(img):
        return None, None, None
    values = img.astype(np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return IMAGE_CMAP, 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    if lo < 0 and -lo > _SIGNED_RELATIVE_TOL * hi:
        m = max(-lo, abs(hi))
        return SIGNED_CMAP, -m, m
    if img.dtype == np.uint8:
        return IMAGE_CMAP, 0.0, 255.0
    if hi <= 1 + _UNIT_RANGE_TOL:
        return IMAGE_CMAP, 0.0, 1.0
    return MAGNITUDE_CMAP, 0.0, hi


def _symmetric_limit(values: np.ndarray) -> float:
    """``max|v|`` of an array, or 1 when all zero (a zero range would break the colour norm)."""
    m = float(np.max(np.abs(values))) if values.size else 0.0
    return m if m > 0 else 1.0


# ---------------------------------------------------------------------------------------------
# Small shared pieces
# ---------------------------------------------------------------------------------------------


def _axes_for(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The Axes to draw into: ``ax`` itself, or the single Axes of a new figure."""
    if ax is not None:
        return ax.figure, ax
    fig, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, new_ax


def _as_displayable(img: Any, index: int) -> np.ndarray:
    """One image as imshow wants it: (H, W) or (H, W, 3|4); a single channel is squeezed."""
    img = np.asarray(img)
    if img.dtype == bool:
        img = img.astype(np.float32)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 2 or _is_colour_image(img):
        return img
    raise ValueError(
        f"image {index} has shape {img.shape}; expected (H, W), (H, W, 1) or (H, W, 3)"
    )


def _as_image_list(images: Any) -> list[np.ndarray]:
    """Split ``images`` into a list of displayable images.

    An array is a batch when it has 3 or 4 dimensions ((N, H, W) or (N, H, W, C)); a 2D array is
    one image. A single colour image must therefore be passed as ``[img]``.
    """
    if isinstance(images, np.ndarray) or not isinstance(images, Sequence):
        arr = np.asarray(images)
        if arr.ndim == 2:
            items: list[Any] = [arr]
        elif arr.ndim in (3, 4):
            items = list(arr)
        else:
            raise ValueError(
                f"images has shape {arr.shape}; expected (N, H, W), (N, H, W, C), one (H, W) "
                "image, or a list of images"
            )
    else:
        items = list(images)
    if not items:
        raise ValueError("images is empty; pass at least one image")
    return [_as_displayable(img, i) for i, img in enumerate(items)]


def _per_image(value: Any, n: int, name: str) -> list[Any]:
    """Broadcast a scalar (or string) argument to ``n`` images, or check a per-image sequence."""
    if value is None or isinstance(value, str) or np.ndim(value) == 0:
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} entries for {n} images; give one per image")
    return values


def _grid_shape(n: int, ncols: int | None) -> tuple[int, int]:
    if ncols is None:
        ncols = min(n, 8)
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    ncols = min(ncols, n)
    return -(-n // ncols), ncols


def _annotate_cells(ax: Axes, im: AxesImage, values: np.ndarray, fmt: str) -> None:
    """Write every entry of ``values`` (R, C) into its cell of ``im``.

    The text is black on light cells and white on dark ones.
    """
    rgba = im.cmap(im.norm(values))
    luminance = rgba[..., :3] @ np.array([0.2126, 0.7152, 0.0722])
    rows, cols = np.indices(values.shape)
    for r, c, v, lum in zip(
        rows.ravel(), cols.ravel(), values.ravel(), luminance.ravel(), strict=True
    ):
        # "+ 0" turns -0.0 into 0.0 so that it is not printed as "-0".
        ax.text(c, r, format(v + 0, fmt), ha="center", va="center",
                color="white" if lum < 0.5 else "black")


# ---------------------------------------------------------------------------------------------
# Images and kernels
# ---------------------------------------------------------------------------------------------


def show_images(
    images: Any,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    cmap: str | Sequence[str | None] | None = None,
    vmin: float | Sequence[float | None] | None = None,
    vmax: float | Sequence[float | None] | None = None,
    suptitle: str | None = None,
    size: float = 2.2,
    colorbar: bool = False,
) -> Figure:
    """Show images in a grid, one per Axes, axes off.

    Parameters
    ----------
    images : array_like or list of array_like
        An (N, H, W), (N, H, W, 1) or (N, H, W, 3) batch, one (H, W) array, or a list of
        differently sized (H, W), (H, W, 1) or (H, W, 3) arrays. A single colour image must be
        passed as ``[img]`` (a 3D array is read as a batch of grey images).
    titles : sequence of str, optional
        One title per image.
    ncols : int, optional
        Grid columns (default: all images in one row, at most 8).
    cmap : str or sequence of (str or None), optional
        One colour map for all images or one per image. Where it is None it is chosen by
        :func:`auto_cmap` together with its limits.
    vmin, vmax : float or sequence of (float or None), optional
        Colour limits, one for all images or one per image. With an automatic cmap, explicit
        vmin/vmax still win over the automatic limits; where the cmap is given, vmin/vmax are passed
        as they are (None: data range).
    suptitle : str, optional
        Title over the whole grid.
    size : float
        Inches per grid cell.
    colorbar : bool
        Add a colour bar next to every grey-level image.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One Axes per grid cell; unused grid cells are hidden.

    Raises
    ------
    ValueError
        If ``images`` is empty or an image has an unsupported shape, if ``titles``, ``cmap``,
        ``vmin`` or ``vmax`` does not have one entry per image, or if ``ncols`` < 1.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((8, 28, 28, 1))
    >>> fig = show_images(x, titles=[f"image {i}" for i in range(8)], ncols=4)  # doctest: +SKIP
    """
    imgs = _as_image_list(images)
    n = len(imgs)
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} images; give one title per image")
    cmaps = _per_image(cmap, n, "cmap")
    vmins = _per_image(vmin, n, "vmin")
    vmaxs = _per_image(vmax, n, "vmax")
    nrows, ncols = _grid_shape(n, ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)),
        layout="constrained", squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= n:
            ax.set_visible(False)
            continue
        img = imgs[i]
        cm, lo, hi = cmaps[i], vmins[i], vmaxs[i]
        if cm is None:
            cm, auto_lo, auto_hi = auto_cmap(img)
            lo = auto_lo if lo is None else lo
            hi = auto_hi if hi is None else hi
        im = ax.imshow(img, cmap=cm, vmin=lo, vmax=hi)
        if titles is not None:
            ax.set_title(titles[i])
        if colorbar and img.ndim == 2:
            fig.colorbar(im, ax=ax, shrink=0.8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def show_kernel(
    w: Any,
    ax: Axes | None = None,
    annotate: bool | None = None,
    fmt: str | None = None,
    title: str | None = None,
) -> Figure:
    """Show a convolution kernel as a heat map in ``SIGNED_CMAP`` with zero in white.

    Parameters
    ----------
    w : array_like, shape (k,) or (kh, kw)
        The kernel; a 1D kernel is shown as one row. The colour limits are ±max|w|.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.
    annotate : bool, optional
        Write the values into the cells; default: only for kernels of up to
        ``MAX_ANNOTATED_KERNEL`` (7) taps per side. Without annotations a colour bar gives the scale.
    fmt : str, optional
        Format spec of the values; default ".0f" for integer-valued kernels, else ".2f".
    title : str, optional
        Title of the Axes.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure, or the one ``ax`` belongs to.

    Raises
    ------
    ValueError
        If ``w`` is empty or not 1D or 2D.

    Examples
    --------
    >>> from course_utils.kernels import sobel_kernels
    >>> fig = show_kernel(sobel_kernels()[0], title="Sobel x")  # doctest: +SKIP
    """
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 1:
        w = w[None, :]
    if w.ndim != 2 or w.size == 0:
        raise ValueError(f"kernel has shape {w.shape}; expected a non-empty (k,) or (kh, kw) array")
    if annotate is None:
        annotate = max(w.shape) <= MAX_ANNOTATED_KERNEL
    if fmt is None:
        fmt = ".0f" if np.all(w == np.round(w)) else ".2f"
    rows, cols = w.shape
    fig, axes = _axes_for(ax, (max(2.5, 0.6 * cols + 0.5), max(1.2, 0.6 * rows + 0.5)))
    m = _symmetric_limit(w)
    im = axes.imshow(w, cmap=SIGNED_CMAP, vmin=-m, vmax=m)
    axes.set_xticks([])
    axes.set_yticks([])
    if annotate:
        _annotate_cells(axes, im, w, fmt)
    else:
        fig.colorbar(im, ax=axes, shrink=0.8)
    if title:
        axes.set_title(title)
    return fig


def compare(
    images: Mapping[str, Any],
    suptitle: str | None = None,
    cmaps: str | Sequence[str | None] | None = None,
    size: float = 3.5,
    colorbar: bool = False,
) -> Figure:
    """Show images side by side, titled by the keys of ``images``.

    Parameters
    ----------
    images : mapping of str to array_like
        {title: (H, W), (H, W, 1) or (H, W, 3) array}, in display order.
    suptitle : str, optional
        Title over the row.
    cmaps : str or sequence of (str or None), optional
        One cmap for all, or one per image (None entries: :func:`auto_cmap`).
    size : float
        Inches per image.
    colorbar : bool
        Add a colour bar next to every grey-level image.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One row, one Axes per image.

    Raises
    ------
    ValueError
        If ``images`` is empty, or as :func:`show_images` does.

    Examples
    --------
    >>> img = np.random.default_rng(0).random((32, 32))
    >>> fig = compare({"image": img, "negative": 1 - img, "difference": img - (1 - img)})  # doctest: +SKIP
    """
    if not images:
        raise ValueError("images is empty; pass at least one {title: image} entry")
    return show_images(
        list(images.values()), titles=list(images), ncols=len(images), cmap=cmaps,
        suptitle=suptitle, size=size, colorbar=colorbar,
    )


def before_after(
    before: Any,
    after: Any,
    titles: Sequence[str] = ("before", "after"),
    suptitle: str | None = None,
    cmaps: str | Sequence[str | None] | None = None,
) -> Figure:
    """Show two images side by side (see :func:`compare`).

    Parameters
    ----------
    before, after : array_like, shape (H, W), (H, W, 1) or (H, W, 3)
        The two images.
    titles : (str, str)
        Two different titles.
    suptitle : str, optional
        Title over both.
    cmaps : str or sequence of (str or None), optional
        As in :func:`compare`.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``titles`` is not two different strings.

    Examples
    --------
    >>> img = np.random.default_rng(0).random((32, 32))
    >>> fig = before_after(img, img > 0.5, titles=("image", "thresholded"))  # doctest: +SKIP
    """
    if len(titles) != 2 or titles[0] == titles[1]:
        raise ValueError(f"titles must be two different strings, got {tuple(titles)}")
    return compare({titles[0]: before, titles[1]: after}, suptitle=suptitle, cmaps=cmaps)


# ---------------------------------------------------------------------------------------------
# Curves
# ---------------------------------------------------------------------------------------------


def plot_signals(
    t: Any,
    signals: Mapping[str, Any],
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Overlay 1D signals over a common axis, with a legend.

    Parameters
    ----------
    t : array_like, shape (n,)
        Sample positions (e.g. time).
    signals : mapping of str to array_like
        {legend label: (n,) values}, drawn in order (draw the noisy signal first).
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.
    title : str, optional
        Title of the Axes.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure, or the one ``ax`` belongs to.

    Raises
    ------
    ValueError
        If ``t`` is not 1D, ``signals`` is empty, or a signal's shape differs from that of ``t``.

    Examples
    --------
    >>> t = np.linspace(0, 1, 100)
    >>> noisy = np.sin(2 * np.pi * t) + np.random.default_rng(0).normal(0, 0.3, 100)
    >>> smooth = np.convolve(noisy, np.ones(9) / 9, mode="same")
    >>> fig = plot_signals(t, {"noisy": noisy, "moving average": smooth})  # doctest: +SKIP
    """
    t = np.asarray(t)
    if t.ndim != 1:
        raise ValueError(f"t has shape {t.shape}; expected (n,)")
    if not signals:
        raise ValueError("signals is empty; pass at least one {label: values} entry")
    for label, values in signals.items():
        if np.shape(values) != t.shape:
            raise ValueError(
                f"signal {label!r} has shape {np.shape(values)}, but t has shape {t.shape}"
            )
    fig, axes = _axes_for(ax, (8.0, 3.5))
    for label, values in signals.items():
        axes.plot(t, np.asarray(values), label=label)
    axes.legend()
    if title:
        axes.set_title(title)
    return fig


def plot_history(
    history: Any,
    metrics: Sequence[str] = ("loss", "accuracy"),
    title: str | None = None,
) -> Figure:
    """Plot training curves, one panel per metric: training and (if recorded) ``val_`` curve.

    Parameters
    ----------
    history : keras.callbacks.History or mapping
        A Keras ``History`` (its ``.history`` is used) or a dict {metric: per-epoch values}.
    metrics : sequence of str
        Metrics to show; those absent from the history are skipped.
    title : str, optional
        Title over all panels.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One Axes per metric shown; the x axis counts epochs from 1.

    Raises
    ------
    ValueError
        If ``history`` is neither a History nor a dict, or holds none of ``metrics``.

    Examples
    --------
    >>> history = model.fit(x_train, y_train, validation_split=0.1, epochs=3)  # doctest: +SKIP
    >>> fig = plot_history(history)  # doctest: +SKIP
    >>> fig = plot_history({"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.7, 0.6]})  # doctest: +SKIP
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise ValueError(
            f"history must be a Keras History or a dict of per-epoch values, got {type(history)}"
        )
    present = [m for m in metrics if m in logs]
    if not present:
        raise ValueError(
            f"none of the metrics {tuple(metrics)} is in the history; available: {sorted(logs)}"
        )
    fig, axes = plt.subplots(
        1, len(present), figsize=(4.5 * len(present), 3.5), layout="constrained", squeeze=False
    )
    for ax, metric in zip(axes[0], present, strict=True):
        for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
            if key in logs:
                values = np.asarray(logs[key], dtype=np.float64)
                ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3,
                        label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def compare_runs(runs: Mapping[str, tuple[Any, Any]], xlabel: str = "step", ylabel: str = "accuracy",
                 target: float | None = None, ax: Axes | None = None,
                 title: str | None = None) -> Figure:
    """Overlay one curve per run, with a legend and an optional target line.

    Parameters
    ----------
    runs : mapping of str to (array_like, array_like)
        {legend label: (x, y)}, drawn in order; x and y are (n,) arrays, x strictly increasing
        (optimizer steps or epochs), y the measured value.
    xlabel, ylabel : str
        Axis labels.
    target : float, optional
        Draw a dashed line at this value and a dot where each run first reaches it (y >= target);
        the line's label shows it as a percentage when target <= 1.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.
    title : str, optional
        Title of the Axes.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure, or the one ``ax`` belongs to.

    Raises
    ------
    ValueError
        If ``runs`` is empty, or a run is not two equally long 1D arrays with x strictly increasing.

    Examples
    --------
    >>> steps = np.arange(1, 11)
    >>> runs = {"SGD": (steps, 1 - 0.5 / steps), "Adam": (steps, 1 - 0.2 / steps)}
    >>> fig = compare_runs(runs, xlabel="epoch", target=0.9)  # doctest: +SKIP
    """
    if not runs:
        raise ValueError("runs is empty; pass at least one {label: (x, y)} entry")
    checked = {label: tuple(np.asarray(c, dtype=np.float64) for c in curve)
               for label, curve in runs.items()}
    for label, (x, y) in checked.items():
        if x.ndim != 1 or x.shape != y.shape or np.any(np.diff(x) <= 0):
            raise ValueError(f"run {label!r} is not a curve: need (x, y), two (n,) arrays with x "
                             f"strictly increasing; got shapes {x.shape} and {y.shape}")
    fig, axes = _axes_for(ax, (7.5, 4.0))
    for label, (x, y) in checked.items():
        (line,) = axes.plot(x, y, label=label)
        first = np.flatnonzero(y >= target)[:1] if target is not None else []
        if len(first):
            axes.plot(x[first], y[first], "o", color=line.get_color(), markersize=7)
    if target is not None:
        axes.axhline(target, color="gray", linestyle="--", linewidth=1,
                     label=f"target {target:.0%}" if target <= 1 else f"target {target}")
    if all(np.all(x == np.round(x)) for x, _ in checked.values()):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps and epochs are whole
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.legend()
    if title:
        axes.set_title(title)
    return fig


# ---------------------------------------------------------------------------------------------
# Classifiers on 2D points
# ---------------------------------------------------------------------------------------------


def _check_points(X: Any, y: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate X: (n, 2) points and, if given, y: (n,) labels."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(
            f"X has shape {X.shape}; it must be 2D points, an array of shape (n, 2) with n >= 1"
        )
    if y is None:
        return X, None
    y = np.asarray(y).ravel()
    if len(y) != len(X):
        raise ValueError(f"y has {len(y)} labels but X has {len(X)} points; they must match")
    return X, y


def grid_over(
    X: Any, resolution: int = 200, padding: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A regular grid covering the range of 2D points, to evaluate a function over the plane.

    Parameters
    ----------
    X : array_like, shape (n, 2)
        Points; the grid spans each coordinate's [min - padding, max + padding].
    resolution : int
        Grid points per axis, >= 2.
    padding : float
        Margin around the points, in the units of X, >= 0.

    Returns
    -------
    xx, yy : float array, shape (resolution, resolution)
        Grid coordinates, as from ``np.meshgrid`` (row index = y).
    points : float array, shape (resolution**2, 2)
        The grid points in ``xx.ravel()`` order, so ``f(points).reshape(xx.shape)`` is f over the
        grid.

    Raises
    ------
    ValueError
        If X is not an (n, 2) array with n >= 1, ``resolution`` is not an integer >= 2, or
        ``padding`` < 0.

    Examples
    --------
    >>> xx, yy, points = grid_over(np.array([[0.0, 0.0], [1.0, 2.0]]), resolution=3, padding=0.0)
    >>> xx
    array([[0. , 0.5, 1. ],
           [0. , 0.5, 1. ],
           [0. , 0.5, 1. ]])
    >>> yy[:, 0]
    array([0., 1., 2.])
    >>> points[:4]
    array([[0. , 0. ],
           [0.5, 0. ],
           [1. , 0. ],
           [0. , 1. ]])
    """
    X, _ = _check_points(X)
    if int(resolution) != resolution or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution}")
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    lo = X.min(axis=0) - padding
    hi = X.max(axis=0) + padding
    xs = np.linspace(lo[0], hi[0], int(resolution))
    ys = np.linspace(lo[1], hi[1], int(resolution))
    xx, yy = np.meshgrid(xs, ys)
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def _grid_extent(xx: np.ndarray, yy: np.ndarray) -> tuple[float, float, float, float]:
    """imshow extent that puts each grid point at the centre of its pixel."""
    dx = (xx[0, -1] - xx[0, 0]) / (xx.shape[1] - 1) / 2
    dy = (yy[-1, 0] - yy[0, 0]) / (yy.shape[0] - 1) / 2
    return xx[0, 0] - dx, xx[0, -1] + dx, yy[0, 0] - dy, yy[-1, 0] + dy


def _show_on_grid(ax: Axes, xx: np.ndarray, yy: np.ndarray, image: np.ndarray,
                  **imshow_kwargs: Any) -> AxesImage:
    im = ax.imshow(image, origin="lower", extent=_grid_extent(xx, yy), aspect="auto",
                   interpolation="nearest", **imshow_kwargs)
    ax.set_xlim(im.get_extent()[:2])
    ax.set_ylim(im.get_extent()[2:])
    return im


def _class_colormap(n_classes: int) -> ListedColormap:
    palette = mpl.colormaps[CLASS_CMAP].colors
    return ListedColormap([palette[i % len(palette)] for i in range(n_classes)])


def _scatter_classes(ax: Axes, X: np.ndarray, y: np.ndarray, classes: np.ndarray) -> None:
    """Scatter the points coloured by class (colour i for ``classes[i]``), with a legend."""
    cmap = _class_colormap(len(classes))
    ax.scatter(X[:, 0], X[:, 1], c=np.searchsorted(classes, y), cmap=cmap, vmin=-0.5,
               vmax=len(classes) - 0.5, s=25, edgecolors="k", linewidths=0.6)
    handles = [
        Line2D([], [], marker="o", linestyle="", markerfacecolor=cmap(i), markeredgecolor="k",
               label=str(c))
        for i, c in enumerate(classes)
    ]
    ax.legend(handles=handles, title="class", framealpha=0.8)


def _predict_kwargs(method: Callable[..., Any]) -> dict[str, Any]:
    """Keras-style keyword arguments that ``method`` accepts (Keras: no progress bar, big batches).

    scikit-learn's predict takes neither, so it gets none.
    """
    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return {}
    wanted = {"verbose": 0, "batch_size": _GRID_BATCH_SIZE}
    return {k: v for k, v in wanted.items() if k in params}


def _predict_classes(model: Any, points: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Class predictions of a classifier for (n, 2) points.

    Returns ``labels``: (n,) predicted classes, and ``probs``: (n, n_classes) class probabilities
    or None when the model only gives labels. Understands scikit-learn (``predict_proba`` with
    ``classes_``, else ``predict``) and Keras-like models whose ``predict`` returns (n, n_classes)
    probabilities, (n, 1) sigmoid outputs or (n,) labels.
    """
    method = getattr(model, "predict_proba", None) or getattr(model, "predict", None)
    if method is None:
        raise ValueError(f"model of type {type(model)} has neither predict_proba nor predict")
    out = np.asarray(method(points, **_predict_kwargs(method)))
    if out.ndim == 1:
        return out, None
    if out.ndim != 2 or len(out) != len(points):
        raise ValueError(
            f"model returned shape {out.shape} for {len(points)} points; expected (n,), (n, 1) "
            "or (n, n_classes)"
        )
    probs = np.column_stack([1 - out[:, 0], out[:, 0]]) if out.shape[1] == 1 else out
    index = probs.argmax(axis=1)
    classes = getattr(model, "classes_", None)
    return (index if classes is None else np.asarray(classes)[index]), probs


def _confidence_alpha(probs: np.ndarray) -> np.ndarray:
    """Opacity per point growing from faint at chance level to strong at probability 1."""
    k = probs.shape[1]
    confidence = np.clip((probs.max(axis=1) - 1 / k) / (1 - 1 / k), 0, 1)
    return 0.1 + 0.55 * confidence


def _draw_boundary(ax: Axes, xx: np.ndarray, yy: np.ndarray, field: np.ndarray,
                   levels: np.ndarray) -> None:
    """Contour ``field`` at the levels it actually crosses (none: one class everywhere)."""
    crossed = levels[(levels > field.min()) & (levels < field.max())]
    if crossed.size:
        ax.contour(xx, yy, field, levels=crossed, colors="k", linewidths=1.5)


def plot_decision_regions(
    model: Any,
    X: Any,
    y: Any,
    ax: Axes | None = None,
    resolution: int = 200,
    padding: float = 0.5,
    title: str | None = None,
) -> Figure:
    """Colour the plane by a classifier's predicted class and scatter the labelled points on top.

    Parameters
    ----------
    model : classifier
        A scikit-learn classifier (``predict_proba`` if it has one, else ``predict``) or a Keras-like
        model whose ``predict(x, verbose=0)`` gives (n, n_classes) probabilities, an (n, 1) sigmoid
        output or (n,) labels.
    X : array_like, shape (n, 2)
        The points.
    y : array_like, shape (n,)
        Their labels.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.
    resolution, padding
        See :func:`grid_over`.
    title : str, optional
        Title of the Axes.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure, or the one ``ax`` belongs to.

    Raises
    ------
    ValueError
        If X is not (n, 2) or y has a different length, the model has neither ``predict_proba`` nor
        ``predict``, or its output has an unexpected shape.

    Notes
    -----
    Region colours fade towards white where the model is unsure (when it gives probabilities);
    the decision boundary is drawn in black. The class image is the AxesImage labelled
    ``PREDICTED_CLASS_LABEL``; its pixels hold indices into the sorted union of true and
    predicted classes.

    Examples
    --------
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from course_utils.data import make_2d_dataset
    >>> X, y = make_2d_dataset("rings")
    >>> model = KNeighborsClassifier(15).fit(X, y)
    >>> fig = plot_decision_regions(model, X, y, title="15 nearest neighbours")  # doctest: +SKIP
    """
    X, y = _check_points(X, y)
    xx, yy, points = grid_over(X, resolution, padding)
    labels, probs = _predict_classes(model, points)
    classes = np.unique(np.concatenate([np.unique(y), np.unique(labels)]))
    index = np.searchsorted(classes, labels).reshape(xx.shape)
    alpha = 0.4 if probs is None else _confidence_alpha(probs).reshape(xx.shape)
    fig, axes = _axes_for(ax, (5.5, 5.0))
    im = _show_on_grid(axes, xx, yy, index, cmap=_class_colormap(len(classes)), vmin=-0.5,
                       vmax=len(classes) - 0.5, alpha=alpha)
    im.set_label(PREDICTED_CLASS_LABEL)
    if probs is not None and probs.shape[1] == 2:
        # The probability contour is smoother than the staircase of the class image.
        _draw_boundary(axes, xx, yy, probs[:, 1].reshape(xx.shape), np.array([0.5]))
    else:
        _draw_boundary(axes, xx, yy, index, np.arange(len(classes) - 1) + 0.5)
    _scatter_classes(axes, X, y, classes)
    if title:
        axes.set_title(title)
    return fig


def plot_field(
    X: Any,
    y: Any,
    values_fn: Callable[[np.ndarray], Any],
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str | None = None,
    resolution: int = 200,
    padding: float = 0.5,
) -> Figure:
    """Draw a scalar function over the plane as a heat map, with the labelled points on top.

    Parameters
    ----------
    X : array_like, shape (n, 2)
        The points.
    y : array_like, shape (n,)
        Their labels.
    values_fn : callable
        Maps an (m, 2) array of points to (m,) or (m, 1) values, e.g. one hidden unit's activation.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.
    title : str, optional
        Title of the Axes.
    cmap : str, optional
        Default ``SIGNED_CMAP`` (symmetric limits) for signed values, else ``MAGNITUDE_CMAP``
        (0..1 for values in [0, 1], such as sigmoid outputs, so units can be compared; else 0..max).
        A given cmap keeps these limits.
    resolution, padding
        See :func:`grid_over`.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure, or the one ``ax`` belongs to; the heat map has a colour bar.

    Raises
    ------
    ValueError
        If X is not (n, 2) or y has a different length, or ``values_fn`` does not return one value
        per point.

    Examples
    --------
    >>> from course_utils.data import make_2d_dataset
    >>> X, y = make_2d_dataset("rings")
    >>> def distance(p):
    ...     return np.hypot(p[:, 0], p[:, 1])
    >>> fig = plot_field(X, y, distance, title="distance from the origin")  # doctest: +SKIP
    """
    X, y = _check_points(X, y)
    xx, yy, points = grid_over(X, resolution, padding)
    values = np.asarray(values_fn(points), dtype=np.float64)
    if values.size != len(points):
        raise ValueError(
            f"values_fn returned shape {values.shape} for {len(points)} points; "
            "expected one value per point"
        )
    field = values.reshape(xx.shape)
    auto, vmin, vmax = auto_cmap(field)
    if cmap is None:
        # A field over the plane is not a photograph: keep grey for images only.
        cmap = MAGNITUDE_CMAP if auto == IMAGE_CMAP else auto
    fig, axes = _axes_for(ax, (6.0, 5.0))
    im = _show_on_grid(axes, xx, yy, field, cmap=cmap, vmin=vmin, vmax=vmax)
    fig.colorbar(im, ax=axes, shrink=0.8)
    _scatter_classes(axes, X, y, np.unique(y))
    if title:
        axes.set_title(title)
    return fig


# ---------------------------------------------------------------------------------------------
# Classification results
# ---------------------------------------------------------------------------------------------


def _as_labels(y: Any, name: str) -> np.ndarray:
    """(n,) non-negative integer class labels (integer-valued floats are accepted)."""
    y = np.asarray(y).ravel()
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise ValueError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if y.size and (np.any(y < 0) or np.any(y != np.round(y))):
        raise ValueError(f"{name} must hold non-negative integer class labels 0, 1, ...")
    return y.astype(np.int64)


def plot_confusion(
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Show the confusion matrix (rows: true class, columns: predicted) with values in the cells.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (n,)
        Class labels 0, 1, ... (integer-valued floats are accepted).
    class_names : sequence of str, optional
        One name per class; fixes the number of classes (default: the largest label + 1, named by
        their index).
    normalize : bool
        Divide each row by its count, so the diagonal is the per-class recall.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.
    title : str, optional
        Title of the Axes.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure, or the one ``ax`` belongs to.

    Raises
    ------
    ValueError
        If the labels are not non-negative integers, ``y_true`` and ``y_pred`` are empty or differ in
        length, or a label has no entry in ``class_names``.

    Examples
    --------
    >>> y_true = np.array([0, 0, 1, 1, 2, 2])
    >>> y_pred = np.array([0, 1, 1, 1, 2, 0])
    >>> names = ["cat", "dog", "bird"]
    >>> fig = plot_confusion(y_true, y_pred, class_names=names, normalize=True)  # doctest: +SKIP
    """
    t, p = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    if len(t) != len(p) or len(t) == 0:
        raise ValueError(f"y_true and y_pred must be non-empty and equally long, got {len(t)} and "
                         f"{len(p)} labels")
    n_classes = int(max(t.max(), p.max())) + 1 if class_names is None else len(class_names)
    if max(t.max(), p.max()) >= n_classes:
        raise ValueError(f"labels go up to {max(t.max(), p.max())}, more than the "
                         f"{n_classes} class names")
    cm = sklearn.metrics.confusion_matrix(t, p, labels=np.arange(n_classes))
    if normalize:
        totals = cm.sum(axis=1, keepdims=True)
        values = cm / np.maximum(totals, 1)
        fmt, vmax = ".2f", 1.0
    else:
        values, fmt, vmax = cm, "d", max(int(cm.max()), 1)
    k = len(cm)
    names = [str(i) for i in range(k)] if class_names is None else list(class_names)
    fig, axes = _axes_for(ax, (max(4.0, 0.55 * k + 1.5), max(3.5, 0.5 * k + 1.2)))
    im = axes.imshow(values, cmap=MAGNITUDE_CMAP, vmin=0, vmax=vmax)
    _annotate_cells(axes, im, values, fmt)
    axes.set_xticks(np.arange(k), names, rotation=45 if max(map(len, names)) > 3 else 0)
    axes.set_yticks(np.arange(k), names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    if title:
        axes.set_title(title)
    return fig


def plot_probabilities(
    probs: Any,
    class_names: Sequence[str] | None = None,
    true_label: int | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Horizontal bar chart of one prediction's class probabilities, class 0 at the top.

    Parameters
    ----------
    probs : array_like, shape (k,) or (1, k)
        Probabilities in [0, 1] (apply softmax to logits first).
    class_names : sequence of str, optional
        One name per class; default the class indices.
    true_label : int, optional
        Index of the correct class, if known.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.
    title : str, optional
        Title of the Axes.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure, or the one ``ax`` belongs to.

    Raises
    ------
    ValueError
        If ``probs`` has the wrong shape or values outside [0, 1] (logits), ``class_names`` has the
        wrong length, or ``true_label`` is not a class index.

    Notes
    -----
    The predicted (argmax) bar is ``PREDICTED_COLOR`` when the truth is unknown, else
    ``CORRECT_COLOR`` if right and ``WRONG_COLOR`` if wrong; the true class's bar is
    ``CORRECT_COLOR``; the others are ``BAR_COLOR``.

    Examples
    --------
    >>> probs = [0.05, 0.7, 0.25]
    >>> fig = plot_probabilities(probs, class_names=["cat", "dog", "bird"], true_label=2)  # doctest: +SKIP
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim == 2 and p.shape[0] == 1:
        p = p[0]
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"probs has shape {np.shape(probs)}; expected (k,) or (1, k)")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError(
            f"probs must lie in [0, 1], got range [{p.min():.3g}, {p.max():.3g}]; "
            "these look like logits, apply a softmax first"
        )
    k = p.size
    names = [str(i) for i in range(k)] if class_names is None else list(class_names)
    if len(names) != k:
        raise ValueError(f"got {len(names)} class names for {k} probabilities")
    if true_label is not None and not 0 <= true_label < k:
        raise ValueError(f"true_label {true_label} is not a class index in 0..{k - 1}")
    predicted = int(p.argmax())
    colors = [BAR_COLOR] * k
    if true_label is None:
        colors[predicted] = PREDICTED_COLOR
    else:
        colors[predicted] = CORRECT_COLOR if predicted == true_label else WRONG_COLOR
        colors[true_label] = CORRECT_COLOR
    fig, axes = _axes_for(ax, (5.0, max(2.5, 0.35 * k + 1.0)))
    bars = axes.barh(np.arange(k), p, color=colors, edgecolor="k", linewidth=0.5)
    axes.bar_label(bars, fmt="%.2f", padding=3)
    axes.set_yticks(np.arange(k), names)
    axes.invert_yaxis()
    axes.set_xlim(0, 1.15)
    axes.set_xlabel("probability")
    if title:
        axes.set_title(title)
    return fig


# ---------------------------------------------------------------------------------------------
# Convolutional layers
# ---------------------------------------------------------------------------------------------


def _minmax_per_filter(filters: np.ndarray) -> np.ndarray:
    """Scale each filter of (n, kh, kw, c) to [0, 1]; constant filters become mid-grey."""
    lo = filters.min(axis=(1, 2, 3), keepdims=True)
    span = filters.max(axis=(1, 2, 3), keepdims=True) - lo
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (filters - lo) / safe, 0.5)


def show_filters(weights: Any, ncols: int = 8, title: str | None = None) -> Figure:
    """Show the filters of a Conv2D kernel, one image per output channel.

    Parameters
    ----------
    weights : array_like, shape (kh, kw, c_in, n_filters)
        A Conv2D kernel (Keras ``layer.kernel`` / ``layer.get_weights()[0]``).
    ncols : int
        Grid columns.
    title : str, optional
        Title over the grid.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One image per filter, titled by its index.

    Raises
    ------
    ValueError
        If ``weights`` is not 4D.

    Notes
    -----
    c_in == 1: the signed weights in ``SIGNED_CMAP``, with limits ±max|w| shared by all filters so
    that weak filters look weak. c_in == 3: as RGB, each filter min-max scaled to [0, 1] on its
    own. Other c_in: the mean over input channels, signed as for c_in == 1.

    Examples
    --------
    >>> fig = show_filters(model.get_layer("conv1").get_weights()[0])  # doctest: +SKIP
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 4:
        raise ValueError(
            f"weights has shape {w.shape}; expected a Conv2D kernel (kh, kw, c_in, n_filters)"
        )
    filters = np.moveaxis(w, -1, 0)
    titles = [str(i) for i in range(len(filters))]
    if w.shape[2] == 3:
        return show_images(_minmax_per_filter(filters), titles=titles, ncols=ncols,
                           suptitle=title, size=1.4)
    signed = filters.mean(axis=-1)
    m = _symmetric_limit(signed)
    return show_images(signed, titles=titles, ncols=ncols, cmap=SIGNED_CMAP, vmin=-m, vmax=m,
                       suptitle=title, size=1.4)


def show_feature_maps(
    fmap: Any, max_maps: int = 16, ncols: int = 8, title: str | None = None
) -> Figure:
    """Show the first ``max_maps`` channels of one conv layer's activations for one input.

    Parameters
    ----------
    fmap : array_like, shape (H, W, C) or (1, H, W, C)
        The activations of one input.
    max_maps : int
        Number of channels to show (the first ones), >= 1.
    ncols : int
        Grid columns.
    title : str, optional
        Title over the grid.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One image per channel, titled "channel i".

    Raises
    ------
    ValueError
        If ``fmap`` is not (H, W, C) or (1, H, W, C), or ``max_maps`` < 1.

    Notes
    -----
    Each map gets its own limits, because channel scales differ a lot: 0..max in
    ``MAGNITUDE_CMAP`` when all maps shown are non-negative (after ReLU), else ±max|v| in
    ``SIGNED_CMAP``.

    Examples
    --------
    >>> from course_utils.inspection import activations  # doctest: +SKIP
    >>> maps = activations(model, x_test[:1], ["relu1"])["relu1"]  # doctest: +SKIP
    >>> fig = show_feature_maps(maps, max_maps=8)  # doctest: +SKIP
    """
    a = np.asarray(fmap, dtype=np.float64)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 3:
        raise ValueError(
            f"fmap has shape {np.shape(fmap)}; expected (H, W, C) or (1, H, W, C) for one input"
        )
    if max_maps < 1:
        raise ValueError(f"max_maps must be at least 1, got {max_maps}")
    maps = np.moveaxis(a[..., :max_maps], -1, 0)
    peaks = np.abs(maps).max(axis=(1, 2))
    peaks = np.where(peaks > 0, peaks, 1.0)
    if maps.min() < 0:
        cmap, vmins = SIGNED_CMAP, list(-peaks)
    else:
        cmap, vmins = MAGNITUDE_CMAP, [0.0] * len(maps)
    return show_images(maps, titles=[f"channel {i}" for i in range(len(maps))], ncols=ncols,
                       cmap=cmap, vmin=vmins, vmax=list(peaks), suptitle=title, size=1.6)
