# The two commands of the README: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint test-js bench install install-dev translations translations-update cert clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

translations:
	$(BIN)/pybabel compile -d translations

# Migrate, build the gazetteer's index once, load the demo event into an empty database (not with DEMO=0),
# create the first admin (password printed once; later starts say how to set a new one), then serve on
# $(HOST):$(PORT) (default 127.0.0.1:5000) with eventlet.
run: install
	$(FLASK) db upgrade
	$(FLASK) gazetteer
	$(FLASK) demo --if-empty
	$(FLASK) staff bootstrap
	$(BIN)/python run.py

# The whole suite: style (ruff), the layer contract (import-linter, docs/architecture.md), the JS unit tests
# (Node's own runner; skipped without node unless REQUIRE_BROWSER=1), then pytest. Browser tests need
# Chromium (Debian's `chromium`); they skip without it unless REQUIRE_BROWSER=1. Redis/PostgreSQL tests
# likewise with REQUIRE_SERVICES=1.
test: install-dev lint test-js
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test-js:
	@if command -v node >/dev/null; then node --test tests/js/; \
	elif [ "$(REQUIRE_BROWSER)" = 1 ]; then echo "node is required for tests/js (REQUIRE_BROWSER=1)"; exit 1; \
	else echo "SKIPPED tests/js: node is not installed (apt-get install nodejs)"; fi

# The bench (bench/run.py, ~15–25 min, loopback only): fan-out against Node socket.io, check-in storm,
# reconnect storm (against Node too), 10,000 clients on one process and on two behind nginx with Redis
# (apt-get install nginx-light; skipped without it), long-polling clients, page weight. Needs Node.js/npm (socket.io is installed into bench/node/node_modules) and Chromium for the pages.
# BENCH_ARGS=--quick for a short run. Tables on stdout; bench/results/bench.json and bench.png.
$(VENV)/.installed-bench: requirements-bench.txt requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-bench.txt
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed

bench: $(VENV)/.installed-bench translations
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# A self-signed certificate for the venue LAN (phones give the camera only to HTTPS pages):
# `make cert` then `CERT_FILE=instance/lan-cert.pem KEY_FILE=instance/lan-key.pem HOST=0.0.0.0 PORT=8443 make run`.
# LAN_IP defaults to this machine's first address; see docs/https.md for trusting it on phones.
LAN_IP ?= $(shell hostname -I 2>/dev/null | cut -d' ' -f1)
cert:
	mkdir -p instance
	openssl req -x509 -newkey rsa:2048 -sha256 -days 30 -nodes -keyout instance/lan-key.pem \
	  -out instance/lan-cert.pem -subj "/CN=Treffpunkt $(LAN_IP)" \
	  -addext "subjectAltName=IP:$(LAN_IP),DNS:localhost,IP:127.0.0.1" \
	  -addext "extendedKeyUsage=serverAuth" -addext "basicConstraints=critical,CA:TRUE"
	@echo "Certificate for https://$(LAN_IP):8443 in instance/lan-cert.pem (valid 30 days)"

clean:
	rm -rf $(VENV) .pytest_cache

# After changing texts: collect them and merge into translations/en (then fill in the English msgstr).
translations-update: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations
