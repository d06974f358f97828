"""The stateful guard: refuse changes that would replace, shrink or orphan stored data.

The program exports `statefulIdentity`: for every stateful service the target will receive, the
properties whose change loses data *on that target* (the target answers: `PlatformFacts.stateful_identity`).
On Kubernetes that is volume size, mount path and storage class, the namespace, the peers Service name, the
member count, the image's major version and the service's declared facts (Kafka's cluster id and voter
set, Redis' mode, Postgres' database, role and image family, MinIO's buckets and release, the retention of
Prometheus and Loki). On Docker, named volumes have no size or class, so only members, mount paths, major
version and declared facts count. `platform.location` (the Docker host or Kubernetes context) covers them
all: another location has none of the volumes. Retention, MinIO release and buckets are refused only in
the direction that loses data (shorter, older, fewer). It is derived from the blueprints, so a new
stateful service is guarded without a list here.

On every run the program reads its own previous `statefulIdentity` with a StackReference to itself. A
stack that never completed an update has none, and passes. Sizes compare as numbers (`50Gi` equals
`51200Mi`): a shrink is refused, and growth is refused too, with the PVC expansion it needs. Every other
differing key is refused with the key, old and new value, why it is dangerous and the override.

The override is one change wide: `dreamscape:allowStatefulChange: {"postgres.data.size": "100Gi"}` allows
exactly that key to become exactly that value. A previous identity from an older program (a flat map)
is compared key by key; one that is not a map of strings is refused with a message, never a traceback.

Ordering: the previous outputs are only known asynchronously, so the comparison runs in an `apply`. The
target's provider `depends_on` its result, so no provider resource is registered when it fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from components.config import ConfigError, rules
from components.config.quantities import format_bytes, memory_bytes
from components.spec import Service, Text, WorkloadKind
from components.targets import PlatformFacts

VERSION = 2
LOCATION_KEY = "platform.location"
"""Where every volume lives: a switch of the Docker host or Kubernetes context is refused like a rename."""
RESET_KEY = "statefulIdentity"
"""`allowStatefulChange: {"statefulIdentity": "reset"}` accepts the current identity over a malformed one."""

_WHY = {
    "size": "a volume claim template is immutable (the StatefulSet would be replaced) and a volume cannot "
            "shrink",
    "mountPath": "the data would be looked for in another directory: the service starts empty",
    "storageClass": "existing claims stay on the old class; new members would start empty on the new one",
    "namespace": "claims live in their namespace: a new namespace starts with empty volumes",
    "serviceName": "a StatefulSet's serviceName is immutable: the StatefulSet and its members would be replaced",
    "members": "members own their data (partitions, hash slots, quorum votes): adding or removing them "
               "needs a reassignment, and removed members' volumes are orphaned",
    "imageMajor": "a major version upgrade needs a data migration (e.g. pg_upgrade / dump and restore)",
    "clusterId": "a new KRaft cluster id orphans every log on disk",
    "voters": "the KRaft controller quorum is fixed in the metadata log; changing it needs a controller migration",
    "mode": "switching between standalone and cluster strands the stored keys",
    "removed": "removing a stateful service deletes it; its volumes are retained but orphaned",
    "location": "another Docker daemon or Kubernetes cluster has none of the volumes: every stateful service "
                "starts empty there, and the data here is orphaned",
    "database": "the services would use a new, empty database; the old one and its data are orphaned",
    "appUser": "a new role owns nothing: the application loses access to its tables, which stay owned by the "
               "old role",
    "imageFamily": "alpine (musl) and debian (glibc) sort text differently, and so may two Debian releases "
                   "(each ships its own glibc): every text index built under the old collation is silently "
                   "corrupt (REINDEX, or dump and restore)",
    "release": "MinIO does not support downgrades: the older server may not read the newer on-disk format",
    "buckets": "a bucket dropped from the list (or renamed) is orphaned with every object in it",
    "retention": "a shorter retention deletes the data older than it at the next compaction",
}
_TO_OPERATOR = (
    "the service moves from its StatefulSet to an operator's cluster ({operator}), which starts with empty "
    "volumes while the data stays in the StatefulSet's: copy it with CloudNativePG's "
    "`bootstrap.initdb.import` from the running server first (docs/operations.md, \"From the StatefulSet to "
    "CloudNativePG\")"
)


def identity(services: Iterable[Service], platform: PlatformFacts) -> dict[str, Text]:
    """The current identity of every stateful service (values may be outputs, e.g. a cluster id)."""
    keys: dict[str, Text] = {}
    for service in services:
        if service.kind is WorkloadKind.STATEFUL:
            keys.update(platform.stateful_identity(service))
    if keys:
        keys[LOCATION_KEY] = platform.location
    return keys


def exported(keys: Mapping[str, str]) -> dict[str, Any]:
    return {"version": VERSION, "keys": dict(keys)}


def _previous_keys(previous: Any) -> tuple[dict[str, str] | None, str | None]:
    """(keys, problem). Accepts the current shape and the older flat map; anything else is a problem."""
    if previous is None or previous == {}:
        return None, None
    if not isinstance(previous, Mapping):
        return None, f"it is a {type(previous).__name__}, not a map"
    if "version" in previous:
        if previous.get("version") != VERSION or not isinstance(previous.get("keys"), Mapping):
            return None, f"its version {previous.get('version')!r} is not {VERSION}"
        previous = previous["keys"]
    bad = sorted(str(k) for k, v in previous.items() if not isinstance(v, (str, int, float)))
    if bad:
        return None, f"the values of {bad} are not plain values"
    return {str(k): str(v) for k, v in previous.items()}, None


def _size_change(key: str, before: str, after: str) -> str | None:
    try:
        old, new = memory_bytes(before), memory_bytes(after)
    except ValueError:
        return None if before == after else f"{key}: {before!r} -> {after!r}: not a size it can compare"
    if new == old:
        return None
    if new < old:
        return (f"{key}: {before!r} -> {after!r} would shrink the volume by {format_bytes(old - new)}: "
                f"{_WHY['size']}")
    return (f"{key}: {before!r} -> {after!r} grows the volume: expand the existing PVCs first "
            "(kubectl patch each claim; the storage class must allow expansion: docs/operations.md), then "
            "the StatefulSet is re-created without its pods losing data")


def _ordered_change(prop: str, before: str, after: str) -> bool:
    """Whether a change of an ordered or set-valued fact loses data: a shorter retention, an older MinIO
    release (its RELEASE.<UTC timestamp> tags sort in time order) or a bucket that is no longer listed.
    Growing any of them keeps everything."""
    if prop == "retention":
        try:
            return rules.prometheus_duration_ms(after) < rules.prometheus_duration_ms(before)
        except ValueError:
            return before != after
    if prop == "release":
        return after < before
    return bool(set(before.split(",")) - set(after.split(",")))


ORDERED_FACTS = frozenset({"retention", "release", "buckets"})
"""Facts whose change is refused only in the direction that loses data (`_ordered_change`)."""


def refused_changes(previous: Mapping[str, str], current: Mapping[str, str],
                    allowed: Mapping[str, str]) -> list[str]:
    """One line per change that is not allowed. New keys (new services, new properties) are fine."""
    problems = []
    for key in sorted(previous):
        before = previous[key]
        after = current.get(key, "removed")
        if allowed.get(key) == after:
            continue
        service, prop = key.rsplit(".", 1) if "." in key else ("", key)
        operator = current.get(f"{service}.operator")
        line: str | None
        if prop == "serviceName" and after == "removed" and operator is not None:
            line = f"{key}: {before!r} -> {after!r}: {_TO_OPERATOR.format(operator=operator)}"
        elif prop == "size" and after != "removed":
            line = _size_change(key, before, after)
            if line is None:
                continue
        elif before == after or (prop in ORDERED_FACTS and after != "removed"
                                 and not _ordered_change(prop, before, after)):
            continue
        else:
            why = _WHY["removed"] if after == "removed" else _WHY.get(prop, "stored data would be lost")
            line = f"{key}: {before!r} -> {after!r}: {why}"
        override = f'dreamscape:allowStatefulChange: {{"{key}": "{after}"}}'
        problems.append(f"  - {line}.\n    To do it on purpose: {override}")
    return problems


def verify(stack: str, previous: Any, current: Mapping[str, str], allowed: Mapping[str, str]) -> dict[str, Any]:
    """The identity to export, or a ConfigError naming every refused change."""
    keys, problem = _previous_keys(previous)
    if problem is not None:
        if allowed.get(RESET_KEY) == "reset":
            return exported(current)
        raise ConfigError(
            f"Stack '{stack}': the previous statefulIdentity output cannot be read ({problem}), so this "
            "update cannot prove it keeps the stored data. Nothing was changed. Inspect it with "
            "`pulumi stack output statefulIdentity --json`; if the current data layout is right, accept it "
            f"once with `pulumi config set --path 'allowStatefulChange.{RESET_KEY}' reset`.")
    problems = refused_changes(keys or {}, current, allowed)
    if problems:
        raise ConfigError("\n".join([
            f"Stack '{stack}': refusing {len(problems)} change(s) that would replace or lose stateful data. "
            "Nothing was changed.",
            *problems,
            "Set the override with `pulumi config set --path 'allowStatefulChange[\"<key>\"]' <value>` "
            "for one update, then remove it.",
        ]))
    return exported(current)
