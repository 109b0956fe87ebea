# Set-up and checks for mkdocs-erratum. Needs only python3, git and make.
#   make demo [PORT=8000] [SERVICE_PORT=8001]   installs the `demo` extra only
#   make test                                   installs the `test` extra (a superset)
# PYTHON and VENV choose the interpreter and the virtualenv (CI runs the tests on
# Python 3.10 too with `make test PYTHON=python3.10 VENV=.venv-3.10`).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SERVICE_PORT ?= $(shell expr $(PORT) + 1)
# One stamp per extra and version of pyproject.toml: the test extra holds the demo's.
SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
DEMO_STAMP := $(VENV)/.installed-demo-$(SUM)
TEST_STAMP := $(VENV)/.installed-test-$(SUM)

.PHONY: demo test lint format bench widget clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# --no-compile: Python compiles what it imports on first use; precompiling every
# installed module would add a third to the .venv.
$(DEMO_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q --no-compile -e '.[demo]'
	rm -f $(VENV)/.installed-demo-*
	touch $@

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@ $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(PY) -m mkdocs_erratum.demo --port $(PORT) --service-port $(SERVICE_PORT)

test: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# After editing a file of plugin/mkdocs_erratum/assets/: minify it into assets/dist/
# (terser and Lightning CSS, pinned in widget-build/package-lock.json; needs Node.js).
widget:
	$(PYTHON) widget-build/build.py

bench: $(TEST_STAMP)
	$(PY) bench/build_time.py

clean:
	rm -rf $(VENV) _build
