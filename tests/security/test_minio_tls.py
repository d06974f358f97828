"""MinIO over https on prod and review: the server links cert-manager's files under the names MinIO reads,
every client (apps, mc in the provisioning and backup jobs, Prometheus) verifies it with the environment's
CA, and nothing runs `--insecure`. MinIO cannot run here: the rendered settings are checked against MinIO's
documented certs-dir layout (`public.crt`, `private.key`, `CAs/`) and mc's CA dir (`certs/CAs`)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests import kube
from tests.harness import Evaluation

STS = "kubernetes:apps/v1:StatefulSet"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
JOB = "kubernetes:batch/v1:Job"


def _minio(prod: Evaluation) -> dict[str, Any]:
    (container,) = kube.pod_spec(prod.named(STS, "minio"))["containers"]
    return dict(container)


def test_the_server_serves_its_certificate_from_the_certs_dir(prod: Evaluation) -> None:
    container = _minio(prod)
    start = container["command"][-1]
    for link in ("ln -sf /run/tls/server/tls.crt /tmp/certs/public.crt",
                 "ln -sf /run/tls/server/tls.key /tmp/certs/private.key",
                 "ln -sf /run/tls/server/ca.crt /tmp/certs/CAs/ca.crt"):
        assert link in start, start
    assert "exec minio server /data" in start and "--certs-dir /tmp/certs" in start
    assert {"name": "tls", "mountPath": "/run/tls/server", "readOnly": True} in container["volumeMounts"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["scheme"] == "HTTPS", f"{probe} speaks TLS to the only port"


def test_every_client_verifies_with_the_ca(prod: Evaluation) -> None:
    script = kube.pod_spec(prod.named(JOB, "minio-buckets"))["containers"][0]["command"][-1]
    assert "cp /run/tls/ca/ca.crt /tmp/.mc/certs/CAs/" in script and "insecure" not in script
    configs = [r for r in prod.of_type(CONFIG_MAP) if "etc-prometheus-prometheus.yml" in r.inputs.get("data", {})]
    (config,) = configs
    jobs = yaml.safe_load(config.inputs["data"]["etc-prometheus-prometheus.yml"])["scrape_configs"]
    minio = [j for j in jobs if j["metrics_path"] == "/minio/v2/metrics/cluster"]
    assert minio and all(j["scheme"] == "https" for j in minio), minio
    assert all(j["tls_config"] == {"ca_file": "/run/tls/ca/ca.crt", "server_name": "minio",
                                   "insecure_skip_verify": False} for j in minio)
    # The kubelet's cAdvisor job verifies the kubelet with the service account's CA; the rest is plain.
    plain = [j for j in jobs if j not in minio and j["job_name"] != "kubelet"]
    assert all(j.get("scheme", "http") == "http" for j in plain), [j["job_name"] for j in plain]


def test_apps_get_the_https_endpoint_and_the_ca(prod: Evaluation, dev: Evaluation) -> None:
    envs = [{e["name"]: e.get("value") for e in c.get("env", [])}
            for d in prod.of_type("kubernetes:apps/v1:Deployment") for c in kube.pod_spec(d)["containers"]]
    minio_envs = [e for e in envs if "MINIO_ENDPOINT" in e]
    assert minio_envs and all(e["MINIO_ENDPOINT"] == "https://minio:9000" and
                              e["MINIO_CA_FILE"] == "/run/tls/ca/ca.crt" for e in minio_envs), minio_envs
    dev_endpoints = {json.dumps(c.inputs.get("envs", [])) for c in dev.of_type("docker:index/container:Container")}
    assert any("MINIO_ENDPOINT=http://minio:9000" in e for e in dev_endpoints), "dev stays plaintext"
    assert not any("MINIO_CA_FILE" in e for e in dev_endpoints)
