"""Tests of notebook 09's widget (views.transfer) and exercise checks (exercises.transfer)."""

import inspect

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils import plotting, transfer
from course_utils.exercises import transfer as exercises
from course_utils.views import transfer as views


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def digits_like(n_per_class=12, n_classes=3, seed=0):
    """Small images, and two representations: an informative one and pure noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    images = rng.random((len(labels), 6, 6, 1), dtype=np.float32)
    good = 10.0 * np.eye(n_classes)[labels] + 0.1 * rng.standard_normal((len(labels), n_classes))
    noise = rng.standard_normal((len(labels), 4))
    return images, {"good": good, "noise": noise}, labels


def titles(sub):
    return [ax.get_title() for ax in sub.axes]


# -------------------------------------------------------------------------------------------- view


def test_view_parameters_are_the_widget_controls():
    assert list(inspect.signature(views.episode_view).parameters) == [
        "images", "representations", "labels", "class_names", "shots", "learner", "episode"]


def test_episode_view_shows_the_support_set_and_each_representations_predictions(monkeypatch):
    monkeypatch.setattr(views, "QUERIES_SHOWN", 5)
    images, reps, labels = digits_like()
    fig = views.episode_view(images, reps, labels, ["a", "b", "c"], shots=2, learner="1nn",
                             episode=4)
    top, good_row, noise_row = fig.subfigs
    assert len(top.axes) == 2 * 3 and titles(top)[:3] == ["a", "b", "c"]
    heading = top._suptitle.get_text()
    assert "Episode 4" in heading and "2 labelled images per class" in heading
    # The support images are those of the episode, class by class.
    support, query = transfer.sample_episode(labels, 2, seed=0, episode=4)
    shown_first = np.asarray(top.axes[0].images[0].get_array())
    np.testing.assert_array_equal(shown_first, images[support[0], ..., 0])
    # Accuracy in the row title = the same episode of few_shot_episodes.
    for row, name in ((good_row, "good"), (noise_row, "noise")):
        expected = transfer.few_shot_episodes(reps[name], labels, 2, n_episodes=5)[4]
        assert f"{name} + 1nn: {expected:.0%} of {len(query)} queries right" in row._suptitle.get_text()
        assert len(row.axes) == 5
    assert all(ax.title.get_color() == plotting.CORRECT_COLOR for ax in good_row.axes)
    colours = {ax.title.get_color() for ax in noise_row.axes}
    assert colours <= {plotting.CORRECT_COLOR, plotting.WRONG_COLOR}


def test_episode_view_with_many_shots_shows_a_few_rows_and_says_so():
    images, reps, labels = digits_like()
    fig = views.episode_view(images, reps, labels, ["a", "b", "c"], shots=7, learner="logreg",
                             episode=0)
    top = fig.subfigs[0]
    assert len(top.axes) == views.MAX_SUPPORT_ROWS * 3
    assert f"(showing {views.MAX_SUPPORT_ROWS})" in top._suptitle.get_text()
    assert "good + logreg: 100%" in fig.subfigs[1]._suptitle.get_text()


def test_episode_view_rejects_bad_input():
    images, reps, labels = digits_like()
    with pytest.raises(ValueError, match="labels must be the classes 0..k-1"):
        views.episode_view(images, reps, labels * 2, ["a", "b", "c", "d", "e"], 1, "1nn", 0)
    with pytest.raises(ValueError, match="representation 'good' has 35 rows for 36 images"):
        views.episode_view(images, {"good": reps["good"][:35]}, labels, ["a", "b", "c"], 1, "1nn", 0)
    with pytest.raises(ValueError, match="class 0, which has only 12"):
        views.episode_view(images, reps, labels, ["a", "b", "c"], 12, "1nn", 0)
    with pytest.raises(ValueError, match="2 class names for 3 classes"):
        views.episode_view(images, reps, labels, ["a", "b"], 1, "1nn", 0)


# --------------------------------------------------------------------------------- exercise 1: balls


def test_nearest_ball_check_accepts_the_solution_and_explains_mistakes():
    raw, scaled = exercises.nearest_ball(exercises.SIGHTING, False), exercises.nearest_ball(
        exercises.SIGHTING, True)
    assert raw != scaled  # the exercise is about the difference
    assert exercises.check_nearest_ball((raw, scaled)).correct
    assert exercises.check_nearest_ball([raw.lower(), f" {scaled} "]).correct
    assert exercises.check_nearest_ball(...).status == "not attempted"
    wrong_raw = exercises.check_nearest_ball((scaled, scaled))
    assert not wrong_raw.correct and "size decides almost alone" in wrong_raw.message
    wrong_scaled = exercises.check_nearest_ball((raw, raw))
    assert not wrong_scaled.correct and "divide each column" in wrong_scaled.message
    assert "give two letters" in exercises.check_nearest_ball("E").message
    assert "is not one" in exercises.check_nearest_ball(("E", "Z")).message


def test_nearest_ball_by_brute_force():
    sighting = transfer.BALL_FEATURES[3] + np.array([0.0, 0.3, 0.0])  # ball D, a bit bigger
    assert exercises.nearest_ball(sighting, False) == "D"
    assert exercises.nearest_ball(transfer.BALL_FEATURES[5], True) == "F"


# ------------------------------------------------------------------------------ exercise 2: catch up


@pytest.fixture
def catch_up_data():
    """Classes made of separate modes (styles of writing a digit): 8 modes per class in the
    'pixels', 4 in the 'features'. 1-NN is right when the support set holds the query's mode, so
    the pixels need more shots to cover theirs."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(5), 48)
    mode = np.tile(np.arange(8), 30)
    pixel_modes, feature_modes = 3.0 * rng.standard_normal((5, 8, 10)), 3.0 * rng.standard_normal((5, 4, 10))
    pixels = pixel_modes[labels, mode] + 0.3 * rng.standard_normal((240, 10))
    features = feature_modes[labels, mode // 2] + 0.3 * rng.standard_normal((240, 10))
    return pixels, features, labels


def first_catch_up(pixels, features, labels):
    target = transfer.few_shot_episodes(features, labels, exercises.CATCH_UP_SHOTS).mean()
    return next(k for k in range(1, 48) if transfer.few_shot_episodes(pixels, labels, k).mean() >= target)


def test_catch_up_check_accepts_the_first_crossing_and_rejects_others(catch_up_data):
    pixels, features, labels = catch_up_data
    truth = first_catch_up(pixels, features, labels)
    assert truth > exercises.CATCH_UP_SHOTS + 3  # the fixture is meaningful
    assert exercises.check_catch_up(truth, pixels, features, labels).correct
    too_few = exercises.check_catch_up(truth - 3, pixels, features, labels)
    assert not too_few.correct and "try more" in too_few.message
    too_many = exercises.check_catch_up(truth + 3, pixels, features, labels)
    assert not too_many.correct and "fewest" in too_many.message
    assert "not fewer" in exercises.check_catch_up(exercises.CATCH_UP_SHOTS, pixels, features,
                                                   labels).message
    assert "an int >= 1" in exercises.check_catch_up(2.5, pixels, features, labels).message
    assert exercises.check_catch_up(..., pixels, features, labels).status == "not attempted"


# ------------------------------------------------------------------------- exercise 3: hand-made


@pytest.fixture
def shifted_strokes():
    """Images of 5 classes: a short stroke at one of 5 angles, at a random place in the image.

    Pixels compare strokes position by position, so a shift makes them unlike; the magnitude of
    the Fourier transform ignores (circular) shifts, a hand-made feature that fixes that.
    """
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(5), 20)
    images = np.zeros((len(labels), 28, 28, 1), dtype=np.float32)
    t = np.linspace(-5, 5, 40)
    for i, c in enumerate(labels):
        angle = np.pi * c / 5
        centre = rng.integers(8, 20, size=2)
        rows = np.round(centre[0] + t * np.sin(angle)).astype(int)
        cols = np.round(centre[1] + t * np.cos(angle)).astype(int)
        images[i, rows, cols, 0] = 1.0
    return images, labels


