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

# The playground page and offline API docs (web/ -> service/static): npm packages pinned by
# web/package-lock.json, the TypeScript client generated from openapi/openapi.json (Java)
WEB_OUT     := service/static/playground/index.html
WEB_SOURCES := $(wildcard web/src/*.ts) web/index.html web/app.css web/build.mjs \
               web/swagger-init.js web/tsconfig.json examples/iris.csv examples/outliers.csv openapi/openapi.json
WEB_STAMP   := web/node_modules/.installed-$(shell cksum < web/package-lock.json | cut -d' ' -f1)
CHROMIUM    ?= $(firstword $(wildcard /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome))

.PHONY: install serve test lint typecheck check lock openapi docs bench clean client-tools server-tools \
        web web-optional browser-tools browser-test

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

serve: $(STAMP) web-optional
	$(BIN)/python -m service

test: $(STAMP) client-tools server-tools web-optional browser-tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# --- the playground page --------------------------------------------------------------------
web: $(WEB_OUT)

$(WEB_STAMP): web/package-lock.json
	rm -rf web/node_modules
	npm ci --prefix web --no-audit --no-fund --silent
	touch $@

$(WEB_OUT): $(STAMP) $(WEB_STAMP) $(WEB_SOURCES)
	rm -rf web/src/api
	$(BIN)/openapi-generator-cli generate -i openapi/openapi.json -g typescript-fetch \
	  --additional-properties=supportsES6=true --generate-alias-as-model -o web/src/api >web/.generate.log 2>&1 \
	  || { cat web/.generate.log; exit 1; }
	web/node_modules/.bin/tsc -p web
	node web/build.mjs

# Builds the page when Node.js, npm and Java are there; else the API runs without it
# (/ answers 404 not_built) and the browser tests skip, saying so.
web-optional:
	@if command -v npm >/dev/null 2>&1 && command -v java >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory web; \
	else echo "note: npm or java not found; the playground page is not built (apt-get install nodejs npm default-jre-headless; make web)"; fi

# Debian's chromium for the browser tests (Playwright drives it; its own download is unreachable)
browser-tools:
	@if [ -z "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (Debian) for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "note: no Chromium found; the browser tests will be skipped (apt-get install chromium)"; \
	  fi; \
	fi

# Only the browser tests (tests/browser), with screenshots in artifacts/browser.
browser-test: $(STAMP) web
	@if [ -z "$(CHROMIUM)" ] && [ -z "$$LOSSCORE_CHROMIUM" ]; then \
	  echo "No Chromium found (looked for /usr/bin/chromium, chromium-browser, google-chrome)."; \
	  echo "Install it (apt-get install chromium) or set LOSSCORE_CHROMIUM to its path."; exit 1; fi
	LOSSCORE_REQUIRE_BROWSER=1 $(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

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
	$(BIN)/ruff check losscore losscore_cli service tests bench tools examples
	$(BIN)/ruff format --check losscore losscore_cli service tests bench tools examples

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
	rm -rf $(VENV) .tools web/node_modules web/src/api service/static artifacts .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
