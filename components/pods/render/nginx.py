"""NGINX configuration of a gateway pod (the core pod), built as a crossplane payload from the catalog.

Choices:
- **Unprivileged port.** The container runs as UID 1000 with a read-only root filesystem and no added
  capabilities, so NGINX listens on ``NginxGateway.listen_port`` (8080). Port 80 is the *published* port:
  the Kubernetes Service maps 80 -> 8080 and the Docker target publishes 80:8080. This keeps
  ``NET_BIND_SERVICE`` (and root) out of the pod. TLS (443) terminates at the edge (Traefik on k3s).
- **Read-only root filesystem.** The pid file and every temp path live under ``/tmp``; the error log is
  stderr and the access log stdout, which supervisord forwards to the container's output.
- **Routes come from the catalog.** A route to a service of the gateway's own pod goes to
  ``127.0.0.1:<port>``; a route to another pod goes to that pod's address (``business-pod``,
  ``experience-pod``, overridable per pod). Those remote hosts are put in variables so NGINX resolves
  them at request time through ``resolver``: NGINX starts (and ``nginx -t`` passes) while the other pods
  are still down, and a re-created pod's new address is picked up. NGINX's resolver ignores the search
  domains of ``/etc/resolv.conf``, so on Kubernetes pass fully qualified hosts
  (``business-pod.<namespace>.svc.cluster.local``) and the cluster DNS address as the resolver.
- **Rate limits** are keyed by client address; ``set_real_ip_from`` trusts the private ranges the
  ingress and the container networks use, so the address is the client's, not the ingress'.
- ``/health`` is answered by NGINX itself; ``/status`` is ``stub_status``, reachable from private
  addresses only (for the metrics exporter).
- **Tokens on protected routes** (``GatewayRoute.protected``) are checked by NGINX with ``auth_request``:
  an internal subrequest to the auth service's verify endpoint (``NginxGateway.verify``) carrying the
  client's ``Authorization`` header and the original URI (a browser WebSocket can only send its token in
  the query). 2xx forwards the request with the verified subject in ``X-Auth-User``; 401/403 refuse it.
  The services behind need no token key, and ``X-Auth-User`` is always set by NGINX (empty, so not
  sent, on other routes): a client cannot forge it. Asymmetric keys in every service were the
  alternative; one verifier keeps revocation and key rotation in the auth service.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import crossplane

from components.config.quantities import cpu_millicores
from components.pods.catalog import CATALOG
from components.pods.model import GatewayRoute, NginxGateway, PodDefinition, pod_of
from components.targets.docker.facts import DOCKER_DNS

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
VERIFY_LOCATION = "/_dreamscape/verify"
"""The internal location protected routes ask (never reachable from outside: `internal`)."""
AUTH_USER_HEADER = "X-Auth-User"
"""The verified subject, from the verify endpoint's response to the service behind the route."""
AUTH_USER_VARIABLE = "$auth_user"

HEADER = "# Rendered from components/pods/catalog.py by `python -m components.pods.render`. Do not edit.\n"


class Directive(TypedDict, total=False):
    """One entry of a crossplane payload."""

    directive: str
    args: list[str]
    block: list[Directive]


def directive(name: str, *args: str | int, block: Iterable[Directive] | None = None) -> Directive:
    entry: Directive = {"directive": name, "args": [str(arg) for arg in args]}
    if block is not None:
        entry["block"] = list(block)
    return entry


@dataclass(frozen=True)
class NginxSettings:
    """Values that differ between targets; the defaults fit the Docker (dev) target."""

    resolvers: tuple[str, ...] = (DOCKER_DNS,)
    resolver_valid: str = "10s"
    pod_hosts: Mapping[str, str] = field(default_factory=dict)
    """Pod name -> host to reach it; defaults to the pod's `hostname` (`business-pod`)."""
    trusted_proxies: tuple[str, ...] = PRIVATE_RANGES
    status_allow: tuple[str, ...] = ("127.0.0.1", *PRIVATE_RANGES)
    client_max_body_size: str = "50m"
    """Panorama uploads images through the gateway."""
    runtime_dir: str = "/tmp"
    """Writable directory for the pid file and temp paths (the root filesystem is read-only)."""


