"""The Big Pods model: the types a pod catalog is written in (the data lives in catalog.py).

A Big Pod is one container whose processes (Node services, optionally an NGINX gateway) run under
supervisord. Everything the renderers (supervisord, NGINX, Dockerfile) and the BigPod blueprint need is
in these types, so a new service or pod is catalog data, not code.

Provider-free: safe to import from tests, tools and the config validation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath

from components import spec

APP_ROOT = PurePosixPath("/app")
"""Where each service's code lives in the image: ``/app/<service name>``."""

_NAME = re.compile(r"[a-z][a-z0-9-]*")


class Infra(StrEnum):
    """Shared infrastructure a service talks to."""

    POSTGRES = "postgres"
    REDIS = "redis"
    KAFKA = "kafka"
    MINIO = "minio"


def _check_name(kind: str, name: str) -> None:
    if not _NAME.fullmatch(name):
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
    """Prometheus metrics on the service's own port (the application contract); None for a process
    that serves none (the Vite dev server serves the web client's pages)."""
    exposure: spec.Exposure | None = None
    """Reached from outside through the edge (the web client)."""
    static_dir: str | None = None
    """Browser code: the image build runs `npm run build`, which writes this directory (`dist`) under the
    app directory, and prod serves it with NGINX (components/pods/render/static_web.py) instead of
    running `prod_command`; no Node process and no dev server in the prod image."""
    proxies: tuple[tuple[str, int], ...] = ()
    """Static sites only: paths the prod static server hands to a port of the same pod, with WebSocket
    upgrade and long timeouts (the web client's `/ws` -> the gateway on 4000)."""

    def __post_init__(self) -> None:
        _check_name("service", self.name)
        if self.static_dir is not None and (not self.static_dir or "/" in self.static_dir
                                            or self.static_dir.startswith(".")):
            raise ValueError(f"{self.name}: static_dir {self.static_dir!r} must be one directory name")
        if self.proxies and self.static_dir is None:
            raise ValueError(f"{self.name}: only a static site's server proxies paths")
        for path, port in self.proxies:
            _check_http_path(f"{self.name} proxy", path)
            _check_port(f"{self.name} proxy {path}", port)
        _check_port(self.name, self.port)
        if self.debug_port is not None:
            _check_port(f"{self.name} debug", self.debug_port)
        _check_http_path(f"{self.name} health", self.health_path)
        if self.source.is_absolute() or ".." in self.source.parts or not self.source.parts:
            raise ValueError(f"{self.name}: source {self.source} must be relative to the workspace root")
        if not self.dev_command or not self.prod_command:
            raise ValueError(f"{self.name}: dev and prod commands must not be empty")
        if self.metrics_path is not None:
            _check_http_path(f"{self.name} metrics", self.metrics_path)

    @property
    def app_dir(self) -> PurePosixPath:
        """Where the service's code lives in the image."""
        return APP_ROOT / self.name

    @property
    def health(self) -> HttpCheck:
        return HttpCheck(self.port, self.health_path)

    @property
    def static_root(self) -> PurePosixPath | None:
        """Where the built assets live in the image (`/app/web/dist`), for a static site."""
        return None if self.static_dir is None else self.app_dir / self.static_dir

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
class GatewayRoute:
    """A gateway path prefix served by one catalog service."""

    prefix: str
    service: str
    rate_limit: RateLimit | None = None
    protected: bool = False
    """Only requests with a valid token pass: NGINX asks the gateway's `verify` endpoint first
    (`auth_request`) and forwards the verified subject in `X-Auth-User`."""

    def __post_init__(self) -> None:
        _check_http_path("route", self.prefix)


@dataclass(frozen=True)
class TokenVerify:
    """The endpoint NGINX asks about a request's token (the application contract): 2xx with the subject in
    `X-Auth-User` lets it pass, 401 or 403 refuses it with that status."""

    service: str
    path: str

    def __post_init__(self) -> None:
        _check_http_path("token verify", self.path)


