# Two commands for a fresh machine with python3 (>= 3.11) and make:
#   make run    install, migrate, seed the demo content and serve on 127.0.0.1:$PORT (5000)
#   make test   install with the dev tools, lint, run every test
# PYTEST_ARGS passes options to pytest, e.g. make test PYTEST_ARGS="-k login -x";
# PYTEST_WORKERS the number of pytest-xdist worker processes (2; 0 runs in one process).
# make bench   the main pages' requests/s against a bare Flask app under gunicorn (BENCH_ARGS: see
#              python -m benchmarks site-bench --help); DATABASE_URL and SEARCH_INDEX_DIR choose the data.
# make lock    refreshes requirements/*.txt from pyproject.toml (LOCK_ARGS=--upgrade: newest releases).
# make stack-check  starts the production stack (gunicorn, indexer, job worker, nginx) on PostgreSQL and tries it:
#              deploy/stack_check.py; STACK_CHECK_DATABASE_URL names the database it drops and creates.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app catalogue
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 2
LOCK_ARGS ?=
BENCH_ARGS ?=

# Installs come from lock files with the hash of every distribution, so that an upstream
# release changes nothing here until `make lock` is run and its result committed.
LOCK := requirements/lock.txt
DEV_LOCK := requirements/dev-lock.txt
# The tool that writes them, pinned too.
LOCK_TOOL := uv==0.13.8

# Stamps remember which lock file each install was made from, so that pip runs again
# only when the dependencies change.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint lock clean bench stack-check

run: $(RUN_STAMP)
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@# exec: the server replaces the shell, so that signals reach it directly.
	exec $(FLASK) run --host 127.0.0.1 --port $${PORT:-5000}

# The workers share the tests as they go (worksteal): on two cores the SQLite and the PostgreSQL
# runs of the suite go side by side. pytest's summary comes last; any failure makes the exit non-zero.
test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -W error -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Seeds the demo content first (idempotent); for the large data set run `flask --app catalogue demo-scale`
# on the database DATABASE_URL names.
bench: $(DEV_STAMP)
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(BIN)/python -m benchmarks site-bench $(BENCH_ARGS)

stack-check: $(DEV_STAMP)
	$(BIN)/python deploy/stack_check.py

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

$(RUN_STAMP): $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --progress-bar off --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --progress-bar off --no-deps -e .
	touch $@

$(DEV_STAMP): $(DEV_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --progress-bar off --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --progress-bar off --no-deps -e .
	touch $@

# Every platform's markers and every distribution's hash, for Python 3.11 and newer (Debian 12's python3 is 3.11).
COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command 'make lock' $(LOCK_ARGS) pyproject.toml

lock: | $(BIN)/python
	$(BIN)/python -m pip install --progress-bar off '$(LOCK_TOOL)'
	$(COMPILE) --extra production -o $(LOCK)
	$(COMPILE) --extra dev --extra production -o $(DEV_LOCK)
