#!/usr/bin/env bash
# Run a Pulumi command against a stack with the local file backend (no Pulumi Cloud account needed).
# Usage: scripts/pulumi.sh up|preview|destroy|refresh [stack]
set -euo pipefail
cd "$(dirname "$0")/.."
command=${1:?usage: scripts/pulumi.sh up|preview|destroy|refresh [stack]}
stack=${2:-dev}

fail() { echo "error: $*" >&2; exit 1; }

command -v pulumi >/dev/null || fail "the Pulumi CLI is not installed.
  Install it from https://www.pulumi.com/docs/install/ and run this again."

target=$(grep -E '^\s*dreamscape:target:' "Pulumi.$stack.yaml" 2>/dev/null | awk '{print $2}' || true)
case "${target:-kubernetes}" in
  docker)
    command -v docker >/dev/null || fail "stack '$stack' targets Docker, but the docker CLI is not installed."
    docker info >/dev/null 2>&1 || fail "stack '$stack' targets Docker, but the Docker daemon is not reachable.
  Start Docker Desktop, or on Linux: sudo systemctl start docker (and add yourself to the docker group)."
    ;;
  *)
    kubeconfig=${KUBECONFIG:-$HOME/.kube/config}
    [ -f "$kubeconfig" ] || fail "stack '$stack' targets Kubernetes, but no kubeconfig was found at $kubeconfig.
  On the k3s server it is /etc/rancher/k3s/k3s.yaml: export KUBECONFIG=/etc/rancher/k3s/k3s.yaml"
    ;;
esac

scripts/venv.sh >/dev/null
state=$PWD/.pulumi-state
mkdir -p "$state"
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$state}
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  # A per-checkout passphrase encrypts this stack's secrets in the local state. Keep it; losing it
  # means the stack's secrets can no longer be decrypted.
  if [ ! -f "$state/passphrase" ]; then
    (umask 077; venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))' > "$state/passphrase")
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE=$state/passphrase
fi

pulumi stack select --create "$stack" --secrets-provider passphrase >/dev/null
case "$command" in
  up) pulumi up --yes --stack "$stack" ;;
  preview) pulumi preview --diff --stack "$stack" ;;
  destroy) pulumi destroy --yes --stack "$stack" ;;
  refresh) pulumi refresh --yes --stack "$stack" ;;
  *) fail "unknown command '$command' (expected up, preview, destroy or refresh)" ;;
esac
