# Idempotent local setup: a .venv built from pyproject.toml, rebuilt only when it changes.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

ALLURE := .tools/node_modules/.bin/allure

.PHONY: setup gate test test-e2e test-all lint clean allure mutation prism sarif-schema

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[vendor-clients,lint]'
	touch $(STAMP)

# Byte-compiled sources, as pip leaves an installed tool: an editable checkout under PYTHONDONTWRITEBYTECODE
# (set on this project's machines) would compile every module in every process (~0.1 s of each worker's start).
setup: $(STAMP)
	@$(BIN)/python -m compileall -q src >/dev/null

# The main job: the full gate for all vendors against the embedded mocks; reports go to reports/.
gate: setup
	@$(MAKE) --no-print-directory allure >/dev/null 2>&1 || echo "note: Allure CLI could not be installed (needs npm + Java 17); Allure HTML is skipped"
	$(BIN)/apiconform run --workers 2

# The tool's own tests, fast set (143 s of CPU: about 75 s on 2 idle cores; README "Development" says how it was
# measured). Exit code 5 (no tests collected) is an error
# here, never a silent pass. The slow end-to-end tests (marker e2e: README commands run as written, wheel installs,
# whole runs in subprocesses) and the real-vendor tests (tests/real) run with `make test-e2e`; CI runs both.
# pytest's exit 5 (nothing collected) gets its own message and fails the target.
# Bytecode on for the tests (env -u PYTHONDONTWRITEBYTECODE, set on this project's machines): pytest rewrites the
# asserts of every test module and of every module of a pytest-plugin distribution (apiconform, schemathesis,
# hypothesis: ~350 modules) and caches the result only when it may write bytecode; without the cache every pytest
# process (each xdist worker, each pytester/CLI subprocess) re-parses and re-compiles them all (~2 s CPU each).
PYTEST = run() { env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest tests -q -n 2 -p xdist --dist loadgroup "$$@"; rc=$$?; \
	[ $$rc -ne 5 ] || echo "make: pytest collected no tests (exit 5) - a failure, not a pass" >&2; return $$rc; }; run

test: setup
	@$(PYTEST) -m "not e2e and not real_vendor"

# The slow end-to-end tests and the real TeSLA CE server tests (several minutes).
test-e2e: setup
	@$(PYTEST) -m "e2e or real_vendor"

# Everything in one run (what CI runs, as two steps).
test-all: setup
	@$(PYTEST)

# Mutation testing of checks.py, validation.py and the runner's judge (mutmut 3; a few minutes, not part of CI).
# Prints the mutation score; survivors must be explained in docs/mutation-survivors.md.
mutation: setup
	$(BIN)/python -m pip install -q -e '.[mutation]'
	$(BIN)/python scripts/mutation.py

# Style, types and architecture: ruff, mypy --strict and import-linter (arrows point down, no cycles; the contracts
# are [tool.importlinter] in pyproject.toml); CI runs it before the tests.
lint: setup
	$(BIN)/ruff check src
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo

clean:
	rm -rf $(VENV) reports/allure-results reports/*.json reports/*.xml reports/*.html reports/*.md

# Allure 2 report CLI (needs Java 17+) into .tools/ (gitignored); `apiconform report` finds it there.
allure: $(ALLURE)

# The official SARIF 2.1.0 JSON schema (shipped in Microsoft's @microsoft/jest-sarif package) into .tools/, for the
# test that validates apiconform.sarif against it.
SARIF_SCHEMA := .tools/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json
sarif-schema: $(SARIF_SCHEMA)

$(SARIF_SCHEMA):
	npm install --prefix .tools --no-audit --no-fund @microsoft/jest-sarif@1.0.0-beta.0

# Stoplight Prism (independent mock server) into .tools/, for the benchmark's false-positive figure.
prism: .tools/node_modules/.bin/prism

.tools/node_modules/.bin/prism:
	npm install --prefix .tools --no-audit --no-fund @stoplight/prism-cli@5

$(ALLURE):
	npm install --prefix .tools --no-audit --no-fund allure-commandline@2
