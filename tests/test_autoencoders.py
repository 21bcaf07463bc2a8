"""course_utils.autoencoders: builders, training, masks, the latent grid, probes, compression, the VAE."""

import math

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from course_utils import autoencoders as ae
from course_utils import metrics, transforms, zoo


@pytest.fixture
def images():
    # 64 images from a 3-dimensional family (mixtures of three patterns): a bottleneck of 3 or
    # more numbers can hold them.
    rng = np.random.default_rng(0)
    patterns = rng.random((3, 64))
    weights = rng.dirichlet(np.ones(3), size=64)
    return (weights @ patterns).reshape(64, 8, 8, 1).astype(np.float32)


# ----------------------------------------------------------------------------------- builders


@pytest.mark.parametrize("kind", ["dense", "conv"])
@pytest.mark.parametrize("k", [1, 2, 7, 32])
def test_build_autoencoder_shapes(kind, k):
    encoder, decoder, autoencoder = ae.build_autoencoder(kind, k, hidden=(16,), filters=(4, 8))
    x = np.random.default_rng(k).random((3, 28, 28, 1)).astype(np.float32)
    code = np.asarray(encoder(x))
    assert code.shape == (3, k)
    out = np.asarray(autoencoder(x))
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1  # sigmoid output
    np.testing.assert_allclose(np.asarray(decoder(code)), out, atol=1e-6)  # f = d(e(x))
    assert ae.split_autoencoder(autoencoder) == (encoder, decoder)


def test_build_autoencoder_dense_layers_and_linear_variant():
    encoder, decoder, autoencoder = ae.build_autoencoder("dense", 4, input_shape=(6, 6, 1),
                                                         hidden=(), activation=None,
                                                         output_activation=None)
    # A linear autoencoder is x -> (x W1 + b1) W2 + b2: two Dense layers and nothing else.
    assert autoencoder.count_params() == (36 * 4 + 4) + (4 * 36 + 36)
    x = np.random.default_rng(0).random((5, 6, 6, 1)).astype(np.float32)
    w1, b1 = encoder.get_layer("code").get_weights()
    w2, b2 = decoder.get_layer("pixels").get_weights()
    expected = (x.reshape(5, -1) @ w1 + b1) @ w2 + b2
    np.testing.assert_allclose(np.asarray(autoencoder(x)).reshape(5, -1), expected, atol=1e-5)


@pytest.mark.parametrize("k", [0, -3, 2.5, True, None])
def test_bottleneck_must_be_a_positive_int(k):
    with pytest.raises(ValueError, match="bottleneck k"):
        ae.build_autoencoder("dense", k)


def test_build_autoencoder_rejects_bad_kind_and_conv_sizes():
    with pytest.raises(ValueError, match="kind must be one of"):
        ae.build_autoencoder("recurrent", 4)
    with pytest.raises(ValueError, match="divisible by 4"):
        ae.build_autoencoder("conv", 4, input_shape=(30, 30, 1), filters=(4, 8))


# ----------------------------------------------------------------------------------- training


def test_train_autoencoder_lowers_the_loss(images):
    keras.utils.set_random_seed(0)
    *_, autoencoder = ae.build_autoencoder("dense", 8, input_shape=(8, 8, 1), hidden=(32,))
    before = float(np.mean((np.asarray(autoencoder(images)) - images) ** 2))
    history = ae.train_autoencoder(autoencoder, images, steps=64, batch_size=8,
                                   learning_rate=1e-2, verbose=False)
    after = float(np.mean((np.asarray(autoencoder(images)) - images) ** 2))
    assert len(history.epoch) == 8  # 64 steps of 8 from 64 images: 8 per epoch
    assert after < 0.3 * before


def test_train_autoencoder_corrupts_inputs_and_keeps_clean_targets(images):
    seen = []

    def corrupt(batch, seed):
        seen.append(seed)
        return np.zeros_like(batch)

    keras.utils.set_random_seed(0)
    *_, autoencoder = ae.build_autoencoder("dense", 4, input_shape=(8, 8, 1), hidden=())
    ae.train_autoencoder(autoencoder, images, steps=12, batch_size=32, corrupt=corrupt, verbose=False)
    assert len(set(seen)) >= 6  # a fresh corruption every epoch (6 epochs of 2 steps)
    batches = ae._Batches(images, 32, corrupt, seed=0)
    inputs, targets = batches[0]
    assert np.all(inputs == 0) and np.any(targets > 0)
    np.testing.assert_array_equal(np.sort(np.concatenate([batches[0][1], batches[1][1]]).ravel()),
                                  np.sort(images.ravel()))  # every image once per epoch


