# Debrief: `make run` to try it, `make test` to check it. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per lock: each is installed again only when its lock changes.
PROD := $(VENV)/.installed-prod
DEV := $(VENV)/.installed-dev
PORT ?= 8000
SCALE ?= 0.05
# e.g. BENCH_ARGS="--throughput --compare var/bench-scale1.json" (see docs/performance.md)
BENCH_ARGS ?=
# The locks are compiled from pyproject.toml by this uv, in a throwaway venv of its own.
UV_VERSION := 0.13.9
LOCK_TOOL := var/lock-tool
LOCK_FLAGS := --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"

# Local-friendly defaults; production sets these in the environment instead.
export DEBUG ?= true
export DJANGO_SETTINGS_MODULE ?= config.settings

.PHONY: run test fuzz lint format bench install browser lock clean screenshots eval drill

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Debrief needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The locks carry hashes, so pip checks every download against them (--require-hashes).
$(PROD): requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $@

# requirements-dev.lock is the production lock plus the test and lint tools.
$(DEV): requirements-dev.lock requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	touch $@ $(PROD)

install: $(DEV)

run: $(PROD)
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --once
	$(BIN)/python manage.py run_all --port $(PORT)

# Finds or installs Chromium first (its one line is the first of the run), then the suite.
test: $(DEV)
	@browser="$$($(BIN)/python scripts/ensure_browser.py)" && \
	  CHROMIUM_PATH="$$browser" $(BIN)/python -m pytest $(PYTEST_ARGS)

# The fuzz suite with a long budget (make test runs it short): hostile values for every form
# and query parameter of the URLconf. FUZZ_EXAMPLES sets how many are drawn per form.
FUZZ_EXAMPLES ?= 25
fuzz: $(DEV)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/fuzz $(PYTEST_ARGS)

browser: $(DEV)
	@$(BIN)/python scripts/ensure_browser.py >/dev/null

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Without DATABASE_URL the benchmark gets its own SQLite file, so its thousands of generated
# incidents never appear in the demo site.
bench: export DATABASE_URL ?= sqlite:///$(CURDIR)/var/bench.sqlite3
bench: $(DEV)
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bench --scale $(SCALE) $(BENCH_ARGS)

# Refreshes docs/screenshots/ (the README's tour) from the demo data, in a database of its own.
screenshots: export DATABASE_URL ?= sqlite:///$(CURDIR)/var/screenshots.sqlite3
screenshots: $(DEV)
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --once
	@browser="$$($(BIN)/python scripts/ensure_browser.py)" && \
	  CHROMIUM_PATH="$$browser" $(BIN)/python scripts/screenshots.py
# Precision/recall of the blameless check and the importer's field accuracy on both halves of
# their corpora (tests/corpus/); prints a table and rewrites their sections of docs/evaluation.md.
eval: $(DEV)
	$(BIN)/python manage.py evaluate

# The fault drill (not part of `make test`): kills the worker, stops the mail server and
# restarts PostgreSQL mid-work, then counts every email at a local SMTP sink. Needs PostgreSQL
# and Redis (DATABASE_URL / REDIS_URL; default: local ones, database debrief_drill, Redis db 15,
# both wiped first) and permission to run pg_ctlcluster. See docs/reliability.md.
drill: $(DEV)
	$(BIN)/python scripts/drill.py

# Recompiles both locks from pyproject.toml, keeping today's pins where they still fit; pass
# LOCK_ARGS=--upgrade to move them. The dev lock is held to the production lock's versions.
lock:
	test -x $(LOCK_TOOL)/bin/python || $(PYTHON) -m venv $(LOCK_TOOL)
	$(LOCK_TOOL)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	$(LOCK_TOOL)/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) $(LOCK_ARGS) -o requirements.lock
	$(LOCK_TOOL)/bin/uv pip compile pyproject.toml --extra dev -c requirements.lock \
	  $(LOCK_FLAGS) $(LOCK_ARGS) -o requirements-dev.lock

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
