"""PostgreSQL: a primary (and, where the platform has a database operator, replicas) with the seed's
tuning, a database and an application user.

The service carries a `spec.Database` record: on Kubernetes CloudNativePG realises it as a `Cluster` of
`postgres.instances` members with continuous archiving off site; on Docker the container below runs as
the one server (docs/architecture.md, "The database").

The superuser password reaches the official image as `POSTGRES_PASSWORD_FILE`, which the image reads only
at initdb; so the server's start script re-applies it over the local socket (trusted) on every start, and a
rotated superuser password takes effect when the rotation rolls the server. The application role is
created (and its password re-applied after a rotation) by an idempotent bootstrap task, not by an
initdb script, because initdb scripts run only once in the life of a volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import pulumi

from components import spec
from components.config import BackupConfig, PostgresConfig, RestoreVerifyConfig
from components.deploy import BlueprintComponent
from components.images import major_version, tag_of
from components.infra.common import resources_of
from components.restore_check import check_sql
from components.spec import tls
from components.targets.facts import DatabaseHosts

NAME = "postgres"
PORT = 5432
UID = 70  # the `postgres` user of the alpine images
SUPERUSER = "postgres"
MAINTENANCE_DATABASE = "postgres"
"""The database every server has, where the superuser connects before the app's database exists."""
SUPERUSER_PASSWORD_KEY = "postgres-password"
APP_PASSWORD_KEY = "postgres-app-password"


def data_mount(image: str) -> str:
    """Postgres 18 images keep data in /var/lib/postgresql/<major>/docker; mount the parent."""
    major = major_version(image)
    if major is None:
        raise ValueError(f"cannot read the PostgreSQL major version from {image!r}: tag it (postgres:18.1@sha256:...)")
    return "/var/lib/postgresql" if major >= 18 else "/var/lib/postgresql/data"


def tuning(config: PostgresConfig) -> dict[str, str]:
    """The seed's tuning, the same on every platform."""
    return {
        "max_connections": str(config.max_connections),
        "shared_buffers": config.shared_buffers,
        "effective_cache_size": config.effective_cache_size,
        "work_mem": config.work_mem,
        "password_encryption": "scram-sha-256",
    }


SSL_MODE = "verify-full"
"""libpq checks the server's chain against the CA file and its name against the host it dialled
(https://www.postgresql.org/docs/current/libpq-ssl.html, "sslmode"): an on-path server with any other
certificate, or this environment's certificate for another host, is refused."""
PLAINTEXT_MODE = "disable"
REJECT_PLAINTEXT = "hostnossl all all all reject"
"""The server side of verify-full: a TCP connection without TLS is refused whoever it claims to be
(https://www.postgresql.org/docs/current/auth-pg-hba-conf.html, `hostnossl`)."""


def server_tls_settings(directory: str = tls.TLS_DIR) -> dict[str, str]:
    """postgresql.conf's TLS settings for a server that runs its own container (a platform with a PKI but
    no operator; CloudNativePG sets its own from the same Secret). TLS 1.3 only: every client here is
    libpq 13+ or node-postgres on OpenSSL 3."""
    return {"ssl": "on", "ssl_cert_file": f"{directory}/tls.crt", "ssl_key_file": f"{directory}/tls.key",
            "ssl_ca_file": f"{directory}/ca.crt", "ssl_min_protocol_version": "TLSv1.3"}


def client_env(transit_tls: bool, ca_file: str = tls.CA_FILE) -> dict[str, str]:
    """libpq's own variables (psql, pg_dump, pg_isready read them) and the application contract's."""
    if not transit_tls:
        return {"PGSSLMODE": PLAINTEXT_MODE, "DATABASE_SSL_MODE": PLAINTEXT_MODE}
    return {"PGSSLMODE": SSL_MODE, "PGSSLROOTCERT": ca_file,
            "DATABASE_SSL_MODE": SSL_MODE, "DATABASE_SSL_ROOT_CERT": ca_file}


def url_query(transit_tls: bool, ca_file: str = tls.CA_FILE) -> str:
    """The `sslmode` (and `sslrootcert`) parameters of a libpq connection URI."""
    if not transit_tls:
        return f"sslmode={PLAINTEXT_MODE}"
    return f"sslmode={SSL_MODE}&sslrootcert={ca_file}"


