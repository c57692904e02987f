# graphcurv: the two commands of the README are `make demo` and `make test`.
# Both install what is missing first (cheap when nothing changed).
VENV ?= .venv
PY := $(VENV)/bin/python
GRAPHCURV := $(VENV)/bin/graphcurv
STAMP := $(VENV)/.graphcurv-setup

.PHONY: setup demo test lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

demo: $(STAMP)
	bash scripts/demo.sh

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check graphcurv cli tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
