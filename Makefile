# Central's developer commands. Only Python 3.11+ is needed beforehand: `make install`
# bootstraps uv (pinned) into .tools/, then uv builds .venv/ from uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
# The TypeScript client and the sign-in page the gateway serves at / (README, "From a browser").
CLIENT := clients/typescript

.PHONY: install generate lint test fuzz bench up breaking

install: $(UV)
	$(UV) sync --locked --all-groups --python $(PYTHON) --quiet
	npm ci --prefix $(CLIENT) --no-audit --no-fund --silent && npm run --prefix $(CLIENT) --silent build
	test -x /usr/bin/chromium || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	npm ci --prefix tests/support/oidc --no-audit --no-fund --silent

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# Regenerate gen/ (Python code and .pyi stubs) and third_party/ from protos/; both are
# committed, and `make lint` fails when they drift from the protos.
generate: install
	$(BIN)/python -m tools.protogen
	$(BIN)/central openapi --output $(CLIENT)/build/openapi.json
	npm run --prefix $(CLIENT) --silent generate

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/buf lint
	$(BIN)/buf format --diff --exit-code
	$(BIN)/python -m tools.protogen --check
	$(BIN)/central openapi --output $(CLIENT)/build/openapi.json
	npm run --prefix $(CLIENT) --silent check-generated
	npm run --prefix $(CLIENT) --silent typecheck

# Breaking-change check of the protos against main (run on a branch).
breaking: install
	$(BIN)/buf breaking --against '.git#branch=main'

test: install
	$(BIN)/pytest

# Schemathesis, every check, against the real stack's /openapi.json, without and with a
# session: no 5xx, no response that breaks the document. Bounded: CENTRAL_FUZZ_MAX_EXAMPLES
# per operation, CENTRAL_FUZZ_SECONDS per run (tests/e2e/fuzz_openapi.py).
fuzz: install
	$(BIN)/pytest tests/e2e/fuzz_openapi.py -p no:cacheprovider -s -q

bench: install
	$(BIN)/python -m bench
	$(BIN)/python -m bench.transcription

up: install
	$(BIN)/central up
