# Every target sets itself up on a fresh clone: `make test`, `make demo`, `make bench`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
export COLUMNS := 120
export NO_COLOR := 1

.PHONY: setup test bench demo firmware clean

setup: $(VENV)/.setup-test
$(VENV)/.setup-test: pyproject.toml scripts/setup.sh scripts/system-deps.sh scripts/web-deps.sh host/tynys/publish/web/package-lock.json
	scripts/setup.sh test
	touch $@

$(VENV)/.setup-bench: $(VENV)/.setup-test
	scripts/setup.sh test bench
	touch $@

firmware: setup          ## compile firmware/ to .mpy under build/mpy (as deployed)
	$(PY) -m tynys.firmware build

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.setup-bench
	$(PY) bench/run.py $(BENCH_ARGS)

demo: setup
	$(PY) -m tynys.demo $(DEMO_ARGS)

clean:
	rm -rf build .pytest_cache
