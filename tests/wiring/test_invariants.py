"""Wiring invariants over each rendered stack: every derived view agrees with the services the target
received (`Evaluation.services`), so a view that keeps its own list, or misses a service, turns red."""

from __future__ import annotations

from collections import Counter

import pytest

from components.budgets import footprints
from components.config.quantities import memory_bytes
from components.spec import WorkloadKind
from tests.harness import Evaluation
from tests.monitoring.test_components import pod_jobs, prometheus_yml

CONTAINER = "docker:index/container:Container"


def static_targets(stack: Evaluation) -> set[str]:
    return {t for job in prometheus_yml(stack)["scrape_configs"]
            for sc in job.get("static_configs", []) for t in sc["targets"]}


def test_every_dev_scrape_target_is_a_declared_metrics_port_of_a_deployed_service(dev: Evaluation) -> None:
    declared = {f"{s.name}:{p.number}" for s in dev.services for p in s.metrics_ports}
    # Prometheus scrapes itself on localhost.
    scraped = {"prometheus:9090" if t == "localhost:9090" else t for t in static_targets(dev)}
    assert scraped == declared, (
        f"scraped, not declared: {sorted(scraped - declared)}; declared, not scraped: {sorted(declared - scraped)}")
    assert "core-pod:80" not in scraped and "core-pod:8080" not in scraped, "NGINX serves no /metrics"
    assert "experience-pod:3000" not in scraped, "the Vite server serves pages, not metrics"


def test_every_prod_target_is_discovered_minio_with_its_bearer_token(prod: Evaluation) -> None:
    assert static_targets(prod) == set(), "every pod is discovered, MinIO included"
    jobs = {job["job_name"]: job for job in prometheus_yml(prod)["scrape_configs"]}
    assert "credentials_file" in jobs["minio"]["authorization"], "MinIO's job presents its bearer token"
    discovered = {pair for job in pod_jobs(prod) for pair in job["relabel_configs"][0]["regex"].split("|")}
    declared = {f"{s.name};{p.name}".replace("-", "\\-") for s in prod.services for p in s.metrics_ports}
    assert discovered == declared, (
        f"kept, not declared: {sorted(discovered - declared)}; declared, not kept: {sorted(declared - discovered)}")


def test_no_pod_carries_a_scrape_annotation_that_discovery_would_ignore(prod: Evaluation) -> None:
    from tests import kube

    annotated = [w.inputs["metadata"]["name"] for w in kube.workloads(prod)
                 if w.inputs["kind"] in ("Deployment", "StatefulSet", "DaemonSet")
                 and any(key.startswith("prometheus.io/") for key in
                         kube.manifest(w)["spec"]["template"]["metadata"].get("annotations", {}))]
    assert not annotated, f"discovery keeps declared (service, port) pairs; annotations would mislead: {annotated}"


def test_every_dev_host_port_belongs_to_exactly_one_declared_port(dev: Evaluation) -> None:
    published = Counter(int(p["external"]) for c in dev.of_type(CONTAINER) for p in c.inputs.get("ports", []))
    declared = Counter(p.host_port for s in dev.services for p in s.ports if p.host_port is not None)
    assert published == declared, f"published {dict(published)} vs declared {dict(declared)}"
    assert all(count == 1 for count in published.values()), f"a host port is claimed twice: {published}"


def test_clusters_publish_no_host_port(prod: Evaluation) -> None:
    leaked = [f"{s.name}/{p.name}" for s in prod.services for p in s.ports if p.host_port is not None]
    assert not leaked, f"Kubernetes never receives a host port: {leaked}"


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_every_stateful_volume_is_in_the_identity(stack_name: str, dev: Evaluation, prod: Evaluation) -> None:
    stack = dev if stack_name == "dev" else prod
    identity = stack.outputs["statefulIdentity"].value["keys"]
    for service in stack.services:
        if service.kind is not WorkloadKind.STATEFUL:
            continue
        assert identity[f"{service.name}.members"] == str(service.replicas), f"{service.name} members"
        for volume in service.volumes:
            assert identity[f"{service.name}.{volume.name}.mountPath"] == volume.mount_path, service.name
            if stack_name == "prod":
                assert identity[f"{service.name}.{volume.name}.size"] == volume.size, service.name
                assert f"{service.name}.{volume.name}.storageClass" in identity, service.name
            else:
                assert f"{service.name}.{volume.name}.size" not in identity, "Docker volumes have no size"


def test_monitoring_volumes_are_guarded_too(prod: Evaluation) -> None:
    identity = prod.outputs["statefulIdentity"].value["keys"]
    for name in ("prometheus", "loki", "alertmanager"):
        assert f"{name}.data.size" in identity, f"shrinking {name}'s storage must be refused"


def test_the_dev_budget_is_the_sum_of_the_deployed_memory_limits(dev: Evaluation) -> None:
    counted = sum(f.memory_limit for f in footprints(dev.services))
    running = sum(int(c.inputs["memory"]) * 2**20 for c in dev.of_type(CONTAINER)
                  if c.inputs.get("mustRun") and "dreamscape.io/task" not in
                  {label["label"] for label in c.inputs.get("labels", [])})
    assert counted == running, f"budget counts {counted} bytes, containers may take {running}"
    assert counted == sum(memory_bytes(s.container.resources.memory_limit) * s.replicas for s in dev.services)


def test_every_exposed_port_is_routed(prod: Evaluation) -> None:
    urls = prod.outputs["urls"].value
    exposed = {p.exposure.route for s in prod.services for p in s.ports if p.exposure is not None}
    assert set(urls) == exposed, f"routes {sorted(urls)} vs exposed ports {sorted(exposed)}"


def test_every_need_of_the_big_pods_has_exactly_one_infra_entry() -> None:
    from components.infra.registry import REGISTRY
    from components.pods.catalog import CATALOG
    from components.pods.model import Infra

    entries = [entry.need for entry in REGISTRY]
    assert sorted(entries) == sorted(Infra), f"one registry entry per Infra need: {entries}"
    needed = {need for pod in CATALOG for need in pod.needs}
    assert needed <= set(entries), f"every need of the catalog is planned: {needed - set(entries)}"


def test_every_infra_service_is_linked_to_exactly_the_pods_that_need_it(prod: Evaluation) -> None:
    from components.pods.catalog import CATALOG

    for pod in CATALOG:
        deployed = next(s for s in prod.services if s.name == pod.hostname)
        assert set(deployed.after) == {need.value for need in pod.needs}, f"{pod.name} starts after its needs"
