"""Tests of course_utils.training: compile, timed fit, schedules, recipes, callbacks, curves, labels."""

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils import models, training


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def tiny_classifier(n_inputs=4, n_classes=3):
    model = keras.Sequential([keras.Input((n_inputs,)),
                              keras.layers.Dense(n_classes, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def separable_data(n=40, n_inputs=4, n_classes=3, seed=0):
    """Points whose class is the index of their largest coordinate among the first n_classes."""
    x = np.random.default_rng(seed).normal(size=(n, n_inputs)).astype(np.float32)
    return x, np.argmax(x[:, :n_classes], axis=1)


# ----------------------------------------------------------------------------------- steps_to_reach


def test_steps_to_reach_returns_first_step_at_or_above_target():
    curve = (np.array([0, 5, 10, 15, 20]), np.array([0.1, 0.5, 0.9, 0.85, 0.95]))
    assert training.steps_to_reach(curve, 0.9) == 10  # equal counts as reached
    assert training.steps_to_reach(curve, 0.86) == 10
    assert training.steps_to_reach(curve, 0.92) == 20  # the dip after step 10 does not count
    assert training.steps_to_reach(curve, 0.05) == 0


def test_steps_to_reach_never_reached_is_none():
    curve = ([1, 2, 3], [0.2, 0.4, 0.6])
    assert training.steps_to_reach(curve, 0.61) is None


def test_steps_to_reach_rejects_malformed_curves():
    with pytest.raises(ValueError, match="increasing"):
        training.steps_to_reach(([0, 10, 5], [0.1, 0.2, 0.3]), 0.2)
    with pytest.raises(ValueError, match="shapes"):
        training.steps_to_reach(([0, 1, 2], [0.1, 0.2]), 0.2)


def test_history_curve_counts_epochs_from_one():
    epochs, values = training.history_curve({"accuracy": [0.5, 0.8, 0.99]})
    np.testing.assert_array_equal(epochs, [1, 2, 3])
    assert training.steps_to_reach((epochs, values), 0.99) == 3
    with pytest.raises(ValueError, match="val_accuracy"):
        training.history_curve({"accuracy": [0.5]}, "val_accuracy")


# -------------------------------------------------------------------------------------- callbacks


def test_validation_curve_records_every_n_steps_across_epochs():
    x, y = separable_data(n=40)
    model = tiny_classifier()
    recorder = training.ValidationCurve(x, y, every=3)
    # 40 images in batches of 8: 5 steps per epoch, 15 steps over 3 epochs.
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[recorder])
    steps, accuracy = recorder.curve
    np.testing.assert_array_equal(steps, [0, 3, 6, 9, 12, 15])
    assert accuracy.shape == steps.shape


def test_validation_curve_measures_the_accuracy_of_the_current_weights():
    x, y = separable_data(n=60)
    model = tiny_classifier()
    recorder = training.ValidationCurve(x, y, every=10, batch_size=7)
    model.fit(x, y, epochs=5, batch_size=10, verbose=0, callbacks=[recorder])
    expected = np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == y)
    assert recorder.curve[1][-1] == pytest.approx(expected)
    assert recorder.curve[1][-1] > recorder.curve[1][0] + 0.2  # it learnt, and the curve shows it


def test_validation_curve_restarts_with_each_fit():
    x, y = separable_data(n=16)
    model = tiny_classifier()
    recorder = training.ValidationCurve(x, y, every=2)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0, callbacks=[recorder])
    model.fit(x, y, epochs=1, batch_size=4, verbose=0, callbacks=[recorder])
    np.testing.assert_array_equal(recorder.curve[0], [0, 2, 4])


def test_validation_curve_rejects_bad_arguments():
    x, y = separable_data(n=10)
    with pytest.raises(ValueError, match="equally long"):
        training.ValidationCurve(x, y[:5])
    with pytest.raises(ValueError, match="every"):
        training.ValidationCurve(x, y, every=0)


def test_stop_at_accuracy_stops_at_the_first_epoch_reaching_the_target():
    x, y = separable_data(n=16)
    model = tiny_classifier()
    logs_seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: logs_seen.append(logs["accuracy"]))
    stopper = training.StopAtAccuracy(0.75)
    history = model.fit(x, y, epochs=200, batch_size=4, verbose=0, callbacks=[record, stopper])
    reached = [i for i, acc in enumerate(logs_seen, start=1) if acc >= 0.75]
    assert reached, "the tiny model should fit 16 separable points"
    assert stopper.reached_epoch == reached[0] == len(history.epoch)


def test_stop_at_accuracy_reports_none_when_never_reached():
    x, y = separable_data(n=16)
    stopper = training.StopAtAccuracy(1.0)
    model = tiny_classifier()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[stopper])
    assert stopper.reached_epoch is None and len(history.epoch) == 3


def test_stop_at_accuracy_rejects_a_target_outside_0_1():
    with pytest.raises(ValueError, match="target"):
        training.StopAtAccuracy(99)


# ----------------------------------------------------------------------------------------- labels


