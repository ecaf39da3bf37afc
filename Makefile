# The one entry point for setup, run, test and lint.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: make run needs the runtime lock only; make test, lint … add the dev lock.
STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
PIP_INSTALL = $(BIN)/python -m pip install --quiet --disable-pip-version-check
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_WORKERS ?= 2

.PHONY: install install-dev oidc-provider axe-core run test test-fast test-postgres lint contracts format migrate demo bench bench-full bench-xl bench-peer bench-live fuzz clean messages compilemessages

install: $(STAMP)

install-dev: $(DEV_STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	bin/system-deps
	$(PIP_INSTALL) -r requirements.lock
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.lock
	$(PIP_INSTALL) -r requirements.lock -r requirements-dev.lock
	touch $(DEV_STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

# Migrates, loads the demo, then serves http://$(HOST):$(PORT)/ with the job worker
# (bin/run); Ctrl-C stops both. Only the runtime lock is installed.
run: install
	HOST=$(HOST) PORT=$(PORT) PYTHON=$(BIN)/python bin/run

# Two processes: Playwright's event loop would make Django and strawberry-django treat
# every later test in the same process as async code, so browser tests run on their own.
test: install-dev oidc-provider axe-core
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

# The OpenID Connect provider the SSO tests start (npm oidc-provider, Node.js >= 20):
# installed from its lock file, again only when the lock changes.
OIDC_PROVIDER_DIR := accounts/tests/oidc_provider
oidc-provider: $(OIDC_PROVIDER_DIR)/node_modules/.package-lock.json
$(OIDC_PROVIDER_DIR)/node_modules/.package-lock.json: $(OIDC_PROVIDER_DIR)/package-lock.json
	cd $(OIDC_PROVIDER_DIR) && npm ci --no-audit --no-fund
	touch $@

# axe-core for the accessibility browser test (tests/browser/test_accessibility.py),
# from npm and its lock file, never from a CDN.
AXE_DIR := tests/browser/axe
axe-core: $(AXE_DIR)/node_modules/.package-lock.json
$(AXE_DIR)/node_modules/.package-lock.json: $(AXE_DIR)/package-lock.json
	cd $(AXE_DIR) && npm ci --no-audit --no-fund
	touch $@

test-postgres:
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(MAKE) test

lint: install-dev
	$(BIN)/lint-imports --no-logo --no-cache
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Import contracts alone ([tool.importlinter] in pyproject.toml): layers, and who may
# not import whom. make lint runs them too.
contracts: install-dev
	$(BIN)/lint-imports --no-logo --no-cache

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install-dev
	$(BIN)/python bench/run.py --dataset reduced

bench-full: install-dev
	$(BIN)/python bench/run.py --dataset full

# Growth: 1M tickets (bench/run.py --dataset xl); not in CI.
bench-xl: install-dev
	$(BIN)/python bench/run.py --dataset xl

# Side by side with django-helpdesk (latest from PyPI, in its own environment
# bench/.peer/venv; bench/README.md): bench/results/peer.{json,md}.
bench-peer: install-dev
	$(BIN)/python bench/peer.py $(BENCH_PEER_ARGS)

# One uvicorn process, 1,000 idle server-sent events subscribers, 100 events/s
# (bench/README.md, "Live updates"): bench/results/live.{json,md}.
bench-live: install-dev
	$(BIN)/python bench/live.py

fuzz: install-dev
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-500} $(BIN)/python -m pytest -m fuzz graphql_api/tests

# Translations (locale/<lang>/LC_MESSAGES): `make messages` refreshes the .po catalogues
# from the source (needs GNU gettext: apt-get install gettext), `make compilemessages`
# builds the .mo files, which are committed so a fresh clone needs no gettext.
MESSAGE_LANGS := -l pl -l ru
MESSAGE_IGNORES := --ignore=.venv --ignore=node_modules --ignore=test-artifacts --ignore=bench \
	--ignore=staticfiles
messages: install
	$(BIN)/python manage.py makemessages $(MESSAGE_LANGS) $(MESSAGE_IGNORES) --domain django --no-obsolete
	$(BIN)/python manage.py makemessages $(MESSAGE_LANGS) $(MESSAGE_IGNORES) --domain djangojs --no-obsolete

compilemessages: install
	$(BIN)/python manage.py compilemessages $(MESSAGE_LANGS) --ignore=.venv --ignore=node_modules

clean:
	rm -rf $(VENV) staticfiles test-artifacts
