# `make test`: create .venv, install everything (CPU torch, no CUDA packages), run the tests.
# `make book`: same install, then execute every chapter (quick profile) and build the HTML.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0
# Elsewhere, point this at PyTorch's CPU wheel index to avoid CUDA packages, e.g.
# make test TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
PROFILE ?= quick
STAMP := $(VENV)/.installed

.PHONY: install test book clean bench

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU wheel first, so the package's torch requirement is already met and pulls no CUDA.
	$(BIN)/pip install -q $(TORCH) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX) --extra-index-url https://pypi.org/simple)
	$(BIN)/pip install -q -e '.[cluster,test]'
	$(BIN)/python -m ipykernel install --user --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q -x tests

book: $(STAMP)
	$(BIN)/grok book --profile $(PROFILE)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_train.py

clean:
	rm -rf _build book/chapters results
