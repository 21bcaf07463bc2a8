"""Notebook 10's widgets (views.autoencoders) and exercise checks (exercises.autoencoders).

Tiny stand-in models (an identity, a constant, an exact linear code) make the expected numbers
known without training.
"""

import inspect

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.decomposition import PCA

from course_utils import metrics
from course_utils.exercises import autoencoders as ex
from course_utils.views import autoencoders as views


def _model(function, name):
    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, keras.layers.Lambda(function)(inputs), name=name)


@pytest.fixture(scope="module")
def identity():
    return _model(lambda x: x, "identity")


@pytest.fixture(scope="module")
def garment():
    # Answers every image with the same "garment": a grey rectangle.
    template = np.zeros((28, 28, 1), np.float32)
    template[4:24, 8:20] = 0.6
    return _model(lambda x: 0.0 * x + template, "garment"), template


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return np.clip(rng.normal(0.4, 0.2, size=(30, 28, 28, 1)), 0, 1).astype(np.float32)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# Orthonormal rows: the basis images of exact linear codes; a code of k numbers uses the first k.
BASIS = np.linalg.qr(np.random.default_rng(0).normal(size=(784, 8)))[0].T.astype(np.float32)


def _linear_codec(k: int):
    """(encoder, decoder, autoencoder): z = B (x - 0.5), x = B^T z + 0.5 with B = BASIS[:k]."""
    basis = BASIS[:k]
    inputs = keras.Input((28, 28, 1))
    code = keras.layers.Dense(k, kernel_initializer=keras.initializers.Constant(basis.T),
                              bias_initializer=keras.initializers.Constant(-0.5 * basis.sum(axis=1)))
    encoder = keras.Model(inputs, code(keras.layers.Flatten()(inputs)))
    codes = keras.Input((k,))
    pixels = keras.layers.Dense(784, kernel_initializer=keras.initializers.Constant(basis),
                                bias_initializer=keras.initializers.Constant(0.5))(codes)
    decoder = keras.Model(codes, keras.layers.Reshape((28, 28, 1))(pixels))
    return encoder, decoder, keras.Model(inputs, decoder(encoder(inputs)))


def _coded_images(k: int, n: int, seed: int) -> np.ndarray:
    """n images in [0, 1] that the linear code with k numbers gives back exactly."""
    flat = np.random.default_rng(seed).uniform(-1, 1, size=(n, k)) @ BASIS[:k]
    return (0.5 + 0.45 * flat / np.abs(flat).max()).reshape(n, 28, 28, 1).astype(np.float32)


# ------------------------------------------------------------------------------------- views


