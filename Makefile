# The two commands a new user runs: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV ?= venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements.txt requirements-dev.txt policies/requirements.txt $(wildcard containers/*/requirements*.txt)

.PHONY: install demo preview test clean

$(STAMP): $(REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# Offline preview of both stacks with the policy pack (no AWS account, no Pulumi CLI needed).
preview: install
	$(PY) -m tools.preview --stack dev --stack prod

demo: preview

test: install
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
