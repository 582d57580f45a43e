# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
# The suite runs on every core (pytest-xdist); PYTEST_ARGS="-n 0 tests/test_x.py" for one file.
PYTEST_ARGS ?= -n auto
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app

.PHONY: run test lint format install install-dev translations reset-demo

# The installer pinned like everything else. venv also brings the setuptools of the
# Python it was made with (65.5 on 3.11, with known vulnerabilities); nothing here needs
# it at run time, and pip builds any source package with its own isolated copy, but the
# environment's copy is pinned to a current release so an audit of the venv is clean.
PIP_VERSION := 26.3
SETUPTOOLS_VERSION := 84.2.1

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# What the application needs to run (requirements.txt), and only that.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q pip==$(PIP_VERSION) setuptools==$(SETUPTOOLS_VERSION)
	$(BIN)/pip install -q -r requirements.txt
	touch $@

# The test and lint tools on top (requirements-dev.txt includes requirements.txt).
$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations

install-dev: $(VENV)/.dev-installed translations

translations: $(VENV)/.installed
	@for po in translations/*/LC_MESSAGES/*.po; do \
	  $(BIN)/pybabel compile --statistics -f -i "$$po" -o "$${po%.po}.mo" || exit 1; \
	done

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo "Demo accounts (password demo-pass-2026): bjcme 市继委, bma / bjtcm 总会,"
	@echo "  bma_cardio / bma_peds / tcm_acu 分会, pumch 发放证书单位"
	@echo "Serving on http://127.0.0.1:$(PORT)/"
	SUPPORT_PHONE="$${SUPPORT_PHONE-400-812-8811}" $(FLASK) run --host 127.0.0.1 --port $(PORT)

# Drop every row of the local database (SQLite unless DATABASE_URL says otherwise)
# and add the demo data again.
reset-demo: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --reset --yes

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The production shape (deploy/) under load and faults (tests/cluster, never part of
# `make test`): its own PostgreSQL, Redis and HAProxy, two web instances and two job workers
# on free 127.0.0.1 ports, 64 users for two minutes; needs haproxy, redis-server, openssl
# and PostgreSQL's server binaries (Debian packages). About four minutes.
.PHONY: test-cluster
test-cluster: install-dev translations
	CME_CLUSTER=1 $(BIN)/python -m pytest -n 0 -p no:cacheprovider tests/cluster $(CLUSTER_ARGS)

# Style, then the layers (import-linter contracts in pyproject.toml): a wrong-way
# import fails here.
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks (bench/README.md), never part of `make test`. BENCH_ARGS passes options,
# e.g. BENCH_ARGS="--db postgresql"; BENCH_PG_URL names the PostgreSQL server.
.PHONY: bench bench-quick

$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.dev-installed
	$(BIN)/pip install -q -r requirements-bench.txt
	touch $@

bench: $(VENV)/.bench-installed translations
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: $(VENV)/.bench-installed translations
	$(BIN)/python -m bench --quick $(BENCH_ARGS)