def certificate(hosts: DatabaseHosts) -> spec.ServerCertificate:
    """The names clients dial: the read-write and read-only hosts (CloudNativePG's `-rw` and `-ro`
    Services, or the one server's name)."""
    return spec.ServerCertificate(name=NAME, dns_names=tuple(dict.fromkeys((hosts.read_write, hosts.read_only))))


def server_args(config: PostgresConfig, transit_tls: bool = False) -> tuple[str, ...]:
    settings = {**tuning(config), "listen_addresses": "*", **(server_tls_settings() if transit_tls else {})}
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


def bootstrap_script(host: str) -> str:
    """Waits for the read-write server at `host`, then applies bootstrap.sql as the superuser."""
    return (
        f'export PGPASSWORD="$(cat {spec.SECRETS_DIR}/{SUPERUSER_PASSWORD_KEY})"; '
        f'until pg_isready -h {host} -U {SUPERUSER}; do sleep 2; done; '
        # After a superuser rotation the server accepts the new password once it has rolled and re-applied it.
        f'tries=0; until psql -h {host} -U {SUPERUSER} -d {MAINTENANCE_DATABASE} -tAc "SELECT 1" >/dev/null 2>&1; do '
        'tries=$((tries + 1)); [ "$tries" -ge 90 ] && break; sleep 2; done; '
        f'exec psql -h {host} -U {SUPERUSER} -d {MAINTENANCE_DATABASE} -v ON_ERROR_STOP=1 '
        f'-v app_password="$(cat {spec.SECRETS_DIR}/{APP_PASSWORD_KEY})" -f /etc/dreamscape/bootstrap.sql'
    )


BOOTSTRAP_SCRIPT = bootstrap_script(NAME)


SOCKET_DIR = "/var/run/postgresql"
SUPERUSER_SQL = f"ALTER ROLE {SUPERUSER} WITH PASSWORD :'superuser_password';\n"
"""Applied over the local socket (`--auth-local=trust`), so it works whatever password the role had."""

def start_script(socket_dir: str = SOCKET_DIR, password_file: str = f"{spec.SECRETS_DIR}/{SUPERUSER_PASSWORD_KEY}",
                 port: int = PORT) -> str:
    """The server's start: the image's entrypoint in the background, the superuser password applied over
    the socket once the server answers there, and the server's exit status passed on (signals forwarded)."""
    return (
        # `sh -c SCRIPT postgres -c ...`: "$0" "$@" is the server command line, handed to the entrypoint.
        'trap \'kill -TERM "$pid" 2>/dev/null\' TERM INT; '
        'docker-entrypoint.sh "$0" "$@" & pid=$!; '
        f'until printf "%s" "{SUPERUSER_SQL.strip()}" | psql -qX -h {socket_dir} -p {port} -U {SUPERUSER} '
        f'-d {MAINTENANCE_DATABASE} -v ON_ERROR_STOP=1 -v superuser_password="$(cat {password_file})" '
        '>/dev/null 2>&1; '
        'do kill -0 "$pid" 2>/dev/null || break; sleep 2; done; '
        # The first `wait` returns when a signal arrives; keep waiting until the server has shut down.
        'status=0; while kill -0 "$pid" 2>/dev/null; do wait "$pid"; status=$?; done; exit "$status"'
    )


START_SCRIPT = start_script()


def volumes(config: PostgresConfig) -> tuple[spec.DataVolume, ...]:
    return (spec.DataVolume("data", data_mount(config.image), config.storage),)


PASSWORD_FILE = "database-password"
BOOTSTRAP_TASK = f"{NAME}-bootstrap"
"""Creates the app role and database: migrations run after it."""


CLUSTER_METRICS_PORT = 9187
"""CloudNativePG's instance manager serves each member's metrics here (replaces postgres-exporter)."""
CLUSTER_METRICS_PORT_NAME = "metrics"
"""The members' container port name for it (CloudNativePG v1.30.0 pkg/specs/pods.go): discovery keys on it."""
SERVER_NAME = NAME
"""The running database's name in the off-site archive (the Barman Cloud plugin's `serverName`)."""


@dataclass(frozen=True, kw_only=True)
class PostgresArgs:
    config: PostgresConfig
    superuser_password: pulumi.Output[str]
    app_password: pulumi.Output[str]
    run_id: str
    """Changes when a password rotates, so the bootstrap runs again and re-applies it."""
    hosts: DatabaseHosts
    replicated: bool
    """The platform runs `instances` members (`PlatformFacts.replicates_databases`); else one server."""
    archive: spec.ObjectStore | None = None
    verification: spec.RestoreVerification | None = None
    transit_tls: bool = False
    """The platform issues certificates (`PlatformFacts.transit_tls`): the server speaks TLS and every client
    here verifies it (`sslmode=verify-full`)."""