@dataclass(frozen=True)
class NginxGateway:
    """The NGINX process of a pod: it routes API prefixes to services in this pod or in other pods."""

    routes: tuple[GatewayRoute, ...]
    listen_port: int = 8080
    host_port: int = 80
    """Where the developer's machine publishes it (the unprivileged 8080 inside stays unprivileged)."""
    exposure: spec.Exposure | None = None
    """Reached from outside through the edge (the public API)."""
    verify: TokenVerify | None = None
    """Where `protected` routes are checked; required when any route is protected."""
    health_path: str = "/health"
    status_path: str = "/status"
    priority: int = 900
    """Started after the services (lower priorities start first)."""

    def __post_init__(self) -> None:
        _check_port("gateway", self.listen_port)
        _check_port("gateway host", self.host_port)
        _check_http_path("gateway health", self.health_path)
        _check_http_path("gateway status", self.status_path)
        prefixes = [route.prefix for route in self.routes]
        if len(set(prefixes)) != len(prefixes):
            raise ValueError(f"gateway routes repeat a prefix: {prefixes}")
        protected = [route.prefix for route in self.routes if route.protected]
        if protected and self.verify is None:
            raise ValueError(f"gateway routes {protected} are protected but the gateway has no token verify endpoint")

    @property
    def health(self) -> HttpCheck:
        return HttpCheck(self.listen_port, self.health_path)

    @property
    def port(self) -> spec.Port:
        """NGINX serves no Prometheus metrics itself (its stub_status is read by an exporter)."""
        return spec.Port("nginx", self.listen_port, host_port=self.host_port, exposure=self.exposure)

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


@dataclass(frozen=True, kw_only=True)
class ScaleOnCpu:
    """More replicas while CPU use is above `utilization` percent of the pod's request."""

    utilization: int = 70


@dataclass(frozen=True, kw_only=True)
class ScaleOnSessions:
    """One replica per `per_replica` concurrent sessions (the `dreamscape_active_sessions` gauge its
    processes serve, docs/application-contract.md)."""

    per_replica: int


@dataclass(frozen=True, kw_only=True)
class ScaleOnRequestRate:
    """One replica per `per_replica` user requests per second over the pod's processes."""

    per_replica: int


@dataclass(frozen=True, kw_only=True)
class ScaleOnQueueLag:
    """One replica per `per_replica` messages a consumer group of the pod is behind on a Kafka topic."""

    topic: str
    consumer_group: str
    per_replica: int


ScalingRule = ScaleOnCpu | ScaleOnSessions | ScaleOnRequestRate | ScaleOnQueueLag


@dataclass(frozen=True)
class PodDefinition:
    """One Big Pod: a container image running several services under supervisord."""

    name: str
    services: tuple[AppService, ...]
    replicas: int
    """Production replica count."""
    resources: spec.Resources
    """Production limits and reservations per replica."""
    extra_ports: tuple[spec.Port, ...] = ()
    gateway: NginxGateway | None = None
    description: str = ""
    scaling: tuple[ScalingRule, ...] = (ScaleOnCpu(),)
    """What the pod's load shows in: the autoscaler's signals between `replicas` and the maximum."""
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

    def ports(self, *, dev: bool) -> tuple[spec.Port, ...]:
        """Every port of the pod, said once: gateway, services (with their metrics and exposure), extras;
        debuggers and dev-only extras in development mode only. By default each is published on the
        developer's machine on its own number (the gateway on its `host_port`)."""
        ports: list[spec.Port] = [self.gateway.port] if self.gateway else []
        ports += [
            spec.Port(service.name, service.port, host_port=service.port, metrics_path=service.metrics_path,
                      exposure=service.exposure)
            for service in self.services
        ]
        ports += [port for port in self.extra_ports if dev or not port.dev_only]
        if dev:
            ports += [
                spec.Port(f"{service.name}-debug", service.debug_port, host_port=service.debug_port, dev_only=True)
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


def all_services(catalog: Iterable[PodDefinition]) -> Iterator[tuple[PodDefinition, AppService]]:
    """(pod, service) for every service of the catalog."""
    for pod in catalog:
        for service in pod.services:
            yield pod, service


def find_pod(name: str, catalog: Iterable[PodDefinition]) -> PodDefinition:
    for pod in catalog:
        if pod.name == name:
            return pod
    raise KeyError(f"no pod named {name!r} in the catalog")


def pod_of(service: str, catalog: Iterable[PodDefinition]) -> PodDefinition:
    """The pod that runs `service`."""
    for pod in catalog:
        if pod.has_service(service):
            return pod
    raise KeyError(f"no pod runs a service named {service!r}")


def find_service(name: str, catalog: Iterable[PodDefinition]) -> AppService:
    return pod_of(name, catalog).service(name)
