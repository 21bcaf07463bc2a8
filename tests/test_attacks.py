"""Tests of course_utils.attacks: gradients, attacks, budgets, errors and the cached models."""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import attacks, inspection


def _tiny_cnn(seed: int = 0, n_classes: int = 4, side: int = 6, weight_scale: float = 1.0):
    """A small conv net with a softmax output, like the course CNNs but quick to differentiate."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((side, side, 1))
    h = keras.layers.Conv2D(3, 3, activation="relu")(inputs)
    h = keras.layers.Flatten()(h)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="output")(h)
    model = keras.Model(inputs, outputs)
    if weight_scale != 1.0:
        model.set_weights([w * weight_scale for w in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def model():
    return _tiny_cnn()


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (12, 6, 6, 1)).astype(np.float32)
    x[0] = 0.0  # images at the edges of the pixel range must stay in it
    x[1] = 1.0
    return x, rng.integers(0, 4, len(x))


# ---------------------------------------------------------------------------------- the gradient


def test_input_gradient_matches_central_differences(model):
    rng = np.random.default_rng(2)
    x = rng.uniform(0.2, 0.8, (3, 6, 6, 1)).astype(np.float32)  # x ± h v stays in [0, 1]
    y = np.array([0, 1, 2])
    grad = attacks.input_gradient(model, x, y).astype(np.float64)
    h = 1e-2
    for _ in range(3):
        v = rng.standard_normal(x.shape)
        v /= np.linalg.norm(v.reshape(3, -1), axis=1)[:, None, None, None]
        plus = attacks.cross_entropy(model, (x + h * v).astype(np.float32), y).astype(np.float64)
        minus = attacks.cross_entropy(model, (x - h * v).astype(np.float32), y).astype(np.float64)
        numeric = (plus - minus) / (2 * h)
        analytic = np.sum((grad * v).reshape(3, -1), axis=1)
        np.testing.assert_allclose(analytic, numeric, rtol=0.02, atol=2e-4)


def test_input_gradient_of_a_linear_softmax_model_is_w_times_p_minus_onehot():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="softmax")])
    w, b = (np.asarray(v, dtype=np.float64) for v in model.get_weights())
    x = np.random.default_rng(4).uniform(0, 1, (4, 5)).astype(np.float32)
    y = np.array([0, 1, 2, 1])
    z = x.astype(np.float64) @ w + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    expected = (p - np.eye(3)[y]) @ w.T
    np.testing.assert_allclose(attacks.input_gradient(model, x, y), expected, atol=1e-5)
    np.testing.assert_allclose(attacks.cross_entropy(model, x, y), -np.log(p[np.arange(4), y]),
                               rtol=1e-5)


def test_gradient_comes_from_the_logits_where_the_softmax_saturates():
    model = _tiny_cnn()
    x = np.random.default_rng(5).uniform(0, 1, (8, 6, 6, 1)).astype(np.float32)
    # Scale the output layer so that the winning logit leads by about 40: float32 rounds the
    # softmax to exactly 1 there (from a lead of about 17 on), as for confident real networks.
    z = np.sort(np.asarray(inspection.logits_model(model)(x)), axis=1)
    kernel, bias = model.get_layer("output").get_weights()
    scale = 40 / np.median(z[:, -1] - z[:, -2])
    model.get_layer("output").set_weights([kernel * scale, bias * scale])
    probs = np.asarray(model(x))
    y = probs.argmax(axis=1)
    saturated = probs[np.arange(8), y] == 1.0
    assert saturated.sum() >= 3
    # Keras' loss on the probabilities (clipped to [1e-7, 1 - 1e-7]) has no gradient there ...
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = keras.losses.sparse_categorical_crossentropy(y, tf.identity(model(xt)))
    from_probs = tape.gradient(loss, xt).numpy().reshape(8, -1)
    assert np.all(from_probs[saturated] == 0)
    # ... the loss from the logits does, so FGSM moves every saturated image.
    grad = attacks.input_gradient(model, x, y).reshape(8, -1)
    assert np.all(np.abs(grad[saturated]).max(axis=1) > 0)
    moved = attacks.fgsm(model, x, y, 0.1) != x
    assert np.all(moved.reshape(8, -1)[saturated].any(axis=1))


def test_one_int_label_is_used_for_every_image(model, batch):
    x, _ = batch
    np.testing.assert_array_equal(attacks.input_gradient(model, x, 2),
                                  attacks.input_gradient(model, x, np.full(len(x), 2)))


# ------------------------------------------------------------------------------ budgets and range

ATTACKS = {
    "fgsm": attacks.fgsm,
    "pgd": functools.partial(attacks.pgd, steps=5),
    "pgd, no random start": functools.partial(attacks.pgd, steps=5, random_start=False),
    "pgd targeted": functools.partial(attacks.pgd, steps=5, targeted=True),
    "random signs": lambda m, x, y, eps, norm: attacks.random_perturbation(x, eps, norm, "signs"),
    "random uniform": lambda m, x, y, eps, norm: attacks.random_perturbation(x, eps, norm, "uniform"),
    "random gaussian": lambda m, x, y, eps, norm: attacks.random_perturbation(x, eps, norm,
                                                                              "gaussian"),
}


@pytest.mark.parametrize("name", ATTACKS)
@pytest.mark.parametrize(("norm", "eps"), [("inf", 0.1), ("inf", 0.3), ("2", 0.5), ("2", 2.0)])
def test_attacks_stay_in_the_ball_and_in_the_pixel_range(model, batch, name, norm, eps):
    x, y = batch
    x_adv = ATTACKS[name](model, x, y, eps, norm=norm)
    assert x_adv.shape == x.shape and x_adv.dtype == np.float32
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    norms = attacks.perturbation_norms(x, x_adv)[norm]
    assert np.all(norms <= eps)  # exactly, not up to rounding
    assert norms[2:].max() > 0.5 * eps  # and the budget is used


@pytest.mark.parametrize("kind", attacks.RANDOM_KINDS)
@pytest.mark.parametrize("norm", attacks.NORMS)
def test_random_perturbation_has_exactly_the_norm_eps_before_clipping(kind, norm):
    mid_grey = np.full((5, 8, 8, 3), 0.5, dtype=np.float32)  # no pixel is clipped
    eps = 0.04 if norm == "inf" else 0.4
    noisy = attacks.random_perturbation(mid_grey, eps, norm=norm, kind=kind, seed=3)
    np.testing.assert_allclose(attacks.perturbation_norms(mid_grey, noisy)[norm], eps, rtol=1e-5)
    delta = noisy - mid_grey
    if kind == "signs":
        assert len(np.unique(np.round(np.abs(delta), 6))) == 1  # every pixel moves equally
    assert abs(np.mean(delta > 0) - 0.5) < 0.1  # no preferred direction
    np.testing.assert_array_equal(noisy, attacks.random_perturbation(mid_grey, eps, norm, kind,
                                                                     seed=3))
    assert not np.array_equal(noisy, attacks.random_perturbation(mid_grey, eps, norm, kind,
                                                                 seed=4))


def test_fgsm_moves_every_pixel_by_eps_along_the_gradient_sign(model):
    x = np.full((4, 6, 6, 1), 0.5, dtype=np.float32)
    y = np.array([0, 1, 2, 3])
    grad = attacks.input_gradient(model, x, y)
    x_adv = attacks.fgsm(model, x, y, 0.1)
    np.testing.assert_allclose(x_adv - x, 0.1 * np.sign(grad), atol=1e-6)
    toward = attacks.fgsm(model, x, y, 0.1, targeted=True)
    np.testing.assert_allclose(toward - x, -0.1 * np.sign(grad), atol=1e-6)


def test_zero_eps_returns_the_images_unchanged(model, batch):
    x, y = batch
    for attack in (attacks.fgsm, attacks.pgd):
        np.testing.assert_array_equal(attack(model, x, y, 0.0), x)
    np.testing.assert_array_equal(attacks.random_perturbation(x, 0.0), x)


# --------------------------------------------------------------------------------- they do work


@pytest.mark.parametrize("norm", attacks.NORMS)
def test_untargeted_attacks_raise_the_loss_and_pgd_beats_fgsm_and_noise(model, batch, norm):
    x, y = batch
    eps = 0.1 if norm == "inf" else 0.6
    clean = attacks.cross_entropy(model, x, y)
    after_fgsm = attacks.cross_entropy(model, attacks.fgsm(model, x, y, eps, norm=norm), y)
    after_pgd = attacks.cross_entropy(model, attacks.pgd(model, x, y, eps, norm=norm), y)
    after_noise = attacks.cross_entropy(model, attacks.random_perturbation(x, eps, norm), y)
    assert np.all(after_fgsm[2:] > clean[2:])
    assert np.all(after_pgd[2:] > clean[2:])
    assert after_pgd.mean() > after_fgsm.mean()
    assert after_pgd.mean() - clean.mean() > 5 * abs(after_noise.mean() - clean.mean())


@pytest.mark.parametrize("norm", attacks.NORMS)
def test_targeted_attacks_raise_the_probability_of_the_target(model, batch, norm):
    x, _ = batch
    target = 3
    eps = 0.1 if norm == "inf" else 0.6
    before = np.asarray(model(x))[:, target]
    for attack in (attacks.fgsm, attacks.pgd):
        after = np.asarray(model(attack(model, x, target, eps, targeted=True, norm=norm)))[:, target]
        assert np.all(after[2:] > before[2:])


def test_results_do_not_depend_on_the_batch_size(model, batch):
    x, y = batch
    np.testing.assert_array_equal(attacks.fgsm(model, x, y, 0.1, batch_size=5),
                                  attacks.fgsm(model, x, y, 0.1))
    np.testing.assert_allclose(attacks.pgd(model, x, y, 0.1, random_start=False, batch_size=5),
                               attacks.pgd(model, x, y, 0.1, random_start=False), atol=1e-6)
    np.testing.assert_allclose(attacks.input_gradient(model, x, y, batch_size=1),
                               attacks.input_gradient(model, x, y), atol=1e-6)


def test_accuracy_under_attack(model, batch):
    x, _ = batch
    y = np.asarray(model(x)).argmax(axis=1)  # clean accuracy 1
    pgd = functools.partial(attacks.pgd, steps=10)
    accuracy = attacks.accuracy_under_attack(model, x, y, pgd, [0.0, 0.05, 0.5])
    assert accuracy.shape == (3,) and accuracy[0] == 1.0
    assert accuracy[2] < accuracy[0]
    noise = attacks.accuracy_under_attack(
        model, x, y, lambda m, x, y, eps: attacks.random_perturbation(x, eps), [0.05])
    assert noise[0] >= accuracy[1]
    with pytest.raises(ValueError, match="shape"):
        attacks.accuracy_under_attack(model, x, y, lambda m, x, y, eps: x[:3], [0.1])


def test_perturbation_norms():
    x = np.zeros((1, 2, 2, 1))
    x_adv = np.array([[[[0.3], [0.0]], [[-0.4], [0.0]]]])
    norms = attacks.perturbation_norms(x, x_adv)
    assert norms["inf"][0] == pytest.approx(0.4)
    assert norms["2"][0] == pytest.approx(0.5)
    assert norms["mean_abs"][0] == pytest.approx(0.175)
    assert norms["changed"][0] == pytest.approx(0.5)


# ------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("eps", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_bad_eps_is_rejected(model, batch, eps):
    x, y = batch
    with pytest.raises(ValueError, match="eps"):
        attacks.fgsm(model, x, y, eps)
    with pytest.raises(ValueError, match="eps"):
        attacks.pgd(model, x, y, eps)
    with pytest.raises(ValueError, match="eps"):
        attacks.random_perturbation(x, eps)


def test_mismatched_batches_are_rejected(model, batch):
    x, y = batch
    with pytest.raises(ValueError, match="12 images but y holds 11 labels"):
        attacks.pgd(model, x, y[:-1], 0.1)
    with pytest.raises(ValueError, match="12 images but y holds 11 labels"):
        attacks.input_gradient(model, x, y[:-1])


@pytest.mark.parametrize("norm", ["1", "l1", 1, "max", None])
def test_unknown_norm_is_rejected(model, batch, norm):
    x, y = batch
    with pytest.raises(ValueError, match="unknown norm"):
        attacks.pgd(model, x, y, 0.1, norm=norm)
    with pytest.raises(ValueError, match="unknown norm"):
        attacks.random_perturbation(x, 0.1, norm=norm)


@pytest.mark.parametrize("norm", ["inf", np.inf, "Linf", "2", 2, "L2"])
def test_norm_spellings(model, batch, norm):
    x, y = batch
    assert attacks.pgd(model, x, y, 0.1, norm=norm, steps=1).shape == x.shape


@pytest.mark.parametrize(("low", "high"), [(-0.1, 1.0), (0.0, 255.0), (0.0, float("nan"))])
def test_images_outside_the_unit_range_are_rejected(model, batch, low, high):
    x, y = batch
    bad = x.copy()
    bad[0, 0, 0, 0], bad[0, 0, 1, 0] = low, high
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        attacks.fgsm(model, bad, y, 0.1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        attacks.random_perturbation(bad, 0.1)


def test_other_bad_input(model, batch):
    x, y = batch
    with pytest.raises(ValueError, match=r"takes images of shape \(N, 6, 6, 1\)"):
        attacks.fgsm(model, np.zeros((2, 5, 5, 1), np.float32), [0, 1], 0.1)
    with pytest.raises(ValueError, match="classes 0..3"):
        attacks.fgsm(model, x, np.full(len(x), 4), 0.1)
    with pytest.raises(ValueError, match="integer class labels"):
        attacks.fgsm(model, x, y.astype(float), 0.1)
    with pytest.raises(ValueError, match="steps"):
        attacks.pgd(model, x, y, 0.1, steps=0)
    with pytest.raises(ValueError, match="step_size"):
        attacks.pgd(model, x, y, 0.1, step_size=-1.0)
    with pytest.raises(ValueError, match="unknown kind"):
        attacks.random_perturbation(x, 0.1, kind="salt")
    with pytest.raises(ValueError, match="x\\[None\\]"):
        attacks.fgsm(model, np.zeros(5, np.float32), 0, 0.1)


# ------------------------------------------------------------------------------------ models


@pytest.fixture
def tiny_training(monkeypatch, tmp_path):
    """Recipes and data small enough to train in a second, and an empty model cache.

    The data are random images: these tests check the training and caching machinery, not what
    the networks learn (notebook 08 measures that on MNIST).
    """
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    rng = np.random.default_rng(0)
    x_train = rng.uniform(0, 1, (150, 28, 28, 1)).astype(np.float32)
    y_train = rng.integers(0, 10, len(x_train))
    monkeypatch.setattr(attacks, "_train_data", lambda dataset, verbose: (x_train, y_train))
    architecture = {"filters": [4], "kernel_size": 3, "dense": [16], "batch_norm": False,
                    "dropout": 0.0, "padding": "valid"}
    settings = {"epochs": 2, "batch_size": 64, "learning_rate": 3e-3, "warmup_fraction": 0.1,
                "seed": 0}
    monkeypatch.setitem(attacks.SECOND_CNN_RECIPES, "mnist",
                        {"architecture": architecture, "training": settings})
    monkeypatch.setitem(attacks.ADVERSARIAL_TRAINING_RECIPES, "mnist", {
        "architecture": architecture, "training": {**settings, "max_train": 64},
        "attack": {"eps": 0.2, "steps": 2, "norm": "inf", "ramp_epochs": 2}})
    return x_train, y_train


def test_second_cnn_is_trained_once_then_loaded(tiny_training, capsys):
    model = attacks.second_cnn("mnist")
    assert "saved to" in capsys.readouterr().out
    x = tiny_training[0][:5]
    again = attacks.second_cnn("mnist")
    assert "loaded from the cache" in capsys.readouterr().out
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), atol=1e-6)
    assert again.output_shape == (None, 10)
    with pytest.raises(ValueError, match="no second CNN recipe"):
        attacks.second_cnn("cifar10")


def test_adversarially_trained_cnn_trains_on_pgd_examples_and_is_cached(tiny_training, capsys,
                                                                         monkeypatch):
    calls = []
    real_pgd = attacks.pgd

    def spy(model, x, y, eps, **kwargs):
        calls.append((len(x), eps))
        return real_pgd(model, x, y, eps, **kwargs)

    monkeypatch.setattr(attacks, "pgd", spy)
    model = attacks.adversarially_trained_cnn("mnist")
    out = capsys.readouterr().out
    assert "epoch  2/2" in out and "accuracy on PGD examples" in out
    # Every batch of the 64 allowed images is attacked, with ε ramping up to 0.2.
    assert sum(n for n, _ in calls) == 2 * 64
    assert {round(eps, 3) for _, eps in calls} == {0.1, 0.2}
    info = attacks.adversarially_trained_cnn_info("mnist")
    assert info["n_train"] == 64 and info["epochs"] == 2
    x = tiny_training[0][:5]
    np.testing.assert_allclose(np.asarray(attacks.adversarially_trained_cnn("mnist")(x)),
                               np.asarray(model(x)), atol=1e-6)
    with pytest.raises(ValueError, match="no adversarial training recipe"):
        attacks.adversarially_trained_cnn("fashion_mnist")
