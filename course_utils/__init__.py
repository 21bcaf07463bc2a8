"""Support package for the lecture notebooks on convolutional networks and adversarial examples.

Every notebook starts with ``course_utils.setup()``. The topic modules (``kernels``, ``data``,
``models``, ``plotting``, ...) are imported explicitly by the notebooks that need them, so that
importing the package itself stays cheap and does not load TensorFlow.
"""

from course_utils._setup import setup

__all__ = ["setup"]
__version__ = "0.1.0"
