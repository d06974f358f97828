"""A replicated SQL database: what a service that IS a database needs beyond its container.

A platform with a database operator (Kubernetes: CloudNativePG) realises the service from this record
instead of from its container: members with streaming replication, the database and its owner created at
bootstrap, continuous archiving to an object store, scheduled base backups and point-in-time recovery. A
platform without one (Docker, a laptop) runs the single server the container describes and ignores the
record; config refuses more than one member there (docs/architecture.md, "The database").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pulumi


@dataclass(frozen=True, kw_only=True)
class ObjectStore:
    """An S3-compatible store outside the cluster: the WAL archive and the base backups."""

    endpoint: str
    bucket: str
    region: str
    path: str
    """Prefix inside the bucket, one per environment, so two stacks never share an archive."""
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]
    retention: str
    """How long backups and WAL are kept (`30d`, `4w`, `3m`)."""
    schedule: str
    """When a base backup is taken: six cron fields, seconds first (`0 0 2 * * *`)."""


@dataclass(frozen=True, kw_only=True)
class Recovery:
    """Rebuild the database from `store` up to `target_time`, beside the running one."""

    target_time: str
    """RFC 3339."""
    source_server: str
    """Whose archive to replay: the running database's server name in the store."""


@dataclass(frozen=True, kw_only=True)
class RestoreVerification:
    """Prove the archive restores: on `schedule`, rebuild the latest backup into a throwaway database beside
    the running one, run `check_sql` in it, and throw it away. A run succeeds only if the query does."""

    job: str
    """The scheduled job's name; its last success is the last verified restore (monitoring reads it)."""
    schedule: str
    """Five-field cron (the scheduler's own syntax)."""
    check_sql: str
    """Fails (an error, non-zero psql) unless the restored database holds what it must."""
    image: str
    """What the job runs in (a shell with the platform's command-line client)."""
    timeout_seconds: int
    """How long the restore may take to become ready."""


@dataclass(frozen=True, kw_only=True)
class Database:
    database: str
    owner: str
    owner_password: pulumi.Output[str]
    superuser_password: pulumi.Output[str]
    image: str
    """The operator's operand image (same major version as the container's)."""
    parameters: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    synchronous: bool = False
    """A commit waits for one standby."""
    archive: ObjectStore | None = None
    recovery: Recovery | None = None
    verification: RestoreVerification | None = None
    """Needs `archive`: what is verified is a restore from it."""
    metrics_port: int = 9187
    """Where the operator's instance manager serves Prometheus metrics (CloudNativePG: 9187)."""
    hba: tuple[str, ...] = ()
    """pg_hba.conf rules ahead of the operator's catch-all password rule (refusing plaintext, say)."""
