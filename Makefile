# Two entry points for a fresh machine: `make lab` (set up, then open JupyterLab) and `make test`.
# Both create the same project-local virtual environment in .venv from requirements.txt.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# nbval runs every notebook as a test; --dist loadscope keeps each notebook on one worker.
PYTEST_ARGS ?= -n 2 --dist loadscope --nbval-lax --nbval-current-env --nbval-cell-timeout=600 tests notebooks

.PHONY: setup lab test lint prefetch clean-cache

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $@

lab: setup
	$(BIN)/jupyter lab notebooks/

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

prefetch: setup
	$(BIN)/python -m course_utils.data prefetch

clean-cache:
	rm -rf data/cache
