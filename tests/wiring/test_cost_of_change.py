"""The cost of a change, measured: a service added to a Big Pod is one catalog entry, and an infra service is
its module and one registry entry. A copy of the program gets both (a `loyalty` service and a `rabbitmq`
broker), and every derived view must follow: built, run, published in dev, probed, scraped, routed,
rendered into the image files, exported as stack outputs, smoke-tested, dashboarded, admitted by the
NetworkPolicies, guarded as stateful data, and listed in the docs' tables. A view kept by hand misses
them, and its test here fails.

The fakes' ports are derived from the real program (the next free numbers above everything declared), so
they never collide with the service a contributor adds next."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, cast

import pytest

import components.environment  # noqa: F401  (bind every module to the real catalog before patching)
from components import spec
from components.config import ConfigError
from components.deploy import BlueprintComponent
from components.doctables import render_docs
from components.infra import registry
from components.infra.registry import InfraEntry, InfraInputs, InfraPlan
from components.monitoring.grafana.config import DASHBOARD_FILE_NAME
from components.pods import catalog
from components.pods.model import AppService, GatewayRoute, Infra, PodDefinition
from components.pods.render.files import rendered_files
from tests.harness import Evaluation, evaluate
from tests.monitoring.test_components import config_map_file, docker_container, prometheus_yml, uploaded
from tools.runner import Command
from tools.smoke.access import DockerAccess
from tools.smoke.checks import Outputs, build_checks


def _next_free(used: Iterable[int], above: int) -> int:
    taken = set(used)
    port = above + 1
    while port in taken:
        port += 1
    return port


def _catalog_ports(pods: Iterable[PodDefinition]) -> set[int]:
    return {number for pod in pods for port in pod.ports(dev=True)
            for number in (port.number, port.host_port) if number is not None}


_USED = _catalog_ports(catalog.CATALOG)
"""The catalog's ports; the infra fakes also avoid every port of the real dev evaluation (`_broker_ports`)."""
_APP_PORT = _next_free(_USED, max(s.port for p in catalog.CATALOG for s in p.services))
_DEBUG_PORT = _next_free(_USED | {_APP_PORT},
                         max(s.debug_port or 0 for p in catalog.CATALOG for s in p.services))


class FakeInfra(StrEnum):
    """A need the real `Infra` does not have (an enum cannot grow at run time)."""

    RABBITMQ = "rabbitmq"


RABBITMQ = cast(Infra, FakeInfra.RABBITMQ)


@dataclass(frozen=True)
class BrokerPorts:
    amqp: int
    metrics: int
    console: int


LOYALTY = AppService("loyalty", _APP_PORT, PurePosixPath("dreamscape-services/loyalty"),
                     frozenset({Infra.POSTGRES, RABBITMQ}), debug_port=_DEBUG_PORT)


class Rabbitmq(BlueprintComponent):
    """The fake infra service's component: nothing but its type token."""

    TYPE = "dreamscape:infra:Rabbitmq"


def _broker_ports(real: Evaluation) -> BrokerPorts:
    used = _USED | {_APP_PORT, _DEBUG_PORT} | {number for service in real.services for port in service.ports
                                               for number in (port.number, port.host_port) if number is not None}
    amqp = _next_free(used, 5671)
    metrics = _next_free(used | {amqp}, 15691)
    return BrokerPorts(amqp, metrics, _next_free(used | {amqp, metrics}, metrics))


def rabbitmq_entry(ports: BrokerPorts) -> InfraEntry:
    def plan(inputs: InfraInputs) -> InfraPlan:
        service = spec.Service(
            name="rabbitmq", component="messaging", zone=spec.Zone.MESSAGING, kind=spec.WorkloadKind.STATEFUL,
            ports=(spec.Port("rabbitmq", ports.amqp, host_port=ports.amqp),
                   spec.Port("rabbitmq-metrics", ports.metrics, metrics_path="/metrics",
                             audience=spec.PortAudience.SCRAPER),
                   spec.Port("rabbitmq-console", ports.console, host_port=ports.console,
                             audience=spec.PortAudience.OPERATORS)),
            volumes=(spec.DataVolume("data", "/var/lib/rabbitmq", "1Gi"),),
            probes=spec.Probes(readiness=spec.Probe(tcp_port=ports.amqp, period_seconds=10)),
            container=spec.Container(
                image="rabbitmq:4.1-management-alpine",
                resources=spec.Resources(cpu_request="100m", cpu_limit="500m", memory_request="256Mi",
                                         memory_limit="512Mi"),
                security=spec.Security(run_as_user=999, run_as_group=999, fs_group=999)),
        )
        url = f"amqp://rabbitmq:{ports.amqp}"
        return InfraPlan(blueprint=spec.Blueprint(services=(service,)),
                         link=spec.Link(service="rabbitmq", zone=spec.Zone.MESSAGING, env={"AMQP_URL": url}),
                         outputs={"host": "rabbitmq", "url": url})

    return InfraEntry(name="rabbitmq", need=RABBITMQ, title="RabbitMQ", component=Rabbitmq, plan=plan)


