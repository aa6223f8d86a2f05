# sactk: every target bootstraps what it needs (Debian ngspice packages, .venv).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PKGS := ngspice libngspice0 libngspice0-dev

.PHONY: install system-deps demo test lint typecheck pytest bench clean golden

system-deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Editable install: new modules are seen without reinstalling. mypy does not need it: the
# links in sactk/ give the checkout the installed layout.
install: system-deps $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'

demo: install
	$(BIN)/sactk demo --out demo-out

lint: install
	$(BIN)/ruff check .

# sactk/circuits, sactk/netlists, ... are links to the top-level folders, so the checkout has
# the installed layout and mypy checks the package where it stands.
typecheck: install
	$(BIN)/mypy -p sactk

pytest: install
	$(BIN)/pytest --ngspice=required -n 2 --durations=15 $(PYTEST_ARGS)

test: lint typecheck pytest

bench: install
	$(BIN)/python benchmarks/peers.py --write docs/benchmarks.md
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/backends.py
	$(BIN)/python benchmarks/sweep_engine.py
	$(BIN)/python benchmarks/sweep_engine.py e
	@if [ -n "$$PDK_ROOT" ]; then $(BIN)/python benchmarks/process_load.py; else echo "PDK_ROOT not set: benchmarks/process_load.py skipped"; fi
	OMP_NUM_THREADS=1 taskset -c 0 $(BIN)/python benchmarks/transfer_speed.py
	OMP_NUM_THREADS=1 taskset -c 0 $(BIN)/python benchmarks/lut_speed.py
	OMP_NUM_THREADS=1 taskset -c 0 $(BIN)/python benchmarks/sc_speed.py
	OMP_NUM_THREADS=1 taskset -c 0 $(BIN)/python benchmarks/nmpu_speed.py
	$(BIN)/sactk demo --out demo-out > /dev/null
	OMP_NUM_THREADS=1 taskset -c 0 $(BIN)/python benchmarks/regress_speed.py demo-out/models
	OMP_NUM_THREADS=1 taskset -c 0 $(BIN)/python benchmarks/layer_speed.py

# Regenerate golden netlists after a deliberate builder change (review the diff).
golden: install
	SACTK_REGEN_GOLDEN=1 $(BIN)/pytest tests/test_golden.py

clean:
	rm -rf $(VENV) build *.egg-info demo-out
