# graphcurv: the two commands of the README are `make demo` and `make test`.
# Both install what is missing first (cheap when nothing changed).
VENV ?= .venv
PY := $(VENV)/bin/python
GRAPHCURV := $(VENV)/bin/graphcurv
STAMP := $(VENV)/.graphcurv-setup

# The lowest versions pyproject.toml allows of the core numeric dependencies, tested by
# `make test-min` in a separate venv (same torch pin as scripts/setup.sh).
MIN_VENV ?= build/venv-min
MIN_PY := $(MIN_VENV)/bin/python
MIN_STAMP := $(MIN_VENV)/.graphcurv-setup
TORCH_VERSION ?= 2.13.0
MIN_VERSIONS := torch-geometric==2.6.0 pot==0.9.7 numpy==1.24.0 scipy==1.10.1
PYTEST_ARGS ?=

.PHONY: setup demo test test-min lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

demo: $(STAMP)
	bash scripts/demo.sh

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

$(MIN_STAMP): pyproject.toml Makefile
	test -x $(MIN_PY) || python3 -m venv $(MIN_VENV)
	$(MIN_PY) -m pip install -q torch==$(TORCH_VERSION)
	$(MIN_PY) -m pip install -q -e ".[dev]" $(MIN_VERSIONS)
	$(MIN_PY) -m pip check
	touch $(MIN_STAMP)

# The suite against the lowest allowed versions (e.g. PYTEST_ARGS="tests/transport").
test-min: $(MIN_STAMP)
	$(MIN_PY) -c "import numpy, ot, scipy, torch_geometric as g; print('min:', g.__version__, ot.__version__, numpy.__version__, scipy.__version__)"
	$(MIN_PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check graphcurv cli tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info
