"""Transfer learning and few-shot learning (notebook 09).

The lecture's recipe for a task with very few labels: (1) take a network trained on a large data
set, (2) extract features z of every image from a layer near the end, (3) train a simple learner
(nearest neighbour, logistic regression) on z. This module holds the plumbing:

* the hand-made features of the slide's balls (:data:`BALL_FEATURES`) and noisy sightings of them;
* :func:`half_cnn`: the course CNN trained on classes 0-4 only (cached through
  ``zoo.cached_model``), so that classes 5-9 are new to it;
* :func:`feature_extractor`: a model that outputs the (flattened) activations of one layer;
* few-shot episodes: :func:`sample_episode`, :func:`fit_predict`, :func:`few_shot_episodes`,
  :func:`few_shot_curves` and their plot :func:`plot_accuracy_vs_shots`;
* fine-tuning: :func:`with_new_head`, :func:`fit_steps`, :func:`compare_fine_tuning`;
* 2D maps of a feature space: :func:`embed_2d`, :func:`plot_embedding`;
* inputs for ImageNet networks: :func:`to_imagenet_input`, :func:`photo_crops`.

An episode draws ``shots`` labelled examples of every class (the support set); every other
example is a query to classify. Episode ``i`` of seed ``s`` depends only on the labels, ``shots``,
``s`` and ``i``, so that several representations of the same images are compared on the same
episodes.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Mapping, Sequence

import keras
import matplotlib.pyplot as plt
import numpy as np
import threadpoolctl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE

from course_utils import data, models, training, transforms, zoo

__all__ = [
    "BALL_FEATURES",
    "BALL_FEATURE_NAMES",
    "BALL_NAMES",
    "EMBEDDINGS",
    "FEATURE_LAYER",
    "FINE_TUNING",
    "HALF_CNN_RECIPES",
    "LEARNERS",
    "PENULTIMATE_LAYER",
    "SOURCE_CLASSES",
    "TARGET_CLASSES",
    "ball_sightings",
    "compare_fine_tuning",
    "embed_2d",
    "feature_extractor",
    "few_shot_curves",
    "few_shot_episodes",
    "few_shot_summary",
    "fit_predict",
    "fit_steps",
    "half_cnn",
    "half_cnn_info",
    "photo_crops",
    "plot_accuracy_vs_shots",
    "plot_embedding",
    "sample_episode",
    "select_classes",
    "to_imagenet_input",
    "with_new_head",
]

# ------------------------------------------------------------------------------ the slide's balls

BALL_NAMES = ("A", "B", "C", "D", "E", "F")
"""The slide shows the six balls as pictures; we name them by their column."""

BALL_FEATURE_NAMES = ("roundness", "size relative to a hand", "yellowish colour")

BALL_FEATURES = np.array([
    [1.0, 0.1, 1.0, 0.6, 1.0, 0.4],
    [10.0, 7.0, 2.0, 7.0, 5.0, 1.0],
    [0.2, 0.1, 1.0, 0.1, 0.0, 0.9],
]).T
"""(6, 3): one row per ball (A-F), one column per feature of ``BALL_FEATURE_NAMES``, the slide's
numbers."""


def ball_sightings(n_per_ball: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy measurements of the slide's balls, as a person would judge them at a glance.

    Parameters
    ----------
    n_per_ball : int
        Sightings of each ball, >= 1.
    noise : float
        Standard deviation of the Gaussian error of each feature, as a fraction of that feature's
        range over the six balls (0.1: roundness and colour +- 0.1, size +- 0.9 hands); >= 0.
    seed : int
        Seed of the errors.

    Returns
    -------
    features : float array, shape (6 * n_per_ball, 3)
        Roundness and colour clipped to [0, 1], size to >= 0.1 hands.
    labels : int array, shape (6 * n_per_ball,)
        Ball index 0-5 (A-F), sorted.

    Examples
    --------
    >>> z, y = ball_sightings(2, noise=0.0)
    >>> z[0], y[:3]
    (array([ 1. , 10. ,  0.2]), array([0, 0, 1]))
    """
    n_per_ball = _positive_int(n_per_ball, "n_per_ball")
    if not (isinstance(noise, numbers.Real) and noise >= 0):
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    labels = np.repeat(np.arange(len(BALL_NAMES)), n_per_ball)
    spread = np.ptp(BALL_FEATURES, axis=0)
    rng = np.random.default_rng(seed)
    z = BALL_FEATURES[labels] + noise * spread * rng.standard_normal((len(labels), 3))
    z[:, [0, 2]] = np.clip(z[:, [0, 2]], 0.0, 1.0)
    z[:, 1] = np.maximum(z[:, 1], 0.1)
    return z, labels


# ----------------------------------------------------------------- the CNN trained on half the classes

SOURCE_CLASSES = (0, 1, 2, 3, 4)
"""Classes the source network is trained on."""
TARGET_CLASSES = (5, 6, 7, 8, 9)
"""Classes it never sees: the new few-shot task."""

