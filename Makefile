# bot-generic: `make run` serves the app, `make test` runs the suite. Both build .venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WEB_CONCURRENCY ?= 2
DATABASE_POOL_MAX_SIZE ?= 20

.PHONY: run test lint fmt install install-dev migrate seed serve bench worker beat

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# A random SECRET_KEY on first run; plain http on localhost, so HTTPS-only cookies are off here; the demo's
# plans can be taken with the manual provider (no payment), so the dashboard can be walked end to end.
.env:
	@printf 'SECRET_KEY=%s\nHTTPS_ONLY=0\nBILLING_MANUAL_ENABLED=1\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(64))' 2>/dev/null || python3 -c 'import secrets; print(secrets.token_urlsafe(64))')" > .env
	@echo "Wrote .env with a new random SECRET_KEY"

migrate: install .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py compile_translations
	$(PY) manage.py collectstatic --noinput --verbosity 0

seed: migrate
	$(PY) manage.py seed_demo --base-url http://$(HOST):$(PORT)

# ASGI: gunicorn manages uvicorn workers, each one event loop, so a streamed answer holds no thread
# while it waits on the model. Under ASGI each request's database work runs in a thread of its own:
# connections are pooled (PostgreSQL) or closed after each request (CONN_MAX_AGE=0), never kept per thread.
run: seed
	@if [ "$${DEBUG:-0}" = "1" ]; then \
		CONN_MAX_AGE=0 exec $(VENV)/bin/uvicorn botgeneric.asgi:application --host $(HOST) --port $(PORT) --reload; \
	else \
		CONN_MAX_AGE=0 DATABASE_POOL_MAX_SIZE=$(DATABASE_POOL_MAX_SIZE) exec $(VENV)/bin/gunicorn botgeneric.asgi:application \
			--bind $(HOST):$(PORT) --worker-class uvicorn_worker.UvicornWorker --workers $(WEB_CONCURRENCY) \
			--access-logfile -; \
	fi

# Background tasks (Celery) need a broker: CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// make worker
# Without one the app runs its tasks inline and both refuse to start. Run one beat, any number of workers.
worker: install .env
	exec $(VENV)/bin/celery -A botgeneric worker --loglevel INFO --concurrency $${WORKER_CONCURRENCY:-2}

beat: install .env
	exec $(VENV)/bin/celery -A botgeneric beat --loglevel INFO

test: install-dev
	$(PY) manage.py compile_translations --settings=botgeneric.settings.test
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

fmt: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install-dev
	$(PY) bench/invoke.py
