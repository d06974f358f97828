"""The scrape view: what Prometheus scrapes, derived only from the deployed services' metrics ports.

A port is scraped if and only if its `spec.Port.metrics_path` is set: the Node services of the Big Pods
(`/metrics`), the exporters, MinIO (`/minio/v2/metrics/cluster`) and the monitoring tools themselves.
NGINX and Vite ports declare nothing, so nothing pages because an HTML page is not a metrics page.
A database's own metrics port (where the platform runs it as an operator's cluster) is served by every
member, in the operator's vocabulary: its target says so (`members`).
Each target carries its `pod` and `service` label values (components.monitoring.labels), computed here
once: the static configs (Docker) write them as target labels, the Kubernetes relabelling maps
`(app.kubernetes.io/name, container port name)` to them, and dashboards and alerts select on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from components import spec
from components.monitoring import labels
from components.monitoring.database_metrics import CLOUDNATIVE_PG, MemberDiscovery


@dataclass(frozen=True, kw_only=True)
class ScrapeTarget:
    """One metrics port of one deployed service."""

    host: str
    """The service's target-neutral address (Docker alias, Kubernetes Service and `app.kubernetes.io/name`)."""
    port_name: str
    port: int
    path: str
    pod: str
    """`pod` label value."""
    service: str
    """`service` label value."""
    credentials_file: str | None = None
    """Bearer token file inside the Prometheus container (MinIO)."""
    server_name: str | None = None
    """The target serves TLS from the environment's CA (its service has a `spec.ServerCertificate`):
    Prometheus verifies the certificate against the CA for this name, whatever address it dials."""
    members: MemberDiscovery | None = None
    """A database operator's members serve this port (components.monitoring.database_metrics): found by
    the operator's pod label, their role copied, their metric names mapped onto the rules' vocabulary."""
    canary: bool = False
    """The service runs a canary release too (Kubernetes): its pods are scraped as the same pod and
    service, with the track label (components.targets.labels.TRACK_LABEL) telling them apart."""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def job(self) -> str:
        """Jobs group the targets of one `pod` label: `up{job="core"}` is the core pod's processes."""
        return self.pod


def _served_by_operator(service: spec.Service, port: spec.Port) -> bool:
    """The database's own members serve this port (the operator's instance manager), not an exporter."""
    return service.database is not None and port.number == service.database.metrics_port


def scrape_targets(services: Iterable[spec.Service],
                   credentials: Mapping[str, str] = MappingProxyType({})) -> tuple[ScrapeTarget, ...]:
    """Every declared metrics port of `services`, in order. `credentials` maps a service name to the bearer
    token file Prometheus presents to it."""
    services = tuple(services)
    targets = tuple(
        ScrapeTarget(
            host=service.host, port_name=port.name, port=port.number, path=port.metrics_path,
            pod=labels.pod_of(service), service=labels.process_of(service, port),
            credentials_file=credentials.get(service.name), canary=service.canary is not None,
            members=CLOUDNATIVE_PG if _served_by_operator(service, port) else None,
            # An operator's metrics endpoint (CloudNativePG's 9187) serves plain HTTP beside the TLS server.
            server_name=(service.host if service.certificate is not None and not _served_by_operator(service, port)
                         else None),
        )
        for service in services
        for port in service.ports
        if port.metrics_path is not None
    )
    seen: dict[tuple[str, str], ScrapeTarget] = {}
    for target in targets:
        clash = seen.setdefault((target.pod, target.service), target)
        if clash is not target:
            raise ValueError(f"two metrics ports would both be pod={target.pod!r} service={target.service!r}: "
                             f"{clash.address} and {target.address}")
    unknown = sorted(set(credentials) - {s.name for s in services})
    if unknown:
        raise ValueError(f"bearer tokens for services that are not deployed: {unknown}")
    return targets


def big_pods(targets: Iterable[ScrapeTarget]) -> dict[str, tuple[str, ...]]:
    """`pod` label -> its processes' `service` labels, for the pods that have more than one process or
    a Big Pod label: what per-pod dashboard rows and per-pod alerts select on."""
    pods: dict[str, list[str]] = {}
    for target in targets:
        if target.pod != target.service:
            pods.setdefault(target.pod, []).append(target.service)
    return {pod: tuple(services) for pod, services in pods.items()}


def standalone(targets: Iterable[ScrapeTarget]) -> tuple[str, ...]:
    """The `service` labels of the targets outside the Big Pods (infrastructure, exporters), in order:
    what the dashboards give one "up" panel each."""
    pods = big_pods(targets := tuple(targets))
    return tuple(dict.fromkeys(t.service for t in targets if t.pod not in pods))