FEATURE_LAYER = "flatten"
"""Output of the convolutional part of the course CNN (800 features): the features we transfer."""
PENULTIMATE_LAYER = "dense_relu1"
"""The layer before the output (128 features), the lecture's default choice of z."""

HALF_CNN_RECIPES: dict[str, dict] = {
    dataset: {
        "architecture": dict(zoo.COURSE_CNN_RECIPES[dataset]["architecture"]),
        "training": {"epochs": 3, "min_steps": 400, "batch_size": 128, "learning_rate": 3e-3,
                     "warmup_fraction": 0.1, "seed": 0},
        "classes": list(SOURCE_CLASSES),
        "max_train": max_train,
    }
    for dataset, max_train in (("mnist", None), ("fashion_mnist", 10_000))
}
"""The course CNN's architecture with 5 outputs. ``training``: ``training.train_with_recipe``
settings (at least 400 steps: the offline MNIST subset has only ~2,000 images of digits 0-4).
``max_train``: at most this many training images (the first ones of classes 0-4), None for all.
The Fashion-MNIST network is there to show a transfer that fails; 10,000 images keep it quick."""


def select_classes(x, y, classes: Sequence[int], per_class: int | None = None,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The examples of some classes, relabelled 0, 1, ... in the order of ``classes``.

    Parameters
    ----------
    x : array, shape (N, ...)
        Images (or features).
    y : int array, shape (N,)
        Their labels.
    classes : sequence of int
        Classes to keep, e.g. ``TARGET_CLASSES``; ``classes[k]`` becomes label k.
    per_class : int, optional
        Keep at most this many examples of every class, drawn at random (seeded); None keeps all.
    seed : int
        Seed of that draw.

    Returns
    -------
    x_sub : array, shape (M, ...)
        The kept examples, in their original order.
    y_sub : int64 array, shape (M,)
        Their new labels 0 .. len(classes) - 1.

    Raises
    ------
    ValueError
        If a class has no example, or ``classes`` repeats a class.

    Examples
    --------
    >>> select_classes(np.arange(6), np.array([5, 0, 7, 5, 7, 1]), [5, 7])
    (array([0, 2, 3, 4]), array([0, 1, 0, 1]))
    """
    y = np.asarray(y).ravel()
    classes = [int(c) for c in classes]
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} examples but y has {len(y)} labels")
    if len(set(classes)) != len(classes) or not classes:
        raise ValueError(f"classes must be distinct and non-empty, got {classes}")
    rng = np.random.default_rng(seed)
    keep = []
    for c in classes:
        members = np.flatnonzero(y == c)
        if members.size == 0:
            raise ValueError(f"class {c} has no examples; the labels present are {np.unique(y)}")
        if per_class is not None and members.size > per_class:
            members = rng.choice(members, _positive_int(per_class, "per_class"), replace=False)
        keep.append(members)
    index = np.sort(np.concatenate(keep))
    relabel = {c: k for k, c in enumerate(classes)}
    return np.asarray(x)[index], np.array([relabel[c] for c in y[index]], dtype=np.int64)


def _half_cnn(dataset: str, verbose: bool) -> tuple[keras.Model, dict]:
    if dataset not in HALF_CNN_RECIPES:
        raise ValueError(f"no half-classes CNN recipe for {dataset!r}; choose one of "
                         f"{sorted(HALF_CNN_RECIPES)}")
    recipe = HALF_CNN_RECIPES[dataset]
    # Quiet: the caller has loaded (and reported) the dataset already, or sees n_train below.
    (x_train, y_train), _ = data.load_dataset(dataset, verbose=False)
    x_train, y_train = select_classes(x_train, y_train, recipe["classes"])
    if recipe["max_train"] is not None:
        x_train, y_train = x_train[:recipe["max_train"]], y_train[:recipe["max_train"]]

    def train() -> tuple[keras.Model, dict]:
        if verbose:
            print(f"Training the CNN on {dataset} classes {recipe['classes']} only "
                  f"({len(x_train):,} images) ...")
        model, history = training.train_with_recipe(
            lambda: models.build_cnn(input_shape=x_train.shape[1:], n_classes=len(recipe["classes"]),
                                     name=f"half_cnn_{dataset}", **recipe["architecture"]),
            recipe["training"], x_train, y_train, verbose=verbose)
        return model, {"dataset": dataset, "classes": recipe["classes"],
                       "train_seconds": round(history.seconds, 1), "epochs": len(history.epoch),
                       "n_train": len(x_train), "keras_version": keras.__version__}

    return zoo.cached_model(f"half_cnn_{dataset}", {**recipe, "n_train": len(x_train)}, train,
                            verbose=verbose)


def half_cnn(dataset: str = "mnist", verbose: bool = True) -> keras.Model:
    """The course CNN trained on classes 0-4 only, from the cache or trained now.

    Parameters
    ----------
    dataset : {"mnist", "fashion_mnist"}
        Training data: the training images of ``SOURCE_CLASSES`` (see ``HALF_CNN_RECIPES``).
    verbose : bool
        Print where the model comes from (and, when it is trained, one line per epoch).

    Returns
    -------
    model : keras.Model
        Compiled; (N, 28, 28, 1) images in [0, 1] -> (N, 5) probabilities of classes 0-4. Layers
        as in ``models.build_cnn`` (conv1 ... flatten, dense1, dense_relu1, output).
    """
    return _half_cnn(dataset, verbose)[0]


def half_cnn_info(dataset: str = "mnist", verbose: bool = False) -> dict:
    """The training record of :func:`half_cnn` (trains the model first if it is not cached).

    Returns
    -------
    record : dict
        ``dataset``, ``classes``, ``train_seconds``, ``epochs``, ``n_train``, ``keras_version``,
        ``folder``.
    """
    return _half_cnn(dataset, verbose)[1]


# ---------------------------------------------------------------------------------- feature extraction


def feature_extractor(model: keras.Model, layer: str) -> keras.Model:
    """A model that maps inputs to the activations of one layer, flattened: z = f(x).

    Parameters
    ----------
    model : keras.Model
        A functional (or built Sequential) model.
    layer : str
        Name of the layer whose output are the features, e.g. ``PENULTIMATE_LAYER``.

    Returns
    -------
    extractor : keras.Model
        Same input as ``model``; output (N, d), the layer's output flattened to one vector per
        input. It shares the weights of ``model`` (no copy).

    Raises
    ------
    ValueError
        If the model has no layer of that name (the message lists its layers).

    Examples
    --------
    >>> z = feature_extractor(half_cnn(), "flatten").predict(images, verbose=0)  # doctest: +SKIP
    >>> z.shape  # doctest: +SKIP
    (N, 800)
    """
    layers = {lay.name: lay for lay in model.layers if not isinstance(lay, keras.layers.InputLayer)}
    if layer not in layers:
        raise ValueError(f"model {model.name!r} has no layer {layer!r}; its layers are {list(layers)}")
    output = layers[layer].output
    if len(output.shape) > 2:
        output = keras.layers.Flatten(name=f"{layer}_flat")(output)
    return keras.Model(model.input, output, name=f"{model.name}_{layer}_features")


# ---------------------------------------------------------------------------------------- episodes

LEARNERS = ("1nn", "logreg")
"""Simple learners: nearest neighbour (Euclidean) and multinomial logistic regression."""

# Largest N for which few_shot_episodes keeps the N x N products of 1-NN in memory (200 MB).
_GRAM_LIMIT = 5000


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {name}={value!r}")
    return int(value)


def _check_learner(learner: str) -> str:
    if learner not in LEARNERS:
        raise ValueError(f"unknown learner {learner!r}; choose one of {LEARNERS}")
    return learner


def _as_features(features, labels) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels).ravel()
    if z.ndim < 2 or len(z) != len(y):
        raise ValueError(f"need features (N, d) and N labels, got features of shape {z.shape} and "
                         f"{len(y)} labels")
    return z.reshape(len(z), -1), y


def sample_episode(labels, shots: int, seed: int = 0,
                   episode: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Draw one few-shot episode: ``shots`` support examples per class, the rest are queries.

    Parameters
    ----------
    labels : int array, shape (N,)
        Class of every example; every class present takes part (an N-way task).
    shots : int
        Labelled examples per class, >= 1.
    seed, episode : int
        Episode ``episode`` of the sequence of episodes of ``seed``.

    Returns
    -------
    support : int array, shape (n_classes * shots,)
        Indices of the labelled examples, class by class.
    query : int array, shape (N - n_classes * shots,)
        Every other index, sorted; no index is in both.

    Raises
    ------
    ValueError
        If a class has ``shots`` examples or fewer (none would be left to query).

    Examples
    --------
    >>> support, query = sample_episode([0, 0, 0, 1, 1, 1], shots=2, seed=0)
    >>> len(support), len(query), set(support) & set(query)
    (4, 2, set())
    """
    y = np.asarray(labels).ravel()
    shots = _positive_int(shots, "shots")
    classes, counts = np.unique(y, return_counts=True)
    if classes.size == 0:
        raise ValueError("labels is empty")
    if shots >= counts.min():
        smallest = classes[counts.argmin()]
        raise ValueError(f"shots={shots} per class leaves no query of class {smallest}, which has "
                         f"only {counts.min()} examples; use shots <= {counts.min() - 1}")
    rng = np.random.default_rng([int(seed), int(episode)])
    support = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False)
                              for c in classes])
    query = np.setdiff1d(np.arange(len(y)), support)
    return support, query


