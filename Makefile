# seqscale — quick start: `make demo`, `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
TORCH  := torch==2.13.0

.PHONY: demo test bench advice-bench lint fuzz install clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install "$(TORCH)"
	$(PIP) install -e ".[torch,dask,keras,polars]" "$(TORCH)"
	$(PY) tools/warm_kernels.py
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e ".[test]" "$(TORCH)"
	touch $@

# the benchmarks get their own venv: the bench extra (darts, tslearn, dask-ml) pins an older
# scikit-learn than the test venv runs
BENCH_VENV ?= .venv-bench
BENCH_PY   := $(BENCH_VENV)/bin/python
RUNS       ?= 1

$(BENCH_VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip --disable-pip-version-check -q install -e ".[dask,bench]"
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/seqscale demo

test: $(VENV)/.installed-test
	$(PY) -m pytest -n 2 -q -m "not slow"

test-all: $(VENV)/.installed-test
	$(PY) -m pytest -n 2 -q

fuzz: $(VENV)/.installed-test
	SEQSCALE_FUZZ_EXAMPLES=20000 $(PY) -m pytest -q tests/test_fuzz.py

# RUNS=5: five full runs, the table shows the median and range of each figure and names every
# goal that failed in any run; the README's benchmark summary is rewritten from it
bench: $(BENCH_VENV)/.installed
	$(BENCH_PY) -m benchmarks --runs $(RUNS) --readme README.md

$(VENV)/.installed-data: $(VENV)/.installed
	$(PIP) install -e ".[data]" "$(TORCH)"
	touch $@

advice-bench: $(VENV)/.installed-data
	$(PY) -m benchmarks.advice

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check seqscale tests benchmarks
	$(VENV)/bin/ruff format --check seqscale
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) $(BENCH_VENV) seqscale-demo .pytest_cache
