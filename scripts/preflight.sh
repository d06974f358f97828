#!/usr/bin/env bash
# Minimum versions of the tools `make` drives, written once: README.md and docs quote them, and
# tests/release/test_preflight.py checks that they quote these numbers. Sourced by scripts/pulumi.sh.
#   Pulumi CLI 3.211: the release record and the review stacks use stack tags, which the self-managed
#                     (DIY) backends support from 3.211 on.
#   Docker 23.0:      its BuildKit reads named contexts (`COPY --from=infra`) and <Dockerfile>.dockerignore.
#   buildx 0.12:      `docker buildx bake` resolves docker-bake.json's `cwd://` Dockerfile paths.
# shellcheck disable=SC2034  # read by the scripts that source this file
MIN_PULUMI=3.211.0
MIN_DOCKER=23.0.0
MIN_BUILDX=0.12.0

# version_at_least FOUND MINIMUM: true when FOUND (a leading `v` and any suffix allowed) >= MINIMUM.
version_at_least() {
  local found=${1#v}
  found=${found%%[-+ ]*}
  [ "$(printf '%s\n%s\n' "$2" "$found" | sort -V | head -n 1)" = "$2" ]
}

# require_version NAME FOUND MINIMUM HOW-TO-UPGRADE: stop with one clear message when FOUND is too old.
require_version() {
  local found=${2#v}
  if [ -z "$found" ] || ! version_at_least "$found" "$3"; then
    echo "error: $1 ${found:-(version unknown)} is older than the minimum $3. $4 Nothing was run." >&2
    exit 1
  fi
}
