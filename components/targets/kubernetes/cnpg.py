"""A database service as a CloudNativePG `Cluster`: pure builders of the custom resources and policies.

What `platform.py` registers for a service that carries a `spec.Database`, instead of a StatefulSet:
- the `Cluster` (`postgresql.cnpg.io/v1`): `instances` members with required anti-affinity on the node's
  hostname, the service's tuning as `postgresql.parameters`, the database and its owner from
  `bootstrap.initdb` with the generated password (a `kubernetes.io/basic-auth` Secret), superuser access
  for the idempotent bootstrap task, optional synchronous replication (`method: any`, one standby);
- with an object store: an `ObjectStore` (`barmancloud.cnpg.io/v1`, the Barman Cloud plugin) referenced
  from `spec.plugins` with `isWALArchiver: true` (the in-tree `barmanObjectStore` is deprecated and removed
  in 1.32), a retention policy, and a `ScheduledBackup` (six-field cron, seconds first) through the plugin;
- with a recovery target: a second `Cluster`, `<name>-pitr`, bootstrapped by `bootstrap.recovery` from the
  store up to `recoveryTarget.targetTime`, beside the running one (docs/operations.md, the restore runbook);
- NetworkPolicies on top of default-deny: the operator (its namespace) reaches the members' instance
  manager and Postgres ports, members reach the API server, and the archive reaches the store's port on
  addresses outside the cluster. Replication between members is zone traffic (same zone).

CloudNativePG creates the `<name>-rw` (primary), `-ro` (replicas) and `-r` Services itself
(`KubernetesFacts.database_hosts`). Each member serves metrics on 9187.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from components.spec import Database, ObjectStore, Recovery, Resources, Service
from components.targets.kubernetes import pki
from components.targets.kubernetes.network import PRIVATE_CIDRS, _policy, _tcp

JsonDict = dict[str, Any]

API = "postgresql.cnpg.io/v1"
BARMAN_API = "barmancloud.cnpg.io/v1"
PLUGIN = "barman-cloud.cloudnative-pg.io"
CLUSTER_LABEL = "cnpg.io/cluster"
RELOAD_LABEL = "cnpg.io/reload"
"""On a Secret the Cluster uses: the instance manager reloads the server when the Secret changes (a renewed
certificate reaches Postgres without a restart)."""
OPERATOR_NAMESPACE = "cnpg-system"
INSTANCE_MANAGER_PORT = 8000
"""The instance manager's status endpoint, which the operator polls on every member."""
PITR_SUFFIX = "-pitr"
SUPERUSER = "postgres"


def app_secret(name: str) -> str:
    return f"{name}-app"


def superuser_secret(name: str) -> str:
    return f"{name}-superuser"


def store_name(name: str) -> str:
    return f"{name}-archive"


def store_secret(name: str) -> str:
    return f"{name}-archive-credentials"


def resources(spec: Resources) -> JsonDict:
    return {"requests": {"cpu": spec.cpu_request, "memory": spec.memory_request},
            "limits": {"cpu": spec.cpu_limit, "memory": spec.memory_limit}}


def _plugin(store: str, server: str, archiver: bool) -> JsonDict:
    entry: JsonDict = {"name": PLUGIN, "parameters": {"barmanObjectName": store, "serverName": server}}
    if archiver:
        entry["isWALArchiver"] = True
    return entry


def cluster_spec(service: Service, database: Database, storage_class: str, labels: Mapping[str, str],
                 annotations: Mapping[str, str]) -> JsonDict:
    """The running cluster."""
    name = service.name
    volume = service.volumes[0]
    postgresql: JsonDict = {"parameters": dict(database.parameters)}
    if database.hba:
        # Appended after the operator's own rules (local peer, replication by certificate) and before its
        # catch-all `host all all all scram-sha-256`; pg_hba's first match wins.
        postgresql["pg_hba"] = list(database.hba)
    if database.synchronous:
        # Quorum-based: a commit returns once ANY one standby has it; `required` refuses writes rather
        # than silently losing the guarantee when no standby answers.
        postgresql["synchronous"] = {"method": "any", "number": 1, "dataDurability": "required"}
    spec: JsonDict = {
        "instances": service.replicas,
        "imageName": database.image,
        "postgresql": postgresql,
        "bootstrap": {"initdb": {"database": database.database, "owner": database.owner,
                                 "secret": {"name": app_secret(name)}}},
        # The bootstrap task re-applies a rotated app password as the superuser (components/infra/postgres.py).
        "enableSuperuserAccess": True,
        "superuserSecret": {"name": superuser_secret(name)},
        "storage": {"size": volume.size, "storageClass": storage_class},
        "resources": resources(service.container.resources),
        "affinity": {"enablePodAntiAffinity": True, "podAntiAffinityType": "required",
                     "topologyKey": "kubernetes.io/hostname"},
        "inheritedMetadata": {"labels": dict(labels), **({"annotations": dict(annotations)} if annotations else {})},
    }
    if service.certificate is not None:
        # The environment's CA signs the server certificate (kubernetes/pki.py), so every client trusts the
        # one CA file it trusts for Redis too. The Secret carries `ca.crt`, which is all serverCASecret needs
        # when serverTLSSecret is given; replication keeps CloudNativePG's own client CA and certificates.
        secret = pki.secret_name(service.certificate)
        spec["certificates"] = {"serverTLSSecret": secret, "serverCASecret": secret}
    if database.archive is not None:
        spec["plugins"] = [_plugin(store_name(name), name, archiver=True)]
    return spec


