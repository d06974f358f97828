"""The stateful guard: refuse config changes that would replace or shrink stored data.

Design: the program exports `statefulIdentity`, a flat map of what defines each stateful service's data:
`<service>.<volume>.size`, `<service>.<volume>.mountPath`, `<service>.serviceName` (the StatefulSet's
peers Service), `<service>.imageMajor` (a major upgrade needs a migration, e.g. pg_upgrade) and
`kafka.clusterId` (the KRaft id every log on disk belongs to). It is computed from the same footprints
the budgets use (components/budgets.py), so new stateful services are covered without a list here.

On every run the program reads its own previous `statefulIdentity` with a StackReference to itself
(`<org>/<project>/<stack>`; with the file backend the org is `organization`). A stack that has never
completed an update has no such output, so the first `up` passes. Any differing key is refused with a
`ConfigError` naming the key, old and new value, why it is dangerous and the override to set.

The override is one change wide: `dreamscape:allowStatefulChange: {"postgres.data.size": "100Gi"}`
allows exactly that key to become exactly that value; any other value is still refused. Remove it after
the update (leaving it is harmless: it only ever permits that one value).

Ordering: the comparison needs the previous outputs, which are only known asynchronously, so it runs in
an `apply`. The target's provider `depends_on` the checked result, so no provider resource (containers,
StatefulSets, PVCs) is registered when the check fails; `pulumi preview` fails the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.budgets import footprints, image_major
from components.config import ConfigError, StackConfig
from components.spec import WorkloadKind, peers_name

_WHY = {
    "size": "a volume claim template is immutable, so the StatefulSet would be replaced, and a volume "
            "cannot shrink. To grow it, expand the PVCs first (docs/operations.md)",
    "mountPath": "the data would be looked for in another directory: the service starts empty",
    "serviceName": "a StatefulSet's serviceName is immutable: the StatefulSet and its members "
                   "would be replaced",
    "imageMajor": "a major version upgrade needs a data migration (e.g. pg_upgrade / dump and restore)",
    "clusterId": "a new KRaft cluster id orphans every log on disk",
    "removed": "removing a stateful service deletes it; its volumes are retained but orphaned",
}


def identity(config: StackConfig) -> dict[str, str]:
    """The config-derived part of the stateful identity (plain strings)."""
    keys: dict[str, str] = {}
    for footprint in footprints(config):
        if footprint.kind is not WorkloadKind.STATEFUL:
            continue
        name = footprint.name
        keys[f"{name}.serviceName"] = peers_name(name)
        major = image_major(footprint.image)
        if major is not None:
            keys[f"{name}.imageMajor"] = str(major)
        for volume in footprint.volumes:
            keys[f"{name}.{volume.name}.size"] = volume.size
            keys[f"{name}.{volume.name}.mountPath"] = volume.mount_path
    return keys


def refused_changes(previous: Mapping[str, Any] | None, current: Mapping[str, Any],
                    allowed: Mapping[str, str]) -> list[str]:
    """One line per change that is not allowed. New keys (new services) are always fine."""
    if not previous:
        return []
    problems = []
    for key in sorted(previous):
        before = str(previous[key])
        after = str(current[key]) if key in current else "removed"
        if before == after or allowed.get(key) == after:
            continue
        why = _WHY["removed"] if after == "removed" else _WHY.get(key.rsplit(".", 1)[-1], "stored data")
        override = f'dreamscape:allowStatefulChange: {{"{key}": "{after}"}}'
        problems.append(f"  - {key}: {before!r} -> {after!r}: {why}.\n    To do it on purpose: {override}")
    return problems


def verify(stack: str, previous: Mapping[str, Any] | None, current: Mapping[str, Any],
           allowed: Mapping[str, str]) -> Mapping[str, Any]:
    problems = refused_changes(previous, current, allowed)
    if problems:
        raise ConfigError("\n".join([
            f"Stack '{stack}': refusing {len(problems)} change(s) that would replace or lose stateful data. "
            "Nothing was changed.",
            *problems,
            "Set the override with `pulumi config set --path 'allowStatefulChange[\"<key>\"]' <value>` "
            "for one update, then remove it.",
        ]))
    return current