RESTORE_VERIFY_JOB = f"{NAME}-restore-verify"
"""The scheduled restore-and-verify job (docs/operations.md, "Restores are proven")."""


def restore_verification(config: RestoreVerifyConfig | None,
                         archive: spec.ObjectStore | None) -> spec.RestoreVerification | None:
    """The scheduled restore of the off-site archive, when there is one to restore and it is enabled."""
    if config is None or not config.enabled or archive is None:
        return None
    return spec.RestoreVerification(job=RESTORE_VERIFY_JOB, schedule=config.schedule,
                                    check_sql=check_sql(config.check_table), image=config.image,
                                    timeout_seconds=config.timeout_minutes * 60)


def object_store(backup: BackupConfig, environment: str, access_key_id: pulumi.Output[str],
                 secret_access_key: pulumi.Output[str]) -> spec.ObjectStore | None:
    """The off-site store, when configured: one prefix per environment, base backups on the dump's schedule."""
    offsite = backup.offsite
    if offsite is None:
        return None
    scheme = "http" if offsite.insecure else "https"
    return spec.ObjectStore(
        endpoint=f"{scheme}://{offsite.endpoint}", bucket=offsite.bucket, region=offsite.region,
        path=f"{environment}/",
        access_key_id=access_key_id, secret_access_key=secret_access_key,
        retention=backup.retention, schedule=six_field_cron(backup.schedule),
    )


def six_field_cron(schedule: str) -> str:
    """CloudNativePG's ScheduledBackup reads cron with a seconds field first (robfig/cron with seconds);
    `@daily`-style descriptors mean the same there."""
    return schedule if schedule.startswith("@") else f"0 {schedule}"


def database(args: PostgresArgs) -> spec.Database:
    config = args.config
    recovery = None
    if config.recovery is not None:
        recovery = spec.Recovery(target_time=config.recovery.target_time, source_server=SERVER_NAME)
    return spec.Database(
        database=config.database, owner=config.app_user,
        owner_password=args.app_password, superuser_password=args.superuser_password,
        image=config.cluster_image, parameters=MappingProxyType(tuning(config)),
        synchronous=config.synchronous, archive=args.archive, recovery=recovery,
        verification=args.verification,
        metrics_port=CLUSTER_METRICS_PORT,
        hba=(REJECT_PLAINTEXT,) if args.transit_tls else (),
    )


DEBIAN_RELEASES = ("bullseye", "bookworm", "trixie", "forky")
"""Debian codenames a tag may name (`18.4-bookworm`, CloudNativePG's `18.4-standard-trixie`): each release
ships its own glibc, and glibc releases change collation order."""


def image_family(image: str) -> str | None:
    """The C library the image is built on, which decides text collation: `-alpine` tags are musl, every
    other tag glibc (Debian), of the Debian release the tag names when it names one; None for a digest
    without a tag."""
    tag = tag_of(image)
    if tag is None:
        return None
    if "alpine" in tag:
        return "alpine (musl)"
    release = next((name for name in DEBIAN_RELEASES if name in tag.split("-")), None)
    return f"debian {release} (glibc)" if release else "debian (glibc)"


def served_image(config: PostgresConfig, replicated: bool) -> str:
    """The image whose C library sorts the stored text: CloudNativePG's operand image where the platform
    runs the database as an operator's cluster (`PlatformFacts.replicates_databases`), else the
    container's own image."""
    return config.cluster_image if replicated else config.image


def stored_identity(config: PostgresConfig, replicated: bool) -> dict[str, str]:
    """What names or orders the stored data beyond the volume: the database, its owning role, and the
    collation the served image's C library gives every text index."""
    family = image_family(served_image(config, replicated))
    return {"database": config.database, "appUser": config.app_user, **({"imageFamily": family} if family else {})}


