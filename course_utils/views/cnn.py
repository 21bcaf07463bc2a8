"""Widget of notebook 04 (CNNs): where a convolution's windows land, for any size, padding and stride.

The view draws the zero-padded input grid with the window of the first output pixel and a dot at
the centre of every window, next to the output grid, and states the output-size formula with the
numbers filled in. Drawing is cheap, so the sliders update while they move.

Examples
--------
>>> from ipywidgets import interact
>>> from course_utils.views import shown
>>> interact(shown(conv_arithmetic_view), **conv_arithmetic_controls())  # doctest: +SKIP
"""

from __future__ import annotations

import numbers

import matplotlib.pyplot as plt
import numpy as np
from ipywidgets import IntSlider
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = ["conv_arithmetic_controls", "conv_arithmetic_view"]

# Descriptions take the width they need instead of ipywidgets' fixed 80 px.
LABEL_STYLE = {"description_width": "initial"}

INPUT_COLOR = "#f2f2f2"
PADDING_COLOR = "#c9d7e8"
UNUSED_COLOR = "#f4c7c3"
WINDOW_COLOR = "tab:orange"
DOT_COLOR = "tab:blue"


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {name}={value!r}")
    return int(value)


def _draw_grid(ax, colors: np.ndarray, title: str) -> None:
    """Cells of an (n, m) array of colour names, with grid lines, row 0 at the top."""
    n, m = colors.shape
    for (r, c), color in np.ndenumerate(colors):
        ax.add_patch(Rectangle((c, r), 1, 1, facecolor=color, edgecolor="white", linewidth=1))
    ax.set_xlim(0, m)
    ax.set_ylim(n, 0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(title)


def conv_arithmetic_view(size: int = 7, kernel: int = 3, padding: int = 0, stride: int = 1) -> Figure:
    """Where the windows of a 2D convolution land, and how many outputs it has per axis.

    Parameters
    ----------
    size : int
        Input height and width d, in pixels (>= 1).
    kernel : int
        Kernel height and width k (>= 1).
    padding : int
        Zeros added on each side p (>= 0).
    stride : int
        Step s between two windows, in pixels (>= 1).

    Returns
    -------
    fig : matplotlib.figure.Figure
        Two Axes. Left: the (d + 2p)² padded input (padding blue-grey, image pixels light grey,
        pixels that no window reaches red), the window of output (0, 0) outlined in orange and
        that of output (0, 1) dashed (they are a stride apart), and a dot at the centre of every
        window. Right: the output grid, one cell per window, with
        the same dots. The figure title gives floor((d - k + 2p) / s) + 1 with the numbers.

    Raises
    ------
    ValueError
        If a value is not an int in range, or the kernel is larger than the padded input.

    Examples
    --------
    >>> fig = conv_arithmetic_view(size=7, kernel=3, padding=1, stride=2)
    >>> fig.axes[1].get_title()
    'output: 4 x 4'
    """
    d = _check_int(size, "size", 1)
    k = _check_int(kernel, "kernel", 1)
    p = _check_int(padding, "padding", 0)
    s = _check_int(stride, "stride", 1)
    padded = d + 2 * p
    if k > padded:
        raise ValueError(f"a {k}x{k} kernel does not fit in the {padded}x{padded} padded input "
                         f"(size {d} + 2 x padding {p}); use a smaller kernel or more padding")
    starts = np.arange(0, padded - k + 1, s)  # top-left corner of every window along one axis
    n_out = len(starts)
    covered = np.zeros(padded, dtype=bool)
    for start in starts:
        covered[start:start + k] = True
    inside = (np.arange(padded) >= p) & (np.arange(padded) < p + d)
    colors = np.full((padded, padded), PADDING_COLOR, dtype=object)
    image = np.ix_(inside, inside)
    reached = np.outer(covered, covered)[image]
    colors[image] = np.where(reached, INPUT_COLOR, UNUSED_COLOR)

    fig, (ax_in, ax_out) = plt.subplots(1, 2, figsize=(9.5, 4.6), width_ratios=(padded, max(n_out, 3)),
                                        layout="constrained")
    _draw_grid(ax_in, colors, f"input {d} x {d}, padding {p} (padded {padded} x {padded})")
    ax_in.add_patch(Rectangle((0, 0), k, k, fill=False, edgecolor=WINDOW_COLOR, linewidth=3))
    if n_out > 1:  # the next window along the row: the stride is the step between the two
        ax_in.add_patch(Rectangle((s, 0), k, k, fill=False, edgecolor=WINDOW_COLOR, linewidth=2,
                                  linestyle="--"))
    centres = starts + k / 2
    cx, cy = np.meshgrid(centres, centres)
    ax_in.plot(cx.ravel(), cy.ravel(), "o", color=DOT_COLOR, markersize=max(2, 9 - n_out // 3))
    _draw_grid(ax_out, np.full((n_out, n_out), INPUT_COLOR, dtype=object), f"output: {n_out} x {n_out}")
    ax_out.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=WINDOW_COLOR, linewidth=3))
    if n_out > 1:
        ax_out.add_patch(Rectangle((1, 0), 1, 1, fill=False, edgecolor=WINDOW_COLOR, linewidth=2,
                                   linestyle="--"))
    ox, oy = np.meshgrid(np.arange(n_out) + 0.5, np.arange(n_out) + 0.5)
    ax_out.plot(ox.ravel(), oy.ravel(), "o", color=DOT_COLOR, markersize=max(2, 9 - n_out // 3))
    fig.suptitle(f"kernel {k} x {k}, stride {s}:  ⌊({d} − {k} + 2·{p}) / {s}⌋ + 1 = "
                 f"⌊{d - k + 2 * p} / {s}⌋ + 1 = {n_out}"
                 + ("   (red: pixels no window reaches)" if not reached.all() else ""))
    return fig


def conv_arithmetic_controls() -> dict[str, IntSlider]:
    """The sliders of :func:`conv_arithmetic_view`, for ``interact``.

    Returns
    -------
    controls : dict
        ``size`` (3 to 16, start 7), ``kernel`` (1 to 7, start 3), ``padding`` (0 to 3, start
        0) and ``stride`` (1 to 4, start 1). A kernel larger than the padded input raises a
        ValueError, which ``interact`` shows in place of the figure.
    """
    def slider(value: int, low: int, high: int, description: str) -> IntSlider:
        return IntSlider(value=value, min=low, max=high, description=description,
                         style=LABEL_STYLE)

    return {"size": slider(7, 3, 16, "input size d"), "kernel": slider(3, 1, 7, "kernel k"),
            "padding": slider(0, 0, 3, "padding p"), "stride": slider(1, 1, 4, "stride s")}
