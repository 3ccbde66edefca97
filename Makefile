# streamstack: two commands do all set-up on a fresh machine.
#   make demo   - install, start the embedded stack, run the pipeline
#   make test   - install, then the whole test suite (starts the services it needs)
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
LOCK   := constraints/airflow-py3.11.txt
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help system-deps install demo test test-unit test-integration lint bench lock down clean

help:
	@echo "make demo    - set everything up and run the pipeline on the embedded local stack"
	@echo "make test    - set everything up and run the whole test suite"
	@echo "make lint    - ruff"
	@echo "make bench   - benchmarks (not part of the tests)"
	@echo "make down    - stop the embedded stack"

# Java 17+ and Maven come from Debian when missing (the services' jars come from Maven Central).
system-deps:
	@if ! command -v java >/dev/null || ! command -v mvn >/dev/null || ! command -v gcc >/dev/null; then \
	  echo "installing Java, Maven and gcc (the loopback bind shim) from apt"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq openjdk-17-jdk-headless maven gcc libc6-dev >/dev/null; \
	fi
	@java -version 2>&1 | head -1; mvn -v 2>/dev/null | head -1

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python -q -c $(LOCK) -e ".[dev]"
	@touch $(STAMP)

install: system-deps $(STAMP)

demo: install
	$(BIN)/streamstack demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: install
	$(BIN)/python -m pytest tests/unit tests/dags $(PYTEST_ARGS)

test-integration: install
	$(BIN)/python -m pytest -m integration $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Re-resolve the lock from PyPI (run after changing dependencies in pyproject.toml).
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python -q -e ".[dev]"
	@{ head -3 $(LOCK); $(BIN)/uv pip freeze --python $(BIN)/python | grep -v -e '^-e' -e '^streamstack' -e '^pip=='; } > $(LOCK).new
	@mv $(LOCK).new $(LOCK)

down:
	@test -x $(BIN)/streamstack && $(BIN)/streamstack stack down || true

clean: down
	rm -rf .stack .pytest_cache .ruff_cache