@dataclass(frozen=True)
class RouteTarget:
    """Where one gateway route is proxied to."""

    route: GatewayRoute
    host: str
    port: int
    local: bool

    @property
    def variable(self) -> str:
        return "$upstream_" + self.route.service.replace("-", "_")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def route_targets(
    pod: PodDefinition,
    catalog: Iterable[PodDefinition] = CATALOG,
    settings: NginxSettings | None = None,
) -> tuple[RouteTarget, ...]:
    """Resolve each gateway route of `pod` to a host and port, using the catalog."""
    settings = settings or NginxSettings()
    gateway = _gateway(pod)
    catalog = tuple(catalog)
    targets = []
    for route in gateway.routes:
        target_pod = pod_of(route.service, catalog)
        service = target_pod.service(route.service)
        local = target_pod.name == pod.name
        host = "127.0.0.1" if local else settings.pod_hosts.get(target_pod.name, target_pod.hostname)
        targets.append(RouteTarget(route, host, service.port, local))
    return tuple(targets)


def _gateway(pod: PodDefinition) -> NginxGateway:
    if pod.gateway is None:
        raise ValueError(f"pod {pod.name} has no NGINX gateway")
    return pod.gateway


def _worker_processes(pod: PodDefinition) -> int:
    # `auto` counts the node's CPUs, not the container's limit.
    return max(1, math.ceil(cpu_millicores(pod.resources.cpu_limit) / 1000))


def _location(target: RouteTarget) -> Directive:
    body: list[Directive] = []
    limit = target.route.rate_limit
    if limit is not None:
        body.append(directive("limit_req", f"zone={limit.zone}", f"burst={limit.burst}", "nodelay"))
    if target.route.protected:
        body.append(directive("auth_request", VERIFY_LOCATION))
        body.append(directive("auth_request_set", AUTH_USER_VARIABLE,
                              f"$upstream_http_{AUTH_USER_HEADER.lower().replace('-', '_')}"))
    if target.local:
        body.append(directive("proxy_pass", f"http://{target.address}"))
    else:
        body.append(directive("set", target.variable, target.address))
        body.append(directive("proxy_pass", f"http://{target.variable}"))
    return directive("location", target.route.prefix, block=body)


def verify_target(pod: PodDefinition, catalog: Iterable[PodDefinition] = CATALOG,
                  settings: NginxSettings | None = None) -> RouteTarget | None:
    """Where protected routes' tokens are checked, resolved like a route (None: no protected route)."""
    gateway = _gateway(pod)
    if gateway.verify is None or not any(route.protected for route in gateway.routes):
        return None
    settings = settings or NginxSettings()
    target_pod = pod_of(gateway.verify.service, tuple(catalog))
    local = target_pod.name == pod.name
    host = "127.0.0.1" if local else settings.pod_hosts.get(target_pod.name, target_pod.hostname)
    route = GatewayRoute(gateway.verify.path, gateway.verify.service)
    return RouteTarget(route, host, target_pod.service(gateway.verify.service).port, local)


def _verify_location(target: RouteTarget) -> Directive:
    """The subrequest: headers only (no body), the client's Authorization header and original URI."""
    body = [
        directive("internal"),
        directive("proxy_pass_request_body", "off"),
        directive("proxy_set_header", "Content-Length", ""),
        directive("proxy_set_header", "X-Original-URI", "$request_uri"),
        directive("proxy_set_header", "X-Original-Method", "$request_method"),
        directive("proxy_set_header", "X-Forwarded-For", "$proxy_add_x_forwarded_for"),
    ]
    if target.local:
        body.append(directive("proxy_pass", f"http://{target.address}{target.route.prefix}"))
    else:
        body.append(directive("set", "$upstream_verify", target.address))
        body.append(directive("proxy_pass", f"http://$upstream_verify{target.route.prefix}"))
    return directive("location", "=", VERIFY_LOCATION, block=body)


