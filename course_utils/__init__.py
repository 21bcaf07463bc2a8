"""Support package for the lecture notebooks on convolutional networks and adversarial examples.

Every notebook starts with ``course_utils.setup()``. The modules are imported explicitly by the
notebooks that need them, so that importing the package itself stays cheap and does not load
TensorFlow. The layers, each importing only from those below:

- bottom: ``data``, ``kernels``, ``transforms``, ``metrics``, ``plotting`` (and ``setup``);
- middle: ``models`` (builders), ``training``, ``zoo`` (cached and pretrained models),
  ``inspection`` (activations, logits, what filters and features do);
- topics: ``featviz``, ``double_descent``, ``attacks``, ``transfer``, ``autoencoders``;
- top: ``views`` (the functions behind the widgets) and the command line, ``python -m course_utils``.
"""

from importlib.metadata import PackageNotFoundError, version

from course_utils._setup import setup

try:
    __version__ = version("course_utils")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "unknown"

__all__ = ["setup"]
