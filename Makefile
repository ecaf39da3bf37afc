# The one entry point for setup, run, test and lint.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_WORKERS ?= 2

.PHONY: install run test test-fast test-postgres lint contracts format migrate demo bench bench-full fuzz clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

# Serves 127.0.0.1:8000 and runs the job worker; Ctrl-C stops both.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py setup_schedules
	@echo "Serving on http://$(HOST):$(PORT)/ with the job worker; Ctrl-C stops both."
	@trap 'kill 0' INT TERM; \
	$(BIN)/python manage.py qcluster & \
	$(BIN)/python manage.py runserver --noreload $(HOST):$(PORT) & \
	wait

# Two processes: Playwright's event loop would make Django and strawberry-django treat
# every later test in the same process as async code, so browser tests run on their own.
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

test-postgres:
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(MAKE) test

lint: install contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Import contracts ([tool.importlinter] in pyproject.toml): layers, and who may not
# import whom.
contracts: install
	$(BIN)/lint-imports --no-logo --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/run.py --dataset reduced

bench-full: install
	$(BIN)/python bench/run.py --dataset full

fuzz: install
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-500} $(BIN)/python -m pytest -m fuzz graphql_api/tests

clean:
	rm -rf $(VENV) staticfiles test-artifacts
