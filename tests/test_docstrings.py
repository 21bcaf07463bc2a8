"""The Examples sections of the docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["course_utils.kernels", "course_utils.transforms", "course_utils.metrics", "course_utils.featviz",
           "course_utils.plotting", "course_utils.data", "course_utils.autoencoders"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no runnable examples"
    assert result.failed == 0
