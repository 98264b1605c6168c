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
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e ".[test]" "$(TORCH)"
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	$(PIP) install -e ".[bench]" "$(TORCH)"
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/seqscale demo

test: $(VENV)/.installed-test
	$(PY) -m pytest -n 2 -q

fuzz: $(VENV)/.installed-test
	SEQSCALE_FUZZ_EXAMPLES=20000 $(PY) -m pytest -q tests/test_fuzz.py

bench: $(VENV)/.installed-bench
	$(PY) -m benchmarks

$(VENV)/.installed-data: $(VENV)/.installed
	$(PIP) install -e ".[data]" "$(TORCH)"
	touch $@

advice-bench: $(VENV)/.installed-data
	$(PY) -m benchmarks.advice

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check seqscale tests benchmarks
	$(VENV)/bin/ruff format --check seqscale

clean:
	rm -rf $(VENV) seqscale-demo .pytest_cache
