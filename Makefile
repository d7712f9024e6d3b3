# Continuum: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1:8000
DEV_ENV = DEBUG=1 SITE_URL=$(or $(SITE_URL),http://$(HOST))

.PHONY: install lock run test lint format bench clean messages

# The lock: requirements.txt (what a server runs) and requirements-dev.txt (that plus the
# tools for tests and linting), compiled from pyproject.toml with every version pinned
# and hashed. `make install` installs exactly the dev lock (pip-sync removes anything
# else), then the project itself without dependencies; `make lock` refreshes both files
# to the newest releases pyproject.toml allows.
LOCK_FLAGS = --quiet --generate-hashes --allow-unsafe --strip-extras --build-deps-for editable \
	--no-emit-index-url --no-emit-find-links

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	$(VENV)/bin/pip-sync --quiet requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

lock: $(STAMP)
	$(VENV)/bin/pip-compile $(LOCK_FLAGS) --upgrade -o requirements.txt pyproject.toml
	$(VENV)/bin/pip-compile $(LOCK_FLAGS) --upgrade --extra dev --constraint requirements.txt \
		-o requirements-dev.txt pyproject.toml
	$(MAKE) install

# The web server, a background worker (email delivery) and the delivery scheduler; Ctrl-C
# stops all three. The worker uses the database queue unless TASKS_BACKEND=redis.
run: $(STAMP)
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py seed_demo
	@echo "Serving Continuum on http://$(HOST)/ with a delivery worker and scheduler (Ctrl-C to stop)"
	@$(DEV_ENV) $(PY) manage.py delivery_worker & worker=$$!; \
	$(DEV_ENV) $(PY) manage.py delivery_schedule --loop & scheduler=$$!; \
	trap 'kill $$worker $$scheduler 2>/dev/null; wait $$worker $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(PY) manage.py runserver $(HOST)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The translation catalogues (locale/<language>/LC_MESSAGES/django.po) refreshed from the
# code and templates, then compiled to the .mo files Django reads. Both are committed, so
# running the app needs no gettext tools; this target does (apt-get install gettext).
# Translate every new or changed entry before committing: tests/test_catalogues.py fails
# on an empty or fuzzy one, or on a .mo older than its .po.
MESSAGE_LANGUAGES = -l es -l fr
MESSAGE_SKIP = --ignore=.venv --ignore=staticfiles --ignore=tests --ignore=bench --ignore=docs \
	--ignore=deploy --ignore=continuum.egg-info
messages: $(STAMP)
	$(DEV_ENV) $(PY) manage.py makemessages --no-obsolete --add-location file \
		$(MESSAGE_LANGUAGES) $(MESSAGE_SKIP)
	$(DEV_ENV) $(PY) manage.py compilemessages $(MESSAGE_LANGUAGES) $(MESSAGE_SKIP)

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis
