"""The secrets every environment generates, by name. Pure data, shared by config and components."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SecretKind:
    name: str
    length: int
    purpose: str


SECRET_KINDS: tuple[SecretKind, ...] = (
    SecretKind("postgresSuperuser", 32, "PostgreSQL superuser (postgres) password"),
    SecretKind("postgresApp", 32, "PostgreSQL application user password"),
    SecretKind("redis", 32, "Redis requirepass / masterauth"),
    SecretKind("minioRoot", 40, "MinIO root password"),
    SecretKind("minioApp", 40, "MinIO secret key of the Big Pods' user `dreamscape-app` (their buckets only)"),
    SecretKind("jwtAccess", 64, "JWT access-token signing key"),
    SecretKind("jwtRefresh", 64, "JWT refresh-token signing key"),
    SecretKind("grafanaAdmin", 32, "Grafana admin password"),
    SecretKind("backup", 40, "MinIO secret key of the backup user `dreamscape-backup` (nightly pg_dump upload)"),
    SecretKind("pgadmin", 32, "pgAdmin login password (dev tools, user admin@dreamscape.dev)"),
    SecretKind("edgeAuth", 32, "Basic-auth password the edge asks for in front of Grafana (user `ops`)"),
)
SECRET_NAMES = frozenset(kind.name for kind in SECRET_KINDS)
