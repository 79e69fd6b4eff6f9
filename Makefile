# `make test`: create .venv, install everything (CPU torch, no CUDA packages), run the tests.
# `make book`: same install, then execute every chapter (quick profile) and build the HTML.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0
# TORCH_INDEX: the URL of a PyTorch CPU wheel index, added to pip's own index (from pip's
# configuration or PIP_INDEX_URL) for the torch install only, where the default wheel would
# pull CUDA packages. Empty: pip's configured index alone.
TORCH_INDEX ?=
PROFILE ?= quick
STAMP := $(VENV)/.installed

.PHONY: install test book clean bench

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU wheel first, so the package's torch requirement is already met and pulls no CUDA.
	$(BIN)/pip install -q $(TORCH) $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
	$(BIN)/pip install -q -e '.[cluster,test]'
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
