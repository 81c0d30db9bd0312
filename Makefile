# Two commands for a fresh machine with python3 (>= 3.11) and make:
#   make run    install, migrate, seed the demo content and serve on 127.0.0.1:$PORT (5000)
#   make test   install with the dev tools, lint, run every test
# PYTEST_ARGS passes options to pytest, e.g. make test PYTEST_ARGS="-k login -x".

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app catalogue
PYTEST_ARGS ?=

# Stamps remember which pyproject.toml each install was made from, so that pip
# runs again only when the dependencies change.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint clean

run: $(RUN_STAMP)
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@# exec: the server replaces the shell, so that signals reach it directly.
	exec $(FLASK) run --host 127.0.0.1 --port $${PORT:-5000}

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -W error $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .hypothesis *.egg-info
	find instance -mindepth 1 ! -name .keep -exec rm -rf {} +
	find catalogue tests -name __pycache__ -type d -prune -exec rm -rf {} +

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed as $(PYTHON)" >&2; exit 1; }
	@# Debian splits venv support into the python3-venv package.
	$(PYTHON) -m venv $(VENV) \
		|| { rm -rf $(VENV); echo "Cannot create $(VENV): on Debian run 'apt-get install python3-venv'" >&2; exit 1; }

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --progress-bar off -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --progress-bar off -e '.[dev]'
	touch $@
