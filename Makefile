# The two commands a user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: demo test lint install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/ticketgw demo

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The suite runs twice: on SQLite (the embedded default) and on PostgreSQL (production).
test: lint
	$(BIN)/python tests/setup_services.py
	TICKETGW_TEST_DATABASE=sqlite $(BIN)/pytest
	TICKETGW_TEST_DATABASE=postgresql $(BIN)/pytest

clean:
	rm -rf $(VENV) ticketgw-data .pytest_cache .ruff_cache .hypothesis
