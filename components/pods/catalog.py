"""The Big Pods catalog: which service runs in which multi-process container, as plain data.

DreamScape builds six service repositories into three "Big Pods" (core, business, experience); each pod
is one container whose processes are run by supervisord. Everything the renderers (supervisord, NGINX,
Dockerfile) and the BigPod component need is described here, so a new service or pod is a catalog entry,
not new code.

The module is provider-free: it imports no Pulumi package and is safe to use from tests and tools.

Ports are container ports. A `PodPort` may be published on another port: the core pod's NGINX listens
on 8080 inside the container (it runs as UID 1000 and cannot bind ports below 1024 without
``NET_BIND_SERVICE``) and is published as 80 by the Service / port mapping. TLS (the seed's port 443)
terminates at the edge (Traefik on k3s), not in the pod.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath

APP_ROOT = PurePosixPath("/app")
"""Where each service's code lives in the image: ``/app/<service name>``."""

_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
_BINARY_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_DECIMAL_SUFFIX = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


class Infra(StrEnum):
    """Shared infrastructure a service talks to."""

    POSTGRES = "postgres"
    REDIS = "redis"
    KAFKA = "kafka"
    MINIO = "minio"


def _check_name(kind: str, name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"{kind} name {name!r} must be lowercase letters, digits and '-'")


