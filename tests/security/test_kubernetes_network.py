"""Network zones on k3s: the recorded NetworkPolicies, evaluated as a reachability model, in both directions.

Real pods come from the prod evaluation; Big Pods and monitoring pods (built on other branches) are
synthesised with the same label builder the targets use, so the policies are proven for them too.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from components.spec import Zone
from components.targets.labels import API_ACCESS_LABEL, workload_labels
from tests.harness import Evaluation, evaluate
from tests.kube import manifest, pod_spec, validate, workloads
from tests.netpol import Cluster, Endpoint, Policy

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NAMESPACE = "dreamscape-prod"
_ips = (f"10.42.{i // 250}.{i % 250 + 1}" for i in itertools.count())


def pod(name: str, zone: Zone, reaches: set[Zone], ports: dict[str, int] | None = None, *,
        extra: dict[str, str] | None = None, namespace: str = NAMESPACE) -> Endpoint:
    labels = workload_labels(name, "test", "prod", zone, frozenset(reaches), extra)
    return Endpoint(name, namespace, labels, next(_ips), ports or {})


COREDNS = Endpoint("coredns", "kube-system", {"k8s-app": "kube-dns"}, "10.42.200.1", {"dns": 53})
TRAEFIK = Endpoint("traefik", "kube-system", {"app.kubernetes.io/name": "traefik"}, "10.42.200.2",
                   {"web": 8000})
METRICS_SERVER = Endpoint("metrics-server", "kube-system", {"k8s-app": "metrics-server"}, "10.42.200.3")
API_SERVER = Endpoint("apiserver", "<node>", {}, "192.168.1.10", {"https": 6443})
KUBELET = Endpoint("kubelet", "<node>", {}, "192.168.1.11", {"kubelet": 10250, "ssh": 22})
PAYMENTS = Endpoint("payments-provider", "<internet>", {}, "93.184.216.34", {"https": 443})
EXPERIENCE = pod("experience", Zone.BIGPODS, {Zone.CACHE, Zone.MESSAGING, Zone.STORAGE},
                 {"http": 8080, "metrics": 9113})
ACCOUNTS = pod("accounts", Zone.BIGPODS, {Zone.DATABASE, Zone.CACHE}, {"http": 8080, "metrics": 9113})
SLACK = Endpoint("hooks.slack.com", "<internet>", {}, "34.233.0.1", {"https": 443})
SMTP = Endpoint("smtp-relay", "<internet>", {}, "198.51.100.25", {"submission": 587, "alt": 2525})
PAGERDUTY = Endpoint("events.pagerduty.com", "<internet>", {}, "44.242.0.1", {"https": 443})
PRIVATE_SMTP = Endpoint("office-relay", "<lan>", {}, "192.168.1.25", {"submission": 587, "alt": 2525})
OPERATOR = pod("operator", Zone.BIGPODS, set(), {"http": 8080}, extra={API_ACCESS_LABEL: "true"})
FOREIGN = pod("intruder", Zone.BIGPODS, {Zone.DATABASE}, {"http": 8080}, namespace="dreamscape-review-7")


def recorded_pods(evaluation: Evaluation) -> dict[str, Endpoint]:
    found: dict[str, Endpoint] = {}
    for workload in workloads(evaluation):
        data: dict[str, Any] = manifest(workload)
        template = data["spec"]["jobTemplate"]["spec"]["template"] if data["kind"] == "CronJob" \
            else data["spec"]["template"]
        ports = {p["name"]: p["containerPort"] for c in pod_spec(workload)["containers"]
                 for p in c.get("ports") or [] if "name" in p}
        found[workload.name] = Endpoint(workload.name, data["metadata"]["namespace"],
                                        template["metadata"]["labels"], next(_ips), ports)
    found.update(database_members(evaluation))
    return found


def database_members(evaluation: Evaluation) -> dict[str, Endpoint]:
    """A CloudNativePG Cluster's primary, as the operator creates it: the inherited labels plus its own
    `cnpg.io/*` labels, and its container ports (postgresql, the instance manager's status, metrics)."""
    found = {}
    for cluster in (r for r in evaluation.resources if r.inputs.get("kind") == "Cluster"):
        data = manifest(cluster)
        name = data["metadata"]["name"]
        labels = {**data["spec"]["inheritedMetadata"]["labels"], "cnpg.io/cluster": name,
                  "cnpg.io/instanceRole": "primary"}
        found[name] = Endpoint(name, data["metadata"]["namespace"], labels, next(_ips),
                               {"postgresql": 5432, "status": 8000, "metrics": 9187})
    return found


@pytest.fixture(scope="module")
def cluster(prod: Evaluation) -> Cluster:
    return Cluster([Policy(manifest(r)["metadata"]["namespace"], manifest(r)["spec"])
                    for r in prod.of_type(NETWORK_POLICY)])


@pytest.fixture(scope="module")
def pods(prod: Evaluation) -> dict[str, Endpoint]:
    recorded = recorded_pods(prod)
    synthetic = {p.name: p for p in (EXPERIENCE, ACCOUNTS, OPERATOR)}
    return {**recorded, **synthetic}


def test_every_network_policy_is_valid_and_lives_in_the_environment_namespaces(prod: Evaluation) -> None:
    policies = prod.of_type(NETWORK_POLICY)
    assert policies, "the Kubernetes target must create NetworkPolicies"
    namespaces = set()
    for policy in policies:
        validate(policy)
        namespaces.add(manifest(policy)["metadata"]["namespace"])
    assert namespaces == {NAMESPACE, f"{NAMESPACE}-node-agents"}, f"both of the environment's namespaces: {namespaces}"


def test_the_namespace_denies_all_ingress_and_egress_by_default(prod: Evaluation) -> None:
    specs = [manifest(r)["spec"] for r in prod.of_type(NETWORK_POLICY)]
    assert {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]} in specs, \
        "a default-deny policy selecting every pod in both directions must exist"


