"""The functions behind the notebooks' widgets, one module per topic.

Each view takes the data and the slider values, draws one figure and returns it, so that it can be
called once in a plain cell (the static figure that readers of the executed notebook and CI see)
and unit-tested. Its parameters are exactly the widget's controls. Inside
``ipywidgets.interact``, wrap it with :func:`shown`, which displays the figure exactly once::

    interact(shown(smoothing_view), img=fixed(camera), k=IntSlider(value=9, min=1, max=31, step=2))

Modules, one per notebook topic: ``convolutions`` (01), ``keras_synthetic`` (02), ``keras_mnist`` (03),
``cnn`` (04), ``featviz`` (06), ``double_descent`` (07), ``attacks`` (08), ``transfer`` (09),
``autoencoders`` (10). Where a view has several controls, ``<view>_controls()`` returns ready
widgets (labels that fit, ``continuous_update=False`` for expensive ones).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["shown"]


def shown(view: Callable[..., Figure]) -> Callable[..., None]:
    """Wrap a view function for ``interact``: draw, close, display once.

    The figure is closed (removed from pyplot) before it is displayed: the inline backend would
    otherwise show it a second time, and keep every figure drawn while a slider moves in memory.
    The wrapper keeps ``view``'s signature, which ``interact`` reads to build its widgets.
    """

    @functools.wraps(view)
    def draw_and_display(*args, **kwargs) -> None:
        from IPython.display import display

        fig = view(*args, **kwargs)
        plt.close(fig)
        display(fig)

    return draw_and_display
