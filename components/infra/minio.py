"""MinIO: S3-compatible object storage (API :9000, console :9001) with the VR-asset bucket.

Root credentials reach the server through `MINIO_CONFIG_ENV_FILE`, a secret file, never the command line.
The `mc` client has no file-based credentials, so the bucket task receives an `MC_HOST_<alias>` URL as a
secret environment variable (the documented exception to secrets-as-files).
The community edition published its last image at RELEASE.2025-10-15; the image is configurable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components import spec
from components.budgets import Footprint, footprint_source
from components.config import MinioConfig, StackConfig
from components.infra.common import resources_of
from components.targets import Target

API_PORT = 9000
METRICS_PATH = "/minio/v2/metrics/cluster"
"""MinIO's cluster metrics (a bearer token unless MINIO_PROMETHEUS_AUTH_TYPE=public)."""
CONSOLE_PORT = 9001
UID = 1000
ROOT_USER = "dreamscape-admin"
ENV_FILE = "minio.env"


@dataclass(frozen=True)
class MinioArgs:
    config: MinioConfig
    root_password: pulumi.Output[str]
    target: Target
    api_host_port: int | None = None
    console_host_port: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


def volumes(config: MinioConfig) -> tuple[spec.DataVolume, ...]:
    return (spec.DataVolume("data", "/data", config.storage),)


@footprint_source("minio")
def footprint(stack: StackConfig) -> list[Footprint]:
    config = stack.minio
    return [Footprint("minio", resources_of(config.resources), 1, spec.WorkloadKind.STATEFUL,
                      volumes(config), config.image)]


class Minio(pulumi.ComponentResource):
    """Object storage for panoramas and VR assets."""

    def __init__(self, name: str, args: MinioArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:infra:Minio", name, None, opts)
        config = args.config
        env_file = spec.SecretFile(
            ENV_FILE,
            pulumi.Output.format("MINIO_ROOT_USER={0}\nMINIO_ROOT_PASSWORD={1}\n", ROOT_USER, args.root_password),
        )
        service = spec.Service(
            name="minio",
            component="storage",
            zone=spec.Zone.STORAGE,
            kind=spec.WorkloadKind.STATEFUL,
            ports=(
                spec.Port("api", API_PORT, host_port=args.api_host_port, metrics_path=METRICS_PATH),
                spec.Port("console", CONSOLE_PORT, host_port=args.console_host_port),
            ),
            volumes=volumes(config),
            probes=spec.Probes(
                readiness=spec.Probe(command=("mc", "ready", "local"), period_seconds=10),
                liveness=spec.Probe(http_path="/minio/health/live", port=API_PORT, period_seconds=20),
            ),
            labels=dict(args.labels),
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
        self.deployed = args.target.deploy_service(service, self)
        endpoint = f"http://{service.host}:{API_PORT}"
        args.target.run_task(
            spec.Task(
                name="minio-buckets",
                component="storage",
                zone=spec.Zone.STORAGE,
                reaches=frozenset({spec.Zone.STORAGE}),
                container=spec.Container(
                    image=config.client_image,
                    resources=spec.Resources("50m", "250m", "32Mi", "128Mi"),
                    args=("mb", "--ignore-existing", *(f"dreamscape/{b}" for b in config.buckets)),
                    env=spec.frozen_map({"MC_CONFIG_DIR": "/tmp/.mc"}),
                    secret_env={"MC_HOST_dreamscape": pulumi.Output.format(
                        "http://{0}:{1}@{2}:{3}", ROOT_USER, args.root_password, service.host, API_PORT)},
                    security=spec.Security(run_as_user=UID, run_as_group=UID, fs_group=None),
                ),
            ),
            self,
            after=[self.deployed],
        )
        self.endpoint = endpoint
        self.host = service.host
        self.root_user = ROOT_USER
        self.buckets = list(config.buckets)
        self.register_outputs({"endpoint": self.endpoint, "buckets": self.buckets})
