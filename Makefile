# Kinship: `make run` to try it, `make test` for the whole suite, `make check` for linters and type checks.
# Every target installs what it needs first; nothing here needs anything but Python 3.12+ and a Debian/Ubuntu
# machine (system packages are installed with apt-get when missing).

SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv
PYTHON := $(shell scripts/find-python)
BOOTSTRAP := var/bootstrap
UV := $(BOOTSTRAP)/bin/uv
VENV := .venv/bin
MANAGE := $(VENV)/python manage.py

.PHONY: run test check format install assets system-packages clean demo bench-booking bench-media

$(UV):
	@mkdir -p var
	$(PYTHON) -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install --quiet --disable-pip-version-check uv

.venv/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON) --quiet
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend/dist/.built: node_modules/.installed frontend/build.mjs frontend/kinship.scss
	npm run --silent build
	@touch $@

system-packages:
	@scripts/ensure-system-packages

install: system-packages .venv/.installed frontend/dist/.built

assets: frontend/dist/.built

run: install
	KINSHIP_ENV=development $(MANAGE) migrate --no-input
	KINSHIP_ENV=development $(MANAGE) load_demo
	KINSHIP_ENV=development $(VENV)/honcho start -f Procfile

demo: install
	KINSHIP_ENV=development $(MANAGE) migrate --no-input
	KINSHIP_ENV=development $(MANAGE) load_demo

check: .venv/.installed
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	KINSHIP_ENV=test $(VENV)/mypy .
	$(VENV)/lint-imports
	KINSHIP_ENV=test $(MANAGE) makemigrations --check --dry-run

format: .venv/.installed
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

# The whole suite on SQLite (or on the database DATABASE_URL names), with the policy engine's 100% branch
# coverage enforced.
test: install
	KINSHIP_ENV=test DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/pytest -q \
	  --cov=kinship.policy --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=100

# N concurrent clients (CLIENTS, default 200) book M one-place slots (SLOTS, default 20) through the HTTP API of a
# uvicorn server on a fresh PostgreSQL database (BENCH_DATABASE_URL; created, migrated, seeded and dropped).
# Not part of `make test`. Exits non-zero on a double booking or an overspent allowance.
bench-booking: .venv/.installed
	$(VENV)/python bench/booking_rush.py --clients $(or $(CLIENTS),200) --slots $(or $(SLOTS),20) $(BENCH_ARGS)

# K concurrent live calls (CALLS, default 3) for S seconds (SECONDS, default 20), each with a resident, a contact and
# a monitor (aiortc peers) joining through Kinship's WebSocket signalling, against a real Janus, in a private network
# namespace (needs root, ip netns and janus). Not part of `make test`. Exits non-zero if a monitor received audio.
bench-media: .venv/.installed
	$(VENV)/python bench/media_load.py --calls $(or $(CALLS),3) --seconds $(or $(SECONDS),20) $(BENCH_ARGS)

clean:
	rm -rf .venv node_modules frontend/dist var/bootstrap