def fit_predict(learner: str, z_support, y_support, z_query) -> np.ndarray:
    """Train a simple learner on the support set and classify the queries.

    Parameters
    ----------
    learner : {"1nn", "logreg"}
        "1nn": the label of the nearest support example (Euclidean distance; ties go to the first
        one). "logreg": scikit-learn's multinomial ``LogisticRegression`` (L2 penalty, C = 1).
    z_support : array, shape (S, d)
        Features of the labelled examples.
    y_support : int array, shape (S,)
        Their labels.
    z_query : array, shape (Q, d)
        Features of the examples to classify.

    Returns
    -------
    predicted : array, shape (Q,)
        Predicted labels.

    Examples
    --------
    >>> fit_predict("1nn", [[0.0], [10.0]], [3, 7], [[1.0], [6.0]])
    array([3, 7])
    """
    _check_learner(learner)
    zs, ys = _as_features(z_support, y_support)
    zq = np.asarray(z_query, dtype=np.float64).reshape(len(z_query), -1)
    if zq.shape[1] != zs.shape[1]:
        raise ValueError(f"support features have {zs.shape[1]} dimensions, query features "
                         f"{zq.shape[1]}")
    return _fit_predict(learner, zs, ys, zq)


def _fit_predict(learner: str, zs: np.ndarray, ys: np.ndarray, zq: np.ndarray) -> np.ndarray:
    if learner == "1nn":
        # ||q - s||^2 = ||q||^2 - 2 q.s + ||s||^2; ||q||^2 is the same for every s of a query.
        distances = (zs**2).sum(axis=1)[None, :] - 2.0 * zq @ zs.T
        return ys[distances.argmin(axis=1)]
    # OpenBLAS threads cost far more than they save on these tiny problems (10x slower on 2 cores).
    with threadpoolctl.threadpool_limits(1):
        classifier = LogisticRegression(max_iter=1000).fit(zs, ys)
        return classifier.predict(zq)