@dataclass(frozen=True)
class Extended:
    dev: Evaluation
    prod: Evaluation
    pods: tuple[PodDefinition, ...]
    infra: tuple[InfraEntry, ...]
    ports: BrokerPorts
    workspace: Path


def with_loyalty() -> tuple[PodDefinition, ...]:
    core, business, experience = catalog.CATALOG
    assert core.gateway is not None
    gateway = replace(core.gateway, routes=(*core.gateway.routes, GatewayRoute("/api/v1/loyalty", "loyalty")))
    return (replace(core, gateway=gateway), replace(business, services=(*business.services, LOYALTY)), experience)


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory, dev: Evaluation) -> Extended:
    pods = with_loyalty()
    ports = _broker_ports(dev)
    infra = (*registry.REGISTRY, rabbitmq_entry(ports))
    workspace = tmp_path_factory.mktemp("workspace")
    for pod in pods:
        for service in pod.services:
            directory = workspace / str(service.source)
            directory.mkdir(parents=True, exist_ok=True)
            # The contract: a dev script, and a migrate script for a service with a database.
            migrate = ', "migrate": "node migrate.js"' if Infra.POSTGRES in service.needs else ""
            (directory / "package.json").write_text(f'{{"scripts": {{"dev": "node --watch server.js"{migrate}}}}}')
    with patched(pods, infra):
        # Its sizing is part of the change: the laptop budget (docs/budgets.md) must make room for it.
        extended_dev = evaluate("dev", {"workspaceRoot": str(workspace), "laptopBudget": ROOMY_LAPTOP})
        extended_prod = evaluate("prod")
    return Extended(extended_dev, extended_prod, pods, infra, ports, workspace)


ROOMY_LAPTOP = "8Gi"


@contextmanager
def patched(pods: tuple[PodDefinition, ...], infra: tuple[InfraEntry, ...]) -> Iterator[None]:
    """The program as if the catalog and the registry held the fakes (every module that binds them)."""
    patch = pytest.MonkeyPatch()
    import components.plan
    import components.pods.source

    patch.setattr(catalog, "CATALOG", pods)
    patch.setattr(components.plan, "CATALOG", pods)
    patch.setattr(components.pods.source, "CATALOG", pods)
    patch.setattr(registry, "REGISTRY", infra)
    patch.setattr(components.plan, "REGISTRY", infra)
    patch.setattr(components.environment, "REGISTRY", infra)
    try:
        yield
    finally:
        patch.undo()


def test_the_fakes_ports_collide_with_nothing_the_program_declares(extended: Extended, dev: Evaluation) -> None:
    real = _USED | {n for s in dev.services for p in s.ports for n in (p.number, p.host_port) if n is not None}
    fakes = {_APP_PORT, _DEBUG_PORT, *vars(extended.ports).values()}
    assert not fakes & real, f"the fakes' ports {sorted(fakes)} are free in the real program"
    assert len(fakes) == 5, f"and distinct: {sorted(fakes)}"


def test_a_new_service_is_published_and_debuggable_in_dev(extended: Extended) -> None:
    container = extended.dev.named("docker:index/container:Container", "business-pod")
    published = {int(p["external"]) for p in container.inputs["ports"]}
    assert {_APP_PORT, _DEBUG_PORT} <= published, f"the service port and its debugger are published: {published}"
    mounts = {v["containerPath"] for v in container.inputs["volumes"]}
    assert "/app/loyalty" in mounts, "its source is mounted for hot reload"


def test_a_new_service_is_scraped_probed_and_routed(extended: Extended) -> None:
    dev, prod = extended.dev, extended.prod
    targets = {t for job in prometheus_yml(dev)["scrape_configs"] for sc in job.get("static_configs", [])
               for t in sc["targets"]}
    assert f"business-pod:{_APP_PORT}" in targets, "dev Prometheus scrapes it"
    pod = next(s for s in prod.services if s.name == "business-pod")
    assert pod.probes.readiness is not None and pod.probes.readiness.command is not None
    assert f"127.0.0.1:{_APP_PORT}/health" in " ".join(pod.probes.readiness.command), "readiness checks it"
    assert any(p.name == "loyalty" and p.metrics_path == "/metrics" for p in pod.ports), "a declared metrics port"
    nginx = [r for r in prod.resources if r.type == "kubernetes:core/v1:ConfigMap"
             and r.inputs["metadata"]["name"] == "core-pod-config"]
    assert nginx and "/api/v1/loyalty" in str(nginx[0].inputs["data"]), "the gateway routes its prefix"


def test_a_new_service_is_rendered_into_the_image_files(extended: Extended) -> None:
    files = rendered_files(extended.pods)
    supervisord = next(text for path, text in files.items() if path.parts[-2:] == ("business", "supervisord.conf"))
    assert "[program:loyalty]" in supervisord, "supervisord runs it"
    dockerfile = next(text for path, text in files.items() if path.parts[-2:] == ("business", "Dockerfile"))
    assert "/app/loyalty" in dockerfile and str(_APP_PORT) in dockerfile, "the image builds and exposes it"