def test_random_labels_are_seeded_uniform_and_unrelated_to_the_truth():
    y = np.tile(np.arange(10), 500)  # 5,000 true labels, 500 per class
    a = training.random_labels(y, seed=1)
    np.testing.assert_array_equal(a, training.random_labels(y, seed=1))
    assert np.mean(a != training.random_labels(y, seed=2)) > 0.8
    assert a.shape == y.shape and a.dtype == np.int64
    counts = np.bincount(a, minlength=10)
    assert len(counts) == 10 and counts.min() > 400 and counts.max() < 600  # 500 +- 4.5 sd
    assert 0.87 < np.mean(a != y) < 0.93  # 90% differ, as for independent uniform labels


def test_random_labels_respects_n_classes_and_rejects_bad_input():
    assert training.random_labels(np.zeros(100, dtype=int), seed=0, n_classes=3).max() == 2
    with pytest.raises(ValueError, match="classes"):
        training.random_labels(np.zeros(10, dtype=int), seed=0)
    with pytest.raises(ValueError, match="empty"):
        training.random_labels(np.array([], dtype=int), seed=0)


# ------------------------------------------------------------------------------ compile, fit, recipes


def test_compile_classifier_choices():
    model = training.compile_classifier(models.build_mlp(3, (), 2), 0.5, optimizer="sgd")
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown optimizer"):
        training.compile_classifier(models.build_mlp(3, (), 2), optimizer="lbfgs")


def test_compile_classifier_passes_extra_compile_arguments():
    model = training.compile_classifier(models.build_mlp(2, (), 2), 0.01, steps_per_execution=5)
    assert model.steps_per_execution == 5


def test_warmup_cosine_schedule_shape():
    schedule = training.warmup_cosine_schedule(1e-2, total_steps=100, warmup_fraction=0.2)
    lr = [float(keras.ops.convert_to_numpy(schedule(step))) for step in (0, 20, 60, 100)]
    assert lr[0] == pytest.approx(1e-3)
    assert lr[1] == pytest.approx(1e-2)
    assert lr[2] == pytest.approx(0.5e-2, rel=1e-3)  # half-way through the cosine
    assert lr[3] == pytest.approx(0, abs=1e-8)
    with pytest.raises(ValueError, match="warmup_fraction"):
        training.warmup_cosine_schedule(1e-2, total_steps=100, warmup_fraction=1.0)


def test_timed_fit_prints_one_line_per_epoch_and_the_total(capsys):
    x, y = separable_data(64)
    model = tiny_classifier()
    history = training.timed_fit(model, x, y, epochs=3, batch_size=16)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[:2] for line in lines[:3]] == [["epoch", f"{e}/3"] for e in (1, 2, 3)]
    assert "accuracy" in lines[0] and "loss" in lines[0]
    assert lines[3].startswith(f"trained 3 epochs in {history.seconds:.1f} s")
    assert len(history.history["loss"]) == 3 and history.seconds > 0


def test_timed_fit_can_be_silent_or_print_every_nth_epoch(capsys):
    x, y = separable_data(32)
    training.timed_fit(tiny_classifier(), x, y, epochs=2, batch_size=16, verbose=False)
    assert capsys.readouterr().out == ""
    training.timed_fit(tiny_classifier(), x, y, epochs=5, batch_size=16, verbose=2)
    epochs = [line.split()[1] for line in capsys.readouterr().out.splitlines()
              if line.startswith("epoch")]
    assert epochs == ["2/5", "4/5", "5/5"]  # every 2nd, and always the last


def test_timed_fit_keeps_the_callers_callbacks():
    x, y = separable_data(32)
    stop = training.StopAtAccuracy(0.01)
    history = training.timed_fit(tiny_classifier(), x, y, epochs=5, batch_size=16, verbose=False,
                                 callbacks=[stop])
    assert stop.reached_epoch == 1 and len(history.epoch) == 1


def test_recipe_epochs_grow_for_small_training_sets():
    settings = {"epochs": 8, "batch_size": 128, "learning_rate": 1e-3, "min_steps": 600}
    assert training.recipe_epochs(settings, 60_000) == 8
    small = training.recipe_epochs(settings, 4_000)
    assert small > 8 and small * np.ceil(4_000 / 128) >= 600
    assert training.recipe_epochs({**settings, "min_steps": 0}, 4_000) == 8


def test_check_training_recipe_names_what_is_missing():
    with pytest.raises(ValueError, match="batch_size"):
        training.check_training_recipe({"epochs": 1, "learning_rate": 0.1})


def test_train_with_recipe_is_reproducible_and_follows_the_recipe(capsys):
    x, y = separable_data(64)
    settings = {"epochs": 2, "batch_size": 16, "learning_rate": 0.05, "seed": 3}

    def build():
        return models.build_mlp(4, 6, 3, activation="relu")

    first, history = training.train_with_recipe(build, settings, x, y, verbose=False)
    second, _ = training.train_with_recipe(build, settings, x, y, verbose=False)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the seed fixes the initial weights and the batches
    other, _ = training.train_with_recipe(build, {**settings, "seed": 4}, x, y, verbose=False)
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])
    assert len(history.epoch) == 2 and history.seconds > 0
    assert isinstance(first.optimizer, keras.optimizers.Adam)
    schedule = first.optimizer._learning_rate  # the recipe's warm-up and cosine over all 8 steps
    assert schedule.warmup_target == pytest.approx(0.05)
    assert schedule.warmup_steps + schedule.decay_steps == 2 * 64 // 16
    assert capsys.readouterr().out == ""