def few_shot_episodes(features, labels, shots: int, n_episodes: int = 100, learner: str = "1nn",
                      seed: int = 0) -> np.ndarray:
    """Accuracy of a simple learner on many random few-shot episodes.

    Parameters
    ----------
    features : array, shape (N, d) or (N, ...)
        One feature vector per example (images are flattened: raw pixels are features too).
    labels : int array, shape (N,)
        Their classes.
    shots : int
        Labelled examples per class in each episode.
    n_episodes : int
        Number of episodes.
    learner : {"1nn", "logreg"}
        See :func:`fit_predict`.
    seed : int
        Episode i is ``sample_episode(labels, shots, seed, i)``: the same episodes for any
        features of the same examples.

    Returns
    -------
    accuracy : float array, shape (n_episodes,)
        Fraction of the queries of each episode classified correctly.

    Raises
    ------
    ValueError
        For an unknown learner, shots too large for a class, or features and labels of
        different lengths.

    Examples
    --------
    >>> z = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> few_shot_episodes(z, [0, 0, 0, 1, 1, 1], shots=1, n_episodes=3)
    array([1., 1., 1.])
    """
    _check_learner(learner)
    z, y = _as_features(features, labels)
    return _episode_accuracies(z, y, shots, _positive_int(n_episodes, "n_episodes"), learner, seed,
                               _gram(z, learner))


def _gram(z: np.ndarray, learner: str) -> np.ndarray | None:
    """The N x N products q.s that 1-NN needs for any episode, if they fit in memory."""
    return z @ z.T if learner == "1nn" and len(z) <= _GRAM_LIMIT else None


def _episode_accuracies(z: np.ndarray, y: np.ndarray, shots: int, n_episodes: int, learner: str,
                        seed: int, gram: np.ndarray | None) -> np.ndarray:
    squared_norms = (z**2).sum(axis=1)
    accuracy = np.empty(n_episodes)
    for i in range(n_episodes):
        support, query = sample_episode(y, shots, seed, i)
        if gram is None:
            # Classifying every example and keeping the queries' predictions is cheaper than
            # copying the (N - S, d) query features for each episode.
            predicted = _fit_predict(learner, z[support], y[support], z)[query]
        else:
            distances = squared_norms[support][None, :] - 2.0 * gram[np.ix_(query, support)]
            predicted = y[support][distances.argmin(axis=1)]
        accuracy[i] = np.mean(predicted == y[query])
    return accuracy


def few_shot_curves(representations: Mapping[str, np.ndarray], labels,
                    shots: Sequence[int] = (1, 5, 10), n_episodes: int = 100,
                    learner: str = "1nn", seed: int = 0,
                    verbose: bool = True) -> dict[str, dict[int, np.ndarray]]:
    """:func:`few_shot_episodes` for several representations of the same examples and shot counts.

    Parameters
    ----------
    representations : mapping of str to array
        {name: (N, d) features}, e.g. {"pixels": x, "learned": z}; all of the same N examples.
    labels : int array, shape (N,)
    shots : sequence of int
        Labelled examples per class.
    n_episodes, learner, seed
        As in :func:`few_shot_episodes`; every representation sees the same episodes.
    verbose : bool
        Print the time taken.

    Returns
    -------
    results : dict
        {name: {shots: (n_episodes,) accuracies}}, the input to :func:`plot_accuracy_vs_shots`
        and :func:`few_shot_summary`.
    """
    if not representations:
        raise ValueError("representations is empty; pass {name: features}")
    _check_learner(learner)
    n_episodes = _positive_int(n_episodes, "n_episodes")
    start = time.perf_counter()
    results = {}
    for name, features in representations.items():
        z, y = _as_features(features, labels)
        gram = _gram(z, learner)
        results[name] = {int(k): _episode_accuracies(z, y, k, n_episodes, learner, seed, gram)
                         for k in shots}
    if verbose:
        print(f"{len(representations)} representations x {len(shots)} shot counts x {n_episodes} "
              f"episodes ({learner}) in {time.perf_counter() - start:.1f} s")
    return results


