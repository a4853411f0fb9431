# Two entry points do all set-up on a fresh machine with Python 3.11+:
#   make demo   - start the embedded Postgres (or use DATABASE_URL), migrate, seed
#   make test   - lint (ruff, mypy), the TypeScript client's checks (npm test)
#                 and the whole test suite
# Both create/reuse .venv and install the project into it; `make test` also
# installs, when npm is present, the pinned Supabase CLI (tools/supabase) and
# the TypeScript client's packages (clients/typescript).

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
# The Supabase CLI at the exact version in tools/supabase/package-lock.json.
# Without npm it is not installed and its test is skipped, saying why.
CLI_DIR := tools/supabase
CLI_STAMP := $(CLI_DIR)/node_modules/.installed
# The TypeScript client and its example dashboards, at package-lock.json.
CLIENT_DIR := clients/typescript
CLIENT_STAMP := $(CLIENT_DIR)/node_modules/.installed

.PHONY: demo test lint install install-cli install-client test-client db-start db-stop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIP_TORCH_ARGS) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install-cli: $(CLI_STAMP)

$(CLI_STAMP): $(CLI_DIR)/package.json $(CLI_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(CLI_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm not found: the Supabase CLI is not installed and its test will be skipped"; \
	fi

install-client: $(CLIENT_STAMP)

$(CLIENT_STAMP): $(CLIENT_DIR)/package.json $(CLIENT_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(CLIENT_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm not found: the TypeScript client is not checked and the browser test is skipped"; \
	fi

# Type check and unit tests of the TypeScript client (and the dashboards' types).
test-client: $(CLIENT_STAMP)
	@if [ -d $(CLIENT_DIR)/node_modules ]; then cd $(CLIENT_DIR) && npm test; fi

demo: $(STAMP)
	$(BIN)/matching demo

# mypy reads its file list and strictness from pyproject.toml ([tool.mypy]).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) $(CLI_STAMP) $(CLIENT_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(MAKE) --no-print-directory test-client
	$(BIN)/python -m pytest $(PYTEST_ARGS)

db-start: $(STAMP)
	$(BIN)/matching db start

db-stop: $(STAMP)
	$(BIN)/matching db stop

clean:
	-$(BIN)/matching db stop
	rm -rf .pgdata $(VENV) .pytest_cache .ruff_cache $(CLI_DIR)/node_modules $(CLIENT_DIR)/node_modules $(CLIENT_DIR)/dist
