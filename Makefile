# Fengqiao: `make demo` to see it, `make test` to prove it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := fengqiao/static/vendor

.PHONY: demo test test-fast lint bench install assets serve worker clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/bootstrap/dist/css/bootstrap.min.css $(VENDOR)/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/
	mkdir -p $(VENDOR)/images && cp node_modules/leaflet/dist/images/* $(VENDOR)/images/
	touch $(VENDOR)/.installed

install: $(STAMP) $(VENDOR)/.installed

assets: $(VENDOR)/.installed

demo: install
	$(BIN)/fengqiao demo

test: install
	$(BIN)/python -m pytest -q -n 2 --dist loadfile $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -q -x -m "not browser"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy fengqiao
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

bench: install
	$(BIN)/python -m benchmarks

serve: install
	$(BIN)/fengqiao serve

worker: install
	$(BIN)/fengqiao worker

clean:
	rm -rf var $(VENDOR) node_modules
