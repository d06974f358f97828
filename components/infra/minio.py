"""MinIO: S3-compatible object storage (API :9000, console :9001) with the VR-asset bucket.

Root credentials reach the server through `MINIO_CONFIG_ENV_FILE`, a secret file, never the command line.
Every `mc` client (the bucket task, the backup's tasks) reads its alias and credentials from a config
file (`MC_CONFIG_DIR/config.json`) delivered as a secret file, never from `MC_HOST_<alias>` env vars:
`mc_client` builds the file, the secret file and the one-line copy into the writable config dir.
The community edition published its last image at RELEASE.2025-10-15; the image is configurable.

Root credentials stay with the server and the provisioning task (`minio-buckets`): the Big Pods get the
app user `dreamscape-app`, limited to the configured buckets (`components.infra.minio_access`).

With transit TLS (`PlatformFacts.transit_tls`) the API and the console serve only https. MinIO reads
`public.crt`, `private.key` and `CAs/` from its `--certs-dir`
(https://min.io/docs/minio/container/operations/network-encryption.html); the platform mounts the
certificate as cert-manager writes it (`tls.crt`, `tls.key`, `ca.crt`), so the start links those names
into the certs dir. A renewed certificate needs no restart: MinIO reloads symlinked certificate files on
a timer (minio/pkg certs `Certificate.Watch`), and the links resolve through the kubelet's swapped
`..data` link to the new files. Every `mc` verifies the server with the CA copied into its own
`certs/CAs/` (mc's `loadRootCAs`); nothing runs `--insecure`.
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
from components.spec import tls

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
CERTS_DIR = "/tmp/certs"
"""MinIO's `--certs-dir`: writable scratch, where the start links cert-manager's files under MinIO's names."""
MC_CONFIG_DIR = "/tmp/.mc"
"""mc's config dir: writable (mc keeps its certs and session files there), on the pod's /tmp."""
MC_CONFIG_SECRET = "mc-config"
"""The secret file holding mc's `config.json`."""


def scheme(transit_tls: bool) -> str:
    return "https" if transit_tls else "http"


def endpoint(transit_tls: bool) -> str:
    """The S3 API's URL for every client in the environment (the certificate names `minio`)."""
    return f"{scheme(transit_tls)}://{NAME}:{API_PORT}"


def certificate() -> spec.ServerCertificate:
    return spec.ServerCertificate(name=NAME, dns_names=(NAME,))


def client_env(transit_tls: bool, ca_file: str = tls.CA_FILE) -> dict[str, str]:
    """The application contract's TLS variable: the CA that verifies `MINIO_ENDPOINT` (https only)."""
    return {"MINIO_CA_FILE": ca_file} if transit_tls else {}


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
    trusts_ca: bool
    """The container must get the environment's CA (`spec.Container.trusts_ca`): the server is https."""


def mc_client(alias: str, access_key: str, secret_key: pulumi.Output[str], transit_tls: bool) -> McClient:
    """mc for the environment's MinIO: over https it trusts the environment's CA, which `prepare` puts in
    mc's own CA directory (`<MC_CONFIG_DIR>/certs/CAs/`; mc adds it to the system roots)."""
    secret = spec.SecretFile(MC_CONFIG_SECRET, mc_config(alias, endpoint(transit_tls), access_key, secret_key))
    steps = [f"mkdir -p {MC_CONFIG_DIR}", f"cp {secret.path} {MC_CONFIG_DIR}/config.json"]
    if transit_tls:
        cas = f"{MC_CONFIG_DIR}/certs/CAs"
        steps += [f"mkdir -p {cas}", f"cp {tls.CA_FILE} {cas}/dreamscape-ca.crt"]
    return McClient(
        secret_file=secret,
        env={"MC_CONFIG_DIR": MC_CONFIG_DIR, "HOME": "/tmp"},
        prepare=" && ".join(steps),
        trusts_ca=transit_tls,
    )


def server_command(transit_tls: bool) -> tuple[str, ...]:
    """`minio server`; over TLS first links cert-manager's files under the names MinIO reads."""
    serve = ("minio", "server", "/data", "--address", f":{API_PORT}", "--console-address", f":{CONSOLE_PORT}",
             "--certs-dir", CERTS_DIR)
    if not transit_tls:
        return serve
    links = " && ".join([
        f"mkdir -p {CERTS_DIR}/CAs",
        f"ln -sf {tls.CERT_FILE} {CERTS_DIR}/public.crt",
        f"ln -sf {tls.KEY_FILE} {CERTS_DIR}/private.key",
        f"ln -sf {tls.SERVER_CA_FILE} {CERTS_DIR}/CAs/ca.crt",
    ])
    return ("/bin/sh", "-c", f"{links} && exec {' '.join(serve)}")


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
              backup_bucket: str | None = None, run_id: str = "0", transit_tls: bool = False) -> spec.Blueprint:
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
            # `mc ready local` dials http://localhost, which has no https form the certificate names.
            readiness=(spec.Probe(http_path="/minio/health/ready", port=API_PORT, period_seconds=10, https=True)
                       if transit_tls else spec.Probe(command=("mc", "ready", "local"), period_seconds=10)),
            liveness=spec.Probe(http_path="/minio/health/live", port=API_PORT, period_seconds=20,
                                https=transit_tls),
        ),
        certificate=certificate() if transit_tls else None,
        container=spec.Container(
            image=config.image,
            resources=resources_of(config.resources),
            # The image's entrypoint runs `minio` with these args; over TLS the command replaces it.
            command=server_command(True) if transit_tls else None,
            args=None if transit_tls else server_command(False)[1:],
            env=spec.frozen_map({"MINIO_CONFIG_ENV_FILE": env_file.path, "HOME": "/tmp"}),
            secret_files=(env_file,),
            security=spec.Security(run_as_user=UID, run_as_group=UID, fs_group=UID),
        ),
    )
    client = mc_client("dreamscape", ROOT_USER, root_password, transit_tls)
    steps = provisioning("dreamscape", buckets=dict.fromkeys([*config.buckets, *config.public_buckets]),
                         public=config.public_buckets,
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
            trusts_ca=client.trusts_ca,
            security=spec.Security(run_as_user=UID, run_as_group=UID, fs_group=None),
        ),
    )
    return spec.Blueprint(services=(service,), tasks=(buckets,))


def link(config: MinioConfig, app_secret_key: pulumi.Output[str], transit_tls: bool = False) -> spec.Link:
    """What a Big Pod that needs MinIO receives: the app user's credentials, never root's."""
    access = spec.SecretFile("minio-access-key", pulumi.Output.secret(APP_USER))
    secret = spec.SecretFile("minio-secret-key", app_secret_key)
    return spec.Link(
        service=NAME, zone=spec.Zone.STORAGE,
        env={"MINIO_ENDPOINT": endpoint(transit_tls), "MINIO_BUCKET": config.buckets[0],
             "MINIO_ACCESS_KEY_FILE": access.path, "MINIO_SECRET_KEY_FILE": secret.path,
             **client_env(transit_tls)},
        secret_files=(access, secret),
        trusts_ca=transit_tls,
    )


class Minio(BlueprintComponent):
    """Object storage for panoramas and VR assets."""

    TYPE = "dreamscape:infra:Minio"
