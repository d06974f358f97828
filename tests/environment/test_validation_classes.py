"""Whole classes of bad values, each refused at config time by the rule of the system that consumes it.

Each class is checked across every validator it can reach, not only at one key: a trailing newline or a
non-ASCII digit, booleans where integers go, images a component cannot run, namespaces the stack does not
own, memory that cannot hold the process, settings that would be silently ignored, and credentials that
arrive as plain config or leave as plain outputs.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, load
from components.config.cluster import k3s_version, label_key, label_value, posix_user, sha256_hex
from components.config.images import parse_image_reference
from components.config.quantities import cpu_millicores, memory_bytes, postgres_memory_bytes, redis_memory_bytes
from components.config.rules import (
    cron_schedule,
    dns1123_label,
    dns1123_subdomain,
    domain_name,
    kafka_topic,
    postgres_role,
    prometheus_duration_ms,
    s3_bucket,
)
from tests.harness import OPERATOR_SECRETS, config_bag, evaluate

SMALL = {"cpu": "100m", "memory": "128Mi", "cpuLimit": "1", "memoryLimit": "256Mi"}


def operator_secrets(stack: str, overrides: dict[str, Any]) -> tuple[str, ...]:
    """The keys the stack's operators set as secret config (tests/harness.py), unless the test sets them."""
    return tuple(f"dreamscape:{key}" for key in OPERATOR_SECRETS.get(stack, {}) if key not in overrides)


