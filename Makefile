# Madoguchi: `make run` (the demo on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint migration cluster clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot all

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench

# While the schema is young: write a migration from the models.
migration: $(STAMP)
	$(BIN)/python -m storage.autogen "$(or $(MSG),schema change)"

# The Procfile topology on PostgreSQL (DATABASE_URL and the production secrets set).
cluster: $(STAMP)
	$(BIN)/python -m bot cluster

clean:
	rm -rf instance/madoguchi.db* instance/dev-secrets.json