def test_bottleneck_view_compares_the_autoencoder_with_pca(images, identity, garment):
    pca = PCA(4).fit(images.reshape(len(images), -1))
    fig = views.bottleneck_view({2: identity, 4: garment[0]}, pca, images, index=3, k=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 3 and titles[0] == "image 3 (784 numbers)"
    assert titles[1] == "autoencoder, k = 2\nidentical"  # the identity gives the image back
    pca_image = np.clip(pca.inverse_transform(
        (images[3].reshape(1, -1) - pca.mean_) @ pca.components_[:2].T @ np.eye(2, 4))
        .reshape(28, 28, 1), 0, 1)
    assert titles[2] == f"PCA, k = 2\n{metrics.psnr(pca_image, images[3]):.1f} dB"
    with pytest.raises(ValueError, match="no autoencoder with k = 8"):
        views.bottleneck_view({2: identity}, pca, images, k=8)
    with pytest.raises(ValueError, match="index must be an int in 0..29"):
        views.bottleneck_view({2: identity}, pca, images, index=30, k=2)


def test_restoration_view_damages_and_repairs(images, identity):
    fig = views.restoration_view(identity, images, index=0, noise=0.0, hole_size=6, hole_row=25,
                                 hole_col=3)
    damaged = fig.axes[1].images[0].get_array()
    # The hole is moved inside the image: rows 22..27, columns 3..8.
    assert np.all(damaged[22:28, 3:9] == 0) and damaged.sum() > 0
    assert np.count_nonzero(damaged == 0) >= 36
    assert "6x6 hole" in fig.axes[1].get_title()
    # The identity "repairs" nothing: the repaired image is the damaged one, with the same PSNR.
    repaired_title = fig.axes[2].get_title()
    assert fig.axes[1].get_title().split("\n")[1] in repaired_title and "hole" in repaired_title
    assert len(fig.axes[1].patches) == len(fig.axes[2].patches) == 1
    no_hole = views.restoration_view(identity, images, index=0, noise=0.2, hole_size=0)
    assert "hole" not in no_hole.axes[1].get_title() and not no_hole.axes[1].patches


@pytest.mark.parametrize("view, controls", [
    (views.bottleneck_view, views.bottleneck_controls([2, 8, 32], 10)),
    (views.restoration_view, views.restoration_controls(10)),
])
def test_controls_are_the_views_parameters(view, controls):
    parameters = inspect.signature(view).parameters
    assert set(controls) <= set(parameters)
    for name, widget in controls.items():
        assert widget.continuous_update is False, name
        assert widget.value == parameters[name].default or name in ("index", "k", "hole_size")


# --------------------------------------------------------------------------------- exercises


def test_pca_exercise(images):
    pca, k = PCA(8).fit(images.reshape(len(images), -1)), 5
    flat = images[:10].reshape(10, -1)
    V = pca.components_[:k]
    solution = (flat - pca.mean_) @ V.T @ V + pca.mean_
    assert ex.check_pca_reconstruction(..., pca, images[:10], k).status == "not attempted"
    assert ex.check_pca_reconstruction(solution, pca, images[:10], k).correct
    assert ex.check_pca_reconstruction(solution.reshape(10, 28, 28, 1), pca, images[:10], k).correct
    forgot_mean = (flat - pca.mean_) @ V.T @ V
    feedback = ex.check_pca_reconstruction(forgot_mean, pca, images[:10], k)
    assert not feedback.correct and "add the mean image" in feedback.message
    not_centred = flat @ V.T @ V + pca.mean_
    assert "subtract the mean" in ex.check_pca_reconstruction(not_centred, pca, images[:10], k).message
    everything = (flat - pca.mean_) @ pca.components_.T @ pca.components_ + pca.mean_
    assert "all 8 components" in ex.check_pca_reconstruction(everything, pca, images[:10], k).message
    assert "shape" in ex.check_pca_reconstruction(solution[:5], pca, images[:10], k).message
    assert "off by up to" in ex.check_pca_reconstruction(solution + 0.1, pca, images[:10], k).message


def test_copied_not_compressed_exercise(identity, garment):
    model, template = garment
    digit = np.zeros((28, 28), np.float32)
    digit[5:23, 12:16] = 1.0  # a "1": nothing like the grey garment
    assert ex.check_copied_not_compressed(..., identity, model).status == "not attempted"
    feedback = ex.check_copied_not_compressed(digit, identity, model)
    assert feedback.correct, feedback
    like_clothes = ex.check_copied_not_compressed(template, identity, model)
    assert not like_clothes.correct and "like the clothes" in like_clothes.message
    blind = _model(lambda x: 0.0 * x, "blind")
    assert "not even the wide one" in ex.check_copied_not_compressed(digit, blind, model).message
    assert "[0, 1]" in ex.check_copied_not_compressed(digit * 2, identity, model).message
    assert "shape" in ex.check_copied_not_compressed(digit[:20], identity, model).message


def test_compression_exercise(monkeypatch):
    parts = {k: _linear_codec(k) for k in (4, 8)}
    test_images, train_images = _coded_images(4, 50, seed=1), _coded_images(4, 300, seed=2)
    psnrs = ex.quantised_psnrs(*parts[4][:2], test_images, train_images, [1, 4, 8])
    assert psnrs[1] + 5 < psnrs[4] <= psnrs[8]  # more bits per number, better images
    # A target between 1 and 4 bits per number for these images.
    monkeypatch.setattr(ex, "COMPRESSION_MIN_PSNR", (psnrs[1] + psnrs[4]) / 2)
    assert ex.check_compression(..., parts, test_images, train_images).status == "not attempted"
    good = ex.check_compression((4, 10), parts, test_images, train_images)
    assert good.correct and "40 bits" in good.message, good
    coarse = ex.check_compression((4, 1), parts, test_images, train_images)
    assert not coarse.correct and "more bits per number" in coarse.message
    costly = ex.check_compression((8, 12), parts, _coded_images(8, 50, seed=3),
                                  _coded_images(8, 300, seed=4))
    assert not costly.correct and "more than 64" in costly.message, costly
    assert "no trained autoencoder with k = 16" in ex.check_compression(
        (16, 2), parts, test_images, train_images).message
    assert "pair of ints" in ex.check_compression(32, parts, test_images, train_images).message