def _check_results(results: Mapping[str, Mapping[int, np.ndarray]]) -> None:
    if not results or any(not curve for curve in results.values()):
        raise ValueError("results must be {name: {shots: accuracies}} with at least one entry, as "
                         "returned by few_shot_curves")


def few_shot_summary(results: Mapping[str, Mapping[int, np.ndarray]]) -> str:
    """A text table of mean accuracy +- standard deviation over episodes.

    Parameters
    ----------
    results : dict
        {name: {shots: accuracies}}, from :func:`few_shot_curves`.

    Returns
    -------
    table : str
        One row per representation, one column per shot count.

    Examples
    --------
    >>> print(few_shot_summary({"pixels": {1: np.array([0.4, 0.6])}}))
    shots per class             1
    pixels            0.50 ± 0.10
    """
    _check_results(results)
    shots = sorted({k for curve in results.values() for k in curve})
    width = max(len("shots per class"), *(len(name) for name in results))
    lines = [f"{'shots per class':<{width}}" + "".join(f"{k:>14}" for k in shots)]
    for name, curve in results.items():
        cells = [f"{np.mean(curve[k]):.2f} ± {np.std(curve[k]):.2f}" if k in curve else "-"
                 for k in shots]
        lines.append(f"{name:<{width}}" + "".join(f"{cell:>14}" for cell in cells))
    return "\n".join(lines)


def plot_accuracy_vs_shots(results: Mapping[str, Mapping[int, np.ndarray]],
                           chance: float | None = None, ax: Axes | None = None,
                           title: str | None = None) -> Figure:
    """Mean accuracy over episodes against shots per class, one line per representation.

    Parameters
    ----------
    results : dict
        {name: {shots: (n_episodes,) accuracies}}, from :func:`few_shot_curves`.
    chance : float, optional
        Accuracy of guessing (1 / number of classes), drawn as a dashed line.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes instead of a new figure.
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
        Each line is the mean; the shaded band spans the 10th to 90th percentile of the episodes
        (the spread a student sees from one episode to the next).
    """
    _check_results(results)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.0, 4.2), layout="constrained")
    else:
        fig = ax.figure
    all_shots = sorted({k for curve in results.values() for k in curve})
    for name, curve in results.items():
        k = np.array(sorted(curve))
        accs = [np.asarray(curve[s], dtype=np.float64) for s in k]
        (line,) = ax.plot(k, [a.mean() for a in accs], marker="o", label=name)
        ax.fill_between(k, [np.percentile(a, 10) for a in accs], [np.percentile(a, 90) for a in accs],
                        color=line.get_color(), alpha=0.15, linewidth=0)
    if chance is not None:
        ax.axhline(chance, color="gray", linestyle="--", linewidth=1, label=f"chance ({chance:.0%})")
    if len(all_shots) > 1 and all_shots[0] > 0 and all_shots[-1] / all_shots[0] >= 8:
        ax.set_xscale("log")
    ax.set_xticks(all_shots, [str(s) for s in all_shots])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xlabel("labelled examples per class (shots)")
    ax.set_ylabel("query accuracy")
    ax.set_ylim(top=1.0)
    ax.legend()
    ax.set_title(title or "Few-shot accuracy: mean and 10-90% of episodes")
    return fig


# ------------------------------------------------------------------------------------------ fine-tuning

FINE_TUNING = {"layer": PENULTIMATE_LAYER, "unfreeze": ["dense1"], "steps": 150, "batch_size": 32,
               "learning_rate": 3e-4, "scratch_learning_rate": 3e-3}
"""Settings of :func:`compare_fine_tuning`: the new head sits on ``layer``; ``unfreeze`` are the
pretrained layers that fine-tuning trains (the last block), with Adam at ``learning_rate`` for
``steps`` batches. The network trained from scratch gets the same steps at the larger
``scratch_learning_rate``, since its weights start far from any solution."""


