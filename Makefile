# Two commands do all set-up on a fresh machine (Python 3.11+):
#   make serve   create .venv, install the service, start it on $HOST:$PORT
#   make test    create .venv, install the test extras, run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

HOST    ?= 127.0.0.1
PORT    ?= 8000
WORKERS ?= 1
export HOST PORT WORKERS

# TypeScript for the generated-client tests (tests/clients), from the npm registry
TYPESCRIPT ?= 5.9.3
NODE_TYPES ?= 20
TS_STAMP   := .tools/node/.installed-typescript-$(TYPESCRIPT)-node-$(NODE_TYPES)

.PHONY: install serve test lint typecheck check lock openapi docs bench clean client-tools server-tools

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/python -m service

test: $(STAMP) client-tools server-tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The store tests run against a real PostgreSQL too (tests/postgres.py makes a throwaway
# cluster): Debian's server binaries, installed here when possible, else those tests skip.
server-tools:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing postgresql (Debian) for the PostgreSQL store tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else \
	    echo "note: PostgreSQL server binaries not found; the PostgreSQL store tests will be skipped (apt-get install postgresql)"; \
	  fi; \
	fi

# Without npm (or Java) the client tests skip, saying what to install; .ci/run installs both.
client-tools:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(TS_STAMP); \
	else echo "note: npm not found; the TypeScript client test will be skipped (apt-get install nodejs npm)"; fi

$(TS_STAMP):
	rm -rf .tools/node && mkdir -p .tools/node
	npm install --prefix .tools/node --no-audit --no-fund --silent typescript@$(TYPESCRIPT) @types/node@$(NODE_TYPES)
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check losscore service tests bench tools
	$(BIN)/ruff format --check losscore service tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy

check: test lint typecheck

openapi: $(STAMP)
	$(BIN)/python -m service.openapi_export openapi/openapi.json

docs: $(STAMP)
	$(BIN)/python tools/render_losses_doc.py docs/LOSSES.md

bench: $(STAMP)
	$(BIN)/python bench/core.py

# Re-resolve the pinned constraints from pyproject.toml in a throw-away environment.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --upgrade pip
	.lockenv/bin/python -m pip install --quiet -e '.[dev]'
	{ echo "# Pinned versions for reproducible installs: pip install -c constraints.txt -e '.[dev]'"; \
	  echo "# Regenerate: make lock"; \
	  .lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^losscore'; } > constraints.txt
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
