"""Tests of course_utils.exercises.convolutions: notebook 01's self-checking exercises."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils import kernels
from course_utils.exercises import convolutions as ex


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------------- match the convolution


def _true_matching(quiz):
    return {name: next(n for n, out in enumerate(quiz.outputs, start=1)
                       if np.allclose(out, kernels.correlate1d(quiz.signal, w)))
            for name, w in quiz.kernels.items()}


def test_match_quiz_outputs_are_the_kernels_correlations_in_a_shuffled_order():
    quiz = ex.match_quiz()
    truth = _true_matching(quiz)
    assert sorted(truth.values()) == [1, 2, 3]
    assert list(truth.values()) != [1, 2, 3], "the outputs must not follow the kernels' order"
    assert len({len(w) for w in quiz.kernels.values()}) == 1, "equal k: lengths give nothing away"


def test_match_accepts_the_solution_and_names_what_is_wrong():
    quiz = ex.match_quiz()
    truth = _true_matching(quiz)
    assert ex.check_match(truth).correct
    swapped = truth | {"A": truth["C"], "C": truth["A"]}
    feedback = ex.check_match(swapped)
    assert feedback.status == "incorrect"
    assert feedback.message.startswith("A, C are not matched") and "B's" not in feedback.message


@pytest.mark.parametrize(("answer", "message"), [
    ({"A": 1, "B": 1, "C": 2}, "each output is used once"),
    ({"A": 1, "B": 2}, 'keys "A", "B" and "C"'),
    ([1, 2, 3], 'keys "A", "B" and "C"'),
])
def test_match_rejects_malformed_answers(answer, message):
    feedback = ex.check_match(answer)
    assert feedback.status == "incorrect" and message in feedback.message


def test_match_waits_for_an_answer_and_the_quiz_draws():
    assert ex.check_match(...).status == "not attempted"
    fig = ex.plot_match_quiz(ex.match_quiz())
    titles = [ax.get_title() for ax in fig.axes]
    assert {"output 1", "output 2", "output 3", "kernel A (k = 7)"} <= set(titles)


# ---------------------------------------------------------------------------------- output size


def test_output_size_accepts_the_formula_and_what_a_strided_correlation_gives():
    q = ex.OUTPUT_SIZE_QUESTION
    strided = kernels.correlate2d(kernels.zero_pad(np.zeros((q["d"], q["d"])), q["p"]),
                                  np.ones((q["k"], q["k"])))[::q["s"], ::q["s"]]
    assert ex.check_output_size(strided.shape[0]).correct
    assert ex.check_output_size(np.int64(strided.shape[0])).correct
    assert ex.check_output_size(float(strided.shape[0])).correct


@pytest.mark.parametrize(("answer", "message"), [
    (13.5, "rounded down"),
    (12, "forgot the padding"),
    (26, "forgot the stride"),
    (24, "valid output with stride 1"),
    (14, "padding='same'"),
    (7, "count the positions"),
    ("13", "must be an int"),
])
def test_output_size_names_the_mistake(answer, message):
    feedback = ex.check_output_size(answer)
    assert feedback.status == "incorrect" and message in feedback.message


def test_output_size_waits_for_an_answer():
    assert ex.check_output_size(...).status == "not attempted"


# -------------------------------------------------------------------------------- the 45° kernel


@pytest.mark.parametrize("kernel", [
    np.array([[2, 1, 0], [1, 0, -1], [0, -1, -2]]),
    kernels.directional_edge_kernel(45.0, 5),
])
def test_diagonal_kernel_accepts_45_degree_detectors(kernel):
    feedback = ex.check_diagonal_kernel(kernel)
    assert feedback.correct, feedback


@pytest.mark.parametrize(("kernel", "message"), [
    (kernels.sobel_kernels()[0], "cannot tell them apart"),  # Sobel W1 itself
    (np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]]), "detects the other diagonal"),
    (np.array([[1, 0, 0], [0, 0, 0], [0, 0, -1]]), "does not beat Sobel"),  # one pair, no smoothing
    (np.ones((3, 3)), "sum to 0"),
    (np.zeros((3, 3)), "not all zero"),
    (np.ones((2, 2)), "k odd"),
    ("edge", "array of numbers"),
])
def test_diagonal_kernel_rejects_plausible_wrong_kernels(kernel, message):
    feedback = ex.check_diagonal_kernel(kernel)
    assert feedback.status == "incorrect" and message in feedback.message


def test_edge_responses_are_per_unit_norm_and_orientation_selective():
    w45 = kernels.directional_edge_kernel(45.0)
    responses = ex.edge_responses(w45)
    assert responses == pytest.approx(ex.edge_responses(3 * w45))  # scaling does not help
    assert responses[45.0] > 10 * responses[135.0]
    sobel = ex.edge_responses(kernels.sobel_kernels()[0])
    assert sobel[45.0] == pytest.approx(sobel[135.0])
    assert ex.check_diagonal_kernel(...).status == "not attempted"


# -------------------------------------------------------------------------- learning the kernel


def test_learn_kernel_follows_the_gradient_of_the_mean_squared_error():
    x, y = ex.probe_images()
    # One step from w = 0 is -step * (2/N) x ⊛ (0 - y), computed directly.
    w, losses = ex.learn_kernel(x, y, step_size=0.2, steps=1)
    np.testing.assert_allclose(w, 0.2 * 2 * kernels.correlate2d(x, y) / y.size)
    assert losses == pytest.approx([np.mean(y**2)])
    # Converged, it is the least-squares kernel, which is W1 itself; the loss never rises.
    w, losses = ex.learn_kernel(x, y, step_size=0.4, steps=300)
    np.testing.assert_allclose(w, kernels.sobel_kernels()[0], atol=1e-6)
    assert np.all(np.diff(losses) <= 0)


def test_learning_speed_accepts_a_faster_schedule():
    feedback = ex.check_learning_speed((0.4, 150))
    assert feedback.correct, feedback


@pytest.mark.parametrize(("answer", "message"), [
    ((0.2, ex.LEARNING_STEPS), "took 300"),  # the notebook's own setting is not faster
    ((1.0, 100), "overshoots"),  # above 2 / the largest curvature
    ((0.05, 100), "still"),  # too timid
    ((0.2,), "pair"),
    ((-0.1, 10), "must be > 0"),
    ((0.3, 2.5), "pair"),
])
def test_learning_speed_rejects_slow_divergent_and_malformed_answers(answer, message):
    feedback = ex.check_learning_speed(answer)
    assert feedback.status == "incorrect" and message in feedback.message
    assert ex.check_learning_speed(...).status == "not attempted"