def with_new_head(model: keras.Model, layer: str, n_classes: int, trainable: Sequence[str] | str = (),
                  head: tuple[np.ndarray, np.ndarray] | None = None,
                  name: str | None = None) -> keras.Model:
    """A copy of ``model`` up to ``layer``, topped with a new softmax layer; only some layers train.

    Parameters
    ----------
    model : keras.Model
        The pretrained network; it is not changed (its weights are copied).
    layer : str
        Last layer kept; its output (flattened if it is a map) feeds the new head.
    n_classes : int
        Outputs of the new head.
    trainable : sequence of str or "all"
        Names of the copied layers that train, e.g. ``["dense1"]`` (the last block); every other
        copied layer is frozen. The new head always trains.
    head : (kernel, bias), optional
        Initial weights of the head, kernel (d, n_classes) and bias (n_classes,), e.g. from a
        logistic regression on the frozen features, so that fine-tuning starts at that solution.
        Default: Keras' random initialisation.
    name : str, optional
        Name of the new model.

    Returns
    -------
    new_model : keras.Model
        Uncompiled; (N, ...) inputs -> (N, n_classes) probabilities. The head is named
        "new_output"; the copied layers keep their names.

    Raises
    ------
    ValueError
        If ``trainable`` names a layer that is not copied, or ``head`` has the wrong shapes.
    """
    n_classes = _positive_int(n_classes, "n_classes")
    body = feature_extractor(model, layer)
    copy = keras.models.clone_model(body)
    copy.set_weights(body.get_weights())
    names = [lay.name for lay in copy.layers if not isinstance(lay, keras.layers.InputLayer)]
    if trainable != "all":
        unknown = sorted(set(trainable) - set(names))
        if unknown or isinstance(trainable, str):
            raise ValueError(f"trainable must be 'all' or a list of layer names among {names}; "
                             f"got {trainable!r}")
    new_head = keras.layers.Dense(n_classes, activation="softmax", name="new_output")
    new_model = keras.Model(copy.input, new_head(copy.output), name=name or f"{model.name}_new_head")
    if head is not None:
        kernel, bias = (np.asarray(w, dtype=np.float32) for w in head)
        expected = tuple(new_head.kernel.shape)
        if kernel.shape != expected or bias.shape != (n_classes,):
            raise ValueError(f"head must be (kernel {expected}, bias ({n_classes},)), got shapes "
                             f"{kernel.shape} and {bias.shape}")
        new_head.set_weights([kernel, bias])
    for lay in copy.layers:
        lay.trainable = trainable == "all" or lay.name in trainable
    return new_model


def fit_steps(model: keras.Model, x, y, steps: int, learning_rate: float, batch_size: int = 32,
              seed: int = 0, verbose: bool = False) -> keras.callbacks.History:
    """Compile with Adam and train for exactly ``steps`` batches, however small the data set.

    Parameters
    ----------
    model : keras.Model
        A classifier with softmax output; the trainable flags of its layers are respected.
    x, y : arrays
        Training inputs (N, ...) and integer labels (N,). N may be smaller than a batch.
    steps : int
        Optimizer steps.
    learning_rate : float
        Adam's step size.
    batch_size : int
        Examples per step.
    seed : int
        Seed of the order: the data are shuffled, repeated and cut into ``steps`` batches (one
        Keras epoch, which avoids Keras' overhead per epoch on a data set of a few dozen images).
    verbose : bool
        Print one line with the time taken.

    Returns
    -------
    history : keras.callbacks.History
        With ``history.seconds``, the training time.
    """
    x, y = _repeated_batches(x, y, steps, batch_size, seed)
    training.compile_classifier(model, learning_rate)
    return training.timed_fit(model, x, y, epochs=1, batch_size=batch_size, verbose=verbose,
                              shuffle=False)


def _repeated_batches(x, y, steps: int, batch_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x and y shuffled, repeated and cut to exactly steps * batch_size examples."""
    x, y = np.asarray(x), np.asarray(y).ravel()
    steps, batch_size = _positive_int(steps, "steps"), _positive_int(batch_size, "batch_size")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty and equally long, got {len(x)} and {len(y)}")
    rng = np.random.default_rng(seed)
    needed = steps * batch_size
    order = np.concatenate([rng.permutation(len(x)) for _ in range(math.ceil(needed / len(x)))])
    return x[order[:needed]], y[order[:needed]]


class _Retrainable:
    """A compiled model that is reset to its initial weights and optimizer state before each run.

    Building and compiling a new model traces a new training step, ~0.7 s, several times the cost
    of the few hundred steps of a fine-tuning run; resetting one model reuses its traced step.
    """

    def __init__(self, model: keras.Model, learning_rate: float):
        training.compile_classifier(model, learning_rate)
        model.optimizer.build(model.trainable_variables)
        self.model = model
        self._weights = model.get_weights()
        self._optimizer_state = [v.numpy() for v in model.optimizer.variables]

    def train(self, x, y, steps: int, batch_size: int, seed: int,
              head: tuple[np.ndarray, np.ndarray] | None = None) -> keras.Model:
        """Train from the initial state (with the head's weights set to ``head``, if given)."""
        self.model.set_weights(self._weights)
        for variable, value in zip(self.model.optimizer.variables, self._optimizer_state, strict=True):
            variable.assign(value)
        if head is not None:
            self.model.get_layer("new_output").set_weights([np.asarray(w, dtype=np.float32)
                                                           for w in head])
        x, y = _repeated_batches(x, y, steps, batch_size, seed)
        self.model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0, shuffle=False)
        return self.model


def _accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
    # Direct calls: model.predict would trace a new function for every new model (~0.3 s each).
    predicted = np.concatenate([np.asarray(model(x[i:i + batch_size], training=False)).argmax(axis=1)
                                for i in range(0, len(x), batch_size)])
    return float(np.mean(predicted == y))


def _draw_per_class(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    classes, counts = np.unique(y, return_counts=True)
    if per_class > counts.min():
        raise ValueError(f"{per_class} labels per class requested, but class "
                         f"{classes[counts.argmin()]} has only {counts.min()} examples in the pool")
    return np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False)
                           for c in classes])


