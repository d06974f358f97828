#!/bin/sh
# Prove the off-site backups restore: rebuild the latest backup into a throwaway CloudNativePG cluster,
# run the check query in it, delete it. Exits 0 only when the check passed, so the Job's success is the
# verified restore (Prometheus records the CronJob's last success as
# dreamscape_backup_last_verified_restore_timestamp_seconds; docs/operations.md, "Restores are proven").
#
# Environment (set by components/targets/kubernetes/restore_verify.py):
#   CLUSTER          the throwaway cluster's name (its only member is the pod "$CLUSTER-1")
#   MANIFEST         its Cluster manifest (bootstrap.recovery from the running cluster's archive)
#   CHECK_SQL        the check query (components/restore_check.py); it raises an error unless it passes
#   DATABASE         the database the check connects to
#   TIMEOUT_SECONDS  how long the restore, and the deletion, may take
#   POLL_SECONDS     how often the cluster's state is read (default 10)
set -eu

: "${CLUSTER:?}" "${MANIFEST:?}" "${CHECK_SQL:?}" "${DATABASE:?}" "${TIMEOUT_SECONDS:?}"
POLL_SECONDS="${POLL_SECONDS:-10}"
KIND=clusters.postgresql.cnpg.io

log() {
  printf '%s restore-verify: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"
}

fail() {
  log "FAILED: $*"
  exit 1
}

# `if`, `until` and `||` switch `set -e` off inside a function: every kubectl failure is handled by hand.
present() {
  found=$(kubectl get "$KIND" "$CLUSTER" --ignore-not-found -o name) || fail "cannot read cluster $CLUSTER"
  [ -n "$found" ]
}

ready() {
  state=$(kubectl get "$KIND" "$CLUSTER" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') \
    || fail "cannot read cluster $CLUSTER"
  [ "$state" = "True" ]
}

remove() {
  kubectl delete "$KIND" "$CLUSTER" --ignore-not-found --wait=false >/dev/null || return 1
  deadline=$(($(date +%s) + TIMEOUT_SECONDS))
  while present; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep "$POLL_SECONDS"
  done
}

cleanup() {
  status=$?
  trap - EXIT
  if ! remove; then
    log "FAILED: could not delete $CLUSTER; the next run deletes it first"
    status=1
  fi
  exit "$status"
}

if present; then
  log "deleting $CLUSTER, left by an earlier run"
  remove || fail "could not delete $CLUSTER, left by an earlier run"
fi
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

log "restoring the latest backup into $CLUSTER"
kubectl create -f "$MANIFEST" >/dev/null || fail "could not create $CLUSTER"
deadline=$(($(date +%s) + TIMEOUT_SECONDS))
until ready; do
  [ "$(date +%s)" -lt "$deadline" ] \
    || fail "$CLUSTER not ready after ${TIMEOUT_SECONDS}s (kubectl describe cluster $CLUSTER; logs of $CLUSTER-1-full-recovery)"
  sleep "$POLL_SECONDS"
done

log "restored; running the check query in $DATABASE"
result=$(kubectl exec "$CLUSTER-1" -c postgres -- \
  psql -X -q -v ON_ERROR_STOP=1 -At -F ' ' -d "$DATABASE" -c "$(cat "$CHECK_SQL")") \
  || fail "the check query failed on the restored database"
log "verified: database, tables, last replayed commit: $result"
