# Everything a fresh machine with Python 3.11+ needs: `make synth` and `make test` create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make synth` needs only aiplane's base install; everything else (tests, lint, Pulumi, AWS) the dev extra.
BASE_STAMP := $(VENV)/.installed-base-from-pyproject
STAMP := $(VENV)/.installed-from-pyproject

.PHONY: venv base synth test lint bench clean conformance conformance-tools function-package monitor-image

base: $(BASE_STAMP)

$(BASE_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "aiplane needs Python 3.11 or newer")'
	@echo "== $(VENV): aiplane's base install (synth, check, validate, cost, plan, init; cdk8s and its Node.js)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e .
	@touch $@

venv: $(STAMP)

$(STAMP): $(BASE_STAMP)
	@echo "== $(VENV): the dev extra for tests and every command (Pulumi, boto3, fairlearn, pytest, ruff, mypy; about 1 GB)"
	$(BIN)/python -m pip install -e '.[dev]'
	@touch $@

synth: $(BASE_STAMP)
	$(BIN)/aiplane synth

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/aiplane synth --check
	$(BIN)/pytest -q

# The real Crossplane engine judges what we generate: builds the pinned Crossplane core, CLI and functions
# from source into .tools/ (needs Go; reused while the pins are unchanged), then runs conformance/.
conformance-tools: $(STAMP)
	$(BIN)/python conformance/build_tools.py

conformance: conformance-tools
	$(BIN)/pytest -q -p no:cacheprovider conformance

# function-aiplane as a Crossplane package, pushed where [tool.aiplane] function-package says, tagged with
# this aiplane's version (what the Function object in manifests/ pins). Needs Docker and the Crossplane CLI;
# not run by CI (no registry there). See docs/function.md.
FUNCTION_PACKAGE = $(shell $(BIN)/python -c 'from aiplane.project import load_settings; print(load_settings().function_package)')
VERSION = $(shell $(BIN)/python -c 'import aiplane; print(aiplane.__version__)')
function-package: $(STAMP)
	mkdir -p .tools
	docker build -f function/Dockerfile -t function-aiplane-runtime:v$(VERSION) .
	crossplane xpkg build -f function/package --embed-runtime-image=function-aiplane-runtime:v$(VERSION) -o .tools/function-aiplane-v$(VERSION).xpkg
	crossplane xpkg push -f .tools/function-aiplane-v$(VERSION).xpkg $(FUNCTION_PACKAGE):v$(VERSION)

# The ethics monitor's image, pushed where [tool.aiplane] ethics-monitor-image points (what the composed
# CronJob runs). Needs Docker; not run by CI. See docs/ethics.md.
MONITOR_IMAGE = $(shell $(BIN)/python -c 'from aiplane.project import load_settings; print(load_settings().ethics_monitor_image)')
monitor-image: $(STAMP)
	docker build -f images/ethics-monitor/Dockerfile -t $(MONITOR_IMAGE) .
	docker push $(MONITOR_IMAGE)

bench: $(STAMP)
	$(BIN)/python benchmarks/engines.py
	$(BIN)/python benchmarks/validate.py
	$(BIN)/python benchmarks/synth.py
	$(BIN)/python benchmarks/check.py
	$(BIN)/python benchmarks/cli.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/checkov.py
	$(BIN)/python benchmarks/stages.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .tools