def test_every_recorded_workload_pod_is_modelled(prod: Evaluation, pods: dict[str, Endpoint]) -> None:
    names = {w.name for w in workloads(prod)} | set(database_members(prod))
    assert {"postgres", "postgres-bootstrap", "kafka", "redis", "minio"} <= names, \
        "the model must cover the real infrastructure workloads"
    for name in names:
        assert "dreamscape.io/zone" in pods[name].labels, f"{name}: every pod carries its zone label"


def test_postgres_is_reached_only_by_pods_that_declare_the_database_zone(
        cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    postgres = pods["postgres"]
    assert cluster.allowed(pods["postgres-bootstrap"], postgres, 5432), "the bootstrap job reaches postgres"
    assert cluster.allowed(ACCOUNTS, postgres, 5432), "a Big Pod with reaches-database reaches postgres"
    assert not cluster.allowed(EXPERIENCE, postgres, 5432), \
        "a Big Pod without reaches-database must not reach postgres"
    for name in ("kafka", "redis", "minio", "kafka-topics", "redis-cluster-bootstrap", "minio-buckets"):
        assert not cluster.allowed(pods[name], postgres, 5432), f"{name} does not reach the database zone"
    assert not cluster.allowed(FOREIGN, postgres, 5432), \
        "a pod of another namespace never reaches prod postgres, whatever its labels say"


def test_data_services_cannot_initiate_connections_to_big_pods(
        cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    for name in ("postgres", "redis", "kafka", "minio"):
        for target in (EXPERIENCE, ACCOUNTS):
            assert not cluster.allowed(pods[name], target, 8080), f"{name} must not initiate to {target.name}"


def test_prometheus_reaches_metrics_ports_only(prod: Evaluation, cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    prometheus = pods["prometheus"]
    for name, port in (("postgres", 5432), ("redis", 6379), ("redis", 16379), ("kafka", 9092), ("kafka", 9093),
                       ("minio", 9001)):
        assert not cluster.allowed(prometheus, pods[name], port), f"Prometheus never opens {name}:{port}"
    scraped = metrics_ports(prod)
    reached = sorted(f"{name}:{port}" for name, target in pods.items() if target.namespace == NAMESPACE
                     and target.labels.get("dreamscape.io/zone") != "monitoring"
                     for port in target.ports.values() if cluster.allowed(prometheus, target, port)
                     and port not in scraped.get(name, set()))
    assert not reached, f"outside its own zone Prometheus opens metrics ports only, also opened: {reached}"


def test_prometheus_alone_reaches_the_kubelets_and_only_on_their_port(
        prod: Evaluation, cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    prometheus = pods["prometheus"]
    assert cluster.allowed(prometheus, KUBELET, 10250), "Prometheus scrapes each node's kubelet (cAdvisor)"
    assert not cluster.allowed(prometheus, KUBELET, 22), "and opens no other port of the nodes"
    assert not cluster.allowed(prometheus, FOREIGN, 10250), "the node rule opens no pod address"
    for name in ("grafana", "alloy", "kube-state-metrics", "postgres", "core-pod"):
        assert not cluster.allowed(pods[name], KUBELET, 10250), f"{name} never reaches a kubelet"
    without = Cluster([Policy(manifest(r)["metadata"]["namespace"], manifest(r)["spec"])
                       for r in prod.of_type(NETWORK_POLICY) if manifest(r)["metadata"]["name"] != "nodes-prometheus"])
    assert not without.allowed(prometheus, KUBELET, 10250), (
        "nothing else opens the kubelets: without its own policy Prometheus cannot reach them")


def test_app_pods_reach_only_the_client_ports_of_data_services(
        cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    app = pod("all-zones-app", Zone.BIGPODS, {Zone.DATABASE, Zone.CACHE, Zone.MESSAGING, Zone.STORAGE},
              {"http": 8080})
    for name, port in (("postgres", 5432), ("redis", 6379), ("kafka", 9092), ("minio", 9000)):
        assert cluster.allowed(app, pods[name], port), f"an app that declares the zone reaches {name}:{port}"
    for name, port, what in (("redis", 16379, "the Redis cluster bus"), ("kafka", 9093, "the KRaft controller"),
                             ("minio", 9001, "the MinIO console")):
        assert not cluster.allowed(app, pods[name], port), f"an app pod never opens {what} ({name}:{port})"
    assert not cluster.allowed(app, pods["postgres"], 9187), "an app pod never opens a Postgres member's metrics"
    for exporter in ("redis-exporter", "kafka-exporter"):
        for port in pods[exporter].ports.values():
            assert not cluster.allowed(app, pods[exporter], port), f"an app pod never opens {exporter}:{port}"


def test_zone_members_reach_their_peers(cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    assert cluster.allowed(pods["redis"], pods["redis"], 16379), "redis members gossip on the cluster bus"
    assert cluster.allowed(pods["kafka"], pods["kafka"], 9093), "kafka controllers reach each other"
    assert cluster.allowed(EXPERIENCE, ACCOUNTS, 8080), "Big Pods reach each other inside their zone"


def metrics_ports(prod: Evaluation) -> dict[str, set[int]]:
    """Workload -> its declared metrics ports, as the rendered Prometheus keeps them."""
    from tests.monitoring.test_components import pod_jobs

    keep = [re.compile(f"^(?:{job['relabel_configs'][0]['regex']})$") for job in pod_jobs(prod)]
    found: dict[str, set[int]] = {}
    for workload in workloads(prod):
        for container in pod_spec(workload)["containers"]:
            for port in container.get("ports") or []:
                if any(k.match(f"{workload.name};{port['name']}") for k in keep):
                    found.setdefault(workload.name, set()).add(port["containerPort"])
    # CloudNativePG's members: the postgres job keeps `<cnpg.io/cluster>;<port name>`.
    for name, member in database_members(prod).items():
        for port_name, number in member.ports.items():
            if any(k.match(f"{name};{port_name}") for k in keep):
                found.setdefault(name, set()).add(number)
    return found


DEDICATED = ("postgres", "redis-exporter", "kafka-exporter", "core-pod-nginx-exporter", "kube-state-metrics")
"""Workloads whose metrics port serves nothing else (Postgres: each CloudNativePG member's 9187)."""


def test_the_scraper_reaches_every_declared_metrics_port(
        prod: Evaluation, cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    ports = metrics_ports(prod)
    assert set(DEDICATED) <= set(ports), f"exporters declare metrics ports: {sorted(ports)}"
    for name, numbers in ports.items():
        for port in numbers:
            assert cluster.allowed(pods["prometheus"], pods[name], port), f"Prometheus scrapes {name}:{port}"
    assert not cluster.allowed(pods["postgres"], pods["prometheus"], 9090), "data pods do not call monitoring"


def test_outside_its_zone_only_the_scraper_reaches_a_dedicated_metrics_port(
        prod: Evaluation, cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    """Inside its zone an exporter is as reachable as the data service it watches (zone policies admit
    every port); nobody else but the scraper gets in: not Grafana, Alertmanager, Loki or the node agent."""
    ports = metrics_ports(prod)
    for name in DEDICATED:
        zone = pods[name].labels["dreamscape.io/zone"]
        for port in ports[name]:
            callers = sorted(source for source, endpoint in pods.items()
                             if source not in ("prometheus", name)
                             and endpoint.labels.get("dreamscape.io/zone") != zone
                             and endpoint.labels.get(f"dreamscape.io/reaches-{zone}") != "true"
                             and cluster.allowed(endpoint, pods[name], port))
            assert not callers, f"{name}:{port} is reachable by {callers}; only the scraper may be"


def test_grafana_reaches_only_prometheus_and_loki(cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    grafana = pods["grafana"]
    assert cluster.allowed(grafana, pods["prometheus"], 9090), "Grafana queries Prometheus"
    assert cluster.allowed(grafana, pods["loki"], 3100), "Grafana queries Loki"
    reached = sorted(f"{name}:{port}" for name, target in pods.items() if name not in ("prometheus", "loki")
                     for port in target.ports.values() if cluster.allowed(grafana, target, port))
    assert not reached, f"Grafana faces the internet; it must not open anything else: {reached}"
    assert not cluster.allowed(grafana, PAYMENTS, 443), "nor the internet"


RECEIVERS = {
    "alerting": {
        "email": {"to": "ops@dreamscape.ai", "from": "alerts@dreamscape.ai", "smarthost": "smtp.dreamscape.ai:2525",
                  "username": "alerts", "password": "smtp-password"},
        "slackWebhook": "https://hooks.dreamscape.ai:8443/services/T/B/x",
        "pagerdutyRoutingKey": "routing-key",
    }
}
"""Receivers on ports other than the usual ones: the policy follows the URLs, not a fixed list."""


@pytest.fixture(scope="module")
def receivers_cluster() -> tuple[Cluster, dict[str, Endpoint]]:
    evaluation = evaluate("prod", RECEIVERS, secret_keys=["dreamscape:alerting"])
    policies = [Policy(manifest(r)["metadata"]["namespace"], manifest(r)["spec"])
                for r in evaluation.of_type(NETWORK_POLICY)]
    return Cluster(policies), recorded_pods(evaluation)


def test_alertmanager_reaches_only_its_receivers_on_their_configured_ports(
        receivers_cluster: tuple[Cluster, dict[str, Endpoint]]) -> None:
    cluster, pods = receivers_cluster
    alertmanager = pods["alertmanager"]
    assert cluster.allowed(alertmanager, SLACK, 8443), "the webhook URL's own port (:8443)"
    assert cluster.allowed(alertmanager, PAGERDUTY, 443), "PagerDuty's events API over HTTPS"
    assert cluster.allowed(alertmanager, SMTP, 2525), "the smarthost's own port (:2525)"
    assert not cluster.allowed(alertmanager, SMTP, 587), "no SMTP port that no receiver names"
    assert not cluster.allowed(alertmanager, PRIVATE_SMTP, 2525), "never a private range"
    assert not cluster.allowed(alertmanager, SLACK, 80), "no plain HTTP"
    reached = sorted(f"{name}:{port}" for name, target in pods.items()
                     for port in target.ports.values() if cluster.allowed(alertmanager, target, port))
    assert not reached, f"Alertmanager opens nothing inside the cluster: {reached}"


def test_without_receivers_alertmanager_opens_nothing() -> None:
    evaluation = evaluate("prod", {"alerting": {"withoutReceivers": "pre-launch: nobody is on call yet"}})
    cluster = Cluster([Policy(manifest(r)["metadata"]["namespace"], manifest(r)["spec"])
                       for r in evaluation.of_type(NETWORK_POLICY)])
    alertmanager = recorded_pods(evaluation)["alertmanager"]
    for endpoint, port in ((SLACK, 443), (SMTP, 587), (PAGERDUTY, 443)):
        assert not cluster.allowed(alertmanager, endpoint, port), f"no receiver, no {endpoint.name}:{port}"


def test_every_pod_resolves_names_through_cluster_dns(cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    for name, source in pods.items():
        assert cluster.allowed(source, COREDNS, 53, "UDP"), f"{name} must resolve names (UDP 53)"
        assert cluster.allowed(source, COREDNS, 53, "TCP"), f"{name} must resolve names (TCP 53)"
        assert not cluster.allowed(source, METRICS_SERVER, 443), f"{name}: DNS is the only kube-system hole"


def test_the_ingress_controller_reaches_exactly_the_routed_ports(
        cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    routed = [("core-pod", 8080), ("experience-pod", 3000), ("grafana", 3000)]
    for name, port in routed:
        assert cluster.allowed(TRAEFIK, pods[name], port), f"Traefik reaches the routed {name}:{port}"
    assert not cluster.allowed(TRAEFIK, pods["core-pod"], 3001), "services behind NGINX are not exposed directly"
    assert not cluster.allowed(TRAEFIK, pods["business-pod"], 3003), "business is reached only through NGINX"
    assert not cluster.allowed(TRAEFIK, pods["prometheus"], 9090), "Prometheus is not routed"
    assert not cluster.allowed(TRAEFIK, pods["postgres"], 5432), "Traefik never reaches the data zones"
    assert not cluster.allowed(METRICS_SERVER, pods["core-pod"], 8080), "other kube-system pods are refused"
    assert not cluster.allowed(FOREIGN, EXPERIENCE, 8080), "other namespaces are refused"


ACME_SOLVER = Endpoint(
    "cm-acme-http-solver-x7k2p", NAMESPACE,
    {"acme.cert-manager.io/http-domain": "1234567", "acme.cert-manager.io/http-token": "7654321",
     "acme.cert-manager.io/http01-solver": "true"},
    "10.42.199.1", {"http": 8089})
"""An HTTP-01 solver pod as cert-manager v1.21.1 creates it in the Certificate's namespace (the labels of
`podLabels` and the `http` container port of pkg/issuer/acme/http/pod.go), written out here rather than
imported so that the test checks the program against upstream, not against itself."""


def test_the_ingress_controller_reaches_the_acme_http01_solver_and_nothing_else_opens(
        cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    assert cluster.allowed(TRAEFIK, ACME_SOLVER, 8089), \
        "Traefik forwards /.well-known/acme-challenge/ to the solver pod on 8089, or no certificate is issued"
    assert not cluster.allowed(TRAEFIK, ACME_SOLVER, 8080), "only the solver's listen port is open"
    assert not cluster.allowed(METRICS_SERVER, ACME_SOLVER, 8089), "other kube-system pods are refused"
    for name, source in pods.items():
        assert not cluster.allowed(source, ACME_SOLVER, 8089), f"{name} has no business with the solver"
        assert not cluster.allowed(ACME_SOLVER, source, 8080), f"the solver reaches nothing: {name}"
    assert not cluster.allowed(ACME_SOLVER, PAYMENTS, 443), "the solver opens nothing to the internet"
    impostor = Endpoint("impostor", NAMESPACE, {"app.kubernetes.io/name": "traefik"}, "10.42.199.2")
    assert not cluster.allowed(impostor, ACME_SOLVER, 8089), "a Traefik label outside kube-system is refused"


def test_big_pods_reach_the_internet_on_443_but_no_private_range(
        cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    assert cluster.allowed(EXPERIENCE, PAYMENTS, 443), "Big Pods call payment and AI providers over HTTPS"
    assert not cluster.allowed(EXPERIENCE, PAYMENTS, 80), "plain HTTP to the internet is refused"
    assert not cluster.allowed(EXPERIENCE, FOREIGN, 443), "the internet rule never covers pod IPs"
    assert not cluster.allowed(EXPERIENCE, API_SERVER, 6443), "Big Pods without api_rules get no API access"
    for name in ("redis", "kafka", "minio", "postgres-bootstrap"):
        assert not cluster.allowed(pods[name], PAYMENTS, 443), f"{name} has no route to the internet"
    # PostgreSQL's members ship WAL to the off-site store: its port only, and never a private range.
    assert cluster.allowed(pods["postgres"], PAYMENTS, 443), "the archive reaches the off-site store's port"
    assert not cluster.allowed(pods["postgres"], PAYMENTS, 80), "and no other internet port"
    assert not cluster.allowed(pods["postgres"], FOREIGN, 443), "and never another namespace's pods"


def test_only_pods_with_api_rules_reach_the_kubernetes_api(
        cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    assert cluster.allowed(OPERATOR, API_SERVER, 6443), "a pod labelled for API access reaches the API server"
    assert cluster.allowed(OPERATOR, API_SERVER, 443), "... on the Service port too"
    assert not cluster.allowed(pods["redis"], API_SERVER, 6443), "redis has no API access"
    # CloudNativePG's instance manager in each member reads and updates its Cluster (status, failover).
    assert cluster.allowed(pods["postgres"], API_SERVER, 6443), "a database member reaches the API server"
    assert not cluster.allowed(OPERATOR, FOREIGN, 443), "the API rule does not open pod or service IPs"


def test_review_namespaces_get_the_same_policies(prod: Evaluation, review: Evaluation) -> None:
    def names(evaluation: Evaluation) -> set[str]:
        return {manifest(r)["metadata"]["name"] for r in evaluation.of_type(NETWORK_POLICY)}

    # Per-service policies follow the services: a service only prod runs (Redis replicas) has its own.
    only_in_prod = {w.name for w in workloads(prod)} - {w.name for w in workloads(review)}
    per_service = {f"{kind}-{service}" for kind in ("clients", "metrics", "internet") for service in only_in_prod}
    # internet-<service> follows each stack's configured receivers (prod has some, the review profile none),
    # autoscaler-<service>-<source> its autoscaling (review stacks do not autoscale).
    def fixed(found: set[str]) -> set[str]:
        return {name for name in found if not name.startswith(("internet-", "autoscaler-"))}

    # The archive's egress, and the restore check's throwaway cluster, exist only where an off-site store is
    # configured (prod; review may set one).
    with_store = {"postgres-archive-egress", "postgres-restore-check-from-operator",
                  "postgres-restore-check-archive-egress"}
    assert fixed(names(review)) == fixed(names(prod) - per_service - with_store), \
        "review stacks are as locked down as prod"
    assert {manifest(r)["metadata"]["namespace"] for r in review.of_type(NETWORK_POLICY)} == \
        {"dreamscape-review-42", "dreamscape-review-42-node-agents"}, "review policies live in the review's namespaces"


def test_the_log_shipper_in_the_node_agents_namespace_reaches_loki_and_nothing_else(
    cluster: Cluster, pods: dict[str, Endpoint]
) -> None:
    alloy = pods["alloy"]
    assert alloy.namespace == f"{NAMESPACE}-node-agents", "the shipper runs beside, not inside, the app namespace"
    assert cluster.allowed(alloy, pods["loki"], 3100), "logs reach Loki across the namespace boundary"
    assert not cluster.allowed(alloy, pods["postgres"], 5432), "the node agent gets no data access"
    stranger = pod("stranger", Zone.BIGPODS, set(), namespace=f"{NAMESPACE}-node-agents")
    assert not cluster.allowed(stranger, pods["loki"], 3100), "only monitoring pods of that namespace get in"


KEDA_SCALER = Endpoint("keda-operator", "keda", {"app": "keda-operator"}, "10.42.200.4")


def test_the_autoscaler_reaches_exactly_the_sources_its_triggers_query(
        prod: Evaluation, cluster: Cluster, pods: dict[str, Endpoint]) -> None:
    """KEDA's scalers run in its own namespace: default-deny would drop their Prometheus queries and Kafka
    lag reads, and the Deployments would never scale. Each trigger's source is opened, nothing else."""
    sources: set[tuple[str, int]] = set()
    for scaler in (r for r in prod.resources if r.inputs.get("kind") == "ScaledObject"):
        for trigger in manifest(scaler)["spec"]["triggers"]:
            address = trigger["metadata"].get("serverAddress") or trigger["metadata"].get("bootstrapServers")
            if address:
                host, number = re.sub(r"^https?://", "", address).rsplit(":", 1)
                sources.add((host.split(".")[0], int(number)))
    assert {name for name, _ in sources} == {"prometheus", "kafka"}, f"the seed's signals: {sorted(sources)}"
    for name, source_port in sources:
        assert cluster.allowed(KEDA_SCALER, pods[name], source_port), f"KEDA reaches {name}:{source_port}"
    opened = sorted(f"{name}:{port}" for name, target in pods.items() for port in target.ports.values()
                    if cluster.allowed(KEDA_SCALER, target, port) and (name, port) not in sources)
    assert not opened, f"KEDA reaches nothing but its triggers' sources, also opened: {opened}"
    intruder = Endpoint("other", "default", {"app": "keda-operator"}, "10.42.200.5")
    assert not cluster.allowed(intruder, pods["prometheus"], 9090), "only KEDA's namespace is admitted"