def _logreg_head(z: np.ndarray, y: np.ndarray, n_classes: int) -> tuple[LogisticRegression,
                                                                           np.ndarray, np.ndarray]:
    """Logistic regression on frozen features, and its weights as a softmax layer's (kernel, bias)."""
    with threadpoolctl.threadpool_limits(1):
        classifier = LogisticRegression(max_iter=1000).fit(z, y)
    coef, intercept = classifier.coef_, classifier.intercept_
    if n_classes == 2:  # scikit-learn keeps one weight vector w: p(1) = sigmoid(w.z + b)
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.r_[0.0, intercept]
    return classifier, coef.T, intercept


def compare_fine_tuning(base: keras.Model, pool: tuple[np.ndarray, np.ndarray],
                        test: tuple[np.ndarray, np.ndarray], budgets: Sequence[int] = (10, 100),
                        n_repeats: int = 3, seed: int = 0,
                        verbose: bool = True) -> dict[int, dict[str, np.ndarray]]:
    """Frozen features, fine-tuning and training from scratch, at several label budgets.

    For every budget and repeat, ``budget`` labelled images per class are drawn from ``pool``,
    and four classifiers are trained on them and measured on ``test``:

    * ``"frozen <FINE_TUNING['layer']>"``: logistic regression on the frozen features of that
      layer (the lecture's recipe);
    * ``"frozen <FEATURE_LAYER>"``: the same on the convolutional features;
    * ``"fine-tuned"``: the network with a new head initialised from the first classifier, the
      layers ``FINE_TUNING['unfreeze']`` unfrozen, trained at a small learning rate;
    * ``"from scratch"``: the same architecture with random weights (the same initial weights in
      every run), every layer trained.

    Parameters
    ----------
    base : keras.Model
        The pretrained network (e.g. :func:`half_cnn`); it is not changed.
    pool : (x, y)
        Images (N, ...) and labels 0..k-1 to draw the labelled examples from.
    test : (x, y)
        Held-out images and labels to measure accuracy on.
    budgets : sequence of int
        Labelled images per class.
    n_repeats : int
        Independent draws of the labelled images per budget.
    seed : int
        Seed of the draws and of the initial weights.
    verbose : bool
        Print one line per budget with the time taken.

    Returns
    -------
    results : dict
        {budget: {method: (n_repeats,) test accuracies}}.
    """
    x_pool, y_pool = np.asarray(pool[0]), np.asarray(pool[1]).ravel()
    x_test, y_test = np.asarray(test[0]), np.asarray(test[1]).ravel()
    n_classes = int(max(y_pool.max(), y_test.max())) + 1
    settings = FINE_TUNING
    frozen = {lay: feature_extractor(base, lay) for lay in (settings["layer"], FEATURE_LAYER)}
    z_pool = {lay: f.predict(x_pool, batch_size=500, verbose=0) for lay, f in frozen.items()}
    z_test = {lay: f.predict(x_test, batch_size=500, verbose=0) for lay, f in frozen.items()}
    keras.utils.set_random_seed(seed)
    tuned = _Retrainable(with_new_head(base, settings["layer"], n_classes, settings["unfreeze"]),
                         settings["learning_rate"])
    scratch = _Retrainable(with_new_head(keras.models.clone_model(base), settings["layer"],
                                         n_classes, "all"), settings["scratch_learning_rate"])
    steps, batch_size = settings["steps"], settings["batch_size"]
    results: dict[int, dict[str, np.ndarray]] = {}
    for budget in budgets:
        start = time.perf_counter()
        runs: dict[str, list[float]] = {}
        for repeat in range(_positive_int(n_repeats, "n_repeats")):
            rng = np.random.default_rng([seed, int(budget), repeat])
            chosen = _draw_per_class(y_pool, _positive_int(budget, "budget"), rng)
            x, y = x_pool[chosen], y_pool[chosen]
            for lay in frozen:
                classifier, kernel, bias = _logreg_head(z_pool[lay][chosen], y, n_classes)
                if lay == settings["layer"]:
                    head = (kernel, bias)
                accuracy = float(np.mean(classifier.predict(z_test[lay]) == y_test))
                runs.setdefault(f"frozen {lay}", []).append(accuracy)
            model = tuned.train(x, y, steps, batch_size, seed=repeat, head=head)
            runs.setdefault("fine-tuned", []).append(_accuracy(model, x_test, y_test))
            model = scratch.train(x, y, steps, batch_size, seed=repeat)
            runs.setdefault("from scratch", []).append(_accuracy(model, x_test, y_test))
        results[int(budget)] = {method: np.array(accs) for method, accs in runs.items()}
        if verbose:
            print(f"{budget} labels per class: {n_repeats} repeats x 4 methods in "
                  f"{time.perf_counter() - start:.1f} s")
    return results


