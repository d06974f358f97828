"""PostgreSQL: one primary with the seed's tuning, a database and an application user.

The superuser password reaches the official image as `POSTGRES_PASSWORD_FILE`. The application role is
created (and its password re-applied after a rotation) by an idempotent bootstrap task, not by an
initdb script, because initdb scripts run only once in the life of a volume.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components import spec
from components.budgets import Footprint, footprint_source
from components.config import PostgresConfig, StackConfig
from components.config.images import parse_image_reference
from components.infra.common import resources_of
from components.targets import Target

PORT = 5432
UID = 70  # the `postgres` user of the alpine images
SUPERUSER = "postgres"


@dataclass(frozen=True)
class PostgresArgs:
    config: PostgresConfig
    superuser_password: pulumi.Output[str]
    app_password: pulumi.Output[str]
    target: Target
    host_port: int | None = None
    run_id: str = "0"
    """Changes when a password is rotated, so the bootstrap runs again."""
    labels: Mapping[str, str] = field(default_factory=dict)


def major_version(image: str) -> int:
    tag = parse_image_reference(image).tag or ""
    match = re.match(r"(\d+)", tag)
    if not match:
        raise ValueError(f"cannot read the PostgreSQL major version from {image!r}")
    return int(match[1])


def data_mount(image: str) -> str:
    """Postgres 18 images keep data in /var/lib/postgresql/<major>/docker; mount the parent."""
    return "/var/lib/postgresql" if major_version(image) >= 18 else "/var/lib/postgresql/data"


def server_args(config: PostgresConfig) -> tuple[str, ...]:
    settings = {
        "max_connections": str(config.max_connections),
        "shared_buffers": config.shared_buffers,
        "effective_cache_size": config.effective_cache_size,
        "work_mem": config.work_mem,
        "listen_addresses": "*",
        "password_encryption": "scram-sha-256",
    }
    args: list[str] = ["postgres"]
    for key, value in settings.items():
        args += ["-c", f"{key}={value}"]
    return tuple(args)


def bootstrap_sql(config: PostgresConfig) -> str:
    """Idempotent: create the role and database if missing, and (re)apply the current password."""
    role, database = config.app_user, config.database
    return "\n".join([
        f"SELECT 'CREATE ROLE {role} LOGIN' WHERE NOT EXISTS "
        f"(SELECT FROM pg_roles WHERE rolname = '{role}')\\gexec",
        f"ALTER ROLE {role} WITH LOGIN PASSWORD :'app_password';",
        f"SELECT 'CREATE DATABASE {database} OWNER {role}' WHERE NOT EXISTS "
        f"(SELECT FROM pg_database WHERE datname = '{database}')\\gexec",
        f"GRANT ALL PRIVILEGES ON DATABASE {database} TO {role};",
        "",
    ])


BOOTSTRAP_SCRIPT = (
    f'export PGPASSWORD="$(cat {spec.SECRETS_DIR}/postgres-password)"; '
    'until pg_isready -h postgres -U postgres; do sleep 2; done; '
    'exec psql -h postgres -U postgres -d postgres -v ON_ERROR_STOP=1 '
    f'-v app_password="$(cat {spec.SECRETS_DIR}/postgres-app-password)" -f /etc/dreamscape/bootstrap.sql'
)


def volumes(config: PostgresConfig) -> tuple[spec.DataVolume, ...]:
    return (spec.DataVolume("data", data_mount(config.image), config.storage),)


@footprint_source("postgres")
def footprint(stack: StackConfig) -> list[Footprint]:
    config = stack.postgres
    return [Footprint("postgres", resources_of(config.resources), 1, spec.WorkloadKind.STATEFUL,
                      volumes(config), config.image)]


class Postgres(pulumi.ComponentResource):
    """The environment's PostgreSQL server, its app database, and its app user."""

    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:infra:Postgres", name, None, opts)
        config = args.config
        security = spec.Security(
            run_as_user=UID, run_as_group=UID, fs_group=UID,
            scratch_paths=("/var/run/postgresql", "/tmp"),
        )
        secrets = (
            spec.SecretFile("postgres-password", args.superuser_password),
            spec.SecretFile("postgres-app-password", args.app_password),
        )
        ready = spec.Probe(command=("pg_isready", "-h", "127.0.0.1", "-U", SUPERUSER), period_seconds=10)
        service = spec.Service(
            name="postgres",
            component="database",
            zone=spec.Zone.DATABASE,
            kind=spec.WorkloadKind.STATEFUL,
            ports=(spec.Port("postgres", PORT, host_port=args.host_port),),
            volumes=volumes(config),
            probes=spec.Probes(
                readiness=ready,
                liveness=spec.Probe(tcp_port=PORT, period_seconds=20, failure_threshold=6),
                startup=spec.Probe(command=ready.command, period_seconds=5, failure_threshold=60),
            ),
            labels=dict(args.labels),
            container=spec.Container(
                image=config.image,
                resources=resources_of(config.resources),
                args=server_args(config),
                env=spec.frozen_map({
                    "POSTGRES_USER": SUPERUSER,
                    "POSTGRES_DB": "postgres",
                    "POSTGRES_PASSWORD_FILE": secrets[0].path,
                    "POSTGRES_INITDB_ARGS": "--auth-host=scram-sha-256 --auth-local=trust",
                }),
                secret_files=secrets,
                security=security,
            ),
        )
        self.deployed = args.target.deploy_service(service, self)
        self.bootstrap = args.target.run_task(
            spec.Task(
                name="postgres-bootstrap",
                component="database",
                zone=spec.Zone.DATABASE,
                reaches=frozenset({spec.Zone.DATABASE}),
                run_id=args.run_id,
                container=spec.Container(
                    image=config.image,
                    resources=spec.Resources("50m", "250m", "32Mi", "128Mi"),
                    command=("/bin/sh", "-c", BOOTSTRAP_SCRIPT),
                    secret_files=secrets,
                    config_files=(spec.ConfigFile("/etc/dreamscape/bootstrap.sql", bootstrap_sql(config)),),
                    security=security,
                ),
            ),
            self,
            after=[self.deployed],
        )
        self.host = service.host
        self.port = PORT
        self.database = config.database
        self.app_user = config.app_user
        self.url: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.format(
                "postgresql://{0}:{1}@{2}:{3}/{4}", config.app_user, args.app_password, service.host, PORT,
                config.database,
            )
        )
        self.register_outputs({"host": self.host, "port": self.port, "database": self.database, "url": self.url})
