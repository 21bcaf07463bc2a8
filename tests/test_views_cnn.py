"""Tests of course_utils.views.cnn (notebook 04's widget: where a convolution's windows land)."""

import inspect
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from ipywidgets import interactive
from matplotlib.colors import to_hex

from course_utils.views import cnn, shown
from course_utils.views.cnn import conv_arithmetic_controls, conv_arithmetic_view


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _window_starts(d, k, p, s):
    """Top-left corners of the windows along one axis, by trying every position."""
    return [i for i in range(d + 2 * p) if i % s == 0 and i + k <= d + 2 * p]


def _dots(ax):
    """Centres of the dots drawn on an Axes, as a set of (x, y) pairs."""
    points = set()
    for line in ax.get_lines():
        points.update(zip(line.get_xdata(), line.get_ydata(), strict=True))
    return points


def _cells(ax, color):
    return sum(to_hex(patch.get_facecolor()) == to_hex(color) for patch in ax.patches
               if patch.get_fill())


@pytest.mark.parametrize(("d", "k", "p", "s"), [(7, 3, 0, 1), (7, 3, 1, 2), (8, 3, 0, 2),
                                                 (16, 7, 3, 4), (5, 5, 0, 1), (4, 1, 2, 3)])
def test_view_counts_the_windows_by_the_formula(d, k, p, s):
    fig = conv_arithmetic_view(size=d, kernel=k, padding=p, stride=s)
    n_out = len(_window_starts(d, k, p, s))
    ax_in, ax_out = fig.axes
    assert ax_out.get_title() == f"output: {n_out} x {n_out}"
    assert re.findall(r"\+ 1 = (\d+)", fig.get_suptitle())[-1] == str(n_out)
    # One dot per window: at its centre on the input, in its cell on the output.
    starts = np.array(_window_starts(d, k, p, s))
    assert _dots(ax_in) == {(x + k / 2, y + k / 2) for x in starts for y in starts}
    assert len(_dots(ax_out)) == n_out**2
    # The padded grid: (d + 2p)^2 cells, of which the border of width p is padding.
    assert _cells(ax_in, cnn.PADDING_COLOR) == (d + 2 * p) ** 2 - d**2


def test_view_marks_the_pixels_no_window_reaches():
    # 8 pixels, k = 3, stride 2: windows start at 0, 2, 4 and end at pixel 6; column and row 7 are
    # never reached: 8 + 8 - 1 = 15 cells.
    fig = conv_arithmetic_view(size=8, kernel=3, padding=0, stride=2)
    assert _cells(fig.axes[0], cnn.UNUSED_COLOR) == 15
    assert "no window reaches" in fig.get_suptitle()
    fig = conv_arithmetic_view(size=7, kernel=3, padding=1, stride=2)
    assert _cells(fig.axes[0], cnn.UNUSED_COLOR) == 0
    assert "no window reaches" not in fig.get_suptitle()


def test_view_outlines_two_windows_a_stride_apart():
    fig = conv_arithmetic_view(size=9, kernel=3, padding=0, stride=3)
    outlines = [patch for patch in fig.axes[0].patches if not patch.get_fill()]
    assert sorted(patch.get_xy() for patch in outlines) == [(0, 0), (3, 0)]
    assert all(patch.get_width() == 3 for patch in outlines)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"size": 5, "kernel": 7}, "does not fit"),
    ({"size": 5, "kernel": 7, "padding": 0}, "padded input"),
    ({"stride": 0}, "stride must be an int >= 1"),
    ({"padding": -1}, "padding must be an int >= 0"),
    ({"size": 7.0}, "size must be an int"),
    ({"kernel": True}, "kernel must be an int"),
])
def test_view_rejects_impossible_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_arithmetic_view(**kwargs)


def test_controls_are_the_views_parameters_with_its_defaults():
    controls = conv_arithmetic_controls()
    parameters = inspect.signature(conv_arithmetic_view).parameters
    assert list(controls) == list(parameters)
    for name, slider in controls.items():
        assert slider.value == parameters[name].default
        assert slider.min <= slider.value <= slider.max
    widget = interactive(shown(conv_arithmetic_view), **controls)
    widget.children[3].value = 2  # stride
    assert widget.kwargs == {"size": 7, "kernel": 3, "padding": 0, "stride": 2}
