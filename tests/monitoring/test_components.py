"""The monitoring stack as deployed through both targets, checked on what the providers would receive."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.parse
from typing import Any

import yaml

from components.monitoring.common import (
    ALERTMANAGER,
    ALERTMANAGER_PORT,
    LOKI,
    LOKI_PORT,
    PROMETHEUS,
    PROMETHEUS_PORT,
    minio_prometheus_token,
)
from components.monitoring.grafana.config import DASHBOARDS
from components.spec import SECRETS_DIR
from tests import kube
from tests.harness import SECRET_SIG, SIG_KEY, Evaluation, Registered, evaluate

CONTAINER = "docker:index/container:Container"
MONITORING_TYPES = {
    f"dreamscape:monitoring:{kind}" for kind in
    ("Stack", "Prometheus", "Exporters", "Alertmanager", "Grafana", "Loki", "Alloy")
}
MONITORING_SERVICES = ("prometheus", "alertmanager", "grafana", "loki", "alloy", "redis-exporter", "kafka-exporter")
"""On both targets; postgres-exporter runs on Docker only (CloudNativePG's members serve Postgres' metrics)."""


# -- helpers ----------------------------------------------------------------------------------------
def answers_at(stack: Evaluation, address: str) -> tuple[str, int]:
    """The (service, port) an address such as `http://loki:3100/push` or `alertmanager:9093` reaches, after
    checking that the target really received that service with that port declared."""
    parts = urllib.parse.urlsplit(address if "://" in address else f"//{address}")
    host, port = parts.hostname or "", parts.port
    service = next((s for s in stack.services if s.name == host), None)
    assert service is not None, f"{address}: {stack.stack} deploys no service named {host!r}"
    assert port in {p.number for p in service.ports}, f"{address}: {host} declares no port {port}"
    return host, port


def docker_container(dev: Evaluation, name: str) -> Registered:
    return dev.named(CONTAINER, name)


def uploaded(container: Registered, path: str) -> str:
    files = {u["file"]: u["content"] for u in container.inputs["uploads"]}
    assert path in files, f"{container.name} receives {path}"
    content: str = files[path]
    return content


def workload(prod: Evaluation, name: str) -> Registered:
    matches = [r for r in kube.workloads(prod) if r.inputs["metadata"]["name"] == name]
    assert len(matches) == 1, f"exactly one workload named {name}"
    return matches[0]


def main_container(prod: Evaluation, name: str) -> dict[str, Any]:
    container: dict[str, Any] = kube.pod_spec(workload(prod, name))["containers"][0]
    return container


def config_map_file(prod: Evaluation, service: str, key: str) -> str:
    maps = [r for r in kube.kube_objects(prod)
            if r.inputs["kind"] == "ConfigMap" and r.inputs["metadata"]["name"] == f"{service}-config"]
    assert len(maps) == 1, f"{service} has one ConfigMap"
    text: str = maps[0].inputs["data"][key]
    return text


def prometheus_yml(stack: Evaluation) -> dict[str, Any]:
    if stack.stack == "dev":
        text = uploaded(docker_container(stack, "prometheus-0"), "/etc/prometheus/prometheus.yml")
    else:
        text = config_map_file(stack, "prometheus", "etc-prometheus-prometheus.yml")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def is_secret(wire_value: Any) -> bool:
    return isinstance(wire_value, dict) and wire_value.get(SIG_KEY) == SECRET_SIG


# -- presence -----------------------------------------------------------------------------------------
def test_every_monitoring_component_exists_on_both_targets(stack: Evaluation) -> None:
    missing = MONITORING_TYPES - stack.types()
    assert not missing, f"{stack.stack} lacks monitoring components {sorted(missing)}"


def test_every_monitoring_service_is_deployed_on_docker_in_dev(dev: Evaluation) -> None:
    names = {r.name.removesuffix("-0") for r in dev.of_type(CONTAINER)}
    missing = set(MONITORING_SERVICES) - names
    assert not missing, f"dev runs a container for every monitoring service, missing {sorted(missing)}"


def test_every_monitoring_service_is_a_kubernetes_workload_in_prod(prod: Evaluation) -> None:
    names = {r.inputs["metadata"]["name"] for r in kube.workloads(prod)}
    missing = set(MONITORING_SERVICES) - names
    assert not missing, f"prod runs a workload for every monitoring service, missing {sorted(missing)}"
    assert "postgres-exporter" not in names, "on Kubernetes CloudNativePG's members serve Postgres' metrics"


# -- Prometheus ----------------------------------------------------------------------------------------
def test_prometheus_keeps_thirty_days_in_prod_and_two_in_dev(dev: Evaluation, prod: Evaluation) -> None:
    assert "--storage.tsdb.retention.time=30d" in main_container(prod, "prometheus")["args"], "prod keeps 30 days"
    assert "--storage.tsdb.retention.time=2d" in docker_container(dev, "prometheus-0").inputs["command"], (
        "dev keeps 2 days")


def test_dev_prometheus_scrapes_static_targets_by_service_name(dev: Evaluation) -> None:
    config = prometheus_yml(dev)
    targets = {t for job in config["scrape_configs"] for sc in job.get("static_configs", []) for t in sc["targets"]}
    for expected in ("postgres-exporter:9187", "redis-exporter:9121", "kafka-exporter:9308", "minio:9000",
                     "core-pod:3001", "core-pod-nginx-exporter:9113", "experience-pod:3006"):
        assert expected in targets, f"dev scrapes {expected} by its service name"
    assert "core-pod:80" not in targets and "core-pod:8080" not in targets, "NGINX serves no /metrics"
    assert "experience-pod:3000" not in targets, "the Vite web server serves HTML, not metrics"
    assert not any("kubernetes_sd_configs" in job for job in config["scrape_configs"]), "no discovery on Docker"


def test_every_dev_scrape_target_is_the_address_of_a_deployed_container(dev: Evaluation) -> None:
    aliases = {alias for container in dev.of_type(CONTAINER)
               for net in container.inputs.get("networksAdvanced", []) for alias in net.get("aliases", [])}
    hosts = {target.split(":")[0] for job in prometheus_yml(dev)["scrape_configs"]
             for sc in job.get("static_configs", []) for target in sc["targets"]}
    assert hosts and hosts <= aliases, f"scrape targets that no container answers to: {sorted(hosts - aliases)}"


def test_dev_prometheus_joins_every_zone_network_it_scrapes(dev: Evaluation) -> None:
    networks = {n["name"] for n in docker_container(dev, "prometheus-0").inputs["networksAdvanced"]}
    for zone in ("bigpods", "database", "cache", "messaging", "storage", "monitoring"):
        assert f"dreamscape-dev-{zone}" in networks, f"prometheus reaches the {zone} zone"


def test_prod_prometheus_discovers_pods_in_its_namespace(prod: Evaluation) -> None:
    jobs = {job["job_name"]: job for job in prometheus_yml(prod)["scrape_configs"]}
    kubelets = jobs.pop("kubelet")
    assert kubelets["kubernetes_sd_configs"] == [{"role": "node"}], "container metrics: every node's kubelet"
    for job in jobs.values():
        sd = job["kubernetes_sd_configs"][0]
        assert sd["role"] == "pod" and sd["namespaces"]["names"] == ["dreamscape-prod"], "pod discovery in prod ns"
    assert jobs["minio"]["authorization"]["credentials_file"].startswith(SECRETS_DIR), (
        "MinIO is scraped with the bearer token file")
    assert {"core", "business", "experience", "kube-state-metrics", "postgres"} <= set(jobs), (
        f"a job per pod label, kube-state-metrics included: {sorted(jobs)}")


def pod_jobs(stack: Evaluation) -> list[dict[str, Any]]:
    """The scrape jobs of pods (every job but the kubelets')."""
    return [job for job in prometheus_yml(stack)["scrape_configs"]
            if job["kubernetes_sd_configs"][0]["role"] == "pod"]


def test_every_prod_scrape_pair_is_a_named_container_port_of_a_deployed_workload(prod: Evaluation) -> None:
    ports = {(r.inputs["metadata"]["name"], port["name"])
             for r in kube.workloads(prod) for c in kube.pod_spec(r)["containers"] for port in c.get("ports", [])}
    # CloudNativePG creates its members itself (not a workload of the program): its metrics port is a member's.
    ports |= {("postgres", "metrics")}
    for job in pod_jobs(prod):
        keep = re.compile(f"^(?:{job['relabel_configs'][0]['regex']})$")
        kept = {pair for pair in ports if keep.match(";".join(pair))}
        assert kept, f"job {job['job_name']} keeps at least one deployed (workload, port) pair"
    every = "|".join(f"(?:{job['relabel_configs'][0]['regex']})" for job in pod_jobs(prod))
    scraped = {pair for pair in ports if re.match(f"^(?:{every})$", ";".join(pair))}
    assert ("core-pod", "http") not in scraped and ("experience-pod", "web") not in scraped, (
        "the NGINX and Vite ports are never scrape targets")
    assert ("core-pod", "auth") in scraped and ("core-pod-nginx-exporter", "nginx") in scraped, "metrics ports are"


def test_prod_prometheus_gets_exactly_the_rbac_discovery_needs(prod: Evaluation) -> None:
    roles = [r for r in kube.kube_objects(prod)
             if r.inputs["kind"] == "Role" and r.inputs["metadata"]["name"] == "prometheus"]
    assert len(roles) == 1, "one Role for prometheus"
    resources = {res for rule in roles[0].inputs["rules"] for res in rule["resources"]}
    assert {"pods", "endpoints", "services", "endpointslices"} <= resources, "discovery can list its sources"
    verbs = {v for rule in roles[0].inputs["rules"] for v in rule["verbs"]}
    assert verbs == {"get", "list", "watch"}, "read-only access"
    assert kube.pod_spec(workload(prod, "prometheus"))["serviceAccountName"] == "prometheus", "pod uses the account"


def _cluster_grants(stack: Evaluation, kind: str) -> list[Registered]:
    return [r for r in kube.kube_objects(stack) if r.inputs["kind"] == kind
            and r.inputs["metadata"]["name"].endswith("-prometheus")]


def test_prod_prometheus_reads_the_kubelets_with_the_least_cluster_role(prod: Evaluation) -> None:
    (role_object,) = _cluster_grants(prod, "ClusterRole")
    (binding_object,) = _cluster_grants(prod, "ClusterRoleBinding")
    role, binding = kube.manifest(role_object), kube.manifest(binding_object)
    rules = sorted((tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"])) for r in role["rules"])
    assert rules == [(("",), ("nodes",), ("list", "watch")), (("",), ("nodes/metrics",), ("get",))], (
        f"node discovery and the kubelet's metrics, never nodes/proxy nor anything else cluster-wide: {rules}")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": role["metadata"]["name"]}, "bound to that ClusterRole"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "prometheus", "namespace": "dreamscape-prod"}], (
        "to Prometheus's own ServiceAccount only")
    for obj in (role_object, binding_object):
        kube.validate(obj)


def test_each_stacks_cluster_wide_grant_is_named_after_its_namespace(prod: Evaluation, review: Evaluation) -> None:
    def names(stack: Evaluation) -> set[str]:
        return {o.inputs["metadata"]["name"] for kind in ("ClusterRole", "ClusterRoleBinding")
                for o in _cluster_grants(stack, kind)}

    assert names(prod) == {"dreamscape-prod-prometheus"}, names(prod)
    assert names(review) == {"dreamscape-review-42-prometheus"}, names(review)


def test_a_review_prometheus_keeps_only_its_own_namespaces_containers(review: Evaluation) -> None:
    (kubelets,) = [job for job in prometheus_yml(review)["scrape_configs"] if job["job_name"] == "kubelet"]
    keep = kubelets["metric_relabel_configs"][0]
    assert keep["source_labels"] == ["namespace"] and keep["action"] == "keep", "the first rule keeps one namespace"
    namespace = re.compile(f"^(?:{keep['regex']})$")
    assert namespace.match("dreamscape-review-42"), "its own containers"
    assert not namespace.match("dreamscape-review-43") and not namespace.match("dreamscape-prod"), (
        "never another stack's on the shared cluster")


def test_dev_grants_nothing_cluster_wide_and_scrapes_alloys_cadvisor_instead(dev: Evaluation) -> None:
    assert not any(r.type.endswith(("ClusterRole", "ClusterRoleBinding")) for r in dev.resources), "Docker"
    assert not any(job["job_name"] == "kubelet" for job in prometheus_yml(dev)["scrape_configs"]), "no kubelets"


def test_alert_rule_groups_reach_prometheus(prod: Evaluation) -> None:
    rules = yaml.safe_load(config_map_file(prod, "prometheus", "etc-prometheus-rules-dreamscape.rules.yml"))
    assert len(rules["groups"]) >= 3, "several rule groups are mounted"
    assert all(group["rules"] for group in rules["groups"]), "no rule group is empty"


def test_kube_state_metrics_watches_only_the_namespace_with_a_read_only_role(prod: Evaluation) -> None:
    args = main_container(prod, "kube-state-metrics")["args"]
    assert "--namespaces=dreamscape-prod" in args, "only the environment's namespace"
    assert "--resources=cronjobs,deployments,jobs,persistentvolumeclaims,pods,statefulsets" in args, (
        "what rules read, pods included (restarts and crash loops)")
    roles = [r for r in kube.kube_objects(prod)
             if r.inputs["kind"] == "Role" and r.inputs["metadata"]["name"] == "kube-state-metrics"]
    assert len(roles) == 1, "a namespace Role, no ClusterRole"
    verbs = {v for rule in roles[0].inputs["rules"] for v in rule["verbs"]}
    assert verbs == {"list", "watch"}, "list and watch only"
    core = {r for rule in roles[0].inputs["rules"] if rule["apiGroups"] == [""] for r in rule["resources"]}
    assert "pods" in core, "the Role lets it list the namespace's pods, and nothing cluster-wide"


def test_the_nginx_exporter_reads_the_gateways_stub_status(dev: Evaluation, prod: Evaluation) -> None:
    args = main_container(prod, "core-pod-nginx-exporter")["args"]
    assert "--nginx.scrape-uri=http://core-pod:8080/status" in args, "stub_status on the gateway's listen port"
    assert "core-pod-nginx-exporter" in {r.name for r in dev.of_type(CONTAINER)}, "dev runs it too"


def test_exporters_read_their_passwords_from_files(dev: Evaluation, prod: Evaluation) -> None:
    postgres = dict(e.split("=", 1) for e in docker_container(dev, "postgres-exporter").inputs["envs"])
    redis = {e["name"]: e.get("value") for e in main_container(prod, "redis-exporter")["env"]}
    assert postgres["DATA_SOURCE_PASS_FILE"].startswith(SECRETS_DIR), "postgres password comes from a file"
    assert redis["REDIS_PASSWORD_FILE"].startswith(SECRETS_DIR), "redis password comes from a file"
    assert redis.get("REDIS_EXPORTER_IS_CLUSTER") == "true", "prod Redis is a cluster"


def test_the_minio_token_is_the_hs512_jwt_mc_would_generate() -> None:
    token = minio_prometheus_token("access", "s3cret", expires_at=100)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims == {"exp": 100, "sub": "access", "iss": "prometheus"}, "claims MinIO checks"
    expected = hmac.new(b"s3cret", f"{header}.{payload}".encode(), hashlib.sha512).digest()
    assert base64.urlsafe_b64decode(signature + "==") == expected, "signed with the secret key (HS512)"


def test_the_minio_token_travels_only_as_a_secret(dev: Evaluation) -> None:
    uploads = {u["file"]: u["content"] for u in docker_container(dev, "prometheus-0").wire["uploads"]}
    assert is_secret(uploads[f"{SECRETS_DIR}/prometheus-minio-token"]), "the bearer token is secret"


# -- Grafana -------------------------------------------------------------------------------------------
def test_grafana_reads_its_admin_password_from_a_secret_file(dev: Evaluation, prod: Evaluation) -> None:
    env = {e["name"]: e.get("value") for e in main_container(prod, "grafana")["env"]}
    path = env["GF_SECURITY_ADMIN_PASSWORD__FILE"]
    assert path == f"{SECRETS_DIR}/grafana-admin-password", "the password is a mounted secret file"
    uploads = {u["file"]: u["content"] for u in docker_container(dev, "grafana").wire["uploads"]}
    assert is_secret(uploads[path]), "dev uploads the password as a secret"
    secret = [r for r in kube.kube_objects(prod) if r.inputs["kind"] == "Secret"
              and r.inputs["metadata"]["name"] == "grafana-secrets"]
    assert len(secret) == 1, "prod keeps Grafana's files in one Secret"
    data = secret[0].wire["stringData"]
    assert is_secret(data) or is_secret(data["grafana-admin-password"]), "the password is marked secret"


def test_grafana_is_provisioned_with_datasources_and_the_dashboard(prod: Evaluation) -> None:
    datasources = yaml.safe_load(config_map_file(prod, "grafana",
                                                 "etc-grafana-provisioning-datasources-dreamscape.yaml"))
    kinds = {d["type"]: answers_at(prod, d["url"]) for d in datasources["datasources"]}
    assert kinds == {"prometheus": (PROMETHEUS, PROMETHEUS_PORT), "loki": (LOKI, LOKI_PORT)}, (
        "datasources point at the Prometheus and Loki services")
    dashboard = json.loads(config_map_file(prod, "grafana", "etc-grafana-dashboards-bigpods-overview.json"))
    assert dashboard["panels"], "the Big Pods dashboard is provisioned"


def test_grafana_is_published_on_localhost_in_dev_and_only_as_a_cluster_service_in_prod(
    dev: Evaluation, prod: Evaluation
) -> None:
    ports = docker_container(dev, "grafana").inputs["ports"]
    assert [(p["ip"], int(p["external"]), int(p["internal"])) for p in ports] == [("127.0.0.1", 3030, 3000)], (
        "dev publishes Grafana on localhost:3030")
    services = [r for r in kube.kube_objects(prod) if r.inputs["kind"] == "Service"
                and r.inputs["metadata"]["name"] == "grafana"]
    assert len(services) == 1 and services[0].inputs["spec"]["type"] == "ClusterIP", "grafana:3000 in-cluster only"
    to_grafana = [r for r in kube.kube_objects(prod) if r.inputs["kind"] == "Ingress"
                  and "grafana" in str(r.inputs["spec"]["rules"])]
    assert to_grafana, "Grafana is reachable through the edge"
    for ingress in to_grafana:
        annotations = ingress.inputs["metadata"]["annotations"]
        middlewares = annotations["traefik.ingress.kubernetes.io/router.middlewares"]
        if annotations["traefik.ingress.kubernetes.io/router.entrypoints"] == "web":
            assert middlewares.endswith("redirect-https@kubernetescrd"), "plain HTTP only redirects to HTTPS"
            continue
        assert ingress.inputs["spec"].get("tls"), "the only way in is TLS"
        assert "grafana-auth" in middlewares, "and it is authenticated at the edge"


def test_the_environment_exports_grafana_and_prometheus_urls(dev: Evaluation, prod: Evaluation) -> None:
    assert dev.outputs["grafanaUrl"].value == "http://127.0.0.1:3030", "dev Grafana on localhost"
    assert dev.outputs["prometheusUrl"].value == "http://127.0.0.1:9090", "dev Prometheus on localhost"
    assert prod.outputs["grafanaUrl"].value == "http://grafana:3000", "prod Grafana is a cluster address"


def test_every_monitoring_address_names_a_service_and_port_the_target_receives(
    dev: Evaluation, prod: Evaluation
) -> None:
    for stack in (dev, prod):
        alerting = prometheus_yml(stack)["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
        assert [answers_at(stack, a) for a in alerting] == [(ALERTMANAGER, ALERTMANAGER_PORT)], (
            f"{stack.stack}: Prometheus sends alerts to the Alertmanager service")
        alloy = (uploaded(docker_container(stack, "alloy"), "/etc/alloy/config.alloy") if stack.stack == "dev"
                 else config_map_file(stack, "alloy", "etc-alloy-config.alloy"))
        pushes = re.findall(r'url = "([^"]+)"', alloy)
        assert pushes and {answers_at(stack, url) for url in pushes} == {(LOKI, LOKI_PORT)}, (
            f"{stack.stack}: Alloy pushes to the Loki service")


# -- Loki and Alloy -------------------------------------------------------------------------------------
def test_loki_keeps_thirty_days_of_logs_in_prod(prod: Evaluation) -> None:
    config = yaml.safe_load(config_map_file(prod, "loki", "etc-loki-loki.yaml"))
    assert config["limits_config"]["retention_period"] == "720h", "30 days in prod"
    assert config["compactor"]["retention_enabled"] is True, "the compactor enforces retention"


def test_dev_alloy_reads_the_docker_socket_and_the_docker_targets_labels(dev: Evaluation) -> None:
    alloy = docker_container(dev, "alloy")
    volumes = alloy.inputs["volumes"]
    assert volumes == [
        {"readOnly": True, "hostPath": "/var/run/docker.sock", "containerPath": "/var/run/docker.sock"},
        {"readOnly": True, "hostPath": "/sys/fs/cgroup", "containerPath": "/sys/fs/cgroup"},
    ], "the socket and the cgroup files (container metrics) are mounted read-only, nothing else"
    config = uploaded(alloy, "/etc/alloy/config.alloy")
    assert "__meta_docker_container_label_app_kubernetes_io_name" in config, "service label from the service name"
    assert "__meta_docker_container_label_dreamscape_io_pod" in config, "pod label from the Big Pod label"
    assert 'prometheus.exporter.cadvisor "containers"' in config, "Alloy serves the containers' metrics"
    assert 'allowlisted_container_labels = ["app.kubernetes.io/name", "dreamscape.io/pod"]' in config, (
        "only the workload labels become series labels")
    scrape = {job["job_name"]: job for job in prometheus_yml(dev)["scrape_configs"]}["alloy"]
    assert scrape["metrics_path"] == "/api/v0/component/prometheus.exporter.cadvisor.containers/metrics", (
        "Prometheus scrapes the exporter where Alloy serves it")
    assert scrape["metric_relabel_configs"][0]["action"] == "keep", "only our containers' series are kept"


def test_prod_alloy_serves_no_container_metrics(prod: Evaluation) -> None:
    daemonset = workload(prod, "alloy")
    assert "ports" not in kube.pod_spec(daemonset)["containers"][0] or all(
        p["name"] != "http" for p in kube.pod_spec(daemonset)["containers"][0]["ports"]), (
        "the kubelet serves container metrics on Kubernetes; Alloy's port is no scrape target there")
    assert "prometheus.exporter.cadvisor" not in config_map_file(prod, "alloy", "etc-alloy-config.alloy")


def test_both_targets_chart_each_big_pods_cpu_from_the_same_query(dev: Evaluation, prod: Evaluation) -> None:
    def cpu_panels(stack: Evaluation) -> dict[str, list[str]]:
        panels = {}
        for dashboard in DASHBOARDS:
            text = (uploaded(docker_container(stack, "grafana"), f"/etc/grafana/dashboards/{dashboard.file_name}")
                    if stack.stack == "dev" else
                    config_map_file(stack, "grafana", f"etc-grafana-dashboards-{dashboard.file_name}"))
            for panel in json.loads(text)["panels"]:
                if panel["title"].endswith(": CPU (cores)"):
                    panels[panel["title"]] = [target["expr"] for target in panel["targets"]]
        return panels

    prod_panels = cpu_panels(prod)
    assert sorted(prod_panels) == ["business: CPU (cores)", "core: CPU (cores)", "experience: CPU (cores)"], (
        f"the kubelets' container metrics give prod a CPU panel per Big Pod: {sorted(prod_panels)}")
    assert prod_panels == cpu_panels(dev), "the same panels and queries on both targets: one label vocabulary"


def test_prod_alloy_is_a_daemonset_in_the_node_agents_namespace(prod: Evaluation) -> None:
    daemonset = workload(prod, "alloy")
    assert daemonset.inputs["kind"] == "DaemonSet", "one Alloy per node"
    assert daemonset.inputs["metadata"]["namespace"] == "dreamscape-prod-node-agents", "outside the restricted ns"
    pod = kube.pod_spec(daemonset)
    assert {"name": "node-0", "hostPath": {"path": "/var/log/pods"}} in pod["volumes"], "tails the node's pod logs"
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName", "knows its node"
    assert pod["containers"][0]["securityContext"]["runAsUser"] != 0, "still not root"


def test_only_the_node_agents_namespace_relaxes_pod_security(prod: Evaluation) -> None:
    namespaces = {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]
                  for r in kube.kube_objects(prod) if r.inputs["kind"] == "Namespace"}
    assert namespaces["dreamscape-prod"]["pod-security.kubernetes.io/enforce"] == "restricted", "app ns restricted"
    assert namespaces["dreamscape-prod-node-agents"]["pod-security.kubernetes.io/enforce"] == "privileged", (
        "hostPath is allowed only for node agents")
    in_agents = {r.inputs["metadata"]["name"] for r in kube.workloads(prod)
                 if r.inputs["metadata"]["namespace"] == "dreamscape-prod-node-agents"}
    assert in_agents == {"alloy"}, f"only Alloy runs in the node-agents namespace, got {in_agents}"


def test_alloy_may_list_pods_of_the_environment_namespace_from_its_own(prod: Evaluation) -> None:
    bindings = [r for r in kube.kube_objects(prod) if r.inputs["kind"] == "RoleBinding"
                and r.inputs["metadata"]["name"] == "alloy"]
    assert len(bindings) == 1, "one binding for Alloy"
    binding = bindings[0].inputs
    assert binding["metadata"]["namespace"] == "dreamscape-prod", "granted in the environment's namespace"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "alloy",
                                    "namespace": "dreamscape-prod-node-agents"}], "to Alloy's own account"