def test_train_autoencoder_rejects_bad_images(images):
    *_, autoencoder = ae.build_autoencoder("dense", 4, input_shape=(8, 8, 1), hidden=())
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        ae.train_autoencoder(autoencoder, images * 255, steps=1)
    with pytest.raises(ValueError, match="the autoencoder takes"):
        ae.train_autoencoder(autoencoder, images[:, :4], steps=1)


# ------------------------------------------------------------------------------------- masks


def test_random_mask_covers_the_requested_area():
    mask = ae.random_mask(200, (28, 28), size=10, seed=3)
    assert mask.shape == (200, 28, 28, 1) and mask.dtype == bool
    assert np.all(mask.sum(axis=(1, 2, 3)) == 100)
    rows = np.flatnonzero(mask[0, :, :, 0].any(axis=1))
    cols = np.flatnonzero(mask[0, :, :, 0].any(axis=0))
    assert len(rows) == len(cols) == 10 and np.all(np.diff(rows) == 1) and np.all(np.diff(cols) == 1)
    corners = {(int(np.argmax(m.any(axis=1))), int(np.argmax(m.any(axis=0)))) for m in mask[..., 0]}
    assert len(corners) > 100  # random places, all inside the 28 x 28 image
    np.testing.assert_array_equal(mask, ae.random_mask(200, (28, 28), size=10, seed=3))


def test_random_mask_at_a_position_and_its_errors():
    mask = ae.random_mask(2, (6, 5), size=2, position=(4, 3))
    assert mask[:, 4:6, 3:5].all() and mask.sum() == 2 * 4
    assert ae.random_mask(1, (6, 6), size=0).sum() == 0
    with pytest.raises(ValueError, match="does not fit"):
        ae.random_mask(1, (6, 6), size=3, position=(4, 0))
    with pytest.raises(ValueError, match="size must be"):
        ae.random_mask(1, (6, 6), size=7)


def test_apply_mask_fills_only_the_hole(images):
    mask = ae.random_mask(len(images), images.shape[1:3], size=3, seed=0)
    filled = ae.apply_mask(images, mask, fill=0.5)
    assert np.all(filled[mask] == 0.5)
    np.testing.assert_array_equal(filled[~mask], images[~mask])
    mean_fill = ae.apply_mask(images, mask, fill=images.mean(axis=0, keepdims=True))
    np.testing.assert_allclose(mean_fill[mask],
                               np.broadcast_to(images.mean(axis=0), images.shape)[mask])
    with pytest.raises(ValueError, match="mask has shape"):
        ae.apply_mask(images, mask[:5])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        ae.apply_mask(images - 0.5, mask)


def test_restoration_corruption_mixes_noise_levels_and_holes():
    x = np.full((600, 28, 28, 1), 0.5, dtype=np.float32)
    out = ae.restoration_corruption(x, seed=1)
    changed = np.abs(out - x)
    holed = np.all((out == 0) | (out == 0.5), axis=(1, 2, 3))  # no noise anywhere
    assert holed.sum() == 600 // (len(ae.RESTORATION_NOISE_LEVELS) + 1)
    assert np.all((out[holed] == 0).sum(axis=(1, 2, 3)) == ae.HOLE_SIZE**2)
    # One equal share per noise level: sorted by their spread, the noisy images fall into five
    # blocks of 100 that do not overlap (clipping at 0 and 1 shrinks the larger spreads a little).
    noise_std = np.sort((out - x).reshape(600, -1).std(axis=1)[~holed]).reshape(5, 100)
    assert np.all(noise_std[1:, 0] > noise_std[:-1, -1])
    assert abs(np.median(noise_std[0]) - 0.1) < 0.01 and changed.max() <= 0.5
    assert 0.0 <= out.min() and out.max() <= 1.0
    np.testing.assert_array_equal(out, ae.restoration_corruption(x, seed=1))


# -------------------------------------------------------------------------------------- PSNR


def test_psnr_by_hand_and_equal_to_scikit_image():
    # Notebook 10 uses metrics.psnr: MSE of these two is 0.01, so PSNR = 10 log10(1 / 0.01) = 20.
    a = np.zeros((2, 2))
    b = np.full((2, 2), 0.1)
    assert metrics.psnr(a, b) == pytest.approx(20.0)
    rng = np.random.default_rng(0)
    x = rng.random((4, 28, 28, 1))
    y = transforms.add_noise(x, 0.1, seed=1)
    assert metrics.psnr(y, x) == pytest.approx(peak_signal_noise_ratio(x, y, data_range=1.0))
    with pytest.raises(ValueError, match="equal shapes"):
        metrics.psnr(x, x[:2])