def blueprint(args: PostgresArgs) -> spec.Blueprint:
    """The server (a replicated database where the platform has an operator) and its idempotent bootstrap."""
    config, superuser_password, app_password, run_id = (args.config, args.superuser_password,
                                                        args.app_password, args.run_id)
    security = spec.Security(
        run_as_user=UID, run_as_group=UID, fs_group=UID,
        scratch_paths=("/var/run/postgresql", "/tmp"),
    )
    secrets = (
        spec.SecretFile(SUPERUSER_PASSWORD_KEY, superuser_password),
        spec.SecretFile(APP_PASSWORD_KEY, app_password),
    )
    ready = spec.Probe(command=("pg_isready", "-h", "127.0.0.1", "-U", SUPERUSER), period_seconds=10)
    service = spec.Service(
        name=NAME,
        component="database",
        zone=spec.Zone.DATABASE,
        kind=spec.WorkloadKind.STATEFUL,
        replicas=config.instances if args.replicated else 1,
        database=database(args),
        certificate=certificate(args.hosts) if args.transit_tls else None,
        ports=(spec.Port("postgres", PORT, host_port=PORT),
               # An operator's members serve their own metrics (no postgres-exporter there).
               *((spec.Port(CLUSTER_METRICS_PORT_NAME, CLUSTER_METRICS_PORT, metrics_path="/metrics",
                            audience=spec.PortAudience.SCRAPER),) if args.replicated else ())),
        volumes=volumes(config),
        identity=stored_identity(config, args.replicated),
        probes=spec.Probes(
            readiness=ready,
            liveness=spec.Probe(tcp_port=PORT, period_seconds=20, failure_threshold=6),
            startup=spec.Probe(command=ready.command, period_seconds=5, failure_threshold=60),
        ),
        container=spec.Container(
            image=config.image,
            resources=resources_of(config.resources),
            command=("/bin/sh", "-c", START_SCRIPT),
            args=server_args(config, args.transit_tls),
            env=spec.frozen_map({
                "POSTGRES_USER": SUPERUSER,
                "POSTGRES_DB": MAINTENANCE_DATABASE,
                "POSTGRES_PASSWORD_FILE": secrets[0].path,
                "POSTGRES_INITDB_ARGS": "--auth-host=scram-sha-256 --auth-local=trust",
            }),
            secret_files=secrets,
            security=security,
        ),
    )
    bootstrap = spec.Task(
        name=BOOTSTRAP_TASK,
        component="database",
        zone=spec.Zone.DATABASE,
        reaches=frozenset({spec.Zone.DATABASE}),
        run_id=run_id,
        after=(NAME,),
        container=spec.Container(
            image=config.image,
            resources=spec.Resources(cpu_request="50m", cpu_limit="250m", memory_request="32Mi",
                                     memory_limit="128Mi"),
            command=("/bin/sh", "-c", bootstrap_script(args.hosts.read_write)),
            env=spec.frozen_map(client_env(args.transit_tls)),
            trusts_ca=args.transit_tls,
            secret_files=secrets,
            config_files=(spec.ConfigFile("/etc/dreamscape/bootstrap.sql", bootstrap_sql(config)),),
            security=security,
        ),
    )
    return spec.Blueprint(services=(service,), tasks=(bootstrap,))


def link(config: PostgresConfig, app_password: pulumi.Output[str], hosts: DatabaseHosts,
         transit_tls: bool = False) -> spec.Link:
    """What an application gets: the read-write host (and a read-only one for queries that may lag), the app
    database, its role, the role's password as a file, and how to verify the server
    (docs/application-contract.md)."""
    secret = spec.SecretFile(PASSWORD_FILE, app_password)
    return spec.Link(
        service=NAME, zone=spec.Zone.DATABASE,
        env={"DATABASE_HOST": hosts.read_write, "DATABASE_READ_HOST": hosts.read_only,
             "DATABASE_PORT": str(PORT), "DATABASE_NAME": config.database,
             "DATABASE_USER": config.app_user, "DATABASE_PASSWORD_FILE": secret.path,
             **client_env(transit_tls)},
        setup=(BOOTSTRAP_TASK,),
        secret_files=(secret,),
        trusts_ca=transit_tls,
    )


def url(config: PostgresConfig, app_password: pulumi.Output[str], host: str = NAME,
        transit_tls: bool = False) -> pulumi.Output[str]:
    return pulumi.Output.secret(pulumi.Output.format(
        "postgresql://{0}:{1}@{2}:{3}/{4}?{5}", config.app_user, app_password, host, PORT, config.database,
        url_query(transit_tls)))


class Postgres(BlueprintComponent):
    """The environment's PostgreSQL server, its app database, and its app user."""

    TYPE = "dreamscape:infra:Postgres"
