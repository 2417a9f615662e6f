# `make demo` and `make test` work on a fresh machine with Python >= 3.10 and git.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
RUN_STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test test-faults lint bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the demo needs gitflowml and its plots extra; the tests need the dev tools and the dask extra too
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[plots]'
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,dask,plots]'
	touch $(STAMP) $(RUN_STAMP)

demo: $(RUN_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

lint: $(STAMP)
	$(BIN)/ruff check gitflowml tests benchmarks
	$(BIN)/ruff format --check gitflowml tests benchmarks
	$(BIN)/mypy

# the browser tests need Debian's chromium and chromedriver (installed with apt when missing)
chromium:
	bash .ci/chromium.sh

test: lint chromium
	$(BIN)/python -m pytest -n 2 -m "not faults" --cov --cov-report=term $(PYTEST_ARGS)

# the crash-recovery suite: SIGKILL at random moments of each command (tests/test_crash_recovery.py)
FAULT_TRIALS ?= 14
test-faults: $(STAMP)
	FAULT_TRIALS=$(FAULT_TRIALS) $(BIN)/python -m pytest -n 2 -m faults $(PYTEST_ARGS)

# benchmarks time a regular (not editable) install with its bytecode compiled, as users get it
BENCH_VENV ?= .venv-bench
bench:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet --force-reinstall --no-deps . \
		&& $(BENCH_VENV)/bin/python -m pip install --quiet .
	$(BENCH_VENV)/bin/python -m compileall -q $$($(BENCH_VENV)/bin/python -c \
		'import gitflowml, os; print(os.path.dirname(gitflowml.__file__))')
	$(BENCH_VENV)/bin/python benchmarks/run.py --gitflowml $(BENCH_VENV)/bin/gitflowml $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) .mypy_cache .ruff_cache .pytest_cache .coverage .coverage.* *.egg-info