# ----------------------------------------------------------------------------------- 2D feature maps

EMBEDDINGS = ("pca", "tsne")


def embed_2d(features, method: str = "pca", seed: int = 0) -> np.ndarray:
    """Project feature vectors to 2D for a picture of the feature space.

    Parameters
    ----------
    features : array, shape (N, d) or (N, ...)
        One vector per example (flattened).
    method : {"pca", "tsne"}
        "pca": the two directions of largest variance (linear: distances along them are real
        distances). "tsne": t-SNE, which keeps neighbourhoods but not distances or cluster sizes;
        the features are reduced to 50 principal components first, as is customary.
    seed : int
        Seed of t-SNE (and of the randomised PCA solver).

    Returns
    -------
    points : float array, shape (N, 2)
    """
    if method not in EMBEDDINGS:
        raise ValueError(f"unknown method {method!r}; choose one of {EMBEDDINGS}")
    z = np.asarray(features, dtype=np.float64)
    z = z.reshape(len(z), -1)
    if len(z) < 5:
        raise ValueError(f"need at least 5 examples to embed, got {len(z)}")
    if method == "pca":
        return PCA(2, random_state=seed).fit_transform(z)
    if z.shape[1] > 50:
        z = PCA(min(50, len(z)), random_state=seed).fit_transform(z)
    perplexity = min(30.0, (len(z) - 1) / 3)
    # t-SNE's OpenMP threads slow it down several times over when other processes share the CPU;
    # one thread takes a predictable few seconds for a thousand points.
    with threadpoolctl.threadpool_limits(1):
        return TSNE(2, init="pca", perplexity=perplexity, random_state=seed, n_jobs=1).fit_transform(z)


def plot_embedding(points, labels, class_names: Sequence[str] | None = None, ax: Axes | None = None,
                   title: str | None = None) -> Figure:
    """Scatter 2D points coloured by class, with a legend.

    Parameters
    ----------
    points : array, shape (N, 2)
        From :func:`embed_2d`.
    labels : int array, shape (N,)
        Classes 0..k-1 (at most 10 colours).
    class_names : sequence of str, optional
        Legend entry of each class (default "0", "1", ...).
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    p, y = _as_features(points, labels)
    if p.shape[1] != 2:
        raise ValueError(f"points must be (N, 2), got shape {p.shape}")
    n_classes = int(y.max()) + 1
    names = [str(c) for c in range(n_classes)] if class_names is None else list(class_names)
    if len(names) < n_classes or n_classes > 10:
        raise ValueError(f"need one name per class for at most 10 classes; got {len(names)} names "
                         f"for {n_classes} classes")
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
    else:
        fig = ax.figure
    colours = plt.get_cmap("tab10")
    for c in range(n_classes):
        ax.scatter(*p[y == c].T, s=6, color=colours(c), label=names[c], alpha=0.7, linewidths=0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(markerscale=3, fontsize=9, loc="best", handletextpad=0.1, borderpad=0.3)
    if title:
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------------- ImageNet inputs


def to_imagenet_input(images, size: int = 128) -> np.ndarray:
    """Small or grey images as the colour input of an ImageNet network (``zoo.imagenet_mobilenet``).

    Parameters
    ----------
    images : array, shape (N, H, W, 1) or (N, H, W, 3)
        Values in [0, 1].
    size : int
        Side of the network's input; images of another size are resized (bilinear).

    Returns
    -------
    rgb : float32 array, shape (N, size, size, 3), in [0, 1]
        Grey images are repeated over the three colour channels.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"images has shape {x.shape}; expected (N, H, W, 1) or (N, H, W, 3)")
    if x.shape[1:3] != (size, size):
        x = transforms.resize_images(x, size)
    return transforms.grey_to_rgb(x) if x.shape[-1] == 1 else x


def photo_crops(names: Sequence[str], side: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping square crops of photos: a small image task whose class is the photo.

    Parameters
    ----------
    names : sequence of str
        Photos of ``data.image_names()``, e.g. the textures "brick", "grass", "gravel".
    side : int
        Side of the crops in pixels; every photo is cut into a grid of side x side tiles (the
        remainder at the right and bottom is dropped), so no two crops share a pixel.

    Returns
    -------
    crops : float32 array, shape (N, side, side, 3), in [0, 1]
        Grey photos are repeated over the three channels.
    labels : int64 array, shape (N,)
        Index of the photo in ``names``.
    """
    side = _positive_int(side, "side")
    photos = [data.load_image(name, color="rgb") for name in names]
    for name, photo in zip(names, photos, strict=True):
        if min(photo.shape[:2]) < side:
            raise ValueError(f"photo {name!r} ({photo.shape[0]}x{photo.shape[1]}) is smaller than "
                             f"one {side}x{side} crop")
    crops, origins = transforms.cut_tiles(photos, side, stride=side)
    return crops, origins[:, 0].astype(np.int64)
