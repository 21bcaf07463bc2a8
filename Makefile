# Two entry points for a fresh machine: `make lab` (set up, then open JupyterLab) and `make test`.
# Both create the same project-local virtual environment in .venv from requirements.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3 || echo python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
# Unit tests and every notebook under nbval (--dist loadscope keeps each notebook on one worker);
# the notebooks nbval runs are recorded in build/executed, from which the site is built.
PYTEST_ARGS ?= -n 2 --dist loadscope --nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
	-m "not browser" -p course_utils.publish --nbval-record build/executed tests notebooks

# Under `make test` each of the two nbval workers gets its share of the cores (TensorFlow and BLAS
# threads); `make site`, `check` and `lab` run one notebook at a time and use them all.
test: export COURSE_THREADS ?= $(shell python3 -c "import os; print(max(1, len(os.sched_getaffinity(0)) // 2))" 2>/dev/null || echo 1)

.PHONY: setup check-python lab test lint browser-test prefetch check student site clean-cache

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

# ruff, unit tests, every notebook, the site built from those very runs, then the browser tests.
test: setup lint
	rm -rf build/executed
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/python -m course_utils site --reuse build/executed
	$(MAKE) --no-print-directory browser-test

lint: setup
	$(BIN)/ruff check .

# Widgets in a real browser (Debian's chromium); skipped with a message when there is none.
browser-test: setup
	$(BIN)/python -m pytest -m browser tests/test_browser.py

prefetch: setup
	$(BIN)/python -m course_utils prefetch

check: setup
	$(BIN)/python -m course_utils check

# The notebooks without their worked solutions, in build/student/, to hand out.
student: setup
	$(BIN)/python -m course_utils student

# Run every notebook and build a static site in build/site/ (open build/site/index.html).
site: setup
	$(BIN)/python -m course_utils site

clean-cache:
	rm -rf data/cache
