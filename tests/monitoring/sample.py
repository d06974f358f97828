"""Small, realistic service descriptions for the pure monitoring tests (no Pulumi program run)."""

from __future__ import annotations

from components import spec
from components.monitoring import labels

RESOURCES = spec.Resources(cpu_request="1", cpu_limit="2", memory_request="2Gi", memory_limit="4Gi")


def service(name: str, *ports: spec.Port, pod: str | None = None, zone: spec.Zone = spec.Zone.BIGPODS) -> spec.Service:
    return spec.Service(
        name=name, component="test", zone=zone, ports=ports,
        labels={labels.BIG_POD_LABEL: pod} if pod else {},
        container=spec.Container(image="example/image:1.0", resources=RESOURCES),
    )


CORE = service(
    "core-pod",
    spec.Port("http", 8080),
    spec.Port("auth", 3001, metrics_path="/metrics"),
    spec.Port("user", 3002, metrics_path="/metrics"),
    pod="core",
)
EXPERIENCE = service(
    "experience-pod",
    spec.Port("web", 3000),
    spec.Port("panorama", 3006, metrics_path="/metrics"),
    pod="experience",
)
NGINX_EXPORTER = service("core-pod-nginx-exporter", spec.Port("nginx", 9113, metrics_path="/metrics"), pod="core")
POSTGRES_EXPORTER = service("postgres-exporter", spec.Port("metrics", 9187, metrics_path="/metrics"),
                            zone=spec.Zone.DATABASE)
MINIO = service("minio", spec.Port("api", 9000, metrics_path="/minio/v2/metrics/cluster"),
                spec.Port("console", 9001), zone=spec.Zone.STORAGE)

SERVICES = (CORE, EXPERIENCE, NGINX_EXPORTER, POSTGRES_EXPORTER, MINIO)
