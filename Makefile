# Two commands do everything on a fresh machine: `make up` runs the console, `make test` tests it.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install up test test-fast lint bench clean

install: $(STAMP)

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) is required"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $(STAMP)

# Processes come from the Procfile; the embedded redis runs only when REDIS_URL is unset.
up: install
	$(PY) manage.py bootstrap
	CONSOLE_DEMO_FIRST_SCAN=$${CONSOLE_DEMO_FIRST_SCAN:-1} CONSOLE_WEB_PORT=$${PORT:-8000} $(VENV)/bin/honcho start $(if $(REDIS_URL),,redis) web worker beat $(if $(filter 0 false no off,$(LOCALCLOUD_ENABLED)),,localcloud)

# The suite runs in parallel processes (pytest-xdist; each has its own Redis, database and localcloud), then the
# browser tests run apart: Playwright's event loop would break any Django test after them in the same process.
TEST_WORKERS ?= 3
# With a DATABASE_URL such as CI's PostgreSQL the console refuses to start without SECRET_KEY and CONSOLE_ROOT_KEY
# (docs/operations.md, "Secrets"): a test run is given fresh ones unless the environment has its own.
NEW_KEY = $$($(PY) -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')
TEST_SECRETS = SECRET_KEY="$${SECRET_KEY:-$(NEW_KEY)}" CONSOLE_ROOT_KEY="$${CONSOLE_ROOT_KEY:-$(NEW_KEY)}"
test: install
	$(TEST_SECRETS) $(VENV)/bin/pytest -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS)
	$(TEST_SECRETS) $(VENV)/bin/pytest -m browser $(PYTEST_ARGS)

# The fast specification: no real workers or servers (`slow`) and no browser (`browser`), in parallel processes.
test-fast: install
	$(TEST_SECRETS) $(VENV)/bin/pytest -n $(TEST_WORKERS) -m "not slow and not browser" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache
