# Quick start:  make run   (demo on http://127.0.0.1:8000, emulator on :8001)
#               make test  (the whole suite, browser tests included)
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# HOST used to hold "address:port" (make run HOST=0.0.0.0:9000); that still works.
ifneq (,$(findstring :,$(HOST)))
override PORT := $(lastword $(subst :, ,$(HOST)))
override HOST := $(patsubst %:$(PORT),%,$(HOST))
endif
EMULATOR ?= 127.0.0.1:8001

.PHONY: run serve loadtest test install install-test env migrate seed browser lint typecheck complexity bench clean

# Development mode for `make run` and the steps before it (settings read .env and
# allow DEBUG only then); an HOSTSITE_ENV already in the environment wins.
run seed migrate env: export HOSTSITE_ENV ?= development
# The demo's addresses follow HOST/PORT/EMULATOR (the environment wins over .env), so
# `make run PORT=19100 EMULATOR=127.0.0.1:19101` points the iframes, the CSP and the
# REST API at that emulator; seed_demo re-points the demo embeds.
run seed: export SIGMA_EMULATOR_ORIGIN ?= http://$(EMULATOR)
run seed: export SIGMA_API_BASE_URL ?= http://$(EMULATOR)
run seed: export SIGMA_ALLOWED_ORIGINS ?= https://app.sigmacomputing.com,http://$(EMULATOR)
run seed: export SIGMA_EMULATOR_FRAME_ANCESTORS ?= http://$(HOST):$(PORT),http://localhost:$(PORT)

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Writes .env with fresh keys, once. An existing .env is never touched.
env: install
	@$(PY) scripts/write_env.py .env

migrate: env
	$(PY) manage.py migrate --noinput

# .run.env records the addresses above for commands run by hand (settings read it in
# development), so `.venv/bin/python manage.py sigma_check` follows `make run PORT=…`.
seed: migrate
	@$(PY) scripts/write_env.py --run .run.env
	$(PY) manage.py seed_demo

run: seed
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "Host:     http://$(HOST):$(PORT)/   (alice, elena, bob, admin: password demo)"
	@echo "Emulator: http://$(EMULATOR)/demo-org/admin/ (the fake Sigma organization; Developer Access at /demo-org/admin/developer-access)"
	@trap 'kill 0' EXIT INT TERM; \
	$(PY) manage.py sigma_emulator $(EMULATOR) & \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production server (README "Deploy"): gunicorn with hostsite/gunicorn.conf.py on
# $(HOST):$(PORT), WEB_CONCURRENCY workers × WEB_THREADS threads, static files collected for whitenoise.
# It refuses to start with DEBUG on or migrations not applied (run
# `manage.py migrate` first). Settings come from the environment (or .env).
serve: install
	HOSTSITE_ENV=production $(PY) manage.py collectstatic --noinput --verbosity 0
	HOSTSITE_ENV=production HOST=$(HOST) PORT=$(PORT) \
		exec $(VENV)/bin/gunicorn --config hostsite/gunicorn.conf.py hostsite.wsgi

# Headless Chromium for the browser tests: Debian's package where apt-get works,
# otherwise Playwright's own download (on machines that allow it).
browser:
	@if [ -x /usr/bin/chromium ] || [ -n "$$SIGMA_TEST_CHROMIUM" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else $(PY) -m playwright install chromium; fi

test: install-test browser
	$(PY) -m pytest

# ruff, then the import contracts of docs/architecture.md ([tool.importlinter]).
lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo

# mypy with django-stubs over the embeds app (configuration: [tool.mypy] in pyproject.toml).
typecheck: install-test
	$(VENV)/bin/mypy

# Functions of cyclomatic complexity 11 and above (radon grades C to F); the limit is 20
# and tests/embeds/test_code_shape.py enforces it.
complexity: install-test
	$(VENV)/bin/radon cc --min C --show-complexity embeds sigma_emulator

bench: install-test
	$(PY) -m bench

# Load benchmark (docs/performance.md): the production server on PostgreSQL + Redis
# driven by wrk (Debian's package, installed here when missing). Its own database
# and cache: LOADTEST_DATABASE_URL, LOADTEST_CACHE_URL (see bench/loadtest.py).
loadtest: install
	@command -v wrk >/dev/null 2>&1 || { \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else echo "Install wrk (e.g. apt-get install wrk) and run make loadtest again." >&2; exit 1; fi; }
	$(PY) -m bench.loadtest $(LOADTEST_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .run.env
