"""The stack's infra outputs are derived from the registry: every entry gets its endpoint and its plan's
outputs, read back here from what the program really exported."""

from __future__ import annotations

from components import spec
from components.infra.exports import client_port, output_key
from components.infra.registry import REGISTRY
from tests.harness import Evaluation


def test_output_keys_are_camel_case_of_the_service_and_the_key() -> None:
    assert output_key("minio-console") == "minioConsole", "a port name becomes one camelCase key"
    assert output_key("postgres", "readOnlyUrl") == "postgresReadOnlyUrl", "an output key keeps its own case"
    assert output_key("redis") == "redis", "a single word stays as it is"


def test_every_registry_entry_exports_its_client_endpoint(stack: Evaluation) -> None:
    endpoints = stack.outputs["endpoints"].value
    services = {service.name: service for service in stack.services}
    for entry in REGISTRY:
        port = client_port(services[entry.name])
        assert entry.name in endpoints, f"{stack.stack}: the endpoints output has no {entry.name}"
        address = endpoints[entry.name]
        expected = f":{port.host_port}" if port.host_port is not None else f":{port.number}"
        assert address.endswith(expected), f"{stack.stack}: {entry.name} is reached on its client port: {address}"
        if entry.scheme is not None:
            assert address.startswith(f"{entry.scheme}://"), f"{entry.name} is addressed as a URL"


def test_operator_ports_get_an_endpoint_and_in_dev_a_local_url(dev: Evaluation) -> None:
    endpoints, urls = dev.outputs["endpoints"].value, dev.outputs["urls"].value
    operated = [(service, port) for service in dev.services if service.name in {e.name for e in REGISTRY}
                for port in service.ports if port.audience is spec.PortAudience.OPERATORS]
    assert operated, "some infra service has an operators' port (MinIO's console)"
    for service, port in operated:
        key = output_key(port.name)
        assert key in endpoints, f"{service.name}/{port.name} is in the endpoints output"
        assert urls.get(key) == f"http://localhost:{port.host_port}", f"dev opens {port.name} on localhost"


def test_every_plan_output_is_a_stack_output_under_its_service_name(stack: Evaluation) -> None:
    infra = {service.name for service in stack.services}
    exported = set(stack.outputs)
    for entry in REGISTRY:
        assert entry.name in infra, f"{entry.name} is deployed"
    for key in ("postgresUrl", "postgresReadOnlyUrl", "redisUrl", "redisNodes", "kafkaBootstrapServers",
                "kafkaTopics", "minioBuckets", "minioRootUser", "minioRootPassword"):
        assert key in exported, f"{stack.stack}: {key} is still exported (the smoke test and people read it)"
    assert stack.outputs["minioRootPassword"].secret and stack.outputs["redisUrl"].secret, (
        "credentials stay secret on their way through the derived outputs")
