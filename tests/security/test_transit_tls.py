"""Every connection to Postgres and Redis is TLS with server verification where the platform has a PKI
(prod, review), and plaintext only on the laptop; the CA file reaches exactly the containers that name it.

What the providers receive is checked here; tests/system/test_transit_tls.py proves the same settings with
real daemons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from components.config import load
from components.infra import postgres, redis
from components.spec import CA_FILE
from components.spec.tls import CA_DIR, TLS_DIR
from components.targets.kubernetes import cnpg, pki
from tests.harness import Evaluation, config_bag, refuse
from tests.kube import manifest, pod_spec, validate_custom, workloads


def _containers(evaluation: Evaluation) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(workload name, container, pod spec) of every container and init container."""
    for workload in workloads(evaluation):
        spec = pod_spec(workload)
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            yield workload.name, container, spec


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value") for item in container.get("env", [])}


def _mounted_config_text(evaluation: Evaluation, container: dict[str, Any], spec: dict[str, Any]) -> str:
    """The files of every ConfigMap the container mounts (a server's config file may name the CA: Prometheus'
    `tls_config.ca_file`)."""
    mounted = {m["name"] for m in container.get("volumeMounts", [])}
    volumes = [v for v in spec.get("volumes", []) if v["name"] in mounted]
    names = {v["configMap"]["name"] for v in volumes if "configMap" in v} | {
        source["configMap"]["name"] for v in volumes for source in v.get("projected", {}).get("sources", [])
        if "configMap" in source}
    return json.dumps([r.inputs.get("data") for r in evaluation.resources if r.type == "kubernetes:core/v1:ConfigMap"
                       and r.inputs["metadata"]["name"] in names], default=str)


