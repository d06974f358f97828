# DreamScape environments: the two everyday commands are `make up` and `make test`.
SHELL := /bin/bash
STACK ?= dev
LEVEL ?= soft
WAIT ?= 0

.PHONY: up preview destroy reset smoke test lint typecheck unit bench bench-context render

up: ## Bring up a stack (default: dev on the local Docker daemon, local file backend)
	@scripts/pulumi.sh up $(STACK)

preview: ## Show what `up` would change
	@scripts/pulumi.sh preview $(STACK)

destroy: ## Destroy the stack (dev volumes are kept; see docs/operations.md for a full reset)
	@scripts/pulumi.sh destroy $(STACK)

smoke: ## Check a running stack end to end from its outputs: make smoke [STACK=dev] [WAIT=120] (tools/smoke)
	@scripts/venv.sh >/dev/null && export PULUMI_BACKEND_URL=$${PULUMI_BACKEND_URL:-file://$$PWD/.pulumi-state} && \
	  if [ -z "$${PULUMI_CONFIG_PASSPHRASE:-}" ]; then \
	    export PULUMI_CONFIG_PASSPHRASE_FILE=$${PULUMI_CONFIG_PASSPHRASE_FILE:-$$PWD/.pulumi-state/passphrase}; fi && \
	  venv/bin/python -m tools.smoke --stack $(STACK) --wait $(WAIT)

reset: ## Reset a dev stack: make reset LEVEL=soft|hard|nuclear [YES=1 skips the nuclear prompt] (docs/operations.md)
	@scripts/venv.sh >/dev/null && venv/bin/python -m tools.reset $(LEVEL) --stack $(STACK) $(if $(YES),--yes-destroy-all-data,)

test: ## Lint, type-check and run the whole test suite (what CI runs)
	@scripts/test.sh

bench-context: ## Build-context bytes per Big Pod, before (whole workspace) and after (the pod's sources only)
	@scripts/venv.sh >/dev/null && venv/bin/python scripts/context_bench.py

bench: ## Time the program's evaluation of each stack under mocks
	@scripts/venv.sh >/dev/null && venv/bin/python scripts/benchmark.py

render: ## Re-render the Big Pod image files (Dockerfiles, supervisord, nginx)
	@scripts/venv.sh >/dev/null && venv/bin/python -m components.pods.render
