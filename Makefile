# The README's commands. Each target sets up what it needs, so a fresh clone
# needs only `make demo` or `make test`. The `production` extra is installed too:
# the tests of the production profile (deploy/) use its PostgreSQL and Celery.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: install demo test lint dev

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev,production]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	./scripts/demo.sh

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

dev: $(STAMP)
	$(VENV)/bin/dagster dev -w workspace.yaml

# Benchmarks (benchmarks/README.md): `make bench BENCH_ARGS='--quick'` for a smoke test.
.PHONY: bench
bench: $(STAMP)
	$(VENV)/bin/python -m benchmarks $(BENCH_ARGS)
