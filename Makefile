# The project's two commands. Both set up what they need on a fresh Debian machine:
#   make test   run every quality gate (tests/tools/check.py); STAGES="lint pssyntax" runs a few
#   make demo   run the demo against the emulated lab (tests/lab/demo.py)
#   make bench  run the performance benchmark on the emulated lab (benchmarks/run.py, docs/performance.md);
#               BENCH_ARGS="--quick" for a smoke run. Not part of `make test`.
# Virtualenvs live under .cache/ (git-ignored); `make clean` removes them and the test output.

PYTHON ?= python3
VENV := .cache/venv
VENV_OLDEST := .cache/venv-2.16
REQ := tests/requirements
STAGES ?=
CHECK_ARGS ?=
BENCH_ARGS ?=

.PHONY: test demo bench venvs system-packages-test system-packages-demo clean

test: system-packages-test $(VENV)/.installed $(VENV_OLDEST)/.installed
	$(VENV)/bin/python tests/tools/check.py $(if $(strip $(STAGES)),--only $(STAGES)) $(CHECK_ARGS)

demo: system-packages-demo $(VENV)/.installed
	@if [ ! -f tests/lab/demo.py ]; then \
		echo "make demo: tests/lab/demo.py does not exist yet; the demo is not written. Nothing to run." >&2; \
		exit 1; \
	fi
	$(VENV)/bin/python tests/lab/demo.py

bench: system-packages-demo $(VENV)/.installed
	$(VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

venvs: $(VENV)/.installed $(VENV_OLDEST)/.installed

system-packages-test:
	@$(PYTHON) tests/tools/system_packages.py test

system-packages-demo:
	@$(PYTHON) tests/tools/system_packages.py demo

# ansible-core 2.19 with the test tools and the linters; also the demo's interpreter.
$(VENV)/.installed: requirements.txt $(REQ)/test.txt $(REQ)/tools.txt $(REQ)/constraints-2.19.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV) || { echo "Cannot create $(VENV): install python3-venv (apt-get install -y python3-venv)" >&2; exit 1; }
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q -c $(REQ)/constraints-2.19.txt -r $(REQ)/test.txt -r $(REQ)/tools.txt ansible-core
	@touch $@

# ansible-core 2.16, the oldest release meta/runtime.yml supports: unit tests and sanity.
$(VENV_OLDEST)/.installed: requirements.txt $(REQ)/test.txt $(REQ)/constraints-2.16.txt
	@test -x $(VENV_OLDEST)/bin/python || $(PYTHON) -m venv $(VENV_OLDEST) || { echo "Cannot create $(VENV_OLDEST): install python3-venv (apt-get install -y python3-venv)" >&2; exit 1; }
	$(VENV_OLDEST)/bin/python -m pip install --disable-pip-version-check -q -c $(REQ)/constraints-2.16.txt -r $(REQ)/test.txt ansible-core
	@touch $@

clean:
	rm -rf .cache tests/output
