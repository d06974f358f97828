# DreamScape environments. `make` alone prints this help; the everyday commands are `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
STACK ?= dev
LEVEL ?= soft
ARGS ?=
PULUMI := scripts/pulumi.sh

.PHONY: help up preview destroy refresh outputs config init smoke rollback release reset test bench bench-context bench-gate bench-auth render lock
WAIT ?= 0

help: ## Show this help
	@echo "Usage: make <target> [STACK=dev|prod] [ARGS='...']   (stack: $(STACK))"
	@echo
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} \
	  {name[NR] = $$1; text[NR] = $$2; if (length($$1) > width) width = length($$1)} \
	  END {for (i = 1; i <= NR; i++) printf "  %-" width "s  %s\n", name[i], text[i]}'
	@echo
	@echo "Non-dev stacks need the shared backend (PULUMI_BACKEND_URL) and the team passphrase: docs/state.md."

up: ## Create or update the stack (dev: local Docker; others: IMAGE_TAG=<tag>, policy-pack preview, confirm)
	@$(PULUMI) up $(STACK) $(ARGS)

preview: ## Show what `up` would change (non-dev stacks: with the policy pack)
	@$(PULUMI) preview $(STACK) $(ARGS)

destroy: ## Destroy the stack (dev volumes are kept; see docs/operations.md for a full reset)
	@$(PULUMI) destroy $(STACK) $(ARGS)

refresh: ## Reconcile the state with what really runs
	@$(PULUMI) refresh $(STACK) $(ARGS)

outputs: ## Stack outputs, e.g. make outputs ARGS='postgresUrl --show-secrets'
	@$(PULUMI) outputs $(STACK) $(ARGS)

config: ## Stack config, e.g. make config ARGS='set workspaceRoot ../src'
	@$(PULUMI) config $(STACK) $(ARGS)

init: ## Create a shared stack once in the shared backend (docs/state.md), then commit its stack file
	@$(PULUMI) init $(STACK)

smoke: ## Check a running stack end to end from its outputs (tools/smoke): make smoke [STACK=dev] [WAIT=120]
	@$(PULUMI) smoke $(STACK) $(if $(filter-out 0,$(WAIT)),--wait $(WAIT),) $(ARGS)

rollback: ## Redeploy the last good release, or TO=<tag> (python -m tools.release; docs/release.md)
	@$(PULUMI) rollback $(STACK) $(if $(TO),--to $(TO),) $(ARGS)

release: ## Release record of a shared stack, e.g. make release STACK=prod ARGS=status (docs/release.md)
	@$(PULUMI) release $(STACK) $(ARGS)

reset: ## Reset a dev stack: make reset LEVEL=soft|hard|nuclear [YES=1 skips the nuclear prompt] (docs/operations.md)
	@scripts/venv.sh >/dev/null && venv/bin/python -m tools.reset $(LEVEL) --stack $(STACK) $(if $(YES),--yes-destroy-all-data,)

test: ## Lint, type-check and run the whole test suite (what CI runs)
	@scripts/test.sh

bench-context: ## Build-context bytes per Big Pod, before (whole workspace) and after (the pod's sources only)
	@scripts/venv.sh >/dev/null && venv/bin/python scripts/context_bench.py

bench: ## Time the program's evaluation of each stack under mocks
	@scripts/venv.sh >/dev/null && venv/bin/python scripts/benchmark.py

bench-gate: ## Time the gate's steps as on a fresh clone: cold-cache mypy, pytest serial vs on every core
	@scripts/venv.sh >/dev/null && venv/bin/python scripts/gate_bench.py $(ARGS)

bench-auth: ## Per-request cost of NGINX auth_request: the rendered gateway, real NGINX and reference services [ARGS='--requests 1000']
	@scripts/venv.sh >/dev/null && venv/bin/python scripts/auth_bench.py $(ARGS)

render: ## Re-render the Big Pod image files (Dockerfiles, supervisord, nginx) and the docs' service and port tables
	@scripts/venv.sh >/dev/null && venv/bin/python -m components.pods.render && venv/bin/python -m components.doctables

lock: ## Re-lock the Python dependencies after editing a requirements*.txt (docs/release.md)
	@scripts/lock.sh $(ARGS)
