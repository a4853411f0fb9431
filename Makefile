# Two entry points do all set-up on a fresh machine with Python 3.11+:
#   make demo   - start the embedded Postgres (or use DATABASE_URL), migrate, seed
#   make test   - lint and run the whole test suite
# Both create/reuse .venv and install the project into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# sentence-transformers pulls torch; ask for the CPU build explicitly so pip does
# not fetch a multi-GB CUDA wheel. Elsewhere, point TORCH_INDEX_URL at
# https://download.pytorch.org/whl/cpu to get a CPU build from PyTorch's index.
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX_URL ?=
PIP_TORCH_ARGS := $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL),)
STAMP := $(VENV)/.installed

.PHONY: demo test lint install db-start db-stop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIP_TORCH_ARGS) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/matching demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

db-start: $(STAMP)
	$(BIN)/matching db start

db-stop: $(STAMP)
	$(BIN)/matching db stop

clean:
	-$(BIN)/matching db stop
	rm -rf .pgdata $(VENV) .pytest_cache .ruff_cache
