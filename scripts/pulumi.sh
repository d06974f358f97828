#!/usr/bin/env bash
# Run a Pulumi command against one stack with the right backend, secrets and safety checks.
# Usage: scripts/pulumi.sh <command> <stack> [extra arguments]
#   up | preview | destroy | refresh     the usual operations
#   outputs [args]                       pulumi stack output [args]   (e.g. postgresUrl --show-secrets)
#   config [args]                        pulumi config [args]         (e.g. set workspaceRoot ../src)
#   init                                 create a shared stack once (docs/state.md), then commit its file
#   smoke [args]                         python -m tools.smoke --stack <stack> with the same settings
#   rollback [args] | release <sub> [args]   python -m tools.release (docs/release.md)
#
# Non-dev up/preview deploy one release: IMAGE_TAG=<tag> (what the image pipeline pushed), else the
# release the stack runs now (its `dreamscape:release:current` tag). It is set for the command only.
#
# dev keeps its state on this machine (./.pulumi-state, generated passphrase). Every other stack lives in
# a shared backend (PULUMI_BACKEND_URL: s3://, azblob://, gs:// or Pulumi Cloud): the local file backend
# is refused for them unless ALLOW_LOCAL_BACKEND=1, because a laptop-local prod state is a second,
# diverging prod. docs/state.md explains the backends, the secrets providers and the encryption salt.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/pulumi.sh up|preview|destroy|refresh|outputs|config|init|smoke|rollback|release <stack> [args]"
command=${1:?$usage}
stack=${2:?$usage}
shift 2

fail() { echo "error: $*" >&2; exit 1; }

