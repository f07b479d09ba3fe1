# The two commands a new user runs: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV ?= venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements.txt requirements-dev.txt policies/requirements.txt $(wildcard containers/*/requirements*.txt)

.PHONY: install demo preview dashboard test bench docs lint mutation clean

$(STAMP): $(REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# The whole system rehearsed on this machine: offline preview of dev and prod with the policy pack
# and the cost estimate, then generate data -> preprocess -> train -> evaluate (AUC gate), the
# model server behind the real API handler for clean and drifted customers, and a short report.
demo: install
	$(PY) -m tools.rehearsal

# Only the offline preview of both stacks with the policy pack (no AWS account, no Pulumi CLI).
preview: install
	$(PY) -m tools.preview --stack dev --stack prod

# The Streamlit dashboard on moto-backed demo data: http://127.0.0.1:8501
dashboard: install
	$(PY) -m tools.dashboard_demo

test: install
	$(PY) -m pytest

# Benchmarks: not part of the test suite (see docs/measurements.md).
bench: install
	$(PY) -m benchmarks.api_handler
	$(PY) -m benchmarks.serving
	$(PY) -m benchmarks.serving_spread
	$(PY) -m benchmarks.serving_mixed
	$(PY) -m benchmarks.preview

# Mutation check (docs/testing.md): not part of `make test`, slow (minutes per target). Each target is
# mutated in a scratch copy of the checkout; pass e.g. MUTATION_ARGS="--target codec --max-mutants 50".
MUTATION_ARGS ?=
mutation: install
	nice $(PY) -m tools.mutation $(MUTATION_ARGS)

# Regenerate the reference parts of docs/ and the README from the code (add --demo for the README's
# sample report: a full rehearsal).
docs: install
	$(PY) -m tools.docs

# What tests/test_lint.py runs.
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis tools/workflow_lint/node_modules