# ---------------------------------------------------------------------------- latent plane


def test_latent_grid_orders_points_as_on_a_plot():
    inputs = keras.Input((2,))
    # A "decoder" that writes its code into the image, to see which code went where.
    outputs = keras.layers.Reshape((1, 2, 1))(inputs)
    decoder = keras.Model(inputs, outputs)
    points, images = ae.latent_grid(decoder, (-1, 1), (0, 4), n=3)
    assert points.shape == (3, 3, 2) and images.shape == (3, 3, 1, 2, 1)
    np.testing.assert_allclose(points[0, 0], [-1, 4])  # top left: smallest x, largest y
    np.testing.assert_allclose(points[2, 2], [1, 0])
    np.testing.assert_allclose(images[..., 0, :, 0], points)
    *_, dense = ae.build_autoencoder("dense", 3, hidden=())
    with pytest.raises(ValueError, match="2D codes"):
        ae.latent_grid(ae.split_autoencoder(dense)[1])


def test_montage_lays_out_rows():
    x = np.arange(6, dtype=np.float32).reshape(6, 1, 1, 1) / 10
    tiled = ae.montage(x, ncols=4)
    np.testing.assert_allclose(tiled, [[0, 0.1, 0.2, 0.3], [0.4, 0.5, 1, 1]])
    assert ae.montage(np.zeros((2, 3, 4, 4, 1)), gap=1).shape == (2 * 5 + 1, 3 * 5 + 1)
    with pytest.raises(ValueError, match="grey"):
        ae.montage(np.zeros((2, 4, 4, 3)))


def test_show_rows_labels_rows_and_checks_lengths():
    x = np.linspace(0, 1, 3 * 16).reshape(3, 4, 4, 1)
    fig = ae.show_rows({"input": x, "output": 1 - x}, titles=["a", "b", "c"])
    axes = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["input", "output"]
    assert [ax.get_title() for ax in axes[0]] == ["a", "b", "c"]
    np.testing.assert_allclose(axes[1, 2].images[0].get_array(), 1 - x[2, :, :, 0])
    with pytest.raises(ValueError, match="same number of images"):
        ae.show_rows({"input": x, "output": x[:2]})
    plt.close("all")


# -------------------------------------------------------------------------------- features


def test_probe_accuracy_separable_and_random():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 40)
    features = rng.normal(size=(120, 5)) + 4 * np.eye(3, 5)[y]
    for method in ("linear", "knn"):
        assert ae.probe_accuracy(features[::2], y[::2], features[1::2], y[1::2], method) > 0.95
        noise = rng.normal(size=(120, 5))
        assert ae.probe_accuracy(noise[::2], y[::2], noise[1::2], y[1::2], method) < 0.6
    with pytest.raises(ValueError, match="one label per example"):
        ae.probe_accuracy(features, y[:10], features, y)
    with pytest.raises(ValueError, match="method must be"):
        ae.probe_accuracy(features, y, features, y, "svm")


# ----------------------------------------------------------------------------- compression


def test_quantize_roundtrip_error_is_half_a_level():
    rng = np.random.default_rng(0)
    z = rng.uniform(-2, 3, size=(500, 4))
    low, high = z.min(axis=0), z.max(axis=0)
    for bits in (1, 3, 8):
        symbols = ae.quantize(z, bits, low, high)
        assert symbols.min() >= 0 and symbols.max() == 2**bits - 1
        back = ae.dequantize(symbols, bits, low, high)
        assert np.all(np.abs(back - z) <= (high - low) / 2 ** (bits + 1) + 1e-6)
    with pytest.raises(ValueError, match="bits must be"):
        ae.quantize(z, 0, low, high)


def test_code_entropy_bits_uniform_and_constant():
    rng = np.random.default_rng(0)
    uniform = rng.integers(0, 16, size=(20_000, 3))
    # Uniform symbols cannot be compressed: 4 bits each, 12 per code.
    assert ae.code_entropy_bits(uniform, uniform[:1000], 4) == pytest.approx(12, abs=0.05)
    constant = np.zeros((20_000, 3), dtype=int)
    assert ae.code_entropy_bits(constant, constant[:10], 4) < 0.01


