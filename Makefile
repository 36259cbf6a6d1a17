# Quiver: `make run` opens the app, `make test` runs every check. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: run test lint unit bench bench-gui syslibs clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Quiver needs Python 3.11 or newer (found %s); set PYTHON=/path/to/python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.2"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

syslibs: $(STAMP)
	@sh scripts/qt-system-libs.sh $(BIN)/python

run: $(STAMP) syslibs
	$(BIN)/quiver

lint: $(STAMP)
	$(BIN)/ruff check app tests benchmarks
	$(BIN)/ruff format --check app tests benchmarks
	$(BIN)/mypy app
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS)

# Timing measurements (marker "solo") run alone: beside the parallel run and its PostgreSQL
# server they would measure the other tests' load, not Quiver.
test: $(STAMP) syslibs lint
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q -n $(PYTEST_WORKERS) -m "not solo"
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q -m solo

bench: $(STAMP) syslibs
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m benchmarks.run

# The inbox figures alone (first paint, unit switch, next page, scroll to the end), printed only.
bench-gui: $(STAMP) syslibs
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m benchmarks.gui

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