# -- hardening ------------------------------------------------------------------------------------------
def test_monitoring_services_run_as_their_images_users(prod: Evaluation) -> None:
    expected = {"grafana": 472, "prometheus": 65534, "alertmanager": 65534, "loki": 10001, "alloy": 473}
    for name, uid in expected.items():
        assert main_container(prod, name)["securityContext"]["runAsUser"] == uid, f"{name} runs as {uid}"


def test_every_monitoring_container_is_pinned_limited_and_read_only(prod: Evaluation) -> None:
    for name in MONITORING_SERVICES:
        container = main_container(prod, name)
        image = container["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name} pins its image ({image})"
        assert container["resources"]["limits"] and container["resources"]["requests"], f"{name} has resources"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, f"{name} has a read-only root"


# -- Alertmanager -----------------------------------------------------------------------------------------
def test_alertmanager_comes_up_with_no_receiver_when_the_stack_opts_out_with_a_reason() -> None:
    unalerted = evaluate("prod", {"alerting": {"withoutReceivers": "pre-launch: nobody is on call yet"}})
    config = yaml.safe_load(config_map_file(unalerted, "alertmanager", "etc-alertmanager-alertmanager.yml"))
    assert [r for r in config["receivers"]] == [{"name": "critical"}, {"name": "warning"}], (
        "no receivers configured: valid, and alerts go nowhere")


def test_the_logs_panel_selects_the_big_pod_label_values_the_shipper_reads(dev: Evaluation, prod: Evaluation) -> None:
    dashboard = json.loads(config_map_file(prod, "grafana", "etc-grafana-dashboards-bigpods-overview.json"))
    (logs,) = [p for p in dashboard["panels"] if p["type"] == "logs"]
    selected = set(re.fullmatch(r'\{pod=~"(.+)"\}', logs["targets"][0]["expr"]).group(1).split("|"))  # type: ignore[union-attr]
    in_dev = {label["value"] for c in dev.of_type(CONTAINER) for label in c.inputs.get("labels", [])
              if label["label"] == "dreamscape.io/pod"}
    in_prod = {kube.manifest(w)["spec"]["template"]["metadata"]["labels"].get("dreamscape.io/pod")
               for w in kube.workloads(prod) if w.inputs["kind"] == "Deployment"} - {None}
    assert selected == in_dev == in_prod == {"core", "business", "experience"}, (
        f"panel {selected}, Docker containers {in_dev}, Kubernetes pods {in_prod}: one set of values")
