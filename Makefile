# Caretaker: developer entry points. Needs only Python 3.11+ on a fresh machine.
#
#   make demo                 everything on this machine, control room at http://127.0.0.1:8000/
#   make test                 the test suite (PYTEST_ARGS="-k ingest -x" to narrow it)
#   make bench                the benchmarks (ingest drain rate, push latency, rule evaluation, an alarm storm)
#   make lint                 ruff, if installed in the venv (optional)
#   make clean                remove the venv, caches and local databases
#
# PYTHON=python3.12 make test picks another interpreter for the venv.

PYTHON ?= python3
VENV   ?= .venv
PYTEST_ARGS ?=

VPY   := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv demo test bench lint clean constraints

help:
	@sed -n '2,10p' Makefile | sed 's/^# \{0,1\}//'

# The venv itself: created once.
$(VPY):
	$(PYTHON) -m venv $(VENV)

# The install: redone only when pyproject.toml or the pins are newer than the stamp. constraints.txt pins
# every package at the versions CI was last green with (`make constraints` writes it anew).
$(STAMP): pyproject.toml constraints.txt | $(VPY)
	$(VPY) -m pip install -c constraints.txt -e '.[test]'
	@touch $(STAMP)

constraints:
	rm -rf .venv-pins && $(PYTHON) -m venv .venv-pins
	.venv-pins/bin/pip install -q -e '.[test]'
	( echo "# Versions CI installs (make constraints writes this file from a fresh install of .[test])"; \
	  .venv-pins/bin/pip freeze --exclude-editable | grep -v '^caretaker' ) > constraints.txt
	rm -rf .venv-pins

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/caretaker demo

# Two passes, both counted: all tests but the serial ones on TEST_WORKERS pytest-xdist workers (the cores, at
# most 4), a test file per worker at a time; then the serial ones (SERIAL_PATHS in tests/conftest.py: faults,
# scale, demo, packaging, rate and latency bounds) one at a time, alone. PYTEST_ARGS goes to both. A pass with
# nothing to run fails (exit 5) when PYTEST_ARGS is empty or both passes are empty; a narrowed run may leave
# one of them nothing.
# The browser tests drive Debian's Chromium (tests/browser/): installed here when missing.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n > 4 ? 4 : n )))

test: $(STAMP)
	@bash .ci/ensure-chromium
	@$(VPY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --serial-tests=skip $(PYTEST_ARGS); parallel=$$?; \
	$(VPY) -m pytest -q --serial-tests=only $(PYTEST_ARGS); serial=$$?; \
	echo "make test: exit $$parallel from the tests on $(TEST_WORKERS) workers, $$serial from the serial ones"; \
	if [ $$parallel -eq 5 ] && [ $$serial -eq 5 ]; then exit 5; fi; \
	$(if $(strip $(PYTEST_ARGS)),,if [ $$parallel -eq 5 ] || [ $$serial -eq 5 ]; then exit 5; fi;) \
	for rc in $$parallel $$serial; do if [ $$rc -ne 0 ] && [ $$rc -ne 5 ]; then exit $$rc; fi; done

bench: $(STAMP)
	$(VPY) -m benchmarks.run
	$(VPY) -m benchmarks.rules
	$(VPY) -m benchmarks.ingest_stages
	$(VPY) -m benchmarks.alarm_path
	$(VPY) -m benchmarks.latency
	$(VPY) -m benchmarks.storm
	$(VPY) -m benchmarks.site_load --devices 10000
	$(VPY) -m benchmarks.size --devices 10000

lint: $(STAMP)
	@if $(VPY) -m ruff --version >/dev/null 2>&1; then \
		$(VPY) -m ruff check . ; \
	else \
		echo "ruff is not installed in $(VENV) ($(VPY) -m pip install ruff); skipping lint"; \
	fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .demo
	rm -f caretaker.db caretaker.db-wal caretaker.db-shm
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
