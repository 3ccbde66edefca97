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
# Options of `streamstack demo`, e.g. make demo DEMO_ARGS="--days 7" (a simulated week of the shop).
DEMO_ARGS ?=

.PHONY: help system-deps install demo test test-unit test-integration lint bench lock down clean
.PHONY: kstreams

help:
	@echo "make demo    - set everything up and run the pipeline on the embedded local stack"
	@echo "make test    - set everything up and run the whole test suite"
	@echo "make lint    - ruff and the import contracts"
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

UV     := $(BIN)/uv
$(UV):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: the first start of Airflow and Superset otherwise compiles thousands of
# modules on import, on the CPU the JVMs starting beside them need (docs/README.md, Timings).
UV_INSTALL := $(UV) pip install -q --compile-bytecode

$(STAMP): pyproject.toml $(LOCK) | $(UV)
	$(UV_INSTALL) --python $(BIN)/python -c $(LOCK) -e ".[dev]"
	@touch $(STAMP)

# The four venvs (Airflow side, PyFlink, Superset, JupyterLab) install side by side: on a fresh
# machine they are most of the first `make demo`, and mostly downloads and unpacking.
install: system-deps
	@$(MAKE) --no-print-directory -j3 venvs
.PHONY: venvs
venvs: $(STAMP) flink-venv superset-venv jupyter-venv

demo: install
	$(if $(ENGINE),STREAMSTACK_ENGINE=$(ENGINE) )$(BIN)/streamstack demo $(DEMO_ARGS)

# Two shards side by side, each on a test stack of its own (tests/conftest.py, tests/isolation.py):
# the box's cores idle while one shard waits on a service.
test: install browser-deps
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

test-unit: install
	$(BIN)/python -m pytest tests/unit tests/dags $(PYTEST_ARGS)

test-integration: install browser-deps
	$(BIN)/python -m pytest -m integration $(PYTEST_ARGS)

# ruff, and the dependency arrows of DEVELOPERS.md ([tool.importlinter] in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The Kafka Streams apps (jobs/kstreams, Maven) into .stack/kstreams/build; skipped when unchanged.
kstreams: install
	$(BIN)/streamstack kstreams build

bench: install browser-deps
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

# PyFlink (the Flink session cluster and the jobs' Python) in a venv of its own: see docs/services/flink.md.
FLINK_VENV  := .venv-flink
FLINK_LOCK  := constraints/pyflink-py3.11.txt
FLINK_STAMP := $(FLINK_VENV)/.installed
.PHONY: flink-venv flink-lock
$(FLINK_STAMP): $(FLINK_LOCK) | $(UV)
	@test -x $(FLINK_VENV)/bin/python || $(UV) venv -q --python $(PYTHON) $(FLINK_VENV)
	$(UV_INSTALL) --python $(FLINK_VENV)/bin/python -c $(FLINK_LOCK) apache-flink==2.2.1
	@touch $(FLINK_STAMP)
flink-venv: $(FLINK_STAMP)
flink-lock: | $(UV)
	@test -x $(FLINK_VENV)/bin/python || $(UV) venv -q --python $(PYTHON) $(FLINK_VENV)
	$(UV) pip install --python $(FLINK_VENV)/bin/python -q apache-flink==2.2.1
	@{ head -2 $(FLINK_LOCK); $(UV) pip freeze --python $(FLINK_VENV)/bin/python | grep -v -e '^-e' -e '^pip=='; } > $(FLINK_LOCK).new
	@mv $(FLINK_LOCK).new $(FLINK_LOCK)

# --- Superset: a venv of its own (SQLAlchemy 1.4 / pandas < 2.2 cannot live beside Airflow 3) ---
SUPERSET_VENV  := .venv-superset
SUPERSET_LOCK  := constraints/superset-py3.11.txt
SUPERSET_STAMP := $(SUPERSET_VENV)/.installed
# The three packaging fixes of Superset 6.1.0 (docs/services/superset.md).
SUPERSET_REQS  := "apache-superset[pinot]==6.1.0" flask-caching==2.4.1 rich cachetools

.PHONY: superset-venv lock-superset browser-deps
superset-venv: $(SUPERSET_STAMP)
$(SUPERSET_STAMP): $(SUPERSET_LOCK) | $(UV)
	@test -x $(SUPERSET_VENV)/bin/python || $(UV) venv -q --python $(PYTHON) $(SUPERSET_VENV)
	$(UV_INSTALL) --python $(SUPERSET_VENV)/bin/python -c $(SUPERSET_LOCK) $(SUPERSET_REQS)
	@touch $(SUPERSET_STAMP)

lock-superset: $(STAMP)
	@test -x $(SUPERSET_VENV)/bin/python || $(BIN)/uv venv -q --python $(PYTHON) $(SUPERSET_VENV)
	$(BIN)/uv pip install --python $(SUPERSET_VENV)/bin/python -q $(SUPERSET_REQS)
	@{ head -3 $(SUPERSET_LOCK); $(BIN)/uv pip freeze --python $(SUPERSET_VENV)/bin/python | grep -v -e '^-e' -e '^pip=='; } > $(SUPERSET_LOCK).new
	@mv $(SUPERSET_LOCK).new $(SUPERSET_LOCK)

# --- JupyterLab: the server in a venv of its own; the notebooks' kernel is .venv's python
# (ipykernel in pyproject.toml), registered by the stack service (stack/jupyter.py). ---
JUPYTER_VENV  := .venv-jupyter
JUPYTER_LOCK  := constraints/jupyter-py3.11.txt
JUPYTER_STAMP := $(JUPYTER_VENV)/.installed
JUPYTER_REQS  := jupyterlab==4.6.6

.PHONY: jupyter-venv lock-jupyter
jupyter-venv: $(JUPYTER_STAMP)
$(JUPYTER_STAMP): $(JUPYTER_LOCK) | $(UV)
	@test -x $(JUPYTER_VENV)/bin/python || $(UV) venv -q --python $(PYTHON) $(JUPYTER_VENV)
	$(UV_INSTALL) --python $(JUPYTER_VENV)/bin/python -c $(JUPYTER_LOCK) $(JUPYTER_REQS)
	@touch $(JUPYTER_STAMP)

lock-jupyter: $(STAMP)
	@test -x $(JUPYTER_VENV)/bin/python || $(BIN)/uv venv -q --python $(PYTHON) $(JUPYTER_VENV)
	$(BIN)/uv pip install --python $(JUPYTER_VENV)/bin/python -q $(JUPYTER_REQS)
	@{ head -3 $(JUPYTER_LOCK); $(BIN)/uv pip freeze --python $(JUPYTER_VENV)/bin/python | grep -v -e '^-e' -e '^pip=='; } > $(JUPYTER_LOCK).new
	@mv $(JUPYTER_LOCK).new $(JUPYTER_LOCK)

# Headless Chromium and its driver from Debian for the browser tests (no browser download);
# `make test` needs them, `make demo` does not.
browser-deps:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  echo "installing chromium and chromium-driver from apt"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi
