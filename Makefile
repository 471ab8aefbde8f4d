# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
export BOOKING_ENVIRONMENT ?= development

.PHONY: run run-prod backup test test-postgres e2e-deps lint format bench bench-smoke translations translations-update clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

instance/config.py:
	mkdir -p instance
	$(PYTHON) -c "import secrets; print('SECRET_KEY = ' + repr(secrets.token_hex(32)))" > $@

# Compiled catalogs are build output (not in git): compiled whenever a .po file changed.
CATALOGS_PO := $(wildcard booking/translations/*/LC_MESSAGES/messages.po)
CATALOGS_MO := $(CATALOGS_PO:.po=.mo)

booking/translations/%/LC_MESSAGES/messages.mo: booking/translations/%/LC_MESSAGES/messages.po | $(VENV)/.runtime
	$(BIN)/pybabel compile --statistics -d booking/translations -l $* 2>&1 | tail -1

## run: install, migrate, load the demo offices when empty, print demo logins, serve on :5000
# The demo's finder searches the sample street register unless BOOKING_STREET_REGISTER is set.
run: export BOOKING_STREET_REGISTER ?= $(CURDIR)/booking/offices/data/duesseldorf_streets_sample.csv
run: $(VENV)/.runtime instance/config.py $(CATALOGS_MO)
	$(FLASK) db upgrade
	$(FLASK) setup demo
	$(FLASK) run --host 127.0.0.1 --port 5000

## run-prod: gunicorn with gunicorn.conf.py against the configured database (BOOKING_* settings
## from the environment or instance/config.py; docs/deployment.md). Never migrates by itself:
## it refuses to start while `flask --app wsgi db upgrade` is pending.
run-prod: export BOOKING_ENVIRONMENT = production
run-prod: $(VENV)/.runtime $(CATALOGS_MO)
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## backup: copy the database to instance/backups (BACKUP_DIR=… for another folder)
backup: $(VENV)/.runtime
	$(FLASK) backup $(BACKUP_DIR)

## e2e-deps: Debian's Chromium and axe-core for the browser tests (no browser download)
e2e-deps:
ifneq ($(BOOKING_SKIP_E2E),1)
	@$(MAKE) --no-print-directory node_modules/axe-core/axe.min.js
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
endif

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

## test: every test on SQLite (browser tests included), plus ruff lint and format check
test: $(VENV)/.dev e2e-deps $(CATALOGS_MO)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

## test-postgres: the same suite on a fresh PostgreSQL database (BOOKING_PG_ADMIN_URI to override)
test-postgres: $(VENV)/.dev e2e-deps $(CATALOGS_MO)
	$(BIN)/python tests/pg_run.py $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: the slot engine, the booking race and the side-by-side HTTP run (both engines, minutes)
bench: $(VENV)/.dev
	$(BIN)/python bench/slots.py
	$(BIN)/python bench/booking_race.py
	$(BIN)/python bench/http_load.py

## bench-smoke: every HTTP scenario for a moment, on both engines (no file written)
bench-smoke: $(VENV)/.dev
	$(BIN)/python bench/http_load.py --smoke

## translations-update: extract strings and merge them into every catalog
# de and en hold every string; the families' languages hold the public-facing ones (babel-public.cfg).
FAMILY_LANGUAGES := ar tr uk ru fa
translations-update: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output -o booking/translations/messages.pot .
	$(BIN)/pybabel extract -F babel-public.cfg -k _l -k N_ --no-location --sort-output -o booking/translations/public.pot .
	for lang in de en; do \
	  $(BIN)/pybabel update -w 100 -i booking/translations/messages.pot -d booking/translations -l $$lang --no-fuzzy-matching --ignore-obsolete || exit 1; \
	done
	for lang in $(FAMILY_LANGUAGES); do \
	  if [ -f booking/translations/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update -w 100 -i booking/translations/public.pot -d booking/translations -l $$lang --no-fuzzy-matching --ignore-obsolete || exit 1; \
	  else \
	    $(BIN)/pybabel init -w 100 -i booking/translations/public.pot -d booking/translations -l $$lang || exit 1; \
	  fi; \
	done

## translations: compile the catalogs (make run and make test do it when a .po changed)
translations: $(VENV)/.runtime
	$(BIN)/pybabel compile -d booking/translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
