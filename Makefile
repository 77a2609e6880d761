# Two commands do all the setup on a fresh clone: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint migrate worker bench loadtest faults soak clean

$(STAMP): requirements.txt requirements-dev.txt requirements-loadtest.txt
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/alembic upgrade heads

# API on http://127.0.0.1:8000 (gunicorn, 2 workers) + a Dramatiq worker, SQLite + embedded Redis
# by default; DATABASE_URL / REDIS_URL point elsewhere.
run: migrate
	$(BIN)/python -m api.devserver

# ruff + mypy (pyproject.toml), then the suite
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance

# Load test (needs requirements-loadtest.txt): private PostgreSQL + redis-server unless
# DATABASE_URL/REDIS_URL are set; results in loadtests/results/. See loadtests/README.md.
loadtest: $(STAMP)
	$(BIN)/pip install -q -r requirements-loadtest.txt
	$(BIN)/python -m loadtests.run $(LOADTEST_ARGS)

# Faults under load (docs/faults.md): frozen and killed stores, a killed job worker. ~6 min.
faults: $(STAMP)
	$(BIN)/pip install -q -r requirements-loadtest.txt
	$(BIN)/python -m loadtests.faults $(FAULTS_ARGS)

# A steady load for 30 minutes: p95 per window, error rate, worker memory (docs/capacity.md).
soak: $(STAMP)
	$(BIN)/pip install -q -r requirements-loadtest.txt
	$(BIN)/python -m loadtests.soak $(SOAK_ARGS)
