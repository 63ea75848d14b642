# The two commands of the README: `make setup` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup test test-extended test-slurm test-latex test-postgres lint bench clean-venv

setup:
	@$(PYTHON) tools/bootstrap.py

# Test files spread over the cores (at most 4 processes): most of the suite waits on jobs it
# started, so two processes on 2 cores finish in about 60 % of one's time. A file stays on one
# process, so a module's fixtures are built once.
test:
	@test -x $(PY) || { echo "no .venv: run 'make setup' first" >&2; exit 2; }
	$(PY) -m pytest -q -n auto --maxprocesses 4 --dist loadfile --durations=10

test-extended:
	$(PY) -m pytest -q -m extended -p no:cacheprovider

test-slurm:
	$(PY) -m pytest -q -m slurm -p no:cacheprovider

test-latex:
	$(PY) -m pytest -q -m latex -p no:cacheprovider

test-postgres:
	tools/postgres.sh up
	LORS_POSTGRES_URL=$$(tools/postgres.sh url) $(PY) -m pytest -q -m postgres -p no:cacheprovider

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean-venv:
	rm -rf $(VENV)
