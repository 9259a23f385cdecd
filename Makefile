# Concord: `make run` serves the demo, `make test` runs everything. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run install install-test node chromium coturn system-libs test test-fast test-stress lint format bench clean

run: install node system-libs
	$(BIN)/concord db upgrade
	$(BIN)/concord demo
	@echo "Sign in at http://$(HOST):$(PORT)/login with one of the demo users above."
	$(BIN)/concord serve --host $(HOST) --port $(PORT)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

node: node_modules/.package-lock.json

# Browser tests drive Debian's Chromium (Playwright's own download does not work offline).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "warning: /usr/bin/chromium is missing and cannot be installed here; browser tests will be skipped"; fi

# The TURN tests run Debian's coturn (the relay an operator runs beside Concord for sites
# without UDP); only the tests need it here.
coturn:
	@if command -v turnserver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's coturn for the TURN tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq coturn >/dev/null; \
	else echo "warning: turnserver (coturn) is missing and cannot be installed here; the TURN tests will be skipped"; fi

# Debian libraries the server uses at run time: Pango for WeasyPrint (permit decisions as PDF),
# libmagic (the type of uploaded files), DejaVu fonts (Vietnamese and Lao glyphs in the PDF).
DEBIAN_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libmagic1 fonts-dejavu-core iproute2 ffmpeg poppler-utils fonts-lao
system-libs:
	@missing=$$(for p in $(DEBIAN_LIBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "warning: missing Debian packages:" $$missing "(PDF decisions, upload checks and the network-namespace tests need them)"; fi

# pytest's exit code 5 ("no tests ran") must fail, not pass silently.
test: install-test node chromium coturn system-libs
	$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; exit $$rc

# The whole suite twice in a row beside a steady CPU load (bench/cpu_load.py: STRESS_SHARE of
# every core), as on a busy shared machine. Each run ends with its failures ("FAILED ...");
# the target fails if either run has one.
STRESS_SHARE ?= 0.5
test-stress: install-test node chromium coturn system-libs
	@$(BIN)/python -m bench.cpu_load --share $(STRESS_SHARE) & load=$$!; \
	trap 'kill $$load 2>/dev/null' EXIT INT TERM; \
	failed=0; \
	for run in 1 2; do \
		echo "== stress run $$run of 2"; \
		$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; \
		if [ $$rc -ne 0 ]; then failed=1; fi; \
	done; \
	exit $$failed

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules test-output .pytest_cache .mypy_cache .ruff_cache
