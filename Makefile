# Liboppi: `make run` serves the app, `make test` runs every test. See README.md.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := FLASK_APP=wsgi $(VENV)/bin/flask
HOST ?= 127.0.0.1
PORT ?= 5000
PYTHON ?= python3

.PHONY: run test lint bench translations messages install install-test chromium lrs clean

# The venv is rebuilt only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet -e . --group dev --group bench
	@touch $@

install: $(VENV)/.installed

translations: install
	@$(VENV)/bin/pybabel -q compile -d liboppi/translations

run: install translations
	@mkdir -p instance
	@if $(FLASK) db is-empty; then NEW=1; else NEW=0; fi; \
	$(FLASK) db upgrade && \
	$(FLASK) orgs load && \
	if $(FLASK) --help | grep -q '^  content'; then $(FLASK) content import; fi && \
	if $(FLASK) --help | grep -q '^  quiz'; then $(FLASK) quiz import; fi && \
	if [ $$NEW = 1 ]; then $(FLASK) demo seed; else echo "Demo users exist already; 'flask demo seed' prints their logins."; fi
	$(FLASK) run --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser tests (Playwright cannot download a browser here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Browser tests need /usr/bin/chromium: sudo apt-get install chromium"; fi; \
	fi

# The local Learning Record Store used by the xAPI tests (Learning Locker's xapi-statements).
lrs:
	@if [ -f tests/lrs/package-lock.json ] && [ ! -d tests/lrs/node_modules ]; then \
	  (cd tests/lrs && npm ci --silent --no-audit --no-fund); fi

test: install translations chromium lrs
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: install translations lrs
	@if [ ! -x /usr/bin/wrk ]; then \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
	    || echo "wrk could not be installed: the bounded Python load client is used"; \
	  else echo "No /usr/bin/wrk: the bounded Python load client is used (sudo apt-get install wrk)"; fi; \
	fi
	$(PY) -m bench $(if $(ONLY),--only $(ONLY))

# Extract translatable strings and merge them into the fi and sv catalogues.
messages: install
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o liboppi/translations/messages.pot .
	$(VENV)/bin/pybabel -q update -i liboppi/translations/messages.pot -d liboppi/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance bench/results
