"""course_utils.setup(): seeds, quiet logs, plotting style, one line of versions."""

import random

import matplotlib as mpl
import numpy as np

import course_utils


def draws():
    import keras

    return (random.random(), np.random.rand(), float(keras.random.uniform(()).numpy()))  # noqa: NPY002


def test_setup_seeds_every_generator(capsys):
    course_utils.setup(seed=3)
    first = draws()
    course_utils.setup(seed=3)
    assert draws() == first
    course_utils.setup(seed=4)
    assert all(a != b for a, b in zip(draws(), first, strict=True))
    assert "seed 4" in capsys.readouterr().out


def test_setup_prints_versions_and_styles_plots(capsys):
    import keras
    import tensorflow as tf

    course_utils.setup()
    line = capsys.readouterr().out.strip()
    assert line.count("\n") == 0
    assert f"TensorFlow {tf.__version__}" in line and f"Keras {keras.__version__}" in line
    assert mpl.rcParams["image.interpolation"] == "nearest"
    assert mpl.rcParams["font.size"] >= 12


def test_setup_quiets_tensorflow():
    import logging
    import os

    import tensorflow as tf

    course_utils.setup(verbose=False)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert tf.get_logger().level == logging.ERROR
