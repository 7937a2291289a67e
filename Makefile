# kubectl-imgaccess: make test | make demo | make bench | make lint
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test lint typecheck unit unit-fast test-matrix demo bench docs dist clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check kubectl_imgaccess tests tools

typecheck: $(STAMP)
	$(BIN)/mypy --strict kubectl_imgaccess tools tests

# The suite runs in random order (pytest-randomly; the seed is printed at the top) on every core (pytest-xdist).
# Reproduce an order with PYTEST_ARGS=--randomly-seed=N;
# PYTEST_ARGS='-p no:randomly' keeps file order, '-n 0' one process.
PYTEST_ARGS ?=
unit: $(STAMP)
	$(BIN)/pytest -q -n auto $(PYTEST_ARGS)

# The in-memory tier only (seconds): pure tests, no process, sandbox API server or registry.
unit-fast: $(STAMP)
	$(BIN)/pytest -q -m unit $(PYTEST_ARGS)

test: lint typecheck unit

# The suite on every CPython 3.9-3.13 found (PATH or pyenv); MATRIX=oldest,newest keeps to the two ends and
# MATRIX_PYTEST passes pytest arguments (CI: -m "not slow", since the main run covers those).
MATRIX ?=
MATRIX_PYTEST ?=
test-matrix: $(STAMP)
	$(BIN)/python -m tools.matrix --only '$(MATRIX)' -- $(MATRIX_PYTEST)

demo: $(STAMP)
	$(BIN)/python -m tools.demo

# SCALES: the big-cluster scales (bench/results.md); BENCH_ARGS e.g. --only-scales --repeat 1.
SCALES ?= 1,2,4,8
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m tools.bench --scales '$(SCALES)' $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-matrix build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache

docs: $(STAMP)
	$(BIN)/python -m tools.docs

dist: $(STAMP)
	$(BIN)/python -m tools.dist
