"""Invariants of the Big Pods catalog, and the seed numbers it must keep."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import PurePosixPath

import pytest

from components.config.quantities import cpu_millicores, memory_bytes
from components.pods import model
from components.pods.catalog import BUSINESS, CATALOG, CORE, EXPERIENCE
from components.pods.model import AppService, Infra, PodDefinition
from components.spec import Resources


def all_services() -> list[tuple[PodDefinition, AppService]]:
    return list(model.all_services(CATALOG))


def find_pod(name: str) -> PodDefinition:
    return model.find_pod(name, CATALOG)


def find_service(name: str) -> AppService:
    return model.find_service(name, CATALOG)


def pod_of(name: str) -> PodDefinition:
    return model.pod_of(name, CATALOG)

SEED_DEBUG_PORTS = {
    "auth": 9229,
    "user": 9230,
    "voyage": 9231,
    "ai": 9232,
    "payment": 9233,
    "panorama": 9234,
    "gateway": 9235,
}
SEED_NEEDS = {
    "auth": {Infra.POSTGRES, Infra.REDIS},
    "user": {Infra.POSTGRES, Infra.REDIS},
    "voyage": {Infra.POSTGRES, Infra.KAFKA, Infra.REDIS},  # seed: the request flow caches results
    "ai": {Infra.KAFKA},
    "payment": {Infra.POSTGRES, Infra.KAFKA},
    "panorama": {Infra.MINIO},
    "gateway": {Infra.KAFKA, Infra.REDIS},
    "web": set(),
}


def test_the_catalog_has_the_three_big_pods_with_their_services() -> None:
    layout = {pod.name: [service.name for service in pod.services] for pod in CATALOG}
    assert layout == {
        "core": ["auth", "user"],
        "business": ["voyage", "ai", "payment"],
        "experience": ["web", "panorama", "gateway"],
    }, f"pods and services must follow the seed architecture, got {layout}"
    assert CORE.gateway is not None, "the core pod runs the NGINX gateway"
    assert BUSINESS.gateway is None and EXPERIENCE.gateway is None, "only the core pod runs NGINX"


def test_service_ports_match_the_seed() -> None:
    ports = {service.name: service.port for _, service in all_services()}
    assert ports == {
        "auth": 3001,
        "user": 3002,
        "voyage": 3003,
        "ai": 3004,
        "payment": 3005,
        "web": 3000,
        "panorama": 3006,
        "gateway": 4000,
    }, f"service ports must match the seed, got {ports}"


def test_container_ports_are_unique_across_the_whole_catalog() -> None:
    ports = Counter(port.number for pod in CATALOG for port in pod.ports(dev=True))
    repeated = {port: count for port, count in ports.items() if count > 1}
    assert not repeated, f"dev publishes every pod on one host, so ports must be unique: {repeated}"


def test_published_ports_are_unique_and_the_gateway_is_published_on_80() -> None:
    published = Counter(port.host_port for pod in CATALOG for port in pod.ports(dev=True))
    repeated = {port: count for port, count in published.items() if count > 1}
    assert not repeated, f"published ports must not collide: {repeated}"
    assert CORE.gateway is not None
    assert (CORE.gateway.port.number, CORE.gateway.port.host_port) == (8080, 80), (
        "NGINX listens unprivileged on 8080 and is published as 80"
    )


def test_debug_ports_are_9229_to_9235_one_per_node_service() -> None:
    debug = {service.name: service.debug_port for _, service in all_services() if service.debug_port}
    assert debug == SEED_DEBUG_PORTS, f"debug ports must follow the seed table, got {debug}"
    assert sorted(debug.values()) == list(range(9229, 9236)), "debug ports are the contiguous 9229-9235"
    assert find_service("web").debug_port is None, "the web client is browser code: no Node inspector"


def test_debug_ports_and_vite_hmr_are_exposed_in_dev_only() -> None:
    for pod in CATALOG:
        prod = {port.number for port in pod.ports(dev=False)}
        leaked = prod & (set(SEED_DEBUG_PORTS.values()) | {5173})
        assert not leaked, f"pod {pod.name} must not expose dev-only ports in prod: {leaked}"
    assert 5173 in {port.number for port in EXPERIENCE.ports(dev=True)}, "experience exposes Vite HMR in dev"


def test_every_route_target_exists_in_the_catalog() -> None:
    for pod in CATALOG:
        for route in pod.gateway.routes if pod.gateway else ():
            target = pod_of(route.service)
            assert target.has_service(route.service), f"route {route.prefix} targets a catalog service"


def test_the_gateway_routes_the_seed_prefixes() -> None:
    assert CORE.gateway is not None
    routes = {route.prefix: find_service(route.service).port for route in CORE.gateway.routes}
    assert routes == {
        "/api/v1/auth": 3001,
        "/api/v1/users": 3002,
        "/api/v1/voyages": 3003,
        "/api/v1/ai": 3004,
        "/api/v1/payments": 3005,
        "/api/v1/panorama": 3006,
    }, f"gateway routes must match the seed, got {routes}"
    limits = {
        route.prefix: (route.rate_limit.requests_per_second if route.rate_limit else None)
        for route in CORE.gateway.routes
    }
    assert limits["/api/v1/auth"] == 10, "auth is limited to 10 r/s"
    assert limits["/api/v1/users"] == 15, "users is limited to 15 r/s"


def test_prod_replicas_and_resources_match_seed_001() -> None:
    numbers = {pod.name: (pod.replicas, pod.resources) for pod in CATALOG}
    assert numbers == {
        "core": (3, Resources(cpu_request="1", cpu_limit="2", memory_request="2Gi", memory_limit="4Gi")),
        "business": (5, Resources(cpu_request="2", cpu_limit="4", memory_request="4Gi", memory_limit="8Gi")),
        "experience": (4, Resources(cpu_request="1", cpu_limit="2", memory_request="2Gi", memory_limit="4Gi")),
    }, f"replicas and resources must match seed 001, got {numbers}"


def test_infra_needs_match_the_seed_diagram() -> None:
    needs = {service.name: set(service.needs) for _, service in all_services()}
    assert needs == SEED_NEEDS, f"service -> infra edges must match seed 000, got {needs}"


def test_a_pods_needs_are_the_union_of_its_services_needs() -> None:
    assert CORE.needs == {Infra.POSTGRES, Infra.REDIS}, "core needs postgres and redis"
    assert BUSINESS.needs == {Infra.POSTGRES, Infra.KAFKA, Infra.REDIS}, "business needs postgres, kafka, redis"
    assert EXPERIENCE.needs == {Infra.MINIO, Infra.KAFKA, Infra.REDIS}, "experience needs minio, kafka, redis"


def test_sources_are_relative_paths_in_the_workspace_repositories() -> None:
    for _, service in all_services():
        assert not service.source.is_absolute(), f"{service.name}: source is relative to the workspace"
        assert service.source.parts[0] in {"dreamscape-services", "dreamscape-frontend"}, (
            f"{service.name}: source lives in a service or frontend repository"
        )
    assert find_service("web").source == PurePosixPath("dreamscape-frontend/web-client"), (
        "the web client is built from dreamscape-frontend/web-client"
    )


def test_lookups_find_pods_and_services_and_reject_unknown_names() -> None:
    assert find_pod("business") is BUSINESS, "find_pod returns the catalog entry"
    assert pod_of("panorama") is EXPERIENCE, "pod_of finds the pod running a service"
    assert CORE.service("auth").app_dir == PurePosixPath("/app/auth"), "code lives in /app/<service>"
    assert CORE.hostname == "core-pod", "a pod is addressed as <name>-pod"
    with pytest.raises(KeyError):
        find_service("billing")
    with pytest.raises(KeyError):
        find_pod("edge")


def test_health_checks_cover_every_process_of_a_pod() -> None:
    assert CORE.health.url == "http://127.0.0.1:8080/health", "the core pod's health is NGINX's /health"
    urls = [check.url for check in CORE.health_checks]
    assert urls == [
        "http://127.0.0.1:8080/health",
        "http://127.0.0.1:3001/health",
        "http://127.0.0.1:3002/health",
    ], f"the pod health checks NGINX and every service, got {urls}"
    assert BUSINESS.health_path == "/health", "pods without a gateway use their first service's path"


def test_invalid_catalog_entries_are_rejected() -> None:
    auth = CORE.service("auth")
    with pytest.raises(ValueError, match="repeats a service"):
        replace(CORE, services=(auth, auth))
    with pytest.raises(ValueError, match="outside"):
        replace(auth, port=70000)
    with pytest.raises(ValueError, match="relative"):
        AppService("x", 3100, PurePosixPath("/abs/path"))
    with pytest.raises(ValueError, match="exceeds"):
        Resources(cpu_limit="1", memory_limit="1Gi", cpu_request="2", memory_request="1Gi")
    with pytest.raises(ValueError, match="replica"):
        PodDefinition("empty", (auth,), replicas=0, resources=CORE.resources)


def test_kubernetes_quantities_have_one_parser() -> None:
    assert memory_bytes("4Gi") == 4 * 2**30, "Gi is binary"
    assert memory_bytes("512M") == 512 * 10**6, "M is decimal"
    assert cpu_millicores("2") == 2000, "2 CPUs"
    assert cpu_millicores("500m") == 500, "500 millicores"
    with pytest.raises(ValueError):
        memory_bytes("500m")
