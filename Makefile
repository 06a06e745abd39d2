# piapi-mock — the commands the README and CI use. Everything runs inside .venv, which
# `make` creates and fills itself (a fresh machine needs only Python 3.11 and make).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
ARGS   ?=

.PHONY: install serve test lint typecheck pytest bench format clean system-deps screenshot

install: $(STAMP)

# command:package pairs that `make system-deps` installs with apt-get when the command is
# missing (tests that need them fail, never skip). Add yours: SYSTEM_DEPS += cmd:package
SYSTEM_DEPS += redis-server:redis-server
SYSTEM_DEPS += chromium:chromium

## Debian packages the tests need (redis-server for the store tests, chromium for the
## dashboard's browser tests); .ci/run calls this.
system-deps:
	@missing=""; for pair in $(SYSTEM_DEPS); do \
		command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "system-deps: installing$$missing (apt-get)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq $$missing >/dev/null; } \
		|| { echo "system-deps: could not install$$missing" >&2; exit 1; }; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## The fake on http://$(HOST):$(PORT) (pass more flags with ARGS="--speed 100 --seed 7").
serve: install
	$(BIN)/piapi-mock serve --host $(HOST) --port $(PORT) $(ARGS)

## Lint, format check, strict typing, then the whole test suite.
test: lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy
	$(BIN)/mypy docs/screenshot.py

pytest: install
	$(BIN)/python -m pytest -n 2 -q

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Load and memory benchmarks, as ratios against a bare Starlette endpoint in the same run.
bench: install
	@command -v wrk >/dev/null 2>&1 || (apt-get update && apt-get install -y wrk) \
		|| echo "could not install wrk: the api suite will say so and skip"
	$(BIN)/python -m bench

## docs/dashboard.png: the dashboard with a few tasks, in Debian's chromium (docs/screenshot.py).
screenshot: install system-deps
	$(BIN)/python docs/screenshot.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache
