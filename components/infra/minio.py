"""MinIO: S3-compatible object storage (API :9000, console :9001) with the VR-asset bucket.

Root credentials reach the server through `MINIO_CONFIG_ENV_FILE`, a secret file, never the command line.
Every `mc` client (the bucket task, the backup's tasks) reads its alias and credentials from a config
file (`MC_CONFIG_DIR/config.json`) delivered as a secret file, never from `MC_HOST_<alias>` env vars:
`mc_client` builds the file, the secret file and the one-line copy into the writable config dir.
The community edition published its last image at RELEASE.2025-10-15; the image is configurable.

Root credentials stay with the server and the provisioning task (`minio-buckets`): the Big Pods get the
app user `dreamscape-app`, limited to the configured buckets (`components.infra.minio_access`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components import spec
from components.config import MinioConfig
from components.deploy import BlueprintComponent
from components.images import tag_of
from components.infra.common import resources_of
from components.infra.minio_access import Consumer, bucket_user, provisioning

NAME = "minio"
API_PORT = 9000
CONSOLE_PORT = 9001
UID = 1000
ROOT_USER = "dreamscape-admin"
APP_USER = "dreamscape-app"
APP_SECRET = "minioApp"
"""The generated secret that is the app user's secret key (components.secret_catalog)."""
ROOT_SECRET = "minioRoot"
ENV_FILE = "minio.env"
ENDPOINT = f"http://{NAME}:{API_PORT}"
MC_CONFIG_DIR = "/tmp/.mc"
"""mc's config dir: writable (mc keeps its certs and session files there), on the pod's /tmp."""
MC_CONFIG_SECRET = "mc-config"
"""The secret file holding mc's `config.json`."""


def mc_config(alias: str, url: str, access_key: str, secret_key: pulumi.Output[str]) -> pulumi.Output[str]:
    """mc's `config.json` (format version 10) with one alias."""
    document = {"version": "10", "aliases": {alias: {
        "url": url, "accessKey": access_key, "secretKey": secret_key, "api": "s3v4", "path": "auto",
    }}}
    return pulumi.Output.secret(pulumi.Output.json_dumps(document))


@dataclass(frozen=True, kw_only=True)
class McClient:
    """What a container running `mc` needs: the config as a secret file, its env, and the step that puts
    the file where mc reads it (a mounted secret is read-only; mc writes beside its config)."""

    secret_file: spec.SecretFile
    env: dict[str, str]
    prepare: str
    """Shell step to run before the first `mc` command."""


def mc_client(alias: str, url: str, access_key: str, secret_key: pulumi.Output[str]) -> McClient:
    secret = spec.SecretFile(MC_CONFIG_SECRET, mc_config(alias, url, access_key, secret_key))
    return McClient(
        secret_file=secret,
        env={"MC_CONFIG_DIR": MC_CONFIG_DIR, "HOME": "/tmp"},
        prepare=f"mkdir -p {MC_CONFIG_DIR} && cp {secret.path} {MC_CONFIG_DIR}/config.json",
    )


def volumes(config: MinioConfig) -> tuple[spec.DataVolume, ...]:
    return (spec.DataVolume("data", "/data", config.storage),)


def stored_identity(config: MinioConfig, backup_bucket: str | None) -> dict[str, str]:
    """The buckets that hold data (the configured ones and the backup bucket), and the server release:
    MinIO never supports running an older release over newer data."""
    buckets = sorted({*config.buckets, *([backup_bucket] if backup_bucket else [])})
    tag = tag_of(config.image)
    return {"buckets": ",".join(buckets), **({"release": tag} if tag and tag.startswith("RELEASE.") else {})}


def app_user(config: MinioConfig) -> Consumer:
    """The Big Pods' user: list, read, write and delete in the configured buckets; no admin, no backups."""
    return bucket_user(APP_USER, config.buckets, secret=APP_SECRET, policy=f"{APP_USER}-buckets")


def blueprint(config: MinioConfig, secrets: Mapping[str, pulumi.Output[str]],
              backup_bucket: str | None = None, run_id: str = "0") -> spec.Blueprint:
    """`run_id` changes when the root or the app key is rotated, so the provisioning runs again."""
    root_password = secrets[ROOT_SECRET]
    env_file = spec.SecretFile(
        ENV_FILE,
        pulumi.Output.format("MINIO_ROOT_USER={0}\nMINIO_ROOT_PASSWORD={1}\n", ROOT_USER, root_password),
    )
    service = spec.Service(
        name=NAME,
        component="storage",
        zone=spec.Zone.STORAGE,
        kind=spec.WorkloadKind.STATEFUL,
        ports=(
            # Its cluster metrics need a bearer token (Prometheus derives it from the root credentials).
            spec.Port("minio-api", API_PORT, host_port=API_PORT, metrics_path="/minio/v2/metrics/cluster"),
            spec.Port("minio-console", CONSOLE_PORT, host_port=CONSOLE_PORT, audience=spec.PortAudience.OPERATORS),
        ),
        volumes=volumes(config),
        identity=stored_identity(config, backup_bucket),
        probes=spec.Probes(
            readiness=spec.Probe(command=("mc", "ready", "local"), period_seconds=10),
            liveness=spec.Probe(http_path="/minio/health/live", port=API_PORT, period_seconds=20),
        ),
        container=spec.Container(
            image=config.image,
            resources=resources_of(config.resources),
            args=("server", "/data", "--address", f":{API_PORT}", "--console-address", f":{CONSOLE_PORT}",
                  "--certs-dir", "/tmp/certs"),
            env=spec.frozen_map({"MINIO_CONFIG_ENV_FILE": env_file.path, "HOME": "/tmp"}),
            secret_files=(env_file,),
            security=spec.Security(run_as_user=UID, run_as_group=UID, fs_group=UID),
        ),
    )
    client = mc_client("dreamscape", ENDPOINT, ROOT_USER, root_password)
    steps = provisioning("dreamscape", buckets=config.buckets, public=config.public_buckets,
                         consumers=(app_user(config),), secrets=secrets)
    buckets = spec.Task(
        name=f"{NAME}-buckets",
        component="storage",
        zone=spec.Zone.STORAGE,
        reaches=frozenset({spec.Zone.STORAGE}),
        after=(NAME,),
        run_id=run_id,
        container=spec.Container(
            image=config.client_image,
            resources=spec.Resources(cpu_request="50m", cpu_limit="250m", memory_request="32Mi",
                                     memory_limit="128Mi"),
            command=("/bin/sh", "-c", f"{client.prepare} && {steps.script}"),
            env=spec.frozen_map(client.env),
            secret_files=(client.secret_file, *steps.secret_files),
            config_files=steps.config_files,
            security=spec.Security(run_as_user=UID, run_as_group=UID, fs_group=None),
        ),
    )
    return spec.Blueprint(services=(service,), tasks=(buckets,))


def link(config: MinioConfig, app_secret_key: pulumi.Output[str]) -> spec.Link:
    """What a Big Pod that needs MinIO receives: the app user's credentials, never root's."""
    access = spec.SecretFile("minio-access-key", pulumi.Output.secret(APP_USER))
    secret = spec.SecretFile("minio-secret-key", app_secret_key)
    return spec.Link(
        service=NAME, zone=spec.Zone.STORAGE,
        env={"MINIO_ENDPOINT": ENDPOINT, "MINIO_BUCKET": config.buckets[0],
             "MINIO_ACCESS_KEY_FILE": access.path, "MINIO_SECRET_KEY_FILE": secret.path},
        secret_files=(access, secret),
    )


class Minio(BlueprintComponent):
    """Object storage for panoramas and VR assets."""

    TYPE = "dreamscape:infra:Minio"
