# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app

.PHONY: run test lint format install translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations

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

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks (bench/README.md), never part of `make test`. BENCH_ARGS passes options,
# e.g. BENCH_ARGS="--db postgresql"; BENCH_PG_URL names the PostgreSQL server.
.PHONY: bench bench-quick

$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-bench.txt
	touch $@

bench: $(VENV)/.bench-installed translations
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: $(VENV)/.bench-installed translations
	$(BIN)/python -m bench --quick $(BENCH_ARGS)