def problems(stack: str, overrides: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> str:
    with pytest.raises(ConfigError) as caught:
        load(stack, config_bag(stack, overrides), secret_keys=secret_keys + operator_secrets(stack, overrides))
    return str(caught.value)


def accepted(stack: str, overrides: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> None:
    load(stack, config_bag(stack, overrides), secret_keys=secret_keys + operator_secrets(stack, overrides))


GOOD_VALUES = [
    (dns1123_label, "dreamscape"), (dns1123_subdomain, "local-path"), (domain_name, "dreamscape.ai"),
    (kafka_topic, "user.created"), (postgres_role, "dreamscape_app"), (s3_bucket, "assets"),
    (cron_schedule, "0 2 * * *"), (prometheus_duration_ms, "30d"), (memory_bytes, "512Mi"),
    (cpu_millicores, "500m"), (postgres_memory_bytes, "2GB"), (redis_memory_bytes, "2gb"),
    (parse_image_reference, "redis:8.2.3-alpine"),
    (k3s_version, "v1.33.7+k3s1"), (sha256_hex, "0123456789abcdef" * 4), (posix_user, "dreamscape"),
    (label_key, "dreamscape.io/pool"), (label_value, "edge"),
]


@pytest.mark.parametrize(("check", "good"), GOOD_VALUES, ids=[c.__name__ for c, _ in GOOD_VALUES])
@pytest.mark.parametrize("spoil", [lambda v: v + "\n", lambda v: v + "\r\n", lambda v: " " + v],
                         ids=["trailing newline", "trailing CRLF", "leading space"])
def test_no_validator_accepts_a_value_with_a_trailing_newline_or_padding(check: Any, good: str, spoil: Any) -> None:
    check(good)  # the unspoilt value passes, so the refusal below is about the spoiling alone
    with pytest.raises(ValueError):
        check(spoil(good))


NON_ASCII_DIGITS = [
    (memory_bytes, "512Mi", "\uff15\uff11\uff12Mi"), (cpu_millicores, "500m", "\u066500m"),
    (postgres_memory_bytes, "2GB", "\uff12GB"),
    (redis_memory_bytes, "2gb", "\uff12gb"), (prometheus_duration_ms, "30d", "\uff130d"),
    (cron_schedule, "0 2 * * *", "0 \uff12 * * *"), (cron_schedule, "*/5 * * * *", "*/\u0665 * * * *"),
    (cron_schedule, "0 2 * * *", "0 \u00b2 * * *"),
]


@pytest.mark.parametrize(("check", "good", "bad"), NON_ASCII_DIGITS)
def test_no_validator_reads_digits_of_other_scripts_as_numbers(check: Any, good: str, bad: str) -> None:
    check(good)
    with pytest.raises(ValueError):
        check(bad)


@pytest.mark.parametrize(("stack", "overrides", "key"), [
    ("dev", {"imageTag": "v1\n"}, "imageTag"),
    ("prod", {"registry": "ghcr.io/dreamscape\n"}, "registry"),
    ("prod", {"kubernetes": {"namespace": "dreamscape-prod\n"}}, "kubernetes.namespace"),
    ("prod", {"kubernetes": {"edge": {"acmeEmail": "devops@dreamscape.ai\n"}}}, "kubernetes.edge.acmeEmail"),
    ("dev", {"postgres": {"image": "postgres:\uff118.4-alpine"}}, "postgres.image"),
    ("dev", {"services": {"payment": {"env": {"LOG_LEVEL\n": "debug"}}}}, "services.payment.env"),
])
def test_config_keys_refuse_trailing_newlines_and_other_digits(stack: str, overrides: dict[str, Any], key: str) -> None:
    assert f"dreamscape:{key}" in problems(stack, overrides), f"{key} is named as the bad key"


@pytest.mark.parametrize(("stack", "overrides", "key"), [
    ("prod", {"pods": {"core": {"replicas": True, "maxReplicas": 5}}}, "pods.core.replicas"),
    ("dev", {"kafka": {"partitions": True}}, "kafka.partitions"),
    ("dev", {"postgres": {"maxConnections": False}}, "postgres.maxConnections"),
    ("dev", {"secretRotation": {"redis": True}}, "secretRotation.redis"),
    ("dev", {"docker": {"hostPorts": {"postgres": True}}}, "docker.hostPorts.postgres"),
    ("prod", {"backup": {"keep": "7\n"}}, "backup.keep"),
    ("dev", {"kafka": {"partitions": 3.0}}, "kafka.partitions"),
    ("dev", {"kafka": {"partitions": "1_0"}}, "kafka.partitions"),
    ("prod", {"kubernetes": {"edge": {"hstsSeconds": 2**63}}}, "kubernetes.edge.hstsSeconds"),
    ("prod", {"kubernetes": {"edge": {"rateLimitAverage": 2**63, "rateLimitBurst": 2**63}}},
     "kubernetes.edge.rateLimitAverage"),
    ("dev", {"secretRotation": {"redis": 2**64}}, "secretRotation.redis"),
    ("dev", {"protectData": 1}, "protectData"),
    ("prod", {"kubernetes": {"edge": {"manageTraefik": "yes"}}}, "kubernetes.edge.manageTraefik"),
    ("prod", {"backup": {"enabled": 0}}, "backup.enabled"),
])
def test_booleans_padded_text_and_overflowing_numbers_are_not_integers_nor_numbers_booleans(
    stack: str, overrides: dict[str, Any], key: str
) -> None:
    assert f"dreamscape:{key}:" in problems(stack, overrides), f"{key} refuses a non-integer"


def test_integers_and_booleans_as_the_engine_passes_them_are_still_accepted() -> None:
    accepted("dev", {"kafka": {"partitions": "3"}, "secretRotation": {"redis": 2}, "protectData": "false"})


@pytest.mark.parametrize(("overrides", "key", "expected"), [
    ({"redis": {"image": "redis:6.2.14", "mode": "cluster", "nodes": 3}}, "redis", "Redis 6"),
    ({"postgres": {"image": "postgres:9.6-alpine"}}, "postgres.image", "scram-sha-256"),
    ({"kafka": {"image": "bitnami/kafka:3.9.0"}}, "kafka.image", "/etc/kafka/docker/run"),
    ({"kafka": {"image": "apache/kafka:3.6.2"}}, "kafka.image", "/etc/kafka/docker/run"),
])
def test_images_a_component_cannot_run_are_refused(overrides: dict[str, Any], key: str, expected: str) -> None:
    message = problems("prod", overrides)
    assert f"dreamscape:{key}:" in message and expected in message, message


def test_images_the_components_can_run_are_accepted() -> None:
    accepted("prod", {"kafka": {"image": "registry.example.net:5000/apache/kafka-native:4.1.1"},
                      "redis": {"image": "redis:7.0.15", "mode": "cluster", "nodes": 3}})
    standalone = {"image": "redis:6.2.14", "mode": "standalone", "nodes": 1, "replicasPerMaster": 0}
    accepted("dev", {"redis": standalone})  # a standalone server renders no 7-only directive


@pytest.mark.parametrize(("stack", "namespace", "expected"), [
    ("prod", "kube-system", "belongs to the cluster itself"),
    ("prod", "default", "belongs to the cluster itself"),
    ("review-pr-7", "kube-public", "belongs to the cluster itself"),
    ("review-pr-7", "dreamscape-prod", "is the namespace of stack 'prod'"),
    ("review-pr-7", "dreamscape-prod-node-agents", "is the namespace of stack 'prod'"),
    ("review-pr-7", "dreamscape-review-pr-8", "is the namespace of stack 'review-pr-8'"),
    ("prod", "dreamscape-dev", "is the namespace of stack 'dev'"),
])
def test_a_stack_never_takes_a_namespace_it_does_not_own(stack: str, namespace: str, expected: str) -> None:
    message = problems(stack, {"kubernetes": {"namespace": namespace}, **_review(stack)})
    assert "dreamscape:kubernetes.namespace:" in message and expected in message, message


def test_a_stack_keeps_its_own_namespace() -> None:
    accepted("review-pr-7", {"kubernetes": {"namespace": "dreamscape-review-pr-7"}, **_review("review-pr-7")})
    accepted("prod", {})


def _review(stack: str) -> dict[str, Any]:
    if not stack.startswith("review-"):
        return {}
    return {"review": {"pr": 7, "commit": "0123456", "expiresAt": "2030-01-01T00:00:00Z"}}


@pytest.mark.parametrize(("stack", "overrides", "key", "expected"), [
    ("dev", {"kafka": {"resources": {**SMALL, "memory": "128Mi", "memoryLimit": "200Mi"}}}, "kafka", "JVM heap"),
    ("dev", {"kafka": {"resources": {**SMALL, "memory": "100Mi", "memoryLimit": "128Mi"}}}, "kafka", "JVM heap"),
    ("dev", {"minio": {"resources": {**SMALL, "memory": "1Mi", "memoryLimit": "1Mi"}}}, "minio.resources",
     "below 6Mi"),
    ("dev", {"minio": {"resources": {**SMALL, "memory": "500Ki", "memoryLimit": "5000Ki"}}}, "minio.resources",
     "below 6Mi"),
    ("dev", {"minio": {"resources": {**SMALL, "cpu": "1m", "cpuLimit": "5m"}}}, "minio.resources", "CFS quota"),
])
def test_memory_that_cannot_hold_the_process_is_refused(
    stack: str, overrides: dict[str, Any], key: str, expected: str
) -> None:
    message = problems(stack, overrides)
    assert f"dreamscape:{key}:" in message and expected in message, message


@pytest.mark.parametrize(("stack", "overrides", "secret", "key", "expected"), [
    ("dev", {"alerting": {"slackChannel": "#alerts"}}, True, "alerting", "without slackWebhook"),
    ("prod", {"pods": {"core": None}}, False, "pods.core", ""),
    ("dev", {"docker": {"host": "bogus"}}, False, "docker.host", "unix://"),
    ("dev", {"docker": {"host": "tcp://"}}, False, "docker.host", "a host"),
    ("dev", {"docker": {"host": "tcp://10.0.0.5"}}, False, "docker.host", "a port"),
    ("dev", {"docker": {"host": "unix://var/run/docker.sock"}}, False, "docker.host", "absolute socket path"),
    ("prod", {"kubernetes": {"edge": {"acmeServer": "https:///directory"}}}, False, "kubernetes.edge.acmeServer",
     "a host"),
    ("prod", {"kubernetes": {"edge": {"acmeServer": "https://:443/dir"}}}, False, "kubernetes.edge.acmeServer",
     "a host"),
    ("prod", {"kubernetes": {"edge": {"acmeEmail": "ops@example.com"}}}, False, "kubernetes.edge.acmeEmail",
     "reserved domain"),
    ("prod", {"kubernetes": {"edge": {"acmeEmail": "ops@mail.example.org"}}}, False,
     "kubernetes.edge.acmeEmail", "reserved domain"),
    ("prod", {"kubernetes": {"edge": {"acmeEmail": "ops@dreamscape.test"}}}, False,
     "kubernetes.edge.acmeEmail", "reserved domain"),
    ("prod", {"kubernetes": {"edge": {"certResolver": "a" * 64}}}, False, "kubernetes.edge.certResolver",
     "RFC 1123 label"),
    ("prod", {"domain": "a" * 64 + ".dreamscape.ai"}, False, "domain", "at most 63"),
    ("prod", {"kubernetes": {"storageClass": "a" * 64 + ".b"}}, False, "kubernetes.storageClass", "RFC 1123"),
    ("prod", {"registryAuth": {"username": "", "password": ""}}, True, "registryAuth", "must not be empty"),
    ("prod", {"registryAuth": {"username": "bot", "password": "  "}}, True, "registryAuth", "must not be empty"),
    ("prod", {"registryAuth": {"server": "ghcr.io"}}, True, "registryAuth", "would be ignored"),
    ("prod", {"kubernetes": {"kubeconfig": "/nonexistent/kubeconfig"}}, False, "kubernetes.kubeconfig",
     "existing file"),
    ("prod", {"kubernetes": {"clusterDns": "8.8.8.8"}}, False, "kubernetes.clusterDns", "private range"),
    ("prod", {"kubernetes": {"clusterDns": "127.0.0.1"}}, False, "kubernetes.clusterDns", "private range"),
])
def test_values_the_consuming_system_rejects_or_ignores_are_refused(
    stack: str, overrides: dict[str, Any], secret: bool, key: str, expected: str
) -> None:
    keys = tuple(f"dreamscape:{name}" for name in overrides) if secret else ()
    message = problems(stack, overrides, secret_keys=keys)
    assert f"dreamscape:{key}" in message and expected in message, message


def test_the_values_those_systems_accept_still_pass(tmp_path: Any) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    accepted("prod", {"kubernetes": {"kubeconfig": str(kubeconfig), "clusterDns": "10.43.0.10",
                                     "edge": {"acmeServer": "https://acme-staging-v02.api.letsencrypt.org/directory",
                                              "acmeEmail": "devops@dreamscape.ai"}}})
    accepted("prod", {"kubernetes": {"kubeconfig": "apiVersion: v1\nkind: Config\nclusters: []\n"}})
    for host in ("unix:///var/run/docker.sock", "tcp://10.0.0.5:2376", "ssh://dev@buildbox", "ssh://buildbox:2222"):
        accepted("dev", {"docker": {"host": host}})


@pytest.mark.parametrize(("key", "value", "path"), [
    ("alerting", {"slackWebhook": "https://hooks.slack.com/services/T/B/x"}, "alerting.slackWebhook"),
    ("alerting", {"pagerdutyRoutingKey": "R0UTINGKEY"}, "alerting.pagerdutyRoutingKey"),
    ("alerting", {"email": {"to": "ops@dreamscape.ai", "from": "alerts@dreamscape.ai",
                            "smarthost": "smtp.dreamscape.ai:587", "username": "a", "password": "pw"}},
     "alerting.email.password"),
    ("registryAuth", {"username": "bot", "password": "token"}, "registryAuth.password"),
])
def test_credentials_are_accepted_only_from_secret_config(key: str, value: dict[str, Any], path: str) -> None:
    message = problems("dev", {key: value})
    assert f"dreamscape:{path}: a credential" in message and "--secret" in message, message
    accepted("dev", {key: value}, secret_keys=(f"dreamscape:{key}",))


def test_secret_config_never_reaches_a_stack_output_in_plain_text() -> None:
    domain = "hidden-domain.dreamscape.ai"
    evaluation = evaluate("prod", {"domain": domain}, secret_keys=["dreamscape:domain"])
    carrying = {key for key, export in evaluation.outputs.items() if domain in str(export.value)}
    assert carrying, "the secret domain reaches some output (urls), so the check below is not vacuous"
    plain = sorted(key for key in carrying if not evaluation.outputs[key].secret)
    assert not plain, f"outputs carrying a --secret config value in plain text: {plain}"
