"""Nightly PostgreSQL backups to MinIO (Kubernetes only; dev uses `tools/dev_db.py`).

One `spec.Task` with a schedule (a CronJob) and an init step:
- the init step (the Postgres image) runs `pg_dump -Fc` into a shared scratch directory, with the app
  role's password read from a secret file (the role owns the application database);
- the main container (the MinIO client image) uploads the dump with `mc cp` and deletes all but the
  newest `keep` dumps. Dump names carry a UTC timestamp, so name order is age order.

The upload uses its OWN MinIO user, `dreamscape-backup`, limited by a policy to the `postgres/` prefix of
the backup bucket (`components.infra.minio_access.prefix_user`). A setup Job (root credentials) creates the
bucket, the user and the policy. Both containers that talk to MinIO read their credentials from mc's config
file, a secret file (`components.infra.minio.mc_client`).

Tasks are transient: nothing here counts in the capacity budgets.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components import spec
from components.config import BackupConfig, MinioConfig, PostgresConfig
from components.deploy import BlueprintComponent
from components.infra.minio import NAME as MINIO
from components.infra.minio import ROOT_SECRET, ROOT_USER, mc_client
from components.infra.minio import UID as MINIO_UID
from components.infra.minio_access import Consumer, prefix_user, provisioning
from components.infra.postgres import NAME as POSTGRES
from components.infra.postgres import PORT as POSTGRES_PORT
from components.infra.postgres import UID as POSTGRES_UID
from components.infra.postgres import client_env as postgres_client_env

BACKUP_USER = "dreamscape-backup"
BACKUP_SECRET = "backup"
"""The generated secret that is the backup user's secret key (components.secret_catalog)."""
POLICY = "dreamscape-backup-bucket"
"""Its name predates the prefix limit; kept, so the narrower document replaces the old one in place."""
ALIAS = "backup"
DUMP_DIR = "/backup"
PREFIX = "postgres"
"""Dumps live at `<bucket>/postgres/<database>-<UTC timestamp>.dump`."""
PASSWORD_FILE = "backup-postgres-password"


@dataclass(frozen=True, kw_only=True)
class BackupInputs:
    config: BackupConfig
    postgres: PostgresConfig
    minio: MinioConfig
    app_password: pulumi.Output[str]
    secrets: Mapping[str, pulumi.Output[str]]
    """The generated secrets: MinIO's root key (the setup) and the backup user's key."""
    postgres_host: str = POSTGRES
    """The read-write server (PlatformFacts.database_hosts)."""
    run_id: str = "0"
    """Changes when the backup user's or the root secret is rotated, so the setup runs again."""
    transit_tls: bool = False
    """The servers speak TLS (`PlatformFacts.transit_tls`): pg_dump verifies Postgres
    (`sslmode=verify-full`), mc verifies MinIO's https, both with the environment's CA."""


def backup_user(bucket: str) -> Consumer:
    """Lists, uploads and prunes dumps below `<bucket>/postgres/`; sees nothing else in MinIO."""
    return prefix_user(BACKUP_USER, bucket, PREFIX, secret=BACKUP_SECRET, policy=POLICY)


def dump_command(postgres: PostgresConfig, host: str) -> str:
    """Runs in the Postgres image: one custom-format dump named `<database>-<UTC timestamp>.dump`."""
    q = shlex.quote
    return "; ".join([
        "set -eu",
        f'export PGPASSWORD="$(cat {spec.SECRETS_DIR}/{PASSWORD_FILE})"',
        'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
        f"pg_dump -h {q(host)} -p {POSTGRES_PORT} -U {q(postgres.app_user)} -d {q(postgres.database)} "
        f'-Fc -f "{DUMP_DIR}/{postgres.database}-$stamp.dump"',
    ])


def upload_command(config: BackupConfig) -> str:
    """Runs in the MinIO client image (bash, no awk/sort needed): upload, then keep the newest `keep`.

    `mc ls` lists names in order; names are timestamped, so the first ones are the oldest."""
    target = f"{ALIAS}/{config.bucket}/{PREFIX}/"
    q = shlex.quote
    return "; ".join([
        "set -eu",
        f"mc cp {DUMP_DIR}/*.dump {q(target)}",
        "names=()",
        f'while read -r line; do names+=("${{line##* }}"); done < <(mc ls {q(target)})',
        f"excess=$(( ${{#names[@]}} - {config.keep} ))",
        f'for (( i = 0; i < excess; i++ )); do mc rm {q(target)}"${{names[i]}}"; done',
    ])


def blueprint(args: BackupInputs) -> spec.Blueprint:
    """The backup bucket and user (a setup task after MinIO) and the nightly dump-and-upload task."""
    config = args.config
    client_security = spec.Security(run_as_user=MINIO_UID, run_as_group=MINIO_UID, fs_group=MINIO_UID)
    root = mc_client("dreamscape", ROOT_USER, args.secrets[ROOT_SECRET], args.transit_tls)
    uploader = mc_client(ALIAS, BACKUP_USER, args.secrets[BACKUP_SECRET], args.transit_tls)
    steps = provisioning("dreamscape", buckets=(config.bucket,), consumers=(backup_user(config.bucket),),
                         secrets=args.secrets)
    small = spec.Resources(cpu_request="50m", cpu_limit="250m", memory_request="32Mi", memory_limit="128Mi")
    setup = spec.Task(
        name="backup-setup",
        component="backup",
        zone=spec.Zone.STORAGE,
        reaches=frozenset({spec.Zone.STORAGE}),
        run_id=args.run_id,
        after=(MINIO,),
        container=spec.Container(
            image=args.minio.client_image,
            resources=small,
            command=("/bin/bash", "-c", f"set -eu; {root.prepare}; {steps.script}"),
            env=spec.frozen_map(root.env),
            secret_files=(root.secret_file, *steps.secret_files),
            config_files=steps.config_files,
            trusts_ca=root.trusts_ca,
            security=client_security,
        ),
    )
    nightly = spec.Task(
        name="postgres-backup",
        component="backup",
        zone=spec.Zone.DATABASE,
        reaches=frozenset({spec.Zone.DATABASE, spec.Zone.STORAGE}),
        schedule=config.schedule,
        shared_dir=DUMP_DIR,
        init=spec.Container(
            image=args.postgres.image,
            resources=spec.Resources(cpu_request="50m", cpu_limit="500m", memory_request="64Mi",
                                     memory_limit="256Mi"),
            command=("/bin/sh", "-c", dump_command(args.postgres, args.postgres_host)),
            env=spec.frozen_map(postgres_client_env(args.transit_tls)),
            trusts_ca=args.transit_tls,
            secret_files=(spec.SecretFile(PASSWORD_FILE, args.app_password),),
            # The pod's fsGroup (the client's) makes the secret file readable for this UID too.
            security=spec.Security(run_as_user=POSTGRES_UID, run_as_group=POSTGRES_UID, fs_group=None),
        ),
        container=spec.Container(
            image=args.minio.client_image,
            resources=small,
            command=("/bin/bash", "-c", f"set -eu; {uploader.prepare}; {upload_command(config)}"),
            env=spec.frozen_map(uploader.env),
            secret_files=(uploader.secret_file,),
            trusts_ca=uploader.trusts_ca,
            security=client_security,
        ),
    )
    return spec.Blueprint(tasks=(setup, nightly))


class Backup(BlueprintComponent):
    """The backup bucket and user (setup Job) and the nightly dump-and-upload CronJob."""

    TYPE = "dreamscape:ops:Backup"
