"""``course_utils.setup()``: the one call at the top of every notebook."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import random
import warnings

import numpy as np


def available_cores() -> int:
    """Number of CPU cores this process may run on.

    Returns
    -------
    cores : int
        The cores in the process's affinity mask (which also reflects a container's cpuset, e.g.
        ``docker --cpuset-cpus``) where the OS has one (Linux), else all cores. A CPU quota such
        as ``docker --cpus`` is not seen.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def _quiet_tensorflow() -> None:
    # Must be set before TensorFlow is first imported: its C++ logger reads it once at load time.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@contextlib.contextmanager
def _native_stderr_silenced():
    """Send file descriptor 2 to /dev/null for the duration of the block.

    TensorFlow's C++ start-up notices (oneDNN, CPU features) go straight to fd 2 and ignore
    TF_CPP_MIN_LOG_LEVEL; on a projector they look like errors. Python exceptions are unaffected.
    """
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# Warnings that third-party code raises about its own internals on every run, which a student can
# neither act on nor avoid. Everything else (above all, warnings about the student's own code) shows.
_LIBRARY_NOISE = (
    # Keras converts tensors with np.array(x, copy=False) under NumPy 2 (keras/backend/.../core.py).
    (DeprecationWarning, r"__array__ implementation doesn't accept a copy keyword"),
    # Keras compares the names of a functional model's inputs with those of the tensors passed.
    (UserWarning, r"The structure of `inputs` doesn't match the expected structure"),
)


def _ignore_library_noise() -> None:
    for category, message in _LIBRARY_NOISE:
        warnings.filterwarnings("ignore", message=message, category=category)


THREADS_ENV = "COURSE_THREADS"


def _limit_threads(threads: int) -> None:
    import tensorflow as tf
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)  # OpenBLAS/MKL/OpenMP of NumPy and SciPy, for this process

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        # Two independent ops at a time is enough for the small graphs of the course.
        tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
    except RuntimeError:
        # TensorFlow was already initialised (setup() called twice in one kernel): keep what it has.
        pass


PRESENTER_ENV = "COURSE_PRESENTER"


def setup(seed: int = 0, threads: int | None = None, verbose: bool = True,
          presenter: bool | None = None) -> None:
    """Prepare a notebook: seeds, quiet logs, plotting style and thread limits.

    Parameters
    ----------
    seed : int
        Seeds Python's ``random``, NumPy's global generator and Keras/TensorFlow, so every run of a
        notebook draws the same random numbers.
    threads : int, optional
        CPU threads that TensorFlow may use inside one op, and that NumPy/SciPy's BLAS may use;
        default the environment variable ``COURSE_THREADS`` if set (``make test`` sets it so that
        its parallel notebook runs share the cores instead of fighting over them), else all cores
        this process may use (:func:`available_cores`). At most two independent TensorFlow ops
        run at the same time.
    verbose : bool
        Print one line with the versions in use.
    presenter : bool, optional
        Figures and fonts for a projector (larger text, thicker lines). None (the default) takes
        it from the environment variable ``COURSE_PRESENTER`` (``1`` = on), so an instructor can
        start JupyterLab with ``COURSE_PRESENTER=1 jupyter lab`` instead of editing notebooks.

    Notes
    -----
    Also sets ``TF_CPP_MIN_LOG_LEVEL=2`` and ``KERAS_BACKEND=tensorflow`` unless they are already
    set (they only act if TensorFlow is not imported yet), hides TensorFlow's C++ start-up notices,
    sets the TensorFlow and absl loggers to ERROR, hides the library warnings a student can neither
    act on nor avoid (``_LIBRARY_NOISE``), and applies :func:`course_utils.plotting.setup_style`.
    The thread limits can only be set before TensorFlow has run anything: a second call in the same
    kernel (or a call after TensorFlow was used) keeps the threads TensorFlow already has, but seeds
    again.

    Examples
    --------
    >>> import course_utils
    >>> course_utils.setup()  # doctest: +SKIP
    course_utils 0.1.0 | Python 3.11.7 | TensorFlow 2.21.0 | Keras 3.15.1 | NumPy 2.4.6 | seed 0 | 2 threads
    """
    _quiet_tensorflow()
    _ignore_library_noise()

    with _native_stderr_silenced():
        import keras
        import tensorflow as tf

        threads = threads or int(os.environ.get(THREADS_ENV) or 0) or available_cores()
        _limit_threads(threads)
        tf.constant(0.0) + 1.0  # initialise the runtime now, while its notices are silenced
    tf.get_logger().setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - students call np.random.* directly
    keras.utils.set_random_seed(seed)

    from course_utils.plotting import setup_style

    if presenter is None:
        presenter = os.environ.get(PRESENTER_ENV, "") not in ("", "0")
    setup_style(presenter)
    if verbose:
        print(
            f"course_utils {_package_version()} | Python {platform.python_version()} | "
            f"TensorFlow {tf.__version__} | Keras {keras.__version__} | NumPy {np.__version__} | "
            f"seed {seed} | {threads} threads" + (" | presenter mode" if presenter else "")
        )


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("course_utils")
    except PackageNotFoundError:
        return "(not installed)"