def test_file_bits_png_is_lossless_and_tiling_saves_headers():
    rng = np.random.default_rng(0)
    x = np.round(rng.random((16, 28, 28, 1)) * 255) / 255
    bits, decoded = ae.file_bits(x, "PNG")
    np.testing.assert_allclose(decoded, x, atol=1e-6)
    assert bits > 28 * 28 * 7  # random pixels cannot be compressed much
    smooth = np.tile(np.linspace(0, 1, 28), (16, 28, 1))[..., None]
    single, _ = ae.file_bits(smooth, "JPEG", quality=50)
    tiled, decoded = ae.file_bits(smooth, "JPEG", quality=50, tiled=True)
    assert tiled < 0.5 * single and decoded.shape == smooth.shape
    assert metrics.psnr(decoded, smooth) > 30
    with pytest.raises(ValueError, match="fmt must be"):
        ae.file_bits(x, "GIF")


# ------------------------------------------------------------------------------------- VAE


def test_vae_layers_kl_by_hand_and_sampling():
    encoder, decoder, vae = ae.build_vae(bottleneck=3, input_shape=(8, 8, 1), hidden=(16,))
    x = np.random.default_rng(0).random((10, 8, 8, 1)).astype(np.float32)
    mean, log_var = (np.asarray(t) for t in encoder(x))
    kl = -0.5 * np.sum(1 + log_var - mean**2 - np.exp(log_var), axis=1)
    vae(x, training=True)
    np.testing.assert_allclose(float(vae.losses[0]), kl.mean() / 64, rtol=1e-4)
    # Outside training the code is the mean: deterministic.
    np.testing.assert_allclose(np.asarray(vae(x)), np.asarray(decoder(mean)), atol=1e-6)
    sampling = ae.Sampling(seed=1)
    m, lv = np.zeros((20_000, 2), np.float32), np.full((20_000, 2), np.log(4.0), np.float32)
    z = np.asarray(sampling([m, lv], training=True))
    assert z.std() == pytest.approx(2.0, rel=0.05)  # exp(log 4 / 2) = 2


def test_vae_saves_and_loads(tmp_path):
    *_, vae = ae.build_vae(bottleneck=2, input_shape=(4, 4, 1), hidden=(8,))
    x = np.random.default_rng(0).random((6, 4, 4, 1)).astype(np.float32)
    vae.save(tmp_path / "vae.keras")
    loaded = keras.saving.load_model(tmp_path / "vae.keras")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(vae(x)), atol=1e-6)
    assert isinstance(loaded.get_layer("sampling"), ae.Sampling)


# ---------------------------------------------------------------------------- cached models


def test_trained_autoencoder_trains_once_then_loads(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    rng = np.random.default_rng(0)
    tiny = rng.random((40, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, 40)
    monkeypatch.setattr(ae.data, "load_dataset", lambda name, verbose=True: (tiny, tiny))
    recipe = {"architecture": {"kind": "dense", "hidden": [8]}, "bottleneck": 2,
              "training": {"steps": 3, "batch_size": 20, "learning_rate": 1e-3, "seed": 0},
              "corrupt": False}
    monkeypatch.setitem(ae.AUTOENCODER_RECIPES, "dense", recipe)
    encoder, decoder, autoencoder = ae.trained_autoencoder("dense", 3, "mnist", verbose=False)
    assert encoder.output_shape == (None, 3)
    folders = list(zoo.models_dir().iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("autoencoder_dense_k3_mnist")
    again = ae.trained_autoencoder("dense", 3, "mnist", verbose=False)[2]
    np.testing.assert_allclose(np.asarray(again(tiny[0][:2])), np.asarray(autoencoder(tiny[0][:2])),
                               atol=1e-6)
    with pytest.raises(ValueError, match="unknown variant"):
        ae.trained_autoencoder("sparse")
    assert math.isfinite(metrics.psnr(np.asarray(again(tiny[0][:2])), tiny[0][:2]))


def test_prefetch_models_covers_every_model_of_the_notebook(monkeypatch):
    calls = []
    monkeypatch.setattr(ae, "trained_autoencoder",
                        lambda variant, k, dataset, verbose: calls.append((variant, k, dataset)))
    monkeypatch.setattr(ae, "trained_vae", lambda dataset, verbose: calls.append(("vae", dataset)))
    ready = ae.prefetch_models(verbose=False)
    assert ready == [label for label, _ in ae.notebook_models()]
    assert len(ready) == len(calls) == len(set(calls)) == 13
    assert {k for variant, k, dataset in calls[:6]} == set(ae.SWEEP_BOTTLENECKS)
    assert {(v, d) for v, _, d in calls[6:12]} == {
        ("linear", "fashion_mnist"), ("wide", "fashion_mnist"), ("conv", "fashion_mnist"),
        ("restoring", "fashion_mnist"), ("dense", "mnist"), ("conv", "mnist")}
    assert calls[-1] == ("vae", "fashion_mnist")
