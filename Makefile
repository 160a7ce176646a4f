# The README's two commands: `make run` and `make test`. Both set up everything they need.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
CUNYI := $(VENV)/bin/cunyi
PYTEST := $(PY) -m pytest -p no:cacheprovider
export CUNYI_DATA_DIR ?= data

.PHONY: run test setup chromium postgres node lint test-python test-postgres test-js bench bench-quick migrations clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

run: setup
	$(PY) -m server.demo --when-empty
	$(CUNYI) serve --host 127.0.0.1 --port 8000

# Debian's Chromium for the browser tests (never Playwright's own browser download: no internet here).
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	@# A Chinese font, or the browser tests' screenshots show boxes instead of 村医.
	@fc-list :lang=zh | grep -q . || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null)

# The local PostgreSQL server the suite runs against a second time.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || (pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start && sleep 2)
	@pg_isready -h 127.0.0.1 -p 5432

node: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: setup
	$(VENV)/bin/ruff check server sync tests bench
	$(VENV)/bin/mypy --strict sync
	$(VENV)/bin/mypy server

test-js: node
	node --test tests/js/

# Browser tests use Playwright's sync API, which must not share a process with pytest-asyncio's
# event loops (or with another Playwright): each folder runs in a pytest process of its own.
BROWSER_TESTS := tests/pwa tests/pages

test-python: setup chromium
	$(PYTEST) tests $(addprefix --ignore=,$(BROWSER_TESTS))
	for dir in $(BROWSER_TESTS); do $(PYTEST) $$dir || exit 1; done

test-postgres: setup postgres
	CUNYI_TEST_DB=postgres $(PYTEST) tests/server

test: setup chromium postgres node lint test-js test-python test-postgres

bench: setup postgres
	$(PY) -m bench.run --full

bench-quick: setup postgres
	$(PY) -m bench.run --quick

# Write a migration for model changes (then review and commit server/migrations/).
migrations: setup
	$(PY) -c "import json; from server.db import tortoise_config; json.dump(tortoise_config('sqlite:///tmp/cunyi-makemigrations.sqlite3'), open('/tmp/cunyi-tortoise.json', 'w'))"
	$(VENV)/bin/tortoise --config-file /tmp/cunyi-tortoise.json makemigrations $(if $(NAME),--name $(NAME))

clean:
	rm -rf $(VENV) node_modules