def _certificates(evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    return {r.inputs["metadata"]["name"]: manifest(r) for r in evaluation.resources
            if r.inputs.get("apiVersion") == pki.API_VERSION and r.inputs.get("kind") == pki.CERTIFICATE}


@pytest.mark.parametrize("stack", ["prod", "review"])
def test_every_container_that_names_the_ca_mounts_it_and_no_other_does(stack: str,
                                                                     request: pytest.FixtureRequest) -> None:
    evaluation: Evaluation = request.getfixturevalue(stack)
    naming = 0
    for name, container, spec in _containers(evaluation):
        mounted = any(m["mountPath"] == CA_DIR for m in container.get("volumeMounts", []))
        names_it = any(CA_FILE in str(value) for value in _env(container).values()) or \
            any(CA_FILE in str(arg) for arg in [*container.get("command", []), *container.get("args", [])]) or \
            CA_FILE in _mounted_config_text(evaluation, container, spec)
        naming += names_it
        assert mounted == names_it, f"{stack} {name}/{container['name']}: the CA is mounted exactly where it is used"
        if mounted:
            volume = next(v for v in spec["volumes"] if v["name"] in
                          {m["name"] for m in container["volumeMounts"] if m["mountPath"] == CA_DIR})
            assert volume["secret"]["secretName"] == pki.CA_NAME
            assert [item["key"] for item in volume["secret"]["items"]] == ["ca.crt"], "never the CA's key"
    assert naming >= 5, f"{stack}: the Big Pods, migrations, exporters and bootstrap tasks trust the CA"


@pytest.mark.parametrize("stack", ["prod", "review"])
def test_no_client_is_configured_for_plaintext_or_an_unverified_server(stack: str,
                                                                      request: pytest.FixtureRequest) -> None:
    evaluation: Evaluation = request.getfixturevalue(stack)
    for name, container, _ in _containers(evaluation):
        for key, value in _env(container).items():
            text = str(value)
            assert "sslmode=disable" not in text and "sslmode=require" not in text, f"{name}: {key}={text}"
            assert not text.startswith("redis://"), f"{name}: {key} names a plaintext Redis"
            if key in ("PGSSLMODE", "DATABASE_SSL_MODE"):
                assert text == "verify-full", f"{name}: {key} verifies chain and host name"
            if key == "REDIS_TLS":
                assert text == "true", f"{name}: {key}"
    outputs = json.dumps({k: v.value for k, v in evaluation.outputs.items()}, default=str)
    assert "sslmode=verify-full" in outputs and "rediss://" in outputs, f"{stack}: the exported URLs say TLS"
    assert "sslmode=disable" not in outputs and '"redis://' not in outputs, f"{stack}: no plaintext URL exported"


def test_the_database_serves_the_environments_certificate_for_the_names_clients_dial(prod: Evaluation) -> None:
    certificates = _certificates(prod)
    certificate = certificates[f"{postgres.NAME}-tls"]
    validate_custom(certificate)
    names = certificate["spec"]["dnsNames"]
    for host in ("postgres-rw", "postgres-ro", "postgres-rw.dreamscape-prod.svc.cluster.local"):
        assert host in names, f"verify-full compares the dialled host {host} with the certificate"
    assert certificate["spec"]["secretTemplate"]["labels"] == {cnpg.RELOAD_LABEL: ""}, (
        "CloudNativePG reloads Postgres when the renewed Secret changes")
    cluster = next(manifest(r) for r in prod.resources if r.inputs.get("kind") == "Cluster"
                   and r.inputs["metadata"]["name"] == postgres.NAME)
    assert cluster["spec"]["certificates"] == {"serverTLSSecret": "postgres-tls", "serverCASecret": "postgres-tls"}
    assert cluster["spec"]["postgresql"]["pg_hba"] == [postgres.REJECT_PLAINTEXT], "plaintext is refused server-side"


def test_every_redis_member_serves_tls_only_with_its_certificate_mounted(prod: Evaluation) -> None:
    certificates = _certificates(prod)
    for service in (redis.NAME, redis.REPLICA_NAME):
        certificate = certificates[f"{service}-tls"]
        validate_custom(certificate)
        assert f"{service}-0.{service}-peers" in certificate["spec"]["dnsNames"], "MOVED sends clients to members"
        workload = next(w for w in workloads(prod) if w.name == service)
        spec = pod_spec(workload)
        container = spec["containers"][0]
        assert any(m["mountPath"] == TLS_DIR for m in container["volumeMounts"]), f"{service}: its certificate"
        tls_volume = next(v for v in spec["volumes"] if v["name"] == "tls")
        assert tls_volume["secret"]["secretName"] == f"{service}-tls"
        assert "readlink -f" in " ".join(container["command"]), f"{service}: the renewal reload loop runs"
    config = next(r for r in prod.resources if r.type == "kubernetes:core/v1:ConfigMap"
                  and r.inputs["metadata"]["name"] == "redis-config")
    rendered = next(iter(config.inputs["data"].values()))
    for line in ("port 0", f"tls-port {redis.PORT}", "tls-cluster yes", "tls-replication yes", "tls-auth-clients no"):
        assert f"\n{line}\n" in f"\n{rendered}", f"redis.conf says {line!r}"


def test_the_cluster_bootstrap_and_the_exporters_speak_tls(prod: Evaluation) -> None:
    envs = {f"{name}/{c['name']}": (c, _env(c)) for name, c, _ in _containers(prod)}
    bootstrap = next(c for key, (c, _) in envs.items() if key.startswith("redis-cluster-bootstrap"))
    assert f"--tls --cacert {CA_FILE}" in " ".join(bootstrap["command"]), "every redis-cli call verifies"
    exporter = next(env for key, (_, env) in envs.items() if key.startswith("redis-exporter"))
    assert exporter["REDIS_ADDR"].startswith("rediss://") and exporter["REDIS_EXPORTER_TLS_CA_CERT_FILE"] == CA_FILE
    # CloudNativePG's members serve their own metrics: no exporter reaches Postgres over the network here.
    assert not [key for key in envs if key.startswith("postgres-exporter")], "no postgres-exporter on a cluster"
    backup = next(env for key, (c, env) in envs.items() if key.startswith("postgres-backup") and "PGSSLMODE" in env)
    assert backup["PGSSLMODE"] == "verify-full", "pg_dump verifies the server too"


def test_dev_stays_plaintext_and_asks_for_no_certificate(dev: Evaluation) -> None:
    assert not [r for r in dev.resources if "cert-manager" in r.type], "no PKI on the laptop"
    for service in dev.services:
        assert service.certificate is None and not service.container.trusts_ca, service.name
    flat = json.dumps({k: v.value for k, v in dev.outputs.items()}, default=str)
    assert "sslmode=disable" in flat and "redis://" in flat, "dev's URLs say plaintext explicitly"


@pytest.mark.parametrize(("settings", "expected"), [
    ({"tls-protocol": "TLSv1.3"}, "redis-server has no TLS setting 'tls-protocol'"),
    ({"tls-auth-clients": "yes"}, "tls-auth-clients is set by the program"),
    ({"tls-port": "6380"}, "tls-port is set by the program"),
    ({"tls-ciphersuites": "TLS_AES_256_GCM_SHA384\nport 6379"}, "must be one non-empty line"),
])
def test_a_tls_setting_redis_does_not_have_stops_before_anything_is_registered(settings: dict[str, str],
                                                                               expected: str) -> None:
    redis_config = json.loads(config_bag("review-42")["dreamscape:redis"])
    refusal = refuse("review-42", {"redis": {**redis_config, "tlsSettings": settings}})
    assert expected in refusal.message, refusal.message
    assert "dreamscape:redis.tlsSettings" in refusal.message, f"the message names the key: {refusal.message}"
    assert not refusal.registered, "a bad TLS setting stops the run before any resource is registered"


def test_a_tls_tunable_redis_has_reaches_its_config() -> None:
    config = load("prod", config_bag("prod")).redis
    tuned = config.model_copy(update={"tls_settings": {"tls-ciphersuites": "TLS_AES_256_GCM_SHA384"}})
    assert "tls-ciphersuites TLS_AES_256_GCM_SHA384\n" in redis.redis_conf(tuned, transit_tls=True)
    assert "tls-" not in redis.redis_conf(tuned), "where traffic stays plaintext no TLS line is rendered"