def _check_port(kind: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise ValueError(f"{kind} port {port} is outside 1..65535")


def _check_http_path(kind: str, path: str) -> None:
    if not path.startswith("/"):
        raise ValueError(f"{kind} path {path!r} must start with '/'")


@dataclass(frozen=True)
class HttpCheck:
    """An HTTP health endpoint inside the pod (probed on the loopback interface)."""

    port: int
    path: str

    def __post_init__(self) -> None:
        _check_port("health check", self.port)
        _check_http_path("health check", self.path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"


@dataclass(frozen=True)
class PodPort:
    """A port the pod exposes besides its services' own ports (e.g. Vite HMR)."""

    name: str
    port: int
    published: int | None = None
    dev_only: bool = False

    def __post_init__(self) -> None:
        _check_name("port", self.name)
        _check_port(self.name, self.port)
        if self.published is not None:
            _check_port(self.name, self.published)

    @property
    def published_port(self) -> int:
        """The port clients use (Service port / host port); the container port unless remapped."""
        return self.port if self.published is None else self.published


@dataclass(frozen=True)
class AppService:
    """One Node.js process of a pod, built from one source directory of the workspace."""

    name: str
    port: int
    source: PurePosixPath
    """Source directory, relative to the workspace root (the image build context)."""
    needs: frozenset[Infra] = frozenset()
    health_path: str = "/health"
    debug_port: int | None = None
    """Node inspector port, opened in dev mode only; None for browser code (the web client)."""
    dev_command: tuple[str, ...] = ("npm", "run", "dev")
    prod_command: tuple[str, ...] = ("npm", "start")
    priority: int = 100
    """supervisord start priority: lower starts first."""
    signs_tokens: bool = False
    """Issues or verifies JWTs: receives the JWT access and refresh keys as secret files."""
    metrics_path: str | None = "/metrics"
    """Where the process serves Prometheus metrics (the Node services' contract); None when it serves none
    (the Vite web server serves HTML)."""

    def __post_init__(self) -> None:
        _check_name("service", self.name)
        _check_port(self.name, self.port)
        if self.debug_port is not None:
            _check_port(f"{self.name} debug", self.debug_port)
        _check_http_path(f"{self.name} health", self.health_path)
        if self.source.is_absolute() or ".." in self.source.parts or not self.source.parts:
            raise ValueError(f"{self.name}: source {self.source} must be relative to the workspace root")
        if not self.dev_command or not self.prod_command:
            raise ValueError(f"{self.name}: dev and prod commands must not be empty")

    @property
    def app_dir(self) -> PurePosixPath:
        """Where the service's code lives in the image."""
        return APP_ROOT / self.name

    @property
    def health(self) -> HttpCheck:
        return HttpCheck(self.port, self.health_path)

    def command(self, *, dev: bool) -> tuple[str, ...]:
        return self.dev_command if dev else self.prod_command


@dataclass(frozen=True)
class RateLimit:
    """An NGINX request limit keyed by client address (limit_req_zone + limit_req)."""

    zone: str
    requests_per_second: int
    burst: int
    zone_size: str = "10m"

    def __post_init__(self) -> None:
        _check_name("rate limit zone", self.zone)
        if self.requests_per_second < 1 or self.burst < 0:
            raise ValueError(f"rate limit {self.zone}: rate must be >= 1 r/s and burst >= 0")


@dataclass(frozen=True)
class Route:
    """A gateway path prefix served by one catalog service."""

    prefix: str
    service: str
    rate_limit: RateLimit | None = None

    def __post_init__(self) -> None:
        _check_http_path("route", self.prefix)


@dataclass(frozen=True)
class NginxGateway:
    """The NGINX process of a pod: it routes API prefixes to services in this pod or in other pods."""

    routes: tuple[Route, ...]
    listen_port: int = 8080
    published_port: int = 80
    health_path: str = "/health"
    status_path: str = "/status"
    priority: int = 900
    """Started after the services (lower priorities start first)."""

    def __post_init__(self) -> None:
        _check_port("gateway", self.listen_port)
        _check_port("gateway published", self.published_port)
        _check_http_path("gateway health", self.health_path)
        _check_http_path("gateway status", self.status_path)
        prefixes = [route.prefix for route in self.routes]
        if len(set(prefixes)) != len(prefixes):
            raise ValueError(f"gateway routes repeat a prefix: {prefixes}")

    @property
    def health(self) -> HttpCheck:
        return HttpCheck(self.listen_port, self.health_path)

    @property
    def port(self) -> PodPort:
        return PodPort("http", self.listen_port, self.published_port)

    @property
    def rate_limits(self) -> tuple[RateLimit, ...]:
        """Distinct rate limits, in route order."""
        seen: dict[str, RateLimit] = {}
        for route in self.routes:
            if route.rate_limit is not None:
                known = seen.setdefault(route.rate_limit.zone, route.rate_limit)
                if known != route.rate_limit:
                    raise ValueError(f"rate limit zone {known.zone!r} is defined twice differently")
        return tuple(seen.values())


def quantity_to_bytes(quantity: str) -> int:
    """Bytes of a Kubernetes memory quantity ("4Gi" -> 4294967296)."""
    match = _QUANTITY.match(quantity)
    if not match or match.group(2) == "m":
        raise ValueError(f"{quantity!r} is not a memory quantity")
    number, suffix = float(match.group(1)), match.group(2)
    factor = _BINARY_SUFFIX.get(suffix or "", _DECIMAL_SUFFIX.get(suffix or "", 1))
    return int(number * factor)


def quantity_to_nano_cpus(quantity: str) -> int:
    """Nano-CPUs of a Kubernetes CPU quantity ("2" -> 2e9, "500m" -> 5e8), as Docker expects."""
    match = _QUANTITY.match(quantity)
    if not match or match.group(2) not in (None, "m"):
        raise ValueError(f"{quantity!r} is not a CPU quantity")
    cores = float(match.group(1)) / (1000 if match.group(2) == "m" else 1)
    return int(cores * 1_000_000_000)


@dataclass(frozen=True)
class Resources:
    """Per-replica limits and reservations, as Kubernetes quantity strings."""

    cpu_limit: str
    memory_limit: str
    cpu_request: str
    memory_request: str

    def __post_init__(self) -> None:
        if quantity_to_nano_cpus(self.cpu_request) > quantity_to_nano_cpus(self.cpu_limit):
            raise ValueError(f"cpu request {self.cpu_request} exceeds limit {self.cpu_limit}")
        if quantity_to_bytes(self.memory_request) > quantity_to_bytes(self.memory_limit):
            raise ValueError(f"memory request {self.memory_request} exceeds limit {self.memory_limit}")


@dataclass(frozen=True)
class PodDefinition:
    """One Big Pod: a container image running several services under supervisord."""

    name: str
    services: tuple[AppService, ...]
    replicas: int
    """Production replica count."""
    resources: Resources
    """Production limits and reservations per replica."""
    extra_ports: tuple[PodPort, ...] = ()
    gateway: NginxGateway | None = None
    description: str = ""
    sticky_sessions: bool = False
    """Pin a client to one replica with a cookie at the edge (Traefik sticky cookie on the Service)."""
    _by_name: dict[str, AppService] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        _check_name("pod", self.name)
        if not self.services:
            raise ValueError(f"pod {self.name} has no service")
        if self.replicas < 1:
            raise ValueError(f"pod {self.name} needs at least one replica")
        by_name = {service.name: service for service in self.services}
        if len(by_name) != len(self.services):
            raise ValueError(f"pod {self.name} repeats a service name")
        object.__setattr__(self, "_by_name", by_name)

    @property
    def hostname(self) -> str:
        """The pod's target-neutral address (Service name / Docker network alias)."""
        return f"{self.name}-pod"

    @property
    def needs(self) -> frozenset[Infra]:
        """Infrastructure any of the pod's services needs."""
        return frozenset[Infra]().union(*(service.needs for service in self.services))

    @property
    def signs_tokens(self) -> bool:
        """Any of the pod's services issues or verifies JWTs."""
        return any(service.signs_tokens for service in self.services)

    @property
    def health(self) -> HttpCheck:
        """The pod's main HTTP health endpoint: the gateway's, else its first service's."""
        return self.gateway.health if self.gateway else self.services[0].health

    @property
    def health_path(self) -> str:
        return self.health.path

    @property
    def health_checks(self) -> tuple[HttpCheck, ...]:
        """Every endpoint that must answer for the pod to be healthy (all its processes)."""
        checks = tuple(service.health for service in self.services)
        return (self.gateway.health, *checks) if self.gateway else checks

    @property
    def health_command(self) -> tuple[str, ...]:
        """An exec probe (Docker HEALTHCHECK, Kubernetes exec probe) that checks every process."""
        probes = " && ".join(f"wget -q -T 3 -O /dev/null {check.url}" for check in self.health_checks)
        return ("/bin/sh", "-c", probes)

    def ports(self, *, dev: bool) -> tuple[PodPort, ...]:
        """Ports to expose: gateway, services, extras; debug ports and dev-only extras in dev only."""
        ports: list[PodPort] = [self.gateway.port] if self.gateway else []
        ports += [PodPort(service.name, service.port) for service in self.services]
        ports += [port for port in self.extra_ports if dev or not port.dev_only]
        if dev:
            ports += [
                PodPort(f"{service.name}-debug", service.debug_port, dev_only=True)
                for service in self.services
                if service.debug_port is not None
            ]
        return tuple(ports)

    def service(self, name: str) -> AppService:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"pod {self.name} has no service {name!r}") from None

    def has_service(self, name: str) -> bool:
        return name in self._by_name


# --- The DreamScape catalog ------------------------------------------------------------------------

_SERVICES = PurePosixPath("dreamscape-services")
_FRONTEND = PurePosixPath("dreamscape-frontend")

AUTH_RATE_LIMIT = RateLimit(zone="auth", requests_per_second=10, burst=20)
USERS_RATE_LIMIT = RateLimit(zone="users", requests_per_second=15, burst=30)

CORE = PodDefinition(
    name="core",
    description="NGINX gateway, authentication and user management",
    services=(
        AppService(
            "auth", 3001, _SERVICES / "auth", frozenset({Infra.POSTGRES, Infra.REDIS}), debug_port=9229,
            signs_tokens=True,
        ),
        AppService(
            "user", 3002, _SERVICES / "user", frozenset({Infra.POSTGRES, Infra.REDIS}), debug_port=9230,
            signs_tokens=True,
        ),
    ),
    gateway=NginxGateway(
        routes=(
            Route("/api/v1/auth", "auth", AUTH_RATE_LIMIT),
            Route("/api/v1/users", "user", USERS_RATE_LIMIT),
            Route("/api/v1/voyages", "voyage"),
            Route("/api/v1/ai", "ai"),
            Route("/api/v1/payments", "payment"),
            Route("/api/v1/panorama", "panorama"),
        ),
    ),
    replicas=3,
    resources=Resources(cpu_limit="2", memory_limit="4Gi", cpu_request="1", memory_request="2Gi"),
    # Seed 001: sticky sessions for the core pod.
    sticky_sessions=True,
)

BUSINESS = PodDefinition(
    name="business",
    description="Voyage planning, AI generation and payments",
    services=(
        AppService(
            "voyage", 3003, _SERVICES / "voyage", frozenset({Infra.POSTGRES, Infra.KAFKA}), debug_port=9231
        ),
        AppService("ai", 3004, _SERVICES / "ai", frozenset({Infra.KAFKA}), debug_port=9232),
        AppService(
            "payment", 3005, _SERVICES / "payment", frozenset({Infra.POSTGRES, Infra.KAFKA}), debug_port=9233
        ),
    ),
    replicas=5,
    resources=Resources(cpu_limit="4", memory_limit="8Gi", cpu_request="2", memory_request="4Gi"),
)

_VITE_FLAGS = ("--", "--host", "0.0.0.0", "--port", "3000", "--strictPort")

EXPERIENCE = PodDefinition(
    name="experience",
    description="Web client, VR panorama and WebSocket gateway",
    services=(
        AppService(
            "web",
            3000,
            _FRONTEND / "web-client",
            health_path="/",
            metrics_path=None,
            # Vite binds localhost by default: bind all interfaces so the published port works.
            dev_command=("npm", "run", "dev", *_VITE_FLAGS),
            prod_command=("npm", "run", "preview", *_VITE_FLAGS),
        ),
        AppService("panorama", 3006, _FRONTEND / "panorama", frozenset({Infra.MINIO}), debug_port=9234),
        AppService(
            "gateway", 4000, _FRONTEND / "gateway", frozenset({Infra.KAFKA, Infra.REDIS}), debug_port=9235
        ),
    ),
    extra_ports=(PodPort("vite-hmr", 5173, dev_only=True),),
    replicas=4,
    resources=Resources(cpu_limit="2", memory_limit="4Gi", cpu_request="1", memory_request="2Gi"),
)

CATALOG: tuple[PodDefinition, ...] = (CORE, BUSINESS, EXPERIENCE)
"""Every Big Pod, in start order (core first: the web client talks to its NGINX)."""


def all_services(catalog: Iterable[PodDefinition] = CATALOG) -> Iterator[tuple[PodDefinition, AppService]]:
    """(pod, service) for every service of the catalog."""
    for pod in catalog:
        for service in pod.services:
            yield pod, service


def find_pod(name: str, catalog: Iterable[PodDefinition] = CATALOG) -> PodDefinition:
    for pod in catalog:
        if pod.name == name:
            return pod
    raise KeyError(f"no pod named {name!r} in the catalog")


def pod_of(service: str, catalog: Iterable[PodDefinition] = CATALOG) -> PodDefinition:
    """The pod that runs `service`."""
    for pod in catalog:
        if pod.has_service(service):
            return pod
    raise KeyError(f"no pod runs a service named {service!r}")


def find_service(name: str, catalog: Iterable[PodDefinition] = CATALOG) -> AppService:
    return pod_of(name, catalog).service(name)
