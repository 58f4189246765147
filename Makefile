# The two commands a newcomer needs: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test lint migrate bench

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(VENV)/bin/liaison migrate
	$(VENV)/bin/liaison serve

test: $(STAMP_TEST)
	$(VENV)/bin/ruff check bot adapters storage tests
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check bot adapters storage tests

migrate: $(STAMP_RUN)
	$(VENV)/bin/liaison migrate

# Benchmarks (not part of `make test`): prints the table, writes docs/benchmarks.md.
bench: $(STAMP_TEST)
	$(PY) -m bench $(BENCH_ARGS)

# Until the first release, the schema is one migration regenerated from storage/models.py
# (hand-written ones on top of it add what models cannot say: 0002, the ledger's triggers).
schema: $(STAMP_RUN)
	rm -f storage/migrations/versions/0001_initial_schema.py
	# The hand-written migrations wait aside while 0001 is generated, then come back.
	d=$$(mktemp -d) && mv storage/migrations/versions/0002_*.py "$$d"/ && \
	trap 'mv "$$d"/0*.py storage/migrations/versions/; rm -rf "$$d"' EXIT && $(PY) -c "import sys; from alembic import command; \
	from storage.db import alembic_config; command.revision(alembic_config('sqlite:///' + sys.argv[1]), \
	message='initial schema', autogenerate=True, rev_id='0001')" "$$d/schema.db"
	$(VENV)/bin/ruff format -q storage/migrations/versions
	$(VENV)/bin/ruff check -q --fix storage/migrations/versions || true
