"""Widget of notebook 09 (transfer and few-shot learning): one few-shot episode, seen by two learners.

:func:`episode_view` draws an episode's support set (the few labelled images per class) and, for
every representation of the images (e.g. raw pixels and the features of a pretrained network),
the predictions of a simple learner on a sample of the queries and its accuracy on all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course_utils import plotting, transfer

__all__ = ["episode_view"]

QUERIES_SHOWN = 12
"""Query images drawn per representation (the accuracy is over all queries)."""
MAX_SUPPORT_ROWS = 3
"""Support images drawn per class; with more shots, the rest are counted in the title."""


def _draw(ax, image: np.ndarray) -> None:
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    cmap, vmin, vmax = plotting.auto_cmap(image)
    ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def episode_view(images, representations: Mapping[str, np.ndarray], labels,
                 class_names: Sequence[str], shots: int = 1, learner: str = "1nn",
                 episode: int = 0) -> Figure:
    """One few-shot episode: the support set, and each representation's predictions on queries.

    Parameters
    ----------
    images : array, shape (N, H, W, 1) or (N, H, W, 3)
        The images, for display, values in [0, 1].
    representations : mapping of str to array
        {name: (N, d) features of the same images}, e.g. {"pixels": ..., "CNN features": ...}.
    labels : int array, shape (N,)
        Classes 0..k-1.
    class_names : sequence of str
        Name of each class.
    shots : int
        Labelled images per class (the widget's slider).
    learner : {"1nn", "logreg"}
        The simple learner trained on the support set.
    episode : int
        Which random episode: the same as episode ``episode`` of
        ``transfer.few_shot_episodes(..., seed=0)``, so the accuracy shown is one of its values.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Top: the support set, one column per class. Below, one row per representation: the same
        ``QUERIES_SHOWN`` queries titled with the predicted class (green right, red wrong), and the
        accuracy over all queries in the row's title.
    """
    images = np.asarray(images)
    labels = np.asarray(labels).ravel()
    if images.ndim != 4 or len(images) != len(labels):
        raise ValueError(f"need (N, H, W, C) images and N labels, got images of shape {images.shape} "
                         f"and {len(labels)} labels")
    if not representations:
        raise ValueError("representations is empty; pass {name: (N, d) features}")
    for name, features in representations.items():
        if len(features) != len(labels):
            raise ValueError(f"representation {name!r} has {len(features)} rows for {len(labels)} "
                             "images")
    n_classes = int(labels.max()) + 1
    if not np.array_equal(np.unique(labels), np.arange(n_classes)):
        raise ValueError(f"labels must be the classes 0..k-1, each present; got {np.unique(labels)}")
    if len(class_names) < n_classes:
        raise ValueError(f"{len(class_names)} class names for {n_classes} classes")
    support, query = transfer.sample_episode(labels, shots, seed=0, episode=episode)
    shown = np.random.default_rng(episode).choice(query, min(QUERIES_SHOWN, len(query)),
                                                  replace=False)
    position = np.searchsorted(query, shown)
    rows = min(shots, MAX_SUPPORT_ROWS)

    n_rep = len(representations)
    fig = plt.figure(figsize=(max(1.05 * len(shown), 1.05 * n_classes), 1.1 * rows + 1.6 * n_rep + 0.6),
                     layout="constrained")
    top, *bottoms = fig.subfigures(1 + n_rep, 1, height_ratios=[1.1 * rows + 0.4] + [1.6] * n_rep)
    support_axes = top.subplots(rows, n_classes, squeeze=False)
    by_class = support.reshape(n_classes, shots)
    for c in range(n_classes):
        for r in range(rows):
            _draw(support_axes[r, c], images[by_class[c, r]])
        support_axes[0, c].set_title(class_names[c], fontsize=11)
    more = f" (showing {rows})" if shots > rows else ""
    top.suptitle(f"Episode {episode}: support set, {shots} labelled image{'s' if shots > 1 else ''} "
                 f"per class{more}", fontsize=12)

    for sub, (name, features) in zip(bottoms, representations.items(), strict=True):
        z = np.asarray(features).reshape(len(labels), -1)
        predicted = transfer.fit_predict(learner, z[support], labels[support], z[query])
        accuracy = np.mean(predicted == labels[query])
        axes = sub.subplots(1, len(shown), squeeze=False)[0]
        for ax, index, pred in zip(axes, shown, predicted[position], strict=True):
            _draw(ax, images[index])
            right = pred == labels[index]
            ax.set_title(f"→ {class_names[pred]}", fontsize=10,
                         color=plotting.CORRECT_COLOR if right else plotting.WRONG_COLOR)
        sub.suptitle(f"{name} + {learner}: {accuracy:.0%} of {len(query):,} queries right "
                     f"(chance {1 / n_classes:.0%}); {len(shown)} of them:", fontsize=12)
    return fig
