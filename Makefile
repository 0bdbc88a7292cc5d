# Two commands on a fresh machine: `make run` (platform on embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` listens on this machine only: it runs with DEBUG on and the demo's published
# passwords. `make run HOST=0.0.0.0` exposes it to the network; PORT picks another port.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install pdf-libs chromium axe partner-venv localstripe-venv run serve test lint format migrate seed clean

# `make run` is the demo on embedded defaults: development mode unless told otherwise.
run seed migrate: export DEBUG ?= true

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The stamp makes re-running cheap: reinstall only when the lock file changes.
$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

install: $(VENV)/.installed pdf-libs

# Invoice PDFs are rendered by WeasyPrint, which needs Pango from the system (Debian packages).
pdf-libs:
	@ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
	      fonts-dejavu-core; \
	  else \
	    echo "Invoice PDFs need Pango: run 'sudo apt-get install libpango-1.0-0" >&2; \
	    echo "libpangoft2-1.0-0 fonts-dejavu-core', or 'sudo make pdf-libs'." >&2; \
	    exit 1; \
	  fi; \
	}

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	$(BIN)/python manage.py collectstatic --noinput -v0
	@$(BIN)/python manage.py print_urls --host $(HOST) --port $(PORT)
	@# The beat schedule's sweeps, rules and fleet ticks run on the server's own loop (no Celery
	@# and no Redis here): their commands reach the stations only from the process holding them.
	PERIODIC_IN_SERVER=true $(BIN)/daphne -b $(HOST) -p $(PORT) cms.asgi:application

# Production: uvicorn, chosen by measurement (docs/benchmarks.md); configure through the
# environment (.env.example), with DEBUG off and a real SECRET_KEY.
serve: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python -m cms.serve

# The browser tests (tests/browser) drive Debian's chromium through Playwright; Playwright's own
# browser download is never used.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y --no-install-recommends chromium; \
	  else \
	    echo "The browser tests need Debian's chromium: run 'sudo apt-get install chromium'," >&2; \
	    echo "or 'sudo make chromium'." >&2; \
	    exit 1; \
	  fi; \
	}

# The accessibility tests inject axe-core (npm registry, exact version in the lock file) into
# each page; a missing axe-core fails them. Both CI passes run `make test` side by side: the
# lock makes one install (npm from Debian, then `npm ci`) while the other waits.
AXE := tests/browser/node_modules/axe-core/axe.min.js
axe:
	@flock tests/browser/.npm-install.lock sh -c '\
	  [ -f $(AXE) ] && [ $(AXE) -nt tests/browser/package-lock.json ] && exit 0; \
	  if ! command -v npm >/dev/null; then \
	    if [ "$$(id -u)" = 0 ]; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y --no-install-recommends npm || exit 1; \
	    else \
	      echo "The accessibility tests need npm: run sudo apt-get install npm, or sudo make axe." >&2; \
	      exit 1; \
	    fi; \
	  fi; \
	  npm ci --prefix tests/browser --no-audit --no-fund --silent && touch $(AXE)'

# The roaming tests run an independent OCPI implementation (extrawest-ocpi, from PyPI) as the
# partner, in a virtual environment of its own: its pins clash with ours.
PARTNER_VENV := .venv-partner
$(PARTNER_VENV)/.installed: tests/roaming/partner/requirements.txt tests/roaming/partner/setup.sh
	PYTHON=$(PYTHON) sh tests/roaming/partner/setup.sh $(PARTNER_VENV)

partner-venv: $(PARTNER_VENV)/.installed

# The payment tests run localstripe (PyPI), a stateful fake of Stripe's API, as a separate
# process in a virtual environment of its own, with the official stripe library pointed at it.
STRIPE_FAKE_VENV := .venv-localstripe
$(STRIPE_FAKE_VENV)/.installed: tests/billing/localstripe/requirements.txt tests/billing/localstripe/setup.sh
	PYTHON=$(PYTHON) sh tests/billing/localstripe/setup.sh $(STRIPE_FAKE_VENV)

localstripe-venv: $(STRIPE_FAKE_VENV)/.installed

test: install chromium axe partner-venv localstripe-venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate the lock file after editing pyproject.toml (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) $(PARTNER_VENV) $(STRIPE_FAKE_VENV) .pytest_cache db.sqlite3
