# Two entry points for a fresh machine: `make lab` (set up, then open JupyterLab) and `make test`.
# Both create the same project-local virtual environment in .venv from requirements.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3 || echo python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
# nbval runs every notebook as a test; --dist loadscope keeps each notebook on one worker.
PYTEST_ARGS ?= -n 2 --dist loadscope --nbval-lax --nbval-current-env --nbval-cell-timeout=600 tests notebooks

.PHONY: setup check-python lab test lint prefetch clean-cache

setup: $(VENV)/.installed

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	  echo "Python 3.11 is needed (the requirements are pinned and tested for it), but"; \
	  echo "'$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo 'not installed')."; \
	  echo "Install Python 3.11 and run again, or name it: make PYTHON=/path/to/python3.11 ..."; \
	  exit 1; }

$(VENV)/.installed: requirements.txt pyproject.toml
	@$(MAKE) --no-print-directory check-python PYTHON=$(PYTHON)
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
	$(BIN)/python -m course_utils prefetch

clean-cache:
	rm -rf data/cache
