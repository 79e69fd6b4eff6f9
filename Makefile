# `make test`: create .venv, install the locked environment (CPU torch, no CUDA packages), run the tests.
# `make book`: same install, then execute every chapter (quick profile) and build the HTML.
# `make lock`: re-resolve requirements.lock from pyproject.toml (pip-tools' pip-compile).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
TORCH ?= torch==2.13.0
# TORCH_INDEX: the URL of a PyTorch CPU wheel index, added to pip's own index (from pip's
# configuration or PIP_INDEX_URL) for the torch install only, where the default wheel would
# pull CUDA packages. Empty: pip's configured index alone.
TORCH_INDEX ?=
PROFILE ?= quick
STAMP := $(VENV)/.installed
LOCKVENV := .venv-lock

.PHONY: install test test-paper book clean bench lock gpu-check

$(STAMP): pyproject.toml $(LOCK)
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU wheel first, so the lock's torch pin is already met and pulls no CUDA.
	$(BIN)/pip install -q $(TORCH) $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
	# every other package at the version the lock names; then grokcore itself, adding nothing
	$(BIN)/pip install -q -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q -x tests

# every chapter at the paper profile, each config cut to 10 steps (tests/test_paper_profile.py)
test-paper: $(STAMP)
	$(BIN)/python -m pytest -q -m paper tests

book: $(STAMP)
	$(BIN)/grok book --profile $(PROFILE)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_train.py

gpu-check: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH benchmarks/gpu_check.sh

# Resolve against the CPU torch wheel (pip's configured index or find-links, or TORCH_INDEX),
# so the lock names no CUDA package; the wheel's local label (+cpu) is dropped, since
# `torch==2.13.0` is met by both the CPU and the default build. No index URL is written.
lock:
	test -d $(LOCKVENV) || $(PY) -m venv $(LOCKVENV)
	$(LOCKVENV)/bin/pip install -q pip-tools
	CUSTOM_COMPILE_COMMAND='make lock' $(LOCKVENV)/bin/pip-compile -q --upgrade --allow-unsafe --strip-extras --extra cluster --extra test \
	    --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
	    --upgrade-package '$(TORCH)' $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) \
	    --output-file $(LOCK) pyproject.toml
	sed -i 's/^\(torch==[^+ ]*\)+[A-Za-z0-9.]*/\1/' $(LOCK)

clean:
	rm -rf _build book/chapters results