def recovery_cluster_spec(service: Service, database: Database, recovery: Recovery, store: ObjectStore,
                          storage_class: str, labels: Mapping[str, str]) -> JsonDict:
    """One member rebuilt from the archive up to the target time. It does not archive itself (it would
    write into the running cluster's archive); promote it by the runbook, then archiving follows."""
    del store  # the store is the running cluster's; named by `store_name`
    name = service.name
    spec = cluster_spec(service, database, storage_class, labels, {})
    spec.pop("plugins", None)
    spec["instances"] = 1
    spec["bootstrap"] = {"recovery": {"source": "archive", "database": database.database,
                                      "owner": database.owner, "secret": {"name": app_secret(name)},
                                      "recoveryTarget": {"targetTime": recovery.target_time}}}
    spec["externalClusters"] = [{"name": "archive",
                                 "plugin": _plugin(store_name(name), recovery.source_server, archiver=False)}]
    return spec


def latest_recovery_cluster_spec(service: Service, database: Database, storage_class: str,
                                 labels: Mapping[str, str]) -> JsonDict:
    """One member rebuilt from the running cluster's archive up to its last archived WAL (no recovery
    target), with the running cluster's parameters (a standby's settings may not be lower than the
    primary's). It reads the archive under the running cluster's `serverName` and archives nowhere: no
    `plugins` entry, so no WAL archiver writes over the running cluster's WAL."""
    name = service.name
    spec = cluster_spec(service, database, storage_class, labels, {})
    spec.pop("plugins", None)
    spec.pop("affinity")  # one member: nothing to keep apart
    spec["instances"] = 1
    spec["bootstrap"] = {"recovery": {"source": "archive", "database": database.database,
                                      "owner": database.owner, "secret": {"name": app_secret(name)}}}
    spec["externalClusters"] = [{"name": "archive", "plugin": _plugin(store_name(name), name, archiver=False)}]
    return spec


def object_store_spec(name: str, store: ObjectStore) -> JsonDict:
    secret = store_secret(name)
    return {
        "configuration": {
            "destinationPath": f"s3://{store.bucket}/{store.path}",
            "endpointURL": store.endpoint,
            "s3Credentials": {
                "accessKeyId": {"name": secret, "key": "ACCESS_KEY_ID"},
                "secretAccessKey": {"name": secret, "key": "ACCESS_SECRET_KEY"},
                "region": {"name": secret, "key": "REGION"},
            },
            "wal": {"compression": "gzip"},
            "data": {"compression": "gzip"},
        },
        "retentionPolicy": store.retention,
    }


def scheduled_backup_spec(name: str, store: ObjectStore) -> JsonDict:
    return {
        "schedule": store.schedule,
        "cluster": {"name": name},
        "method": "plugin",
        "pluginConfiguration": {"name": PLUGIN},
        # The first base backup right away: point-in-time recovery needs one before any WAL replays.
        "immediate": True,
        "backupOwnerReference": "self",
    }


def store_port(store: ObjectStore) -> int:
    parts = urlsplit(store.endpoint)
    return parts.port or (443 if parts.scheme == "https" else 80)


def network_policies(name: str, store: ObjectStore | None) -> list[JsonDict]:
    """What default-deny must still let through for a CloudNativePG cluster (`{"name", "spec"}` each)."""
    members = {"match_labels": {CLUSTER_LABEL: name}}
    policies = [
        _policy(f"{name}-from-operator", members, ["Ingress"], ingress=[{
            "from": [{"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": OPERATOR_NAMESPACE}}}],
            "ports": _tcp(INSTANCE_MANAGER_PORT, 5432),
        }]),
    ]
    if store is not None:
        # The Barman Cloud sidecar in each member ships WAL and base backups to the store, off the cluster.
        policies.append(_policy(f"{name}-archive-egress", members, ["Egress"], egress=[{
            "to": [{"ip_block": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_CIDRS)}}],
            "ports": _tcp(store_port(store)),
        }]))
    return policies
