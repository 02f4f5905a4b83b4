# Two commands do everything from a fresh clone: `make demo` and `make test`.
# Each installs only what it needs into .venv: demo and check the package, lab the package
# and JupyterLab, test everything (the test tools, Playwright, the AWS CLI, cfn-lint).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN := $(VENV)/.installed-run
LAB := $(VENV)/.installed-lab
DEV := $(VENV)/.installed-dev

.PHONY: demo check test lab bench lint clean wheelhouse

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fanoutsim needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(LAB): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	@touch $@ $(RUN)

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(LAB) $(RUN)

demo: $(RUN)
	$(BIN)/fanoutsim demo

check: $(RUN)
	$(BIN)/fanoutsim doctor

# The Node.js example handler's packages (the AWS SDK v3), from its lockfile; the tests run
# it as a user's function. Needs node and npm (.ci/run installs Debian's nodejs and npm).
NODE_EXAMPLE := examples/node-fanout/node_modules/.installed
$(NODE_EXAMPLE): examples/node-fanout/package-lock.json
	@command -v npm >/dev/null || { echo "make test needs node and npm (apt-get install nodejs npm)"; exit 1; }
	npm ci --prefix examples/node-fanout --no-audit --no-fund --silent
	@touch $@

test: $(DEV) $(NODE_EXAMPLE)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest tests --nbmake notebooks --nbmake-timeout=600

lab: $(LAB)
	$(BIN)/jupyter lab notebooks/

# For an instructor: every wheel `make lab` needs, for this platform, into wheelhouse/;
# share the folder on the venue network and install with
# pip install --no-index --find-links wheelhouse -e '.[lab]'
wheelhouse: $(BIN)/python
	$(BIN)/python -m pip download --quiet --dest wheelhouse '.[lab]' pip setuptools

bench: $(DEV)
	$(BIN)/python bench/fanout_live.py
	$(BIN)/python bench/model_scale.py
	$(BIN)/python bench/fanout_modes.py
	$(BIN)/python bench/overload.py
	$(BIN)/python bench/notebooks.py
	$(BIN)/python bench/soak.py
	$(BIN)/python bench/fuzz_edges.py

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts wheelhouse \
		examples/node-fanout/node_modules
