# Two commands do all the setup on a fresh clone: `make run` and `make test`.
# Installs come from the locks (exact versions with hashes, compiled by pip-compile from the
# ranges in requirements*.txt): requirements.lock for the service, requirements-dev.lock for
# tests, lint, bench and load tests. After changing a range: `make lock`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed-dev
PIP_INSTALL := $(BIN)/pip install -q --require-hashes
# Today's coverage of api, qr, push, miniprogram_adapter and web (pyproject.toml), rounded down:
# the suite fails if it drops below.
COVERAGE_FLOOR := 95

.PHONY: run stop test lint migrate bench loadtest faults soak lock clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(RUN_STAMP): requirements.lock | $(BIN)/python
	$(PIP_INSTALL) -r requirements.lock
	touch $(RUN_STAMP)

$(STAMP): requirements-dev.lock | $(BIN)/python
	$(PIP_INSTALL) -r requirements-dev.lock
	touch $(STAMP) $(RUN_STAMP)

migrate: $(RUN_STAMP)
	$(BIN)/alembic upgrade heads

# API on http://127.0.0.1:8000 (gunicorn, 2 workers) + a Dramatiq worker, SQLite + embedded Redis
# by default; DATABASE_URL / REDIS_URL point elsewhere.
run: migrate
	$(BIN)/python -m api.devserver

# Ctrl-C stops `make run`; the embedded Redis under instance/ keeps running until this.
stop:
	test ! -x $(BIN)/python || $(BIN)/python -m api.devserver stop

# ruff + mypy (pyproject.toml), then the suite with coverage
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR) $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Recompile both locks from the ranges (newest versions they allow), with hashes; the runtime
# lock is constrained by the dev lock so both pin the same versions.
LOCK_FLAGS := --generate-hashes --allow-unsafe --strip-extras --no-emit-find-links --no-emit-index-url \
	--no-emit-trusted-host -q
lock: | $(BIN)/python
	$(BIN)/pip install -q 'pip-tools>=7.4,<8'
	$(BIN)/pip-compile $(LOCK_FLAGS) --output-file requirements-dev.lock requirements-dev.txt
	$(BIN)/pip-compile $(LOCK_FLAGS) -c requirements-dev.lock --output-file requirements.lock requirements.txt

clean:
	rm -rf $(VENV) instance

# Load test (its tools are in requirements-dev.lock): private PostgreSQL + redis-server unless
# DATABASE_URL/REDIS_URL are set; results in loadtests/results/. See loadtests/README.md.
loadtest: $(STAMP)
	$(BIN)/python -m loadtests.run $(LOADTEST_ARGS)

# Faults under load (docs/faults.md): frozen and killed stores, a killed job worker. ~6 min.
faults: $(STAMP)
	$(BIN)/python -m loadtests.faults $(FAULTS_ARGS)

# A steady load for 30 minutes: p95 per window, error rate, worker memory (docs/capacity.md).
soak: $(STAMP)
	$(BIN)/python -m loadtests.soak $(SOAK_ARGS)
