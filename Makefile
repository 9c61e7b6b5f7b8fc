# The two commands of the README: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test install install-dev translations clean

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
	$(BIN)/pybabel compile -q -d translations

# Migrate, load the demo event into an empty database, create the first admin (password printed once),
# then serve on $(HOST):$(PORT) (default 127.0.0.1:5000) with eventlet.
run: install
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	$(FLASK) staff bootstrap
	$(BIN)/python run.py

# The whole suite. Browser tests need Chromium (Debian's `chromium`); they skip without it unless
# REQUIRE_BROWSER=1. Redis/PostgreSQL tests likewise with REQUIRE_SERVICES=1.
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
