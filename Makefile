# openbook: two commands on a fresh machine — `make demo` and `make test`.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
# make bench SIZE=small: a quick run (20,000 rows and events, 1,000 commands, one run each) instead of 1,000,000 and 10,000
SIZE ?= full
BENCH_ARGS := $(if $(filter small,$(SIZE)),--rows 20000 --commands 1000 --repeat 1,)

# System packages: WeasyPrint's Pango, a free font family, poppler-utils (PDF checks),
# Chromium for the browser tests.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils chromium

.PHONY: deps install demo demo-full serve test bench clean

deps:
	@missing=""; \
	if ! command -v dpkg-query >/dev/null 2>&1; then \
	  echo "make deps: not a Debian-family system; install these yourself: $(SYSTEM_PACKAGES)"; exit 0; fi; \
	for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "system packages: all present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	else \
	  echo "missing system packages; run:  sudo apt-get install -y$$missing"; exit 1; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: deps $(STAMP)

demo: install
	$(VENV)/bin/openbook demo
	$(VENV)/bin/openbook serve --host $(HOST) --port $(PORT)

# The generated five-year partnership (demo/scale.py: 20 providers, ~1,000,000 visits a year) in its own database,
# loaded once (a second load is refused, so an existing file is served as it is), then served.
FULL_DATABASE := var/openbook-full.sqlite
demo-full: install
	mkdir -p var
	test -e $(FULL_DATABASE) || $(VENV)/bin/openbook --database sqlite:///$(FULL_DATABASE) demo --scale full
	$(VENV)/bin/openbook --database sqlite:///$(FULL_DATABASE) serve --host $(HOST) --port $(PORT)

serve: install
	$(VENV)/bin/openbook serve --host $(HOST) --port $(PORT)

# One worker per core; each test file runs whole on one worker, in its own order (a module may
# share one loaded demo between its tests), and every test has its own database.
test: install
	$(PY) -m pytest -n auto --dist loadfile

bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis *.egg-info