def _server(gateway: NginxGateway, targets: tuple[RouteTarget, ...], settings: NginxSettings,
            verify: RouteTarget | None = None) -> Directive:
    status_access = [directive("allow", address) for address in settings.status_allow]
    return directive(
        "server",
        block=[
            directive("listen", gateway.listen_port, "default_server"),
            directive("server_name", "_"),
            # Empty unless a protected route's verify answer sets it; an empty header is not sent.
            *([directive("set", AUTH_USER_VARIABLE, "")] if verify else []),
            directive(
                "location",
                "=",
                gateway.health_path,
                block=[
                    directive("access_log", "off"),
                    directive("default_type", "application/json"),
                    directive("return", 200, '{"status":"ok"}'),
                ],
            ),
            directive(
                "location",
                "=",
                gateway.status_path,
                block=[
                    directive("stub_status"),
                    directive("access_log", "off"),
                    *status_access,
                    directive("deny", "all"),
                ],
            ),
            *([_verify_location(verify)] if verify else []),
            *(_location(target) for target in targets),
            directive(
                "location",
                "/",
                block=[
                    directive("default_type", "application/json"),
                    directive("return", 404, '{"error":"not found"}'),
                ],
            ),
        ],
    )


def _http(pod: PodDefinition, targets: tuple[RouteTarget, ...], settings: NginxSettings,
          verify: RouteTarget | None = None) -> Directive:
    gateway = _gateway(pod)
    temp_paths = [
        directive(f"{kind}_temp_path", f"{settings.runtime_dir}/nginx-{kind}")
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    ]
    limits = [
        directive(
            "limit_req_zone",
            "$binary_remote_addr",
            f"zone={limit.zone}:{limit.zone_size}",
            f"rate={limit.requests_per_second}r/s",
        )
        for limit in gateway.rate_limits
    ]
    real_ip = [directive("set_real_ip_from", cidr) for cidr in settings.trusted_proxies]
    return directive(
        "http",
        block=[
            directive("access_log", "/dev/stdout"),
            *temp_paths,
            directive("server_tokens", "off"),
            directive("sendfile", "on"),
            directive("keepalive_timeout", 65),
            directive("default_type", "application/octet-stream"),
            directive("client_max_body_size", settings.client_max_body_size),
            directive("resolver", *settings.resolvers, f"valid={settings.resolver_valid}", "ipv6=off"),
            directive("resolver_timeout", "5s"),
            *real_ip,
            *([directive("real_ip_header", "X-Forwarded-For")] if real_ip else []),
            *([directive("real_ip_recursive", "on")] if real_ip else []),
            *limits,
            directive("limit_req_status", 429),
            directive("limit_req_log_level", "warn"),
            directive(
                "map",
                "$http_upgrade",
                "$connection_upgrade",
                block=[directive("default", "upgrade"), directive("", "close")],
            ),
            directive(
                "map",
                "$http_x_forwarded_proto",
                "$forwarded_proto",
                block=[directive("default", "$http_x_forwarded_proto"), directive("", "$scheme")],
            ),
            directive("proxy_http_version", "1.1"),
            directive("proxy_set_header", "Host", "$host"),
            directive("proxy_set_header", "X-Real-IP", "$remote_addr"),
            directive("proxy_set_header", "X-Forwarded-For", "$proxy_add_x_forwarded_for"),
            directive("proxy_set_header", "X-Forwarded-Proto", "$forwarded_proto"),
            directive("proxy_set_header", "Upgrade", "$http_upgrade"),
            directive("proxy_set_header", "Connection", "$connection_upgrade"),
            *([directive("proxy_set_header", AUTH_USER_HEADER, AUTH_USER_VARIABLE)] if verify else []),
            _server(gateway, targets, settings, verify),
        ],
    )


def nginx_payload(
    pod: PodDefinition,
    catalog: Iterable[PodDefinition] = CATALOG,
    settings: NginxSettings | None = None,
) -> list[Directive]:
    """The configuration as a crossplane payload (list of directives)."""
    settings = settings or NginxSettings()
    catalog = tuple(catalog)
    targets = route_targets(pod, catalog, settings)
    verify = verify_target(pod, catalog, settings)
    return [
        directive("worker_processes", _worker_processes(pod)),
        directive("pid", f"{settings.runtime_dir}/nginx.pid"),
        directive("error_log", "stderr", "warn"),
        directive("daemon", "off"),
        directive("events", block=[directive("worker_connections", 1024)]),
        _http(pod, targets, settings, verify),
    ]


def render_nginx(
    pod: PodDefinition,
    catalog: Iterable[PodDefinition] = CATALOG,
    settings: NginxSettings | None = None,
) -> str:
    """nginx.conf text for the gateway of `pod`."""
    payload: list[Any] = list(nginx_payload(pod, catalog, settings))
    text: str = crossplane.build(payload, indent=4, tabs=False, header=False)
    return HEADER + text.rstrip("\n") + "\n"
