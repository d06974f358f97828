"""The cost of adding a service to a Big Pod is one catalog entry: from that entry alone it is built,
run, published in dev, probed, scraped, routed, budgeted and rendered into the image files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import PurePosixPath

import pytest

import components.environment  # noqa: F401  (bind every module to the real catalog before patching)
from components.pods import catalog
from components.pods.model import AppService, GatewayRoute, Infra, PodDefinition
from components.pods.render.files import rendered_files
from tests.harness import Evaluation, evaluate
from tests.monitoring.test_components import prometheus_yml

Extended = tuple[Evaluation, Evaluation, tuple[PodDefinition, ...]]
LOYALTY = AppService("loyalty", 3007, PurePosixPath("dreamscape-services/loyalty"), frozenset({Infra.POSTGRES}),
                     debug_port=9236)


def with_loyalty() -> tuple[PodDefinition, ...]:
    core, business, experience = catalog.CATALOG
    assert core.gateway is not None
    gateway = replace(core.gateway, routes=(*core.gateway.routes, GatewayRoute("/api/v1/loyalty", "loyalty")))
    return (replace(core, gateway=gateway), replace(business, services=(*business.services, LOYALTY)), experience)


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory) -> Extended:
    pods = with_loyalty()
    workspace = tmp_path_factory.mktemp("workspace")
    for pod in pods:
        for service in pod.services:
            directory = workspace / str(service.source)
            directory.mkdir(parents=True, exist_ok=True)
            # The contract: a dev script, and a migrate script for a service with a database.
            migrate = ', "migrate": "node migrate.js"' if Infra.POSTGRES in service.needs else ""
            (directory / "package.json").write_text(f'{{"scripts": {{"dev": "node --watch server.js"{migrate}}}}}')
    patch = pytest.MonkeyPatch()
    import components.plan
    import components.pods.source

    patch.setattr(catalog, "CATALOG", pods)
    patch.setattr(components.plan, "CATALOG", pods)
    patch.setattr(components.pods.source, "CATALOG", pods)
    try:
        dev = evaluate("dev", {"workspaceRoot": str(workspace)})
        prod = evaluate("prod")
    finally:
        patch.undo()
    return dev, prod, pods


def test_a_new_service_is_published_and_debuggable_in_dev(extended: Extended) -> None:
    dev, _, _ = extended
    container = dev.named("docker:index/container:Container", "business-pod")
    published = {int(p["external"]) for p in container.inputs["ports"]}
    assert {3007, 9236} <= published, f"the service port and its debugger are published: {published}"
    mounts = {v["containerPath"] for v in container.inputs["volumes"]}
    assert "/app/loyalty" in mounts, "its source is mounted for hot reload"


def test_a_new_service_is_scraped_probed_and_routed(extended: Extended) -> None:
    dev, prod, _ = extended
    targets = {t for job in prometheus_yml(dev)["scrape_configs"] for sc in job.get("static_configs", [])
               for t in sc["targets"]}
    assert "business-pod:3007" in targets, "dev Prometheus scrapes it"
    pod = next(s for s in prod.services if s.name == "business-pod")
    assert pod.probes.readiness is not None and pod.probes.readiness.command is not None
    assert "127.0.0.1:3007/health" in " ".join(pod.probes.readiness.command), "readiness checks it"
    assert any(p.name == "loyalty" and p.metrics_path == "/metrics" for p in pod.ports), "a declared metrics port"
    nginx = [r for r in prod.resources if r.type == "kubernetes:core/v1:ConfigMap"
             and r.inputs["metadata"]["name"] == "core-pod-config"]
    assert nginx and "/api/v1/loyalty" in str(nginx[0].inputs["data"]), "the gateway routes its prefix"


def test_a_new_service_is_rendered_into_the_image_files(extended: Extended) -> None:
    _, _, pods = extended
    files = rendered_files(pods)
    supervisord = next(text for path, text in files.items() if path.parts[-2:] == ("business", "supervisord.conf"))
    assert "[program:loyalty]" in supervisord, "supervisord runs it"
    dockerfile = next(text for path, text in files.items() if path.parts[-2:] == ("business", "Dockerfile"))
    assert "/app/loyalty" in dockerfile and "3007" in dockerfile, "the image builds and exposes it"


def test_a_new_service_with_a_database_gets_its_migration_gate(extended: Extended) -> None:
    dev, prod, _ = extended
    containers = {r.name for r in dev.of_type("docker:index/container:Container")}
    assert "business-migrate-loyalty" in containers, "dev migrates its schema before the pod starts"
    jobs = {r.name for r in prod.of_type("kubernetes:batch/v1:Job")}
    assert "business-migrate-loyalty" in jobs, "prod migrates its schema before the Deployment rolls"
