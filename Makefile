# The README's commands. Each target sets up what it needs, so a fresh clone
# needs only `make demo` or `make test`. The `production` extra is installed too:
# the tests of the production profile (deploy/) use its PostgreSQL and Celery.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: install demo test lint dev screenshots home

# Dagster's instance for `make dev` and the flows of docs/daily-use.md: the project's own, with
# telemetry off (and so without Dagster's first-run notices), unless DAGSTER_HOME is set.
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DAGSTER_HOME

# Dagster's CLI warns that `dagster dev`, `dagster asset materialize` and `dagster job
# execute` are superseded by `dg`. Both spellings work and the docs show both, so that
# warning (and only it) is accepted and filtered; docs/daily-use.md exports the same.
PYTHONWARNINGS ?= ignore:Function `dev_command` is superseded,ignore:Function `asset_materialize_command` is superseded,ignore:Function `job_execute_command` is superseded
export PYTHONWARNINGS

$(STAMP): pyproject.toml simulator/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev,production]' -e ./simulator
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	./scripts/demo.sh

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

$(DAGSTER_HOME)/dagster.yaml:
	mkdir -p "$(DAGSTER_HOME)"
	printf 'telemetry:\n  enabled: false\n' > "$@"

home: $(DAGSTER_HOME)/dagster.yaml

dev: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster dev -w workspace.yaml

# The screenshots of docs/daily-use.md, taken by the end-to-end UI tests (needs Chromium).
screenshots: $(STAMP)
	INVENTORY_E2E_SCREENSHOTS=docs/images $(VENV)/bin/pytest inventory_assets_tests/test_e2e.py

# Benchmarks (benchmarks/README.md): every scenario and the 1M-record memory run, so one
# run evaluates every target; `make bench BENCH_ARGS='--quick'` for a smoke test.
BENCH_ARGS ?= --with-1m
.PHONY: bench
bench: $(STAMP)
	$(VENV)/bin/python -m benchmarks $(BENCH_ARGS)
