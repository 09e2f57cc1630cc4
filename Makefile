# Two commands matter: `make run` (set up and start everything locally) and `make test`.
# Everything else is a step of those or a check CI runs.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
# Links in e-mails point at the port the server listens on, unless SITE_URL is given.
SITE_URL ?= http://localhost:$(PORT)
# Tests run in file order by default (CI's order); `make test PYTEST_ARGS="-p randomly"`
# shuffles them (pytest-randomly, blocked in pytest.ini until asked for; the seed is printed).
PYTEST_ARGS ?=

# Local targets develop with DEBUG on unless told otherwise; production never uses make.
export DJANGO_DEBUG ?= 1

.PHONY: run test test-embedded lint format check-migrations check-deploy bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The .env first, so the seeding, the server and any `manage.py` typed later agree (see
# clinic/local_env.py); honcho gets --env /dev/null because it would load .env over the real
# environment, where the settings let the real environment win.
run: $(STAMP)
	$(BIN)/python -m clinic.local_env --site-url "$(SITE_URL)"$(if $(VAR_DIR), --var-dir "$(VAR_DIR)")
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_clinic
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  The clinic is starting at http://localhost:$(PORT)/  (Ctrl-C stops the web server and the worker)"
	@echo ""
	PORT=$(PORT) $(BIN)/honcho start -f Procfile.dev --env /dev/null

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The embedded default (SQLite + Celery's filesystem broker) in a throwaway folder.
test-embedded: $(STAMP)
	rm -rf var/embedded-test
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL VAR_DIR=$(CURDIR)/var/embedded-test \
		$(BIN)/python -m pytest -m "not postgres and not redis" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run

check-deploy: $(STAMP)
	DJANGO_DEBUG=0 SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
		ALLOWED_HOSTS=clinic.example.org VAR_DIR=$(CURDIR)/var/check-deploy \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf var/embedded-test var/check-deploy .pytest_cache

# Benchmarks print figures; they are not tests. Set DATABASE_URL to measure on PostgreSQL.
bench: $(STAMP)
	VAR_DIR=$(CURDIR)/var/bench $(BIN)/python manage.py bench_slots
	VAR_DIR=$(CURDIR)/var/bench $(BIN)/python manage.py bench_messages
