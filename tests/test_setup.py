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


def test_setup_hides_only_known_library_noise():
    import warnings

    course_utils.setup(verbose=False)
    with warnings.catch_warnings(record=True) as caught:
        # The filters setup() installed stay; only "always" for what nothing else matches.
        warnings.simplefilter("default")
        course_utils._setup._ignore_library_noise()
        warnings.warn("__array__ implementation doesn't accept a copy keyword, so ...",
                      DeprecationWarning, stacklevel=1)
        warnings.warn("this function of yours is deprecated", DeprecationWarning, stacklevel=1)
        warnings.warn("this will change in a future version", FutureWarning, stacklevel=1)
    messages = [str(w.message) for w in caught]
    assert messages == ["this function of yours is deprecated",
                        "this will change in a future version"]


def test_the_version_comes_from_the_package_metadata():
    from importlib.metadata import version

    assert course_utils.__version__ == version("course_utils")


def test_presenter_mode_enlarges_text_and_can_come_from_the_environment(monkeypatch, capsys):
    course_utils.setup(verbose=False)
    normal = mpl.rcParams["font.size"]
    course_utils.setup(presenter=True)
    assert mpl.rcParams["font.size"] >= normal + 4 and mpl.rcParams["figure.dpi"] > 100
    assert "presenter mode" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_PRESENTER", "1")
    course_utils.setup(verbose=False)
    assert mpl.rcParams["font.size"] >= normal + 4
    monkeypatch.setenv("COURSE_PRESENTER", "0")
    course_utils.setup(verbose=False)
    assert mpl.rcParams["font.size"] == normal


def test_threads_can_come_from_the_environment(monkeypatch, capsys):
    from threadpoolctl import threadpool_info

    monkeypatch.setenv("COURSE_THREADS", "1")
    course_utils.setup()
    assert "| 1 threads" in capsys.readouterr().out
    assert all(pool["num_threads"] == 1 for pool in threadpool_info())