def fourier_magnitude(images):
    return np.abs(np.fft.fft2(images[..., 0])).reshape(len(images), -1)


def test_hand_made_check_accepts_shift_invariant_features_and_rejects_pixels(shifted_strokes):
    images, labels = shifted_strokes
    good = exercises.check_hand_made_features(fourier_magnitude, images, labels)
    assert good.correct and "784 hand-made features" in good.message
    pixels = exercises.check_hand_made_features(lambda x: x.reshape(len(x), -1), images, labels)
    assert not pixels.correct and "you need at least" in pixels.message
    assert exercises.check_hand_made_features(..., images, labels).status == "not attempted"


def test_hand_made_check_explains_broken_functions(shifted_strokes):
    images, labels = shifted_strokes
    assert "must be a function" in exercises.check_hand_made_features(np.zeros(3), images, labels).message
    assert "raised ZeroDivisionError" in exercises.check_hand_made_features(
        lambda x: 1 / 0, images, labels).message
    assert "one feature vector per image" in exercises.check_hand_made_features(
        lambda x: x[:5].reshape(5, -1), images, labels).message
    assert "NaN or inf" in exercises.check_hand_made_features(
        lambda x: x.reshape(len(x), -1) * np.nan, images, labels).message
    untouched = images.copy()
    exercises.check_hand_made_features(lambda x: x.__imul__(0).reshape(len(x), -1), images, labels)
    np.testing.assert_array_equal(images, untouched)  # the student's function gets a copy
