# The two commands a new user runs: `make demo` (the main job) and `make test`.
# Each target installs only its own set (requirements/, by purpose) into ./venv, once per change of
# those files: demo < dashboard < test < install (everything, incl. the mutation check).
PYTHON ?= python3
VENV ?= venv
PY := $(VENV)/bin/python
# uv (a PyPI package) resolves and installs ~10x faster than pip; pip is the fallback when uv
# cannot be had. Pinned: the install must not change under us. A uv of that version already on
# PATH is used as it is (it also makes the venv in a second, where `python -m venv` spends seconds
# installing pip); otherwise pip installs it into the venv.
UV_VERSION := 0.13.9
SYSTEM_UV := $(if $(filter $(UV_VERSION),$(word 2,$(shell uv --version 2>/dev/null))),$(shell command -v uv))
# Python's bytecode cache (__pycache__, in ./venv and in the tree, ignored by git) is what lets the
# suite's ~300 Python processes and the demo's dozens not compile what they import from source each
# time: where PYTHONDONTWRITEBYTECODE is set (container images, CI), pulumi-aws's modules alone took
# 3.5 instead of 1.2 CPU-s per process, `make demo` 33 instead of 17 s. ./venv is this project's own,
# so the variable does not apply to what make runs.
unexport PYTHONDONTWRITEBYTECODE
# pytest-xdist workers: one per CPU (2 on the project's machines).
TEST_WORKERS ?= auto

DEMO_SET := requirements/demo.txt requirements.txt policies/requirements.txt containers/model/requirements.txt containers/api/requirements.txt
DASHBOARD_SET := requirements/dashboard.txt containers/dashboard/requirements.txt $(DEMO_SET)
TEST_SET := requirements/test.txt requirements/lint.txt requirements/mutation.txt containers/model/requirements-dev.txt $(DASHBOARD_SET)
ALL_SET := requirements-dev.txt requirements/mutation.txt $(TEST_SET)

.PHONY: install demo preview dashboard test bench docs lint mutation clean

$(PY):
ifneq ($(SYSTEM_UV),)
	$(SYSTEM_UV) venv --quiet --python $(PYTHON) $(VENV)
else
	$(PYTHON) -m venv $(VENV)
endif

# $(call install_set,requirements file): uv when it can be had, else pip; both print their progress.
ifneq ($(SYSTEM_UV),)
define install_set
	@echo "Installing $(1) into $(VENV) with uv $(UV_VERSION)…"
	$(SYSTEM_UV) pip install --python $(PY) -r $(1)
endef
else
define install_set
	@if [ -x $(VENV)/bin/uv ] || $(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION); then \
		echo "Installing $(1) into $(VENV) with uv $(UV_VERSION)…"; \
		$(VENV)/bin/uv pip install --python $(PY) -r $(1); \
	else \
		echo "uv is unavailable: installing $(1) into $(VENV) with pip (several minutes)…"; \
		$(PY) -m pip install --disable-pip-version-check --progress-bar on -r $(1); \
	fi
endef
endif

$(VENV)/.demo-installed: $(DEMO_SET) | $(PY)
	$(call install_set,requirements/demo.txt)
	touch $@

$(VENV)/.dashboard-installed: $(DASHBOARD_SET) | $(PY)
	$(call install_set,requirements/dashboard.txt)
	touch $@

$(VENV)/.test-installed: $(TEST_SET) | $(PY)
	$(call install_set,requirements/test.txt)
	touch $@

$(VENV)/.installed: $(ALL_SET) | $(PY)
	$(call install_set,requirements-dev.txt)
	touch $@

# Everything in one venv (what the workflows install).
install: $(VENV)/.installed

# The whole system rehearsed on this machine: offline preview of dev and prod with the policy pack
# and the cost estimate, then generate data -> preprocess -> train -> evaluate (AUC gate), the
# model server behind the real API handler for clean and drifted customers, and a short report.
demo: $(VENV)/.demo-installed
	$(PY) -m tools.rehearsal

# Only the offline preview of both stacks with the policy pack (no AWS account, no Pulumi CLI).
preview: $(VENV)/.demo-installed
	$(PY) -m tools.preview --stack dev --stack prod

# The Streamlit dashboard on moto-backed demo data: http://127.0.0.1:8501
dashboard: $(VENV)/.dashboard-installed
	$(PY) -m tools.dashboard_demo

# Parallel workers; a file's tests stay on one worker, so module-scoped fixtures are built once; files
# are handed out longest first (tests/support/suite_order.py names them, tests/conftest.py orders).
# The ten slowest tests are listed, so that a slow newcomer shows.
# pytest exits 5 when it collected no test: a failure here too, said in words.
test: $(VENV)/.test-installed
	@status=0; $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=10 $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no test (exit 5): nothing was checked" >&2; fi; \
	exit $$status

# Benchmarks: not part of the test suite (see docs/measurements.md).
bench: $(VENV)/.test-installed
	$(PY) -m benchmarks.api_handler
	$(PY) -m benchmarks.serving
	$(PY) -m benchmarks.serving_spread
	$(PY) -m benchmarks.serving_mixed
	$(PY) -m benchmarks.serving_worker_boot
	$(PY) -m benchmarks.preview

# Mutation check (docs/testing.md): not part of `make test`, slow (minutes per target). Each target is
# mutated in a scratch copy of the checkout; pass e.g. MUTATION_ARGS="--target codec --max-mutants 50".
MUTATION_ARGS ?=
mutation: install
	nice $(PY) -m tools.mutation $(MUTATION_ARGS)

# Regenerate the reference parts of docs/ and the README from the code (add --demo for the README's
# sample report: a full rehearsal).
docs: $(VENV)/.test-installed
	$(PY) -m tools.docs

# What tests/test_lint.py runs.
lint: $(VENV)/.test-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis tools/workflow_lint/node_modules