# -- 1. the stack must be one we know: a tracked Pulumi.<stack>.yaml ------------------------------------
known=$(for f in Pulumi.*.yaml; do n=${f#Pulumi.}; echo "${n%.yaml}"; done | sort | paste -sd' ')
if [[ ! "$stack" =~ ^[a-z][a-z0-9-]*$ ]] || [ ! -f "Pulumi.$stack.yaml" ]; then
  fail "unknown stack '$stack'. Known stacks: ${known// /, }.
  A stack needs its Pulumi.<stack>.yaml in this repository; review stacks are run by python -m tools.review."
fi
local_stack=false
[ "$stack" = dev ] && local_stack=true

# -- 2. backend: dev is local; every other stack needs a shared backend ---------------------------------
state=$PWD/.pulumi-state
if $local_stack; then
  export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$state}
else
  backend=${PULUMI_BACKEND_URL:-}
  if [ -z "$backend" ] || [[ "$backend" == file://* ]]; then
    if [ "${ALLOW_LOCAL_BACKEND:-}" != 1 ]; then
      fail "stack '$stack' must use the shared state backend, but PULUMI_BACKEND_URL is ${backend:-not set}.
  Set it to the team's backend, e.g. export PULUMI_BACKEND_URL=s3://dreamscape-pulumi-state (docs/state.md),
  or, for a throwaway experiment only, ALLOW_LOCAL_BACKEND=1 to use the local file backend on purpose.
  Nothing was run."
    fi
    export PULUMI_BACKEND_URL=${backend:-file://$state}
    echo "warning: stack '$stack' uses the local file backend $PULUMI_BACKEND_URL (ALLOW_LOCAL_BACKEND=1)" >&2
  fi
fi
export PULUMI_SKIP_UPDATE_CHECK=true

# -- 3. secrets: dev generates its own passphrase; shared stacks never do -------------------------------
secrets_provider=${SECRETS_PROVIDER:-passphrase}
if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  if $local_stack; then
    # A per-checkout passphrase encrypts dev's secrets in the local state. Keep it: losing it means
    # the stack's secrets can no longer be decrypted.
    mkdir -p "$state"
    if [ ! -f "$state/passphrase" ]; then
      (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > "$state/passphrase")
    fi
    export PULUMI_CONFIG_PASSPHRASE_FILE=$state/passphrase
  elif [ "$secrets_provider" = passphrase ] && ! grep -q '^secretsprovider:' "Pulumi.$stack.yaml"; then
    fail "stack '$stack' encrypts its secrets with the team's passphrase: set PULUMI_CONFIG_PASSPHRASE or
  PULUMI_CONFIG_PASSPHRASE_FILE (from the team's password manager; docs/state.md). Nothing was run."
  fi
fi

# -- 4. the encryption salt ---------------------------------------------------------------------------
# Shared stacks: committed on purpose (`init` writes it once; the file's `secure:` values need it).
# dev: never tracked. Each checkout has its own passphrase, so its salt lives only in the local state;
# the line Pulumi writes is removed again after every command and Pulumi reads the salt from the state.
stack_file=Pulumi.$stack.yaml
if $local_stack; then
  export PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true
  if ! grep -q '^encryptionsalt:' "$stack_file"; then
    trap 'sed -i.bak "/^encryptionsalt:/d" "$stack_file" && rm -f "$stack_file.bak"' EXIT
  fi
elif [ "$command" != init ] && ! grep -qE '^(encryptionsalt|secretsprovider):' "$stack_file"; then
  fail "$stack_file has no encryptionsalt or secretsprovider: the stack was never initialised.
  Run scripts/pulumi.sh init $stack once (docs/state.md) and commit $stack_file. Nothing was run."
fi

# -- 5. the tools this command needs ------------------------------------------------------------------
command -v pulumi >/dev/null || fail "the Pulumi CLI is not installed.
  Install it from https://www.pulumi.com/docs/install/ and run this again."
# shellcheck disable=SC1091  # a path from the repository root (the cd above), not from this file
source scripts/preflight.sh
require_version "the Pulumi CLI" "$(pulumi version 2>/dev/null || true)" "$MIN_PULUMI" \
  "Upgrade it (https://www.pulumi.com/docs/install/) and run this again."
# A cluster stack (dreamscape:kind: cluster, docs/cluster.md) reaches its hosts over SSH: it needs neither
# Docker, a kubeconfig nor an image release.
kind=$(grep -E '^\s*dreamscape:kind:' "$stack_file" 2>/dev/null | awk '{print $2}' || true)
case "$command" in
  up|preview|destroy|refresh|rollback)
    target=$(grep -E '^\s*dreamscape:target:' "$stack_file" 2>/dev/null | awk '{print $2}' || true)
    if [ "${kind:-environment}" = cluster ]; then
      target=ssh
    elif grep -qE '^\s*clusterStack:' "$stack_file"; then
      target=cluster-stack  # the kubeconfig comes from the cluster stack's output
    fi
    case "${target:-kubernetes}" in
      ssh|cluster-stack) ;;
      docker)
        command -v docker >/dev/null || fail "stack '$stack' targets Docker, but the docker CLI is not installed."
        docker info >/dev/null 2>&1 || fail "stack '$stack' targets Docker, but the Docker daemon is not reachable.
  Start Docker Desktop, or on Linux: sudo systemctl start docker (and add yourself to the docker group)."
        require_version "Docker Engine" "$(docker version --format '{{.Server.Version}}' 2>/dev/null || true)" \
          "$MIN_DOCKER" "Its BuildKit must read named build contexts: upgrade Docker Engine or Docker Desktop."
        require_version "docker buildx" "$(docker buildx version 2>/dev/null | awk '{print $2}' || true)" \
          "$MIN_BUILDX" "docker buildx bake reads docker-bake.json: install or upgrade the buildx plugin (docker-buildx-plugin)."
        ;;
      *)
        kubeconfig=${KUBECONFIG:-$HOME/.kube/config}
        [ -f "$kubeconfig" ] || fail "stack '$stack' targets Kubernetes, but no kubeconfig was found at $kubeconfig.
  On the k3s server it is /etc/rancher/k3s/k3s.yaml: export KUBECONFIG=/etc/rancher/k3s/k3s.yaml"
        ;;
    esac
    ;;
esac
scripts/venv.sh >/dev/null
policy=()
if ! $local_stack; then
  scripts/venv.sh --policy >/dev/null
  policy=(--policy-pack policy)
fi

# A shared stack's `up` outside CI is confirmed by a person at a terminal: without one, stop now, before
# the release below changes any config.
if ! $local_stack && [ "$command" = up ] && [ "${CI:-}" != true ] && [ ! -t 0 ]; then
  fail "deploying '$stack' asks for confirmation on a terminal; CI sets CI=true instead. Nothing was run."
fi

# -- 6. select the stack (only dev is created implicitly) ---------------------------------------------
if [ "$command" = init ]; then
  pulumi stack init "$stack" --secrets-provider "$secrets_provider"
  echo "stack '$stack' created in $PULUMI_BACKEND_URL; commit $stack_file (its encryption salt is meant to be tracked)."
  exit 0
fi
if $local_stack; then
  pulumi stack select --create "$stack" --secrets-provider passphrase >/dev/null
else
  pulumi stack select "$stack" >/dev/null 2>&1 || fail "stack '$stack' does not exist in $PULUMI_BACKEND_URL.
  Check PULUMI_BACKEND_URL, or create it once with scripts/pulumi.sh init $stack (docs/state.md)."
fi

# -- 7. non-dev up/preview: which release ------------------------------------------------------------
release=
if ! $local_stack && [ "${kind:-environment}" != cluster ] && { [ "$command" = up ] || [ "$command" = preview ]; }; then
  release=${IMAGE_TAG:-$(pulumi stack tag get dreamscape:release:current --stack "$stack" 2>/dev/null || true)}
  if [ -z "$release" ] || [ "$release" = latest ] || [[ ! "$release" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
    fail "which release should '$stack' run? Set IMAGE_TAG to an image tag the image pipeline pushed
  (a commit SHA or a semver tag; never latest): docs/release.md. Nothing was run."
  fi
  # Set for this command only: the tracked stack file is restored afterwards, the stack's tags keep the record.
  saved=$(mktemp)
  cp "$stack_file" "$saved"
  trap 'cp "$saved" "$stack_file"; rm -f "$saved"' EXIT
  pulumi config set imageTag "$release" --stack "$stack" >/dev/null
  echo "release: '$stack' gets image tag $release"
fi

# -- 8. run ---------------------------------------------------------------------------------------------
case "$command" in
  up)
    if $local_stack; then
      pulumi up --yes --stack "$stack" "$@"
    elif [ "${CI:-}" = true ]; then
      # CI: the deploy workflow's approval was the confirmation; preview first so the log shows the plan.
      pulumi preview --diff "${policy[@]}" --stack "$stack" "$@"
      pulumi up --yes --skip-preview "${policy[@]}" --stack "$stack" "$@"
    else
      pulumi preview --diff "${policy[@]}" --stack "$stack" "$@"
      read -r -p "Deploy these changes to '$stack'? Type the stack name to confirm: " answer
      [ "$answer" = "$stack" ] || fail "not confirmed; nothing was deployed."
      pulumi up --yes --skip-preview "${policy[@]}" --stack "$stack" "$@"
    fi
    if [ -n "$release" ]; then
      pulumi stack tag set dreamscape:release:current "$release" --stack "$stack"
    fi
    ;;
  preview) pulumi preview --diff "${policy[@]}" --stack "$stack" "$@" ;;
  destroy)
    if $local_stack; then pulumi destroy --yes --stack "$stack" "$@"
    else pulumi destroy --stack "$stack" "$@"  # Pulumi asks for confirmation itself
    fi
    ;;
  refresh) pulumi refresh --yes --stack "$stack" "$@" ;;
  outputs) pulumi stack output --stack "$stack" "$@" ;;
  config) pulumi config --stack "$stack" "$@" ;;
  smoke) venv/bin/python -m tools.smoke --stack "$stack" "$@" ;;
  rollback) venv/bin/python -m tools.release rollback --stack "$stack" "$@" ;;
  release)
    [ $# -gt 0 ] || fail "usage: scripts/pulumi.sh release <stack> status|deployed|mark-good|rollback|canary [args]"
    sub=$1
    shift
    venv/bin/python -m tools.release "$sub" --stack "$stack" "$@"
    ;;
  *) fail "unknown command '$command'. $usage" ;;
esac