def test_a_new_service_with_a_database_gets_its_migration_gate(extended: Extended) -> None:
    dev, prod = extended.dev, extended.prod
    containers = {r.name for r in dev.of_type("docker:index/container:Container")}
    assert "business-migrate-loyalty" in containers, "dev migrates its schema before the pod starts"
    jobs = {r.name for r in prod.of_type("kubernetes:batch/v1:Job")}
    assert "business-migrate-loyalty" in jobs, "prod migrates its schema before the Deployment rolls"


# -- the new infra service ------------------------------------------------------------------------------
def test_a_new_infra_service_is_exported_as_stack_outputs(extended: Extended) -> None:
    ports = extended.ports
    dev, prod = extended.dev.outputs, extended.prod.outputs
    assert dev["endpoints"].value["rabbitmq"] == f"127.0.0.1:{ports.amqp}", "dev: its published client port"
    assert prod["endpoints"].value["rabbitmq"] == f"rabbitmq:{ports.amqp}", "prod: its service address"
    assert dev["endpoints"].value["rabbitmqConsole"] == f"127.0.0.1:{ports.console}", "its console, by port name"
    assert dev["rabbitmqUrl"].value == f"amqp://rabbitmq:{ports.amqp}", "its plan's outputs, under its name"
    assert "rabbitmqMetrics" not in dev["endpoints"].value, "a port for the scraper is no endpoint"


def _shown(evaluation: Evaluation) -> dict[str, Any]:
    return {key: export.value for key, export in evaluation.outputs.items()}


def test_a_new_infra_service_is_smoke_tested(extended: Extended) -> None:
    checks = build_checks(Outputs.parse(_shown(extended.dev)), DockerAccess("dev"), _NoRunner(), extended.pods)
    names = {check.name for check in checks}
    assert {"endpoint rabbitmq", "endpoint rabbitmqConsole"} <= names, f"the smoke test checks it: {sorted(names)}"
    assert "service loyalty" in names, "and the new Big Pod service's health endpoint"


class _NoRunner:
    def run(self, command: Command) -> str:
        raise AssertionError(f"building the checks runs nothing: {command}")

    def start(self, command: Command) -> Any:
        raise AssertionError(f"building the checks starts nothing: {command}")


def test_a_new_infra_service_is_scraped_and_dashboarded(extended: Extended) -> None:
    targets = {t for job in prometheus_yml(extended.dev)["scrape_configs"] for sc in job.get("static_configs", [])
               for t in sc["targets"]}
    assert f"rabbitmq:{extended.ports.metrics}" in targets, "dev Prometheus scrapes its metrics port"
    overview = json.loads(uploaded(docker_container(extended.dev, "grafana"),
                                   f"/etc/grafana/dashboards/{DASHBOARD_FILE_NAME}"))
    assert "rabbitmq up" in {panel["title"] for panel in overview["panels"]}, "Grafana gets an up panel for it"
    prod_overview = json.loads(config_map_file(extended.prod, "grafana",
                                               f"etc-grafana-dashboards-{DASHBOARD_FILE_NAME}"))
    assert "rabbitmq up" in {panel["title"] for panel in prod_overview["panels"]}, "on both targets"


def test_a_new_infra_service_is_admitted_by_the_network_policies(extended: Extended) -> None:
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in extended.prod.resources
                if r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"}
    assert "clients-rabbitmq" in policies, f"its clients' policy exists: {sorted(policies)}"
    admitted = {port["port"] for rule in policies["clients-rabbitmq"].get("ingress", [])
                for port in rule.get("ports", [])}
    assert extended.ports.amqp in admitted, f"the policy opens its client port: {admitted}"
    assert extended.ports.console not in admitted, "but not its console to clients"


def test_a_new_infra_service_counts_against_the_laptop_budget(extended: Extended) -> None:
    with patched(extended.pods, extended.infra), pytest.raises(ConfigError, match=r"rabbitmq\s+1 x 512Mi"):
        evaluate("dev", {"workspaceRoot": str(extended.workspace)})


def test_a_new_infra_service_is_budgeted_and_guarded_as_stateful(extended: Extended) -> None:
    identity = extended.prod.outputs["statefulIdentity"].value["keys"]
    assert any("rabbitmq" in key for key in identity), f"the stateful guard covers its volume: {sorted(identity)}"
    assert any(r.name == "rabbitmq" and r.type == Rabbitmq.TYPE for r in extended.prod.resources), (
        "the registry deployed its component")


def test_both_appear_in_the_docs_tables(extended: Extended) -> None:
    docs = {path.name: text for path, text in render_docs(catalog=extended.pods, registry=extended.infra).items()}
    assert (f"| loyalty | `dreamscape-services/loyalty` | business | {_APP_PORT} | {_DEBUG_PORT} | "
            "PostgreSQL, RabbitMQ |") in docs["application-contract.md"], "the contract lists the service"
    assert f"`loyalty-debug` | {_DEBUG_PORT} |" in docs["bigpods.md"], "the dev ports table lists its debugger"
    assert f"| loyalty | business | {_DEBUG_PORT} |" in docs["README.md"], "the README lists its debugger"
    assert 'loyalty --> infra_rabbitmq[("RabbitMQ")]' in docs["architecture.md"], "the diagram draws its reach"
